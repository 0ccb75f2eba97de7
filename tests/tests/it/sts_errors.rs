//! Every web-identity failure of wire-contracts §1.4, reproduced against a running stack through
//! the real Rust SDK and through boto3 (from the cached venv), asserting AWS's code, HTTP status
//! and message; and the signed-call errors of §1.5 on `GetCallerIdentity`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use aws_sdk_sts::error::ProvideErrorMetadata as _;
use irsa_core::clock::Clock as _;
use irsa_harness::stack::Stack;
use irsa_tests::start_stack;
use mock_oidc::{Issuer, SigningKey, TokenSpec};

const ROLE: &str = "arn:aws:iam::111122223333:role/curity-dynamodb";
const ISSUER: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";

/// One ARWWI call and the error AWS answers it with.
struct Case {
    name: &'static str,
    params: Vec<(&'static str, String)>,
    code: &'static str,
    status: u16,
    /// The whole message, or its beginning when it ends with `…`.
    message: String,
}

fn spec(namespace: &str, audience: &str, expiration_seconds: i64) -> TokenSpec {
    TokenSpec {
        namespace: namespace.into(),
        service_account: "dynamo-sa".into(),
        audiences: vec![audience.into()],
        expiration_seconds,
        pod_name: None,
    }
}

fn cases(stack: &Stack) -> Vec<Case> {
    let now = stack.clock().now();
    let issuer = stack.issuers().by_cluster("curity-dynamo-irsa").unwrap();
    let good = issuer
        .mint(&spec("curity", "sts.amazonaws.com", 3600), now)
        .unwrap();
    let unassociated = stack.issuers().by_cluster("unassociated-cluster").unwrap();
    let unregistered = unassociated
        .mint(&spec("curity-staging", "sts.amazonaws.com", 3600), now)
        .unwrap();
    let foreign = Issuer::new("foreign", ISSUER, SigningKey::generate().unwrap())
        .mint(&spec("curity", "sts.amazonaws.com", 3600), now)
        .unwrap();
    let wrong_audience = issuer.mint(&spec("curity", "vault", 3600), now).unwrap();
    let expired = issuer
        .mint(&spec("curity", "sts.amazonaws.com", 600), now - 7200)
        .unwrap();
    let expired_at = now - 7200 + 600;
    let wrong_namespace = issuer
        .mint(&spec("default", "sts.amazonaws.com", 3600), now)
        .unwrap();
    let base = |token: &str, extra: &[(&'static str, &str)]| {
        let mut p = vec![
            ("RoleArn", ROLE.to_owned()),
            ("RoleSessionName", "errors".to_owned()),
            ("WebIdentityToken", token.to_owned()),
        ];
        p.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        p
    };
    let unassociated_issuer = unassociated.url().to_owned();
    vec![
        Case {
            name: "not a JWT",
            params: base("an-access-token", &[]),
            code: "InvalidIdentityToken",
            status: 400,
            message: "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)".into(),
        },
        Case {
            name: "no provider for the issuer",
            params: base(&unregistered, &[]),
            code: "InvalidIdentityToken",
            status: 400,
            message: format!("No OpenIDConnect provider found in your account for {unassociated_issuer}"),
        },
        Case {
            name: "unknown kid",
            params: base(&foreign, &[]),
            code: "InvalidIdentityToken",
            status: 400,
            message: "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements".into(),
        },
        Case {
            name: "wrong audience",
            params: base(&wrong_audience, &[]),
            code: "InvalidIdentityToken",
            status: 400,
            message: "Incorrect token audience".into(),
        },
        Case {
            name: "expired",
            params: base(&expired, &[]),
            code: "ExpiredTokenException",
            status: 400,
            message: format!("Token expired: current date/time … must be before the expiration date/time {expired_at}"),
        },
        Case {
            name: "trust policy",
            params: base(&wrong_namespace, &[]),
            code: "AccessDenied",
            status: 403,
            message: "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
        },
        Case {
            name: "role missing",
            params: {
                let mut p = base(&good, &[]);
                p[0].1 = "arn:aws:iam::111122223333:role/typo".into();
                p
            },
            code: "AccessDenied",
            status: 403,
            message: "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
        },
        Case {
            name: "duration over the role maximum",
            params: base(&good, &[("DurationSeconds", "7200")]),
            code: "ValidationError",
            status: 400,
            message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into(),
        },
        Case {
            name: "duration under 900",
            params: base(&good, &[("DurationSeconds", "100")]),
            code: "ValidationError",
            status: 400,
            message: "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900".into(),
        },
        Case {
            name: "session name",
            params: {
                let mut p = base(&good, &[]);
                p[1].1 = "a:b".into();
                p
            },
            code: "ValidationError",
            status: 400,
            message: "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*".into(),
        },
        Case {
            name: "policy not JSON",
            params: base(&good, &[("Policy", "{not json")]),
            code: "MalformedPolicyDocument",
            status: 400,
            message: "The policy is not in the valid JSON format.".into(),
        },
        Case {
            name: "policy too long",
            params: base(&good, &[("Policy", &"x".repeat(2049))]),
            code: "ValidationError",
            status: 400,
            message: "1 validation error detected: Value '…".into(),
        },
        Case {
            name: "packed policy too large",
            params: base(
                &good,
                &[
                    ("Policy", &packable_policy()),
                    (
                        "PolicyArn",
                        "arn:aws:iam::111122223333:policy/dynamo-iam-policy",
                    ),
                ],
            ),
            code: "PackedPolicyTooLarge",
            status: 400,
            message: "Packed policy consumes 103% of allotted space".into(),
        },
    ]
}

/// A valid session policy of exactly 2000 characters, none of them whitespace (under the
/// 2048-character limit): with one managed policy ARN it no longer packs (2000 + 100 of 2048 is
/// 103 %).
fn packable_policy() -> String {
    let head = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:eu-west-1:111122223333:table/curity-"#;
    let tail = r#""}]}"#;
    let policy = format!("{head}{}{tail}", "x".repeat(2000 - head.len() - tail.len()));
    assert_eq!(policy.len(), 2000);
    policy
}

/// The thumbprint mismatch needs an issuer behind a private CA: the world's `kops-green` cluster,
/// whose provider holds another CA's thumbprint.
fn thumbprint_case(stack: &Stack) -> Case {
    let now = stack.clock().now();
    let issuer = stack.issuers().by_cluster("kops-green").unwrap();
    let token = issuer
        .mint(&spec("curity-green", "sts.amazonaws.com", 3600), now)
        .unwrap();
    Case {
        name: "thumbprint mismatch",
        params: vec![
            (
                "RoleArn",
                "arn:aws:iam::111122223333:role/curity-green".to_owned(),
            ),
            ("RoleSessionName", "errors".to_owned()),
            ("WebIdentityToken", token),
        ],
        code: "InvalidIdentityToken",
        status: 400,
        message: "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
            .into(),
    }
}

/// A token of `kops-blue`, whose issuer the caller takes down: STS cannot reach it.
fn unreachable_case(stack: &Stack) -> Case {
    let issuer = stack.issuers().by_cluster("kops-blue").unwrap();
    let token = issuer
        .mint(
            &spec("curity", "sts.amazonaws.com", 3600),
            stack.clock().now(),
        )
        .unwrap();
    Case {
        name: "issuer unreachable",
        params: vec![
            (
                "RoleArn",
                "arn:aws:iam::111122223333:role/curity-blue".to_owned(),
            ),
            ("RoleSessionName", "errors".to_owned()),
            ("WebIdentityToken", token),
        ],
        code: "IDPCommunicationError",
        status: 400,
        message: "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.…".into(),
    }
}

/// Every case with the endpoint of the stack it runs against.
async fn all_cases(name: &str) -> (Vec<Stack>, Vec<(String, Case)>) {
    let curity = start_stack("curity.yaml", name).await;
    let private = start_stack("self-managed-clusters.yaml", &format!("{name}-private-ca")).await;
    let mut all: Vec<(String, Case)> = cases(&curity)
        .into_iter()
        .map(|c| (curity.endpoint().to_owned(), c))
        .collect();
    all.push((private.endpoint().to_owned(), thumbprint_case(&private)));
    private.set_issuer_reachable("kops-blue", false).unwrap();
    all.push((private.endpoint().to_owned(), unreachable_case(&private)));
    (vec![curity, private], all)
}

/// How many `AssumeRoleWithWebIdentity` calls of a stack's audit trail failed with `code`.
fn audited_failures(stack: &Stack, code: &str) -> usize {
    let text = std::fs::read_to_string(stack.state_dir().join("audit.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity" && r["errorCode"] == code)
        .count()
}

fn matches(expected: &str, got: &str) -> bool {
    match expected.split_once('…') {
        Some((head, tail)) => got.starts_with(head) && got.ends_with(tail),
        None => got == expected,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_web_identity_failure_reaches_the_rust_sdk_with_awss_code_status_and_text() {
    let (stacks, cases) = all_cases("sts-errors-rust").await;
    for (endpoint, case) in cases {
        let config = irsa_tests::sts_config(endpoint).build();
        let client = aws_sdk_sts::Client::from_conf(config);
        let get = |k: &str| {
            case.params
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
        };
        let mut call = client
            .assume_role_with_web_identity()
            .set_role_arn(get("RoleArn"))
            .set_role_session_name(get("RoleSessionName"))
            .set_web_identity_token(get("WebIdentityToken"))
            .set_policy(get("Policy"))
            .set_policy_arns(get("PolicyArn").map(|arn| {
                vec![
                    aws_sdk_sts::types::PolicyDescriptorType::builder()
                        .arn(arn)
                        .build(),
                ]
            }));
        if let Some(d) = get("DurationSeconds") {
            call = call.duration_seconds(d.parse().unwrap());
        }
        let err = call.send().await.expect_err(case.name);
        let status = err.raw_response().map(|r| r.status().as_u16());
        let service = err.into_service_error();
        assert_eq!(
            service.code(),
            Some(case.code),
            "{}: {service:?}",
            case.name
        );
        assert_eq!(status, Some(case.status), "{}", case.name);
        let message = service.message().unwrap_or_default();
        assert!(
            matches(&case.message, message),
            "{}: `{message}` is not `{}`",
            case.name,
            case.message
        );
    }
    // Of all these, the SDK retries only IDPCommunicationError: three attempts in all, as
    // against AWS (wire-contracts §1.4, "Retries on ARWWI errors").
    assert_eq!(audited_failures(&stacks[1], "IDPCommunicationError"), 3);
    assert_eq!(audited_failures(&stacks[1], "InvalidIdentityToken"), 1);
    assert_eq!(audited_failures(&stacks[0], "PackedPolicyTooLarge"), 1);
}

const BOTO3_SCRIPT: &str = r#"
import json, sys, boto3, botocore
from botocore.config import Config
req = json.load(sys.stdin)
out = []
for case in req["cases"]:
    client = boto3.client("sts", region_name="eu-west-1", endpoint_url=case["endpoint"],
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    kwargs = dict(case["params"])
    if "PolicyArn" in kwargs:
        kwargs["PolicyArns"] = [{"arn": kwargs.pop("PolicyArn")}]
    if "DurationSeconds" in kwargs:
        kwargs["DurationSeconds"] = int(kwargs["DurationSeconds"])
    try:
        client.assume_role_with_web_identity(**kwargs)
        out.append({"ok": True})
    except botocore.exceptions.ClientError as e:
        out.append({"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                    "status": e.response["ResponseMetadata"]["HTTPStatusCode"]})
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn each_web_identity_failure_reaches_boto3_with_awss_code_status_and_text() {
    let tools = irsa_harness::backend::python::ensure_python_tools()
        .await
        .expect("a venv with boto3 from PyPI");
    let (_stacks, cases) = all_cases("sts-errors-boto3").await;
    let request = serde_json::json!({
        "cases": cases.iter().map(|(endpoint, c)| {
            let mut m = serde_json::Map::new();
            for (k, v) in &c.params {
                m.insert((*k).to_owned(), serde_json::Value::String(v.clone()));
            }
            serde_json::json!({"endpoint": endpoint, "params": m})
        }).collect::<Vec<_>>(),
    });
    let mut child = Command::new(&tools.python)
        .args(["-c", BOTO3_SCRIPT])
        .env_clear()
        .env("HOME", irsa_tests::scratch_dir("boto3-home"))
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), cases.len());
    for ((_, case), got) in cases.iter().zip(&results) {
        assert_eq!(got["code"], case.code, "{}: {got}", case.name);
        assert_eq!(got["status"], case.status, "{}: {got}", case.name);
        let message = got["message"].as_str().unwrap_or_default();
        assert!(
            matches(&case.message, message),
            "{}: `{message}` is not `{}`",
            case.name,
            case.message
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_get_caller_identity_errors_have_the_query_front_ends_codes() {
    let stack = start_stack("curity.yaml", "sts-signed-errors").await;
    let admin = &stack.world().users["admin"].access_keys[0];
    // Retries off: the Rust SDK corrects its clock from the response `Date` after a skew error
    // and retries, which would hide the first answer (checked separately below).
    let client = |key: &str, secret: &str, token: Option<String>, skew: i64| {
        let now = std::time::SystemTime::now();
        let at = if skew >= 0 {
            now + std::time::Duration::from_secs(skew.unsigned_abs())
        } else {
            now - std::time::Duration::from_secs(skew.unsigned_abs())
        };
        let config = irsa_tests::sts_config(stack.endpoint())
            .time_source(aws_smithy_async::time::StaticTimeSource::new(at))
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                key, secret, token, None, "test",
            ))
            .build();
        aws_sdk_sts::Client::from_conf(config)
    };
    let ok = client(&admin.id, admin.secret.expose(), None, 0)
        .get_caller_identity()
        .send()
        .await
        .expect("the administrator's static key signs GetCallerIdentity");
    assert_eq!(ok.arn(), Some("arn:aws:iam::111122223333:user/admin"));
    assert_eq!(ok.account(), Some("111122223333"));
    assert!(ok.user_id().unwrap().starts_with("AIDA"));

    for (name, c, code, status, message) in [
        (
            "unknown key",
            client("AKIAUNKNOWNKEY000000", "x", None, 0),
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid",
        ),
        (
            "wrong secret",
            client(
                &admin.id,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                None,
                0,
            ),
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ),
        (
            "clock 20 minutes behind",
            client(&admin.id, admin.secret.expose(), None, -1200),
            "SignatureDoesNotMatch",
            403,
            "Signature expired: …15 min.)",
        ),
    ] {
        let err = c.get_caller_identity().send().await.expect_err(name);
        let got_status = err.raw_response().map(|r| r.status().as_u16());
        let service = err.into_service_error();
        assert_eq!(service.code(), Some(code), "{name}: {service:?}");
        assert_eq!(got_status, Some(status), "{name}");
        let got = service.message().unwrap_or_default();
        assert!(matches(message, got), "{name}: `{got}`");
    }
    // With its default retries, the SDK reads the server's `Date`, corrects its skew and
    // succeeds on the second attempt, as against AWS.
    let behind = std::time::SystemTime::now() - std::time::Duration::from_secs(1200);
    let config = irsa_tests::sts_config(stack.endpoint())
        .time_source(aws_smithy_async::time::StaticTimeSource::new(behind))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            admin.id.clone(),
            admin.secret.expose().to_owned(),
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await
        .expect("the SDK corrects its clock skew from the response Date and retries");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_session_and_a_missing_signature_get_the_query_front_ends_codes() {
    let stack = start_stack("curity.yaml", "sts-expired-session").await;
    let now = stack.clock().now();
    let token = stack
        .issuers()
        .by_cluster("curity-dynamo-irsa")
        .unwrap()
        .mint(&spec("curity", "sts.amazonaws.com", 86_400), now)
        .unwrap();
    let sts = aws_sdk_sts::Client::from_conf(irsa_tests::sts_config(stack.endpoint()).build());
    let assumed = sts
        .assume_role_with_web_identity()
        .role_arn(ROLE)
        .role_session_name("expiring")
        .web_identity_token(token)
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    // One hour and a minute later on the harness clock; the client's clock agrees, so the
    // signature is current and only the session's expiry answers.
    stack.clock().advance(3660);
    let later = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(stack.clock().now()).unwrap());
    let client = aws_sdk_sts::Client::from_conf(
        irsa_tests::sts_config(stack.endpoint())
            .time_source(aws_smithy_async::time::StaticTimeSource::new(later))
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_owned()),
                None,
                "test",
            ))
            .build(),
    );
    let err = client.get_caller_identity().send().await.unwrap_err();
    let status = err.raw_response().map(|r| r.status().as_u16());
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("ExpiredToken"), "{service:?}");
    assert_eq!(status, Some(403));
    assert_eq!(
        service.message(),
        Some("The security token included in the request is expired")
    );

    // No Authorization at all: a raw form POST.
    let addr = stack.endpoint().trim_start_matches("http://").to_owned();
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let response = tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    assert!(
        response.contains("<Code>MissingAuthenticationToken</Code>")
            && response.contains("<Message>Request is missing Authentication Token</Message>"),
        "{response}"
    );
}
