//! Fuzzes the policy parser and the size check, then evaluates whatever parses against a fixed
//! request: none of them may panic on any input.
#![no_main]

use iam_policy::{Context, NamedPolicy, PolicySet, Principal, Request, evaluate, limit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = limit::check_size(text, limit::SizeQuota::MANAGED_POLICY);
    let Ok(policy) = NamedPolicy::parse("fuzz", text) else {
        return;
    };
    let request = Request::new(
        "dynamodb:GetItem",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts",
    )
    .with_principal(Principal::Aws(
        "arn:aws:sts::111122223333:assumed-role/app/s1".into(),
    ))
    .with_context(
        Context::new()
            .with("aws:SourceIp", "10.0.0.1")
            .with("aws:CurrentTime", "2026-01-01T00:00:00Z")
            .with("aws:PrincipalTag/team", "curity")
            .with_multi("dynamodb:LeadingKeys", vec!["u1".into()]),
    );
    let policies = [policy];
    let evaluation = evaluate(&PolicySet::identity(&policies), &request);
    let _ = evaluation.explanation.to_string();
    let _ = serde_json::to_string(&evaluation.explanation);
    let _ = evaluate(&PolicySet::resource(&policies[0]), &request);
});
