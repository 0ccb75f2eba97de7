//! Every web-identity failure of wire-contracts §1.4, reproduced against a running stack through
//! the real Rust SDK and through boto3 (from the cached venv), asserting AWS's code, HTTP status
//! and message; and the signed-call errors of §1.5 on `GetCallerIdentity`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use aws_config::BehaviorVersion;
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
    ]
}

fn matches(expected: &str, got: &str) -> bool {
    match expected.split_once('…') {
        Some((head, tail)) => got.starts_with(head) && got.ends_with(tail),
        None => got == expected,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_web_identity_failure_reaches_the_rust_sdk_with_awss_code_status_and_text() {
    let stack = start_stack("curity.yaml", "sts-errors-rust").await;
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("eu-west-1"))
        .endpoint_url(stack.endpoint())
        .build();
    let client = aws_sdk_sts::Client::from_conf(config);
    for case in cases(&stack) {
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
            .set_policy(get("Policy"));
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
}

const BOTO3_SCRIPT: &str = r#"
import json, sys, boto3, botocore
from botocore.config import Config
req = json.load(sys.stdin)
client = boto3.client("sts", region_name="eu-west-1", endpoint_url=req["endpoint"],
    aws_access_key_id="x", aws_secret_access_key="x",
    config=Config(parameter_validation=False, retries={"max_attempts": 1}))
out = []
for params in req["cases"]:
    kwargs = dict(params)
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
    let tools = irsa_harness::python::ensure_python_tools()
        .await
        .expect("a venv with boto3 from PyPI");
    let stack = start_stack("curity.yaml", "sts-errors-boto3").await;
    let cases = cases(&stack);
    let request = serde_json::json!({
        "endpoint": stack.endpoint(),
        "cases": cases.iter().map(|c| {
            let mut m = serde_json::Map::new();
            for (k, v) in &c.params {
                m.insert((*k).to_owned(), serde_json::Value::String(v.clone()));
            }
            serde_json::Value::Object(m)
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
    for (case, got) in cases.iter().zip(&results) {
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
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("eu-west-1"))
            .endpoint_url(stack.endpoint())
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
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("eu-west-1"))
        .endpoint_url(stack.endpoint())
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
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("eu-west-1"))
            .endpoint_url(stack.endpoint())
            .build(),
    );
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
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("eu-west-1"))
            .endpoint_url(stack.endpoint())
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
