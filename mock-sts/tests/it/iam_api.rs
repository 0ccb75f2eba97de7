//! The IAM Query API in process: IAM's XML shapes (namespace, `Result` first, errors with
//! `RequestId` beside `Error`), signing by a world user's static key, and the world changes the
//! next STS call sees; and EKS `DescribeCluster`'s REST-JSON errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use http_body_util::BodyExt;
use iam_policy::NamedPolicy;
use irsa_core::clock::FixedClock;
use irsa_core::world::{AccessKey, User, World};
use irsa_core::{MemorySessionStore, SecretAccessKey, WorldStore};
use mock_sts::StsState;
use sigv4_verify::SecretKey;

const NOW: i64 = 1_800_000_000;
const KEY: &str = "AKIAIRSAHARNESSADMIN";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct NoKeys;
impl irsa_core::token::JwksSource for NoKeys {
    fn jwks(&self, _: &str) -> Option<Vec<irsa_core::token::RsaJwk>> {
        None
    }
    fn tls(&self, _: &str) -> Option<irsa_core::token::IssuerTls> {
        None
    }
}

fn state() -> StsState {
    let admin = User {
        name: "admin".into(),
        path: "/".into(),
        arn: "arn:aws:iam::111122223333:user/admin".into(),
        id: irsa_core::world::user_id("111122223333", "admin"),
        access_keys: vec![AccessKey {
            id: KEY.into(),
            secret: SecretAccessKey::new(SECRET),
        }],
        policies: vec![
            NamedPolicy::parse(
                "admin",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )
            .unwrap(),
        ],
        managed_policy_arns: BTreeMap::new(),
    };
    let world = World {
        users: BTreeMap::from([("admin".to_owned(), admin)]),
        ..World::empty("111122223333".into(), "eu-west-1".into())
    };
    StsState {
        world: Arc::new(WorldStore::new(world)),
        keys: Arc::new(NoKeys),
        sessions: Arc::new(MemorySessionStore::new()),
        clock: Arc::new(FixedClock(NOW)),
        audit: None,
    }
}

