//! `irsa simulate`: the IAM policy simulator, offline, trust and resource policies included.
//!
//! Owns: reading policy files and request flags (or JSON lines in the differential oracle's
//! input shape), calling [`iam_policy::evaluate`] and printing the decision with its
//! explanation. It does not decide anything itself: every rule lives in `iam-policy`.
//!
//! Exit codes: single mode 0 allowed, 1 denied, 2 error; `--jsonl` 0 unless stdin could not be
//! read (a bad line is answered with an error line, never a crash).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use clap::Args;
use iam_policy::{Context, Decision, Evaluation, NamedPolicy, PolicySet, Principal, Request};
use serde_json::Value;

mod jsonl;
pub use jsonl::answer_line;

/// `irsa simulate` flags.
#[derive(Debug, Clone, Default, Args)]
pub struct SimulateArgs {
    /// Identity-based policy files (JSON); repeat or list several.
    #[arg(long = "policy", value_name = "FILE", num_args = 1..)]
    pub policies: Vec<PathBuf>,
    /// The action, e.g. `dynamodb:GetItem`.
    #[arg(long, required_unless_present = "jsonl")]
    pub action: Option<String>,
    /// The resource ARN (`*` for actions without a resource).
    #[arg(long, required_unless_present = "jsonl")]
    pub resource: Option<String>,
    /// A condition key, `key=value`; repeat a key, or write `key=["a","b"]`, for a multivalued key.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// The requesting principal's ARN (a role session, user, OIDC provider, ...) or service name.
    #[arg(long)]
    pub principal: Option<String>,
    /// The resource-based policy (for `sts:AssumeRole*`, the role's trust policy).
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// The permissions boundary.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// Session policies (their union limits the session).
    #[arg(long = "session-policy", value_name = "FILE", num_args = 1..)]
    pub session_policies: Vec<PathBuf>,
    /// Service control policies (one level; each must be allowed by at least one).
    #[arg(long = "scp", value_name = "FILE", num_args = 1..)]
    pub scps: Vec<PathBuf>,
    /// Print the explanation as JSON.
    #[arg(long, conflicts_with = "jsonl")]
    pub json: bool,
    /// Read requests as JSON lines on stdin (the iam-oracle input shape); one answer line each.
    #[arg(long)]
    pub jsonl: bool,
}

/// Runs `irsa simulate`; returns the process exit code.
pub fn run(args: &SimulateArgs, stdin: impl BufRead, mut stdout: impl Write) -> anyhow::Result<u8> {
    if args.jsonl {
        for line in stdin.lines() {
            let line = line.context("reading requests from stdin")?;
            if let Some(answer) = answer_line(&line) {
                writeln!(stdout, "{answer}").context("writing to stdout")?;
            }
        }
        stdout.flush().context("writing to stdout")?;
        return Ok(0);
    }
    let evaluation = simulate_files(args)?;
    if args.json {
        let text = serde_json::to_string_pretty(&evaluation.explanation)
            .context("rendering the explanation")?;
        writeln!(stdout, "{text}").context("writing to stdout")?;
    } else {
        write!(stdout, "{}", evaluation.explanation).context("writing to stdout")?;
    }
    Ok(if evaluation.is_allowed() { 0 } else { 1 })
}

