//! The gateway reads the world at request time: IAM users sign with their static keys and are
//! held to their own policies (`aws:PrincipalType` `User`), and a role's policies changed after a
//! session was issued apply to that session's next call.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use gateway::forward::Upstream;
use gateway::handler::{GatewayState, handle};
use iam_policy::NamedPolicy;
use irsa_core::arn::RoleArn;
use irsa_core::clock::FixedClock;
use irsa_core::credential::TemporaryCredentials;
use irsa_core::session::Session;
use irsa_core::world::{AccessKey, Role, User, World};
use irsa_core::{MemorySessionStore, SecretAccessKey, SessionStore, SessionToken, WorldStore};
use sigv4_verify::SecretKey;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
const NOW: i64 = 1_795_898_028;
const SESSION_KEY: &str = "ASIAIRSAHARNESSLIVE1";
const USER_KEY: &str = "AKIAIRSAHARNESSUSER1";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjTESTSESSIONTOKENLIVE";
const CURITY_TABLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#;
const USERS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"User","aws:username":"reporter"}}}]}"#;

async fn backend() -> String {
    let app = axum::Router::new().fallback(|| async { (http::StatusCode::OK, "{}") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    endpoint
}

fn role() -> Role {
    Role {
        arn: RoleArn::new(ACCOUNT, "/", "curity-dynamodb"),
        id: irsa_core::world::role_id(ACCOUNT, "curity-dynamodb"),
        trust_policy: NamedPolicy::parse(
            "trust",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
        )
        .unwrap(),
        policies: vec![],
        managed_policy_arns: BTreeMap::new(),
        permissions_boundary: None,
        max_session_duration: 3600,
        record: Default::default(),
    }
}

fn state(endpoint: &str) -> GatewayState {
    let role = role();
    let user = User {
        name: "reporter".into(),
        path: "/".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/reporter"),
        id: irsa_core::world::user_id(ACCOUNT, "reporter"),
        access_keys: vec![AccessKey {
            id: USER_KEY.into(),
            secret: SecretAccessKey::new(SECRET),
        }],
        policies: vec![NamedPolicy::parse("users-only", USERS_ONLY).unwrap()],
        managed_policy_arns: BTreeMap::new(),
    };
    let world = World {
        roles: BTreeMap::from([(role.arn.name().to_owned(), role.clone())]),
        users: BTreeMap::from([("reporter".to_owned(), user)]),
        ..World::empty(ACCOUNT.into(), REGION.into())
    };
    let sessions = Arc::new(MemorySessionStore::new());
    sessions.insert(Session {
        credentials: TemporaryCredentials {
            access_key_id: SESSION_KEY.into(),
            secret_access_key: SecretAccessKey::new(SECRET),
            session_token: SessionToken::new(TOKEN),
        },
        assumed_role_arn: role.arn.assumed_role_arn("s"),
        assumed_role_id: format!("{}:s", role.id),
        role,
        role_session_name: "s".into(),
        web_identity: None,
        session_policies: vec![],
        issued_at: NOW - 60,
        expires_at: NOW + 3600,
    });
    GatewayState {
        world: Arc::new(WorldStore::new(world)),
        sessions,
        clock: Arc::new(FixedClock(NOW)),
        upstream: Upstream::new(endpoint).unwrap(),
        key_schemas: Default::default(),
        audit: None,
        resource_policies: Default::default(),
    }
}

async fn get_item(
    state: &GatewayState,
    key: &str,
    token: Option<&str>,
    table: &str,
) -> (u16, serde_json::Value) {
    let body = format!(r#"{{"TableName":"{table}","Key":{{"pk":{{"S":"x"}}}}}}"#);
    let base = [
        ("host", "127.0.0.1:4599"),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ];
    let mut builder = http::Request::post("/");
    for (k, v) in base {
        builder = builder.header(k, v);
    }
    for (k, v) in sigv4_verify::sign_request(
        "POST",
        "/",
        "",
        &base,
        body.as_bytes(),
        key,
        &SecretKey::new(SECRET.to_owned()),
        token,
        REGION,
        "dynamodb",
        time::OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
    ) {
        builder = builder.header(k, v);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    let response = handle(state, &parts, Bytes::from(body), None).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_iam_user_signs_with_its_static_key_and_is_held_to_its_own_policies() {
    let state = state(&backend().await);
    let (status, body) = get_item(&state, USER_KEY, None, "anything").await;
    assert_eq!(status, 200, "{body}");
    // The role's session is not a `User`: the same policy would not allow it, and it has none.
    let (status, body) = get_item(&state, SESSION_KEY, Some(TOKEN), "anything").await;
    assert_eq!(status, 400);
    assert!(
        body["Message"].as_str().unwrap().starts_with(
            "User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/s is not authorized"
        ),
        "{body}"
    );
    // A static key sent with a session token is no valid credential.
    let (status, body) = get_item(&state, USER_KEY, Some(TOKEN), "anything").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#UnrecognizedClientException"
    );
    // The user loses its policy: denied, named as a user.
    state
        .world
        .update(|w| {
            w.users.get_mut("reporter").unwrap().policies.clear();
            Ok::<_, ()>(())
        })
        .unwrap();
    let (status, body) = get_item(&state, USER_KEY, None, "anything").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Message"],
        "User: arn:aws:iam::111122223333:user/reporter is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/anything because no identity-based policy allows the dynamodb:GetItem action"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_attached_after_the_session_was_issued_applies_to_its_next_call() {
    let state = state(&backend().await);
    let (status, _) = get_item(&state, SESSION_KEY, Some(TOKEN), "curity-accounts").await;
    assert_eq!(status, 400, "no policy yet");
    state
        .world
        .update(|w| {
            let role = w.roles.get_mut("curity-dynamodb").unwrap();
            role.policies
                .push(NamedPolicy::parse("curity-tables", CURITY_TABLES).unwrap());
            Ok::<_, ()>(())
        })
        .unwrap();
    let (status, body) = get_item(&state, SESSION_KEY, Some(TOKEN), "curity-accounts").await;
    assert_eq!(status, 200, "{body}");
    // The role is deleted: its sessions keep no permissions.
    state
        .world
        .update(|w| {
            w.roles.clear();
            Ok::<_, ()>(())
        })
        .unwrap();
    let (status, body) = get_item(&state, SESSION_KEY, Some(TOKEN), "curity-accounts").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#AccessDeniedException"
    );
}