async fn call(state: &StsState, params: &[(&str, &str)], signed: bool) -> (u16, String) {
    let body = serde_urlencoded::to_string(params).unwrap();
    let base = [
        ("host", "127.0.0.1:4599"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let mut builder = http::Request::post("/");
    for (k, v) in base {
        builder = builder.header(k, v);
    }
    if signed {
        for (k, v) in sigv4_verify::sign_request(
            "POST",
            "/",
            "",
            &base,
            body.as_bytes(),
            KEY,
            &SecretKey::new(SECRET.to_owned()),
            None,
            "us-east-1",
            "iam",
            time::OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
        ) {
            builder = builder.header(k, v);
        }
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    let response = mock_sts::iam_handler::handle(state, &parts, Bytes::from(body)).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;

#[tokio::test]
async fn create_role_answers_in_iams_namespace_with_the_result_first() {
    let state = state();
    let (status, body) = call(
        &state,
        &[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "curity-dynamodb"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(
            "<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <CreateRoleResult>\n    <Role>\n      <Path>/</Path>\n      <RoleName>curity-dynamodb</RoleName>\n"
        ),
        "{body}"
    );
    assert!(body.contains("<Arn>arn:aws:iam::111122223333:role/curity-dynamodb</Arn>"));
    assert!(
        body.contains("<CreateDate>2027-01-15T08:00:00Z</CreateDate>"),
        "{body}"
    );
    assert!(
        body.contains("<AssumeRolePolicyDocument>%7B%22Version%22"),
        "{body}"
    );
    assert!(body.find("</CreateRoleResult>").unwrap() < body.find("<ResponseMetadata>").unwrap());
    assert!(state.world.snapshot().roles.contains_key("curity-dynamodb"));
}

#[tokio::test]
async fn errors_have_iams_shape_code_and_status() {
    let state = state();
    let (status, body) = call(
        &state,
        &[
            ("Action", "GetRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "nope"),
        ],
        true,
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body.starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>NoSuchEntity</Code>\n    <Message>The role with name nope cannot be found.</Message>\n  </Error>\n  <RequestId>"),
        "{body}"
    );
    let (status, body) = call(
        &state,
        &[
            ("Action", "ListOpenIDConnectProviders"),
            ("Version", "2010-05-08"),
        ],
        false,
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#;
const PROVIDER_ARN: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";

/// A request's form parameters.
type Form<'a> = &'a [(&'a str, &'a str)];

/// `Code`, `Message` and status of an IAM error response, which must have IAM's shape.
async fn error_of(state: &StsState, params: &[(&str, &str)]) -> (u16, String, String) {
    let (status, body) = call(state, params, true).await;
    let between = |tag: &str| {
        let open = format!("<{tag}>");
        let start = body.find(&open).map(|i| i + open.len()).unwrap_or_default();
        let end = body[start..].find(&format!("</{tag}>")).unwrap_or_default();
        body[start..start + end].to_owned()
    };
    assert!(
        body.starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    <Type>Sender</Type>\n"),
        "{body}"
    );
    (status, between("Code"), between("Message"))
}

#[tokio::test]
async fn every_iam_error_keeps_its_code_status_and_text() {
    let state = state();
    let setup: &[Form] = &[
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "p"),
            ("PolicyDocument", POLICY),
        ],
        &[
            ("Action", "AttachRolePolicy"),
            ("RoleName", "r"),
            ("PolicyArn", "arn:aws:iam::111122223333:policy/p"),
        ],
        &[
            ("Action", "CreateRole"),
            ("RoleName", "inline"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "inline"),
            ("PolicyName", "i"),
            ("PolicyDocument", POLICY),
        ],
        &[
            ("Action", "CreateOpenIDConnectProvider"),
            ("Url", "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
        ],
    ];
    for params in setup {
        let (status, body) = call(&state, params, true).await;
        assert_eq!(status, 200, "{params:?}: {body}");
    }
    let no_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
    let no_resource =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*"}]}"#;
    let bad_grammar = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"dynamodb:*","Resource":"*"}]}"#;
    let cases: &[(Form, u16, &str, &str)] = &[
        (
            &[("Action", "GetRole"), ("RoleName", "nope")],
            404,
            "NoSuchEntity",
            "The role with name nope cannot be found.",
        ),
        (
            &[
                ("Action", "GetOpenIDConnectProvider"),
                (
                    "OpenIDConnectProviderArn",
                    "arn:aws:iam::111122223333:oidc-provider/x",
                ),
            ],
            404,
            "NoSuchEntity",
            "OpenIDConnect provider not found for arn arn:aws:iam::111122223333:oidc-provider/x",
        ),
        (
            &[
                ("Action", "GetPolicy"),
                ("PolicyArn", "arn:aws:iam::111122223333:policy/none"),
            ],
            404,
            "NoSuchEntity",
            "Policy arn:aws:iam::111122223333:policy/none was not found.",
        ),
        (
            &[
                ("Action", "GetPolicyVersion"),
                ("PolicyArn", "arn:aws:iam::111122223333:policy/p"),
                ("VersionId", "v2"),
            ],
            404,
            "NoSuchEntity",
            "Policy arn:aws:iam::111122223333:policy/p version v2 does not exist or is not attachable.",
        ),
        (
            &[
                ("Action", "AttachRolePolicy"),
                ("RoleName", "r"),
                ("PolicyArn", "arn:aws:iam::111122223333:policy/none"),
            ],
            404,
            "NoSuchEntity",
            "Policy arn:aws:iam::111122223333:policy/none does not exist or is not attachable.",
        ),
        (
            &[
                ("Action", "DetachRolePolicy"),
                ("RoleName", "inline"),
                ("PolicyArn", "arn:aws:iam::111122223333:policy/p"),
            ],
            404,
            "NoSuchEntity",
            "Policy arn:aws:iam::111122223333:policy/p was not found.",
        ),
        (
            &[
                ("Action", "GetRolePolicy"),
                ("RoleName", "r"),
                ("PolicyName", "none"),
            ],
            404,
            "NoSuchEntity",
            "The role policy with name none cannot be found.",
        ),
        (
            &[
                ("Action", "PutRolePermissionsBoundary"),
                ("RoleName", "r"),
                (
                    "PermissionsBoundary",
                    "arn:aws:iam::111122223333:policy/none",
                ),
            ],
            404,
            "NoSuchEntity",
            "Scope ARN: arn:aws:iam::111122223333:policy/none does not exist or is not attachable.",
        ),
        (
            &[
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
            ],
            409,
            "EntityAlreadyExists",
            "Role with name r already exists.",
        ),
        (
            &[
                ("Action", "CreatePolicy"),
                ("PolicyName", "p"),
                ("PolicyDocument", POLICY),
            ],
            409,
            "EntityAlreadyExists",
            "A policy called p already exists. Duplicate names are not allowed.",
        ),
        (
            &[
                ("Action", "CreateOpenIDConnectProvider"),
                ("Url", "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
            ],
            409,
            "EntityAlreadyExists",
            "Provider with url https://oidc.eks.eu-west-1.amazonaws.com/id/ABC already exists.",
        ),
        (
            &[
                ("Action", "UpdateAssumeRolePolicy"),
                ("RoleName", "r"),
                ("PolicyDocument", "{"),
            ],
            400,
            "MalformedPolicyDocument",
            "This policy contains invalid Json",
        ),
        (
            &[
                ("Action", "PutRolePolicy"),
                ("RoleName", "r"),
                ("PolicyName", "g"),
                ("PolicyDocument", bad_grammar),
            ],
            400,
            "MalformedPolicyDocument",
            "Syntax errors in policy.",
        ),
        (
            &[
                ("Action", "UpdateAssumeRolePolicy"),
                ("RoleName", "r"),
                ("PolicyDocument", POLICY),
            ],
            400,
            "MalformedPolicyDocument",
            "Has prohibited field Resource",
        ),
        (
            &[
                ("Action", "UpdateAssumeRolePolicy"),
                ("RoleName", "r"),
                ("PolicyDocument", no_principal),
            ],
            400,
            "MalformedPolicyDocument",
            "Missing required field Principal",
        ),
        (
            &[
                ("Action", "CreatePolicy"),
                ("PolicyName", "q"),
                ("PolicyDocument", no_resource),
            ],
            400,
            "MalformedPolicyDocument",
            "Policy statement must contain resources.",
        ),
        (
            &[
                ("Action", "UpdateOpenIDConnectProviderThumbprint"),
                ("OpenIDConnectProviderArn", PROVIDER_ARN),
                (
                    "ThumbprintList.member.1",
                    "zz99a48a9960b14926bb7f3b02e22da2b0ab7280",
                ),
            ],
            400,
            "InvalidInput",
            "Thumbprint zz99a48a9960b14926bb7f3b02e22da2b0ab7280 is not a valid hex string",
        ),
        (
            &[
                ("Action", "CreateOpenIDConnectProvider"),
                ("Url", "http://oidc.example"),
            ],
            400,
            "InvalidInput",
            "The URL http://oidc.example is not a valid https URL",
        ),
        (
            &[
                ("Action", "UpdateOpenIDConnectProviderThumbprint"),
                ("OpenIDConnectProviderArn", PROVIDER_ARN),
                ("ThumbprintList.member.1", &"a".repeat(40)),
                ("ThumbprintList.member.2", &"b".repeat(40)),
                ("ThumbprintList.member.3", &"c".repeat(40)),
                ("ThumbprintList.member.4", &"d".repeat(40)),
                ("ThumbprintList.member.5", &"e".repeat(40)),
                ("ThumbprintList.member.6", &"f".repeat(40)),
            ],
            409,
            "LimitExceeded",
            "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: 5",
        ),
        (
            &[("Action", "DeleteRole"), ("RoleName", "r")],
            409,
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        ),
        (
            &[("Action", "DeleteRole"), ("RoleName", "inline")],
            409,
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        ),
        (
            &[("Action", "AttachRolePolicy"), ("RoleName", "r")],
            400,
            "ValidationError",
            "1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null",
        ),
        (
            &[("Action", "CreateUser"), ("UserName", "u")],
            400,
            "InvalidAction",
            "Could not find operation CreateUser for version 2010-05-08",
        ),
        (
            &[("Version", "2010-05-08")],
            400,
            "MissingAction",
            "Missing Action",
        ),
    ];
    for (params, status, code, message) in cases {
        let got = error_of(&state, params).await;
        assert_eq!(
            got,
            (*status, (*code).to_owned(), (*message).to_owned()),
            "{params:?}"
        );
    }
}

/// `GET /clusters/{name}` to the EKS endpoint, signed by the admin's key when `signed`.
async fn describe_cluster(
    state: &StsState,
    name: &str,
    signed: bool,
) -> (u16, http::HeaderMap, serde_json::Value) {
    let path = format!("/clusters/{name}");
    let base = [("host", "127.0.0.1:4599")];
    let mut builder = http::Request::get(&path);
    for (k, v) in base {
        builder = builder.header(k, v);
    }
    if signed {
        for (k, v) in sigv4_verify::sign_request(
            "GET",
            &path,
            "",
            &base,
            b"",
            KEY,
            &SecretKey::new(SECRET.to_owned()),
            None,
            "eu-west-1",
            "eks",
            time::OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
        ) {
            builder = builder.header(k, v);
        }
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    let response = mock_sts::eks::handle(state, &parts).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn eks_errors_keep_their_code_status_and_body() {
    let state = state();
    let (status, headers, body) = describe_cluster(&state, "nope", true).await;
    assert_eq!(status, 404);
    assert_eq!(headers["x-amzn-ErrorType"], "ResourceNotFoundException");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        body.to_string(),
        r#"{"clusterName":"nope","message":"No cluster found for name: nope."}"#
    );
    let (status, headers, body) = describe_cluster(&state, "nope", false).await;
    assert_eq!(status, 403);
    assert_eq!(
        headers["x-amzn-ErrorType"],
        "MissingAuthenticationTokenException"
    );
    assert_eq!(
        body.to_string(),
        r#"{"message":"Request is missing Authentication Token"}"#
    );
}