/// Loads the files named by `args` and evaluates the request they describe.
pub fn simulate_files(args: &SimulateArgs) -> anyhow::Result<Evaluation> {
    let (Some(action), Some(resource)) = (&args.action, &args.resource) else {
        bail!("`--action` and `--resource` are required without `--jsonl`");
    };
    let identity = args
        .policies
        .iter()
        .map(|p| load_policy(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let resource_policy = args
        .resource_policy
        .as_deref()
        .map(load_policy)
        .transpose()?;
    let boundary = args.boundary.as_deref().map(load_policy).transpose()?;
    let session = args
        .session_policies
        .iter()
        .map(|p| load_policy(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scp = args
        .scps
        .iter()
        .map(|p| load_policy(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut request = Request::new(action, resource).with_context(parse_context(&args.context)?);
    if let Some(principal) = &args.principal {
        request = request.with_principal(parse_principal(principal));
    }
    let set = PolicySet {
        identity: &identity,
        resource: resource_policy.as_ref(),
        permissions_boundary: boundary.as_ref(),
        session: &session,
        scp: (!scp.is_empty()).then_some(scp.as_slice()),
    };
    Ok(iam_policy::evaluate(&set, &request))
}

/// Reads and parses one policy file, named by its file name.
fn load_policy(path: &Path) -> anyhow::Result<NamedPolicy> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading policy `{}`", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    NamedPolicy::parse(name, &text).with_context(|| format!("policy `{}`", path.display()))
}

/// `key=value` flags to a [`Context`]: a key given more than once, or a value written as a JSON
/// list, is multivalued.
pub fn parse_context(pairs: &[String]) -> anyhow::Result<Context> {
    let mut values: Vec<(String, Vec<String>, bool)> = Vec::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("`--context {pair}` is not `key=value`"))?;
        let key = key.trim();
        if key.is_empty() {
            bail!("`--context {pair}` has no key");
        }
        let (items, list) = if value.trim_start().starts_with('[') {
            let items: Vec<Value> = serde_json::from_str(value)
                .with_context(|| format!("`--context {pair}`: not a JSON list"))?;
            let items = items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
                    _ => Err(anyhow!(
                        "`--context {pair}`: list items must be strings, numbers or booleans"
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            (items, true)
        } else {
            (vec![value.to_owned()], false)
        };
        match values
            .iter_mut()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
        {
            Some((_, existing, multi)) => {
                existing.extend(items);
                *multi = true;
            }
            None => values.push((key.to_owned(), items, list)),
        }
    }
    let mut context = Context::new();
    for (key, items, multi) in values {
        match (multi, items.as_slice()) {
            (false, [one]) => context.insert(key, one.clone()),
            _ => context.insert_multi(key, items),
        }
    }
    Ok(context)
}

/// Reads a principal as a policy's `Principal` element would name it: an OIDC or SAML
/// provider ARN or a well-known identity provider is `Federated`, a `*.amazonaws.com` name is a
/// `Service`, `anonymous` is an unauthenticated caller, anything else is `AWS`.
pub fn parse_principal(text: &str) -> Principal {
    const FEDERATED_NAMES: &[&str] = &[
        "cognito-identity.amazonaws.com",
        "accounts.google.com",
        "graph.facebook.com",
        "www.amazon.com",
    ];
    if text == "anonymous" {
        Principal::Anonymous
    } else if text.contains(":oidc-provider/")
        || text.contains(":saml-provider/")
        || FEDERATED_NAMES.contains(&text)
    {
        Principal::Federated(text.to_owned())
    } else if !text.starts_with("arn:") && text.ends_with(".amazonaws.com") {
        Principal::Service(text.to_owned())
    } else {
        Principal::Aws(text.to_owned())
    }
}

/// The oracle's decision words.
pub fn decision_name(decision: Decision) -> &'static str {
    match decision {
        Decision::Allow => "Allowed",
        Decision::ImplicitDeny => "ImplicitlyDenied",
        Decision::ExplicitDeny => "ExplicitlyDenied",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SEED: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#;

    fn line(value: Value) -> Value {
        answer_line(&value.to_string()).unwrap()
    }

    #[test]
    fn allowed_line_carries_id_decision_and_explanation() {
        let answer = line(json!({
            "id": "a1",
            "identityPolicies": [{"name": "seed", "policy": serde_json::from_str::<Value>(SEED).unwrap()}],
            "request": {"principal": "arn:aws:sts::111122223333:assumed-role/r/s",
                        "action": "dynamodb:GetItem",
                        "resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts"},
        }));
        assert_eq!(answer["id"], "a1");
        assert_eq!(answer["decision"], "Allowed");
        assert_eq!(
            answer["explanation"]["layers"][0]["policies"][0]["name"],
            "seed"
        );
    }

    #[test]
    fn policy_as_json_string_and_explicit_deny() {
        let deny = r#"{"Version":"2012-10-17","Statement":{"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}}"#;
        let answer = line(json!({
            "id": 7,
            "identityPolicies": [SEED, deny],
            "request": {"action": "dynamodb:DeleteTable",
                        "resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts"},
        }));
        assert_eq!(answer["decision"], "ExplicitlyDenied");
        assert_eq!(answer["explanation"]["denied_by"], "identity");
    }

    #[test]
    fn session_boundary_and_scp_layers_are_read() {
        let allow_get = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}}"#;
        let request = json!({"principal": "arn:aws:sts::111122223333:assumed-role/r/s",
            "action": "dynamodb:PutItem",
            "resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts"});
        for (field, value, denied_by) in [
            ("sessionPolicy", json!(allow_get), "session"),
            (
                "permissionBoundaries",
                json!([allow_get]),
                "permissions_boundary",
            ),
            ("scp", json!([allow_get]), "service_control"),
        ] {
            let mut input = json!({"id": field, "identityPolicies": [SEED], "request": request});
            input[field] = value;
            let answer = line(input);
            assert_eq!(answer["decision"], "ImplicitlyDenied", "{field}");
            assert_eq!(answer["explanation"]["denied_by"], denied_by, "{field}");
        }
    }

    #[test]
    fn trust_policy_check_with_token_claims() {
        let provider =
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
        let trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":provider},
            "Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{
            "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:curity:dynamo-sa"}}}]});
        let answer = line(json!({"id": 1, "resourcePolicy": trust, "request": {
            "principal": provider, "action": "sts:AssumeRoleWithWebIdentity",
            "resource": "arn:aws:iam::111122223333:role/curity-dynamodb",
            "context": {"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:curity:dynamo-sa"}}}));
        assert_eq!(answer["decision"], "Allowed");
    }

    const SESSION_A: &str = "arn:aws:sts::111122223333:assumed-role/r/s";
    const TABLE_B: &str = "arn:aws:dynamodb:eu-west-1:444455556666:table/shared";

    #[test]
    fn cross_account_needs_the_resource_policy_too() {
        let shared = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"dynamodb:GetItem","Resource":TABLE_B}]});
        let request =
            json!({"principal": SESSION_A, "action": "dynamodb:GetItem", "resource": TABLE_B});
        let without = line(
            json!({"id": 1, "identityPolicies": [SEED.replace("curity-*", "*")], "request": request}),
        );
        assert_eq!(without["decision"], "ImplicitlyDenied");
        assert_eq!(without["explanation"]["denied_by"], "resource");
        assert_eq!(
            without["explanation"]["cross_account"],
            json!({"principal_account": "111122223333", "resource_account": "444455556666"})
        );
        let with = line(
            json!({"id": 2, "identityPolicies": [SEED.replace("curity-*", "*")],
            "resourcePolicy": shared, "request": request}),
        );
        assert_eq!(with["decision"], "Allowed");
        // `resourceAccount` makes an ARN without an account cross-account
        let s3 = line(
            json!({"id": 3, "identityPolicies": [r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#],
            "request": {"principal": SESSION_A, "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key", "resourceAccount": "444455556666"}}),
        );
        assert_eq!(s3["decision"], "ImplicitlyDenied");
        assert_eq!(s3["explanation"]["denied_by"], "resource");
    }

    #[test]
    fn scp_hierarchy_and_rcps_name_the_deciding_level() {
        let allow_all = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        let deny_delete = r#"{"Version":"2012-10-17","Statement":{"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}}"#;
        let request = json!({"principal": SESSION_A, "action": "dynamodb:DeleteTable",
            "resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts"});
        let scp = |ou: Value| {
            json!([
                {"orgIdentifier": "r-ab12", "policies": [allow_all]},
                {"orgIdentifier": "ou-prod", "policies": ou},
                {"orgIdentifier": "111122223333", "policies": [allow_all]},
            ])
        };
        let denied = line(
            json!({"id": 1, "identityPolicies": [SEED], "scp": scp(json!([allow_all, deny_delete])), "request": request}),
        );
        assert_eq!(denied["decision"], "ExplicitlyDenied");
        assert_eq!(denied["explanation"]["denied_by"], "service_control");
        assert_eq!(denied["explanation"]["denied_at"], "ou-prod");
        let no_allow = line(
            json!({"id": 2, "identityPolicies": [SEED], "scp": scp(json!([])), "request": request}),
        );
        assert_eq!(no_allow["decision"], "ImplicitlyDenied");
        assert_eq!(no_allow["explanation"]["denied_at"], "ou-prod");
        let allowed = line(
            json!({"id": 3, "identityPolicies": [SEED], "scp": scp(json!([allow_all])), "request": request}),
        );
        assert_eq!(allowed["decision"], "Allowed");

        let rcp_deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"dynamodb:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}}"#;
        let rcp = json!([{"orgIdentifier": "r-ab12", "policies": [rcp_deny]}]);
        let mut outsider =
            json!({"id": 4, "identityPolicies": [SEED], "rcp": rcp, "request": request});
        let answer = line(outsider.clone());
        assert_eq!(answer["decision"], "ExplicitlyDenied");
        assert_eq!(answer["explanation"]["denied_by"], "resource_control");
        assert_eq!(answer["explanation"]["denied_at"], "r-ab12");
        outsider["request"]["context"] = json!({"aws:PrincipalOrgID": "o-a1b2c3d4e5"});
        let member = line(outsider);
        assert_eq!(member["decision"], "Allowed");
        assert_eq!(
            member["explanation"]["layers"][0]["policies"][0]["name"],
            "RCPFullAWSAccess"
        );
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        assert_eq!(answer_line(""), None);
        assert_eq!(answer_line("   "), None);
        assert_eq!(answer_line("# a note"), None);
    }

    #[test]
    fn bad_lines_are_answered_with_error_lines() {
        let cases = [
            ("{not json", Value::Null, "invalid.json"),
            ("[1,2]", Value::Null, "invalid.input"),
            (r#"{"id":1}"#, json!(1), "invalid.request"),
            (
                r#"{"id":2,"request":{"action":"s3:GetObject"}}"#,
                json!(2),
                "invalid.request",
            ),
            (
                r#"{"id":3,"identityPolicies":[{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}],"request":{"action":"a:b","resource":"*"}}"#,
                json!(3),
                "invalid.policy",
            ),
            (
                r#"{"id":4,"request":{"action":"a:b","resource":"*","context":{"k":{"x":1}}}}"#,
                json!(4),
                "invalid.context",
            ),
            (
                r#"{"id":5,"request":{"action":"a:b","resource":"*","resourceAccount":7}}"#,
                json!(5),
                "invalid.request",
            ),
            (
                r#"{"id":6,"rcp":[{"orgIdentifier":"r-root","policies":[{"Statement":"x"}]}],"request":{"action":"a:b","resource":"*"}}"#,
                json!(6),
                "invalid.policy",
            ),
        ];
        for (text, id, code) in cases {
            let answer = answer_line(text).unwrap();
            assert_eq!(answer["decision"], "Error", "{text}");
            assert_eq!(answer["id"], id, "{text}");
            assert_eq!(answer["error"], code, "{text}: {answer}");
            assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }

    #[test]
    fn policy_errors_name_the_field_and_pointer() {
        let answer = answer_line(
            r#"{"id":1,"identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}],"request":{"action":"a:b","resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(
            answer["message"],
            "`identityPolicies/0`: `/Statement/0/Effect`: expected `Allow` or `Deny`, got `allow`"
        );
    }

    #[test]
    fn jsonl_run_answers_every_line_and_exits_zero() {
        let input = "# header\n{bad\n{\"id\":1,\"request\":{\"action\":\"s3:GetObject\",\"resource\":\"*\"}}\n\n";
        let mut out = Vec::new();
        let args = SimulateArgs {
            jsonl: true,
            ..SimulateArgs::default()
        };
        let code = run(&args, input.as_bytes(), &mut out).unwrap();
        assert_eq!(code, 0);
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["error"], "invalid.json");
        assert_eq!(lines[1]["decision"], "ImplicitlyDenied");
    }

    #[test]
    fn context_flags_become_typed_keys() {
        let ctx = parse_context(&[
            "aws:SourceIp=10.0.0.1".into(),
            "dynamodb:LeadingKeys=u1".into(),
            "dynamodb:LeadingKeys=u2".into(),
            r#"dynamodb:Attributes=["pk"]"#.into(),
            "k=a=b".into(),
        ])
        .unwrap();
        assert_eq!(
            ctx.get("aws:sourceip").and_then(|v| v.single()),
            Some("10.0.0.1")
        );
        let leading = ctx.get("dynamodb:LeadingKeys").unwrap();
        assert!(leading.multivalued);
        assert_eq!(leading.values[..], ["u1", "u2"]);
        assert!(ctx.get("dynamodb:Attributes").unwrap().multivalued);
        assert_eq!(ctx.get("k").and_then(|v| v.single()), Some("a=b"));
        assert!(parse_context(&["novalue".into()]).is_err());
        assert!(parse_context(&["=x".into()]).is_err());
    }

    #[test]
    fn principals_are_typed_like_policy_principals() {
        assert!(matches!(
            parse_principal("arn:aws:iam::1:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X"),
            Principal::Federated(_)
        ));
        assert!(matches!(
            parse_principal("lambda.amazonaws.com"),
            Principal::Service(_)
        ));
        assert!(matches!(
            parse_principal("cognito-identity.amazonaws.com"),
            Principal::Federated(_)
        ));
        assert!(matches!(
            parse_principal("arn:aws:sts::1:assumed-role/r/s"),
            Principal::Aws(_)
        ));
        assert_eq!(parse_principal("anonymous"), Principal::Anonymous);
    }
}
