//! The Query form is untrusted bytes: whatever arrives, parsing it, reading its lists, validating
//! it as an IAM request and running that request against a world must answer `Ok` or `Err`,
//! never panic. Half the inputs get a real IAM action prepended, so operations are reached.
#![no_main]

use irsa_core::World;
use libfuzzer_sys::fuzz_target;
use mock_sts::iam::{OPERATIONS, authorization, execute};
use mock_sts::query::Query;

fn world() -> World {
    World::empty("111122223333".into(), "eu-west-1".into())
}

fuzz_target!(|data: &[u8]| {
    let mut body = Vec::with_capacity(data.len() + 64);
    if let Some(b) = data.first()
        && b % 2 == 0
    {
        let op = OPERATIONS[usize::from(*b) % OPERATIONS.len()];
        body.extend_from_slice(format!("Action={op}&").as_bytes());
    }
    body.extend_from_slice(data);
    let q = Query::parse(&body);
    for name in ["ClientIDList", "ThumbprintList", "PolicyArns"] {
        let _ = q.list(name);
        let _ = q.struct_list(name, "arn");
    }
    let Some(action) = q.get("Action") else {
        return;
    };
    let mut w = world();
    if authorization(&w, action, &q).is_ok() {
        let _ = execute(
            &mut w,
            action,
            &q,
            1_800_000_000,
            &irsa_core::token::NoIssuers,
        );
    }
});
