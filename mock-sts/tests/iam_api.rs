//! The IAM Query API in process: IAM's XML shapes (namespace, `Result` first, errors with
//! `RequestId` beside `Error`), signing by a world user's static key, and the world changes the
//! next STS call sees.

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
