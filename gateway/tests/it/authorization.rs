//! Authorization beyond the signature, in-process against a fake backend: `dynamodb:LeadingKeys`
//! from the table's key schema (read once with `DescribeTable`, cached, invalidated by table
//! changes, failing closed), and explicit-deny messages naming the denying managed policy's ARN.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use gateway::forward::Upstream;
use gateway::handler::{GatewayState, handle};
use gateway::key_schema::KeySchemaCache;
use iam_policy::NamedPolicy;
use irsa_core::arn::RoleArn;
use irsa_core::clock::FixedClock;
use irsa_core::credential::TemporaryCredentials;
use irsa_core::session::{Session, WebIdentity};
use irsa_core::world::{Role, World};
use irsa_core::{MemorySessionStore, SecretAccessKey, SessionStore, SessionToken};
use sigv4_verify::SecretKey;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
const NOW: i64 = 1_795_898_028;
const AKID: &str = "ASIAIRSAHARNESSTEST2";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjTESTSESSIONTOKEN";
const PROVIDER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";
const SUB: &str = "system:serviceaccount:curity:dynamo-sa";

/// A backend that answers `DescribeTable` with a `pk` partition key (GSI `g` on `email`) and
/// everything else with `{}`; it counts both.
#[derive(Debug, Default)]
struct Fake {
    describes: AtomicUsize,
    forwarded: AtomicUsize,
}

async fn fake_backend(available: bool) -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let counters = Arc::clone(&fake);
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let counters = Arc::clone(&counters);
        async move {
            let target = request
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = if target.ends_with(".DescribeTable") {
                counters.describes.fetch_add(1, Ordering::SeqCst);
                if available {
                    r#"{"Table":{"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"GlobalSecondaryIndexes":[{"IndexName":"g","KeySchema":[{"AttributeName":"email","KeyType":"HASH"}]}]}}"#
                } else {
                    return (
                        http::StatusCode::BAD_REQUEST,
                        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Cannot do operations on a non-existent table"}"#,
                    );
                }
            } else {
                counters.forwarded.fetch_add(1, Ordering::SeqCst);
                "{}"
            };
            (http::StatusCode::OK, body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (endpoint, fake)
}

fn gateway(upstream: &str, policies: &[(&str, &str)], managed: &[(&str, &str)]) -> GatewayState {
    let trust = NamedPolicy::parse(
        "trust",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
    )
    .unwrap();
    let role = Role {
        arn: RoleArn::new(ACCOUNT, "/", "curity-dynamodb"),
        id: irsa_core::world::role_id(ACCOUNT, "curity-dynamodb"),
        trust_policy: trust,
        policies: policies
            .iter()
            .map(|(name, doc)| NamedPolicy::parse(*name, doc).unwrap())
            .collect(),
        managed_policy_arns: managed
            .iter()
            .map(|(n, a)| ((*n).to_owned(), (*a).to_owned()))
            .collect(),
        permissions_boundary: None,
        max_session_duration: 3600,
        record: Default::default(),
    };
    let claims: irsa_core::token::Claims = serde_json::from_value(serde_json::json!({
        "iss": format!("https://{PROVIDER}"), "sub": SUB, "aud": "sts.amazonaws.com",
        "exp": NOW + 3600, "iat": NOW - 60
    }))
    .unwrap();
    let session = Session {
        credentials: TemporaryCredentials {
            access_key_id: AKID.into(),
            secret_access_key: SecretAccessKey::new(SECRET),
            session_token: SessionToken::new(TOKEN),
        },
        assumed_role_arn: role.arn.assumed_role_arn("s"),
        assumed_role_id: format!("{}:s", role.id),
        role: role.clone(),
        role_session_name: "s".into(),
        web_identity: Some(WebIdentity {
            provider_arn: format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{PROVIDER}"),
            provider_url: PROVIDER.into(),
            subject: SUB.into(),
            audience: "sts.amazonaws.com".into(),
            claims,
        }),
        session_policies: vec![],
        issued_at: NOW - 60,
        expires_at: NOW + 3600,
    };
    let sessions = Arc::new(MemorySessionStore::new());
    sessions.insert(session);
    GatewayState {
        world: Arc::new(irsa_core::WorldStore::new(World {
            roles: BTreeMap::from([(role.arn.name().to_owned(), role.clone())]),
            ..World::empty(ACCOUNT.into(), REGION.into())
        })),
        sessions,
        clock: Arc::new(FixedClock(NOW)),
        upstream: Upstream::new(upstream).unwrap(),
        key_schemas: Arc::new(KeySchemaCache::new()),
        audit: None,
        resource_policies: Default::default(),
    }
}

async fn call(state: &GatewayState, operation: &str, body: &str) -> (u16, serde_json::Value) {
    let target = format!("DynamoDB_20120810.{operation}");
    let base = [
        ("host", "127.0.0.1:4599"),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", target.as_str()),
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
        AKID,
        &SecretKey::new(SECRET.to_owned()),
        Some(TOKEN),
        REGION,
        "dynamodb",
        time::OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
    ) {
        builder = builder.header(k, v);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    let response = handle(state, &parts, Bytes::from(body.to_owned()), None).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

const OWN_ROWS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query","dynamodb:BatchWriteItem","dynamodb:DeleteTable","dynamodb:UpdateItem"],"Resource":"arn:aws:dynamodb:*:*:table/curity-*","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:sub}"]}}}]}"#;

fn get(pk: &str) -> String {
    format!(r#"{{"TableName":"curity-accounts","Key":{{"pk":{{"S":"{pk}"}}}}}}"#)
}

#[tokio::test(flavor = "multi_thread")]
async fn leading_keys_admit_only_the_callers_own_partition_and_the_schema_is_read_once() {
    let (endpoint, fake) = fake_backend(true).await;
    let state = gateway(&endpoint, &[("own-rows", OWN_ROWS)], &[]);

    let (status, _) = call(&state, "GetItem", &get(SUB)).await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &state,
        "GetItem",
        &get("system:serviceaccount:curity:other"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#AccessDeniedException"
    );
    let put = format!(
        r#"{{"TableName":"curity-accounts","Item":{{"pk":{{"S":"{SUB}"}},"x":{{"N":"1"}}}}}}"#
    );
    assert_eq!(call(&state, "PutItem", &put).await.0, 200);
    let query = format!(
        r#"{{"TableName":"curity-accounts","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"{SUB}"}}}}}}"#
    );
    assert_eq!(call(&state, "Query", &query).await.0, 200);
    // A batch is denied when any of its items addresses another partition.
    let batch = format!(
        r#"{{"RequestItems":{{"curity-accounts":[{{"PutRequest":{{"Item":{{"pk":{{"S":"{SUB}"}}}}}}}},{{"DeleteRequest":{{"Key":{{"pk":{{"S":"someone-else"}}}}}}}}]}}}}"#
    );
    let (status, body) = call(&state, "BatchWriteItem", &batch).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .contains("dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts")
    );
    assert_eq!(fake.describes.load(Ordering::SeqCst), 1, "schema cached");
    assert_eq!(fake.forwarded.load(Ordering::SeqCst), 3);

    // A table change through the gateway drops the cached schema.
    let (status, _) = call(&state, "DeleteTable", r#"{"TableName":"curity-accounts"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(call(&state, "GetItem", &get(SUB)).await.0, 200);
    assert_eq!(fake.describes.load(Ordering::SeqCst), 2, "schema re-read");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_without_a_partition_key_equality_is_denied_not_forwarded() {
    let (endpoint, fake) = fake_backend(true).await;
    let state = gateway(&endpoint, &[("own-rows", OWN_ROWS)], &[]);
    let query = r#"{"TableName":"curity-accounts","KeyConditionExpression":"begins_with(pk, :p)","ExpressionAttributeValues":{":p":{"S":"x"}}}"#;
    let (status, body) = call(&state, "Query", query).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazon.coral.validate#ValidationException"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("irsa-harness could not evaluate dynamodb:LeadingKeys for this request, so it was denied"),
        "{body}"
    );
    assert_eq!(fake.forwarded.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_key_schema_fails_closed() {
    let (endpoint, fake) = fake_backend(false).await;
    let state = gateway(&endpoint, &[("own-rows", OWN_ROWS)], &[]);
    let (status, body) = call(&state, "GetItem", &get(SUB)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "irsa-harness could not evaluate dynamodb:LeadingKeys for this request, so it was denied: `DescribeTable` for table `curity-accounts` failed: `ResourceNotFoundException: Cannot do operations on a non-existent table`"
    );
    assert_eq!(fake.forwarded.load(Ordering::SeqCst), 0);

    // Backend down: a retryable 500, still never an allow.
    let state = gateway("http://127.0.0.1:9", &[("own-rows", OWN_ROWS)], &[]);
    let (status, body) = call(&state, "GetItem", &get(SUB)).await;
    assert_eq!(status, 500);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("did not answer the DescribeTable needed to evaluate dynamodb:LeadingKeys"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_leading_keys_condition_no_schema_is_read() {
    let (endpoint, fake) = fake_backend(true).await;
    let all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#;
    let state = gateway(&endpoint, &[("all", all)], &[]);
    assert_eq!(call(&state, "GetItem", &get("anything")).await.0, 200);
    assert_eq!(fake.describes.load(Ordering::SeqCst), 0);
}

const CURITY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"CurityTables","Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#;
const DENY_SESSION_DELETE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"KeepSessions","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"arn:aws:dynamodb:*:*:table/curity-sessions"}]}"#;
const DELETE_SESSION: &str = r#"{"TableName":"curity-sessions","Key":{"id":{"S":"s1"}}}"#;
const HEAD: &str = "User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/s is not authorized to perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/curity-sessions with an explicit deny in an identity-based policy";

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_deny_in_a_managed_policy_names_its_arn() {
    let (endpoint, fake) = fake_backend(true).await;
    let state = gateway(
        &endpoint,
        &[
            ("dynamo-iam-policy", CURITY),
            ("deny-session-delete", DENY_SESSION_DELETE),
        ],
        &[
            (
                "dynamo-iam-policy",
                "arn:aws:iam::111122223333:policy/dynamo-iam-policy",
            ),
            (
                "deny-session-delete",
                "arn:aws:iam::111122223333:policy/deny-session-delete",
            ),
        ],
    );
    let (status, body) = call(&state, "DeleteItem", DELETE_SESSION).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#AccessDeniedException"
    );
    assert_eq!(
        body["Message"],
        format!("{HEAD}: arn:aws:iam::111122223333:policy/deny-session-delete")
    );
    // Other calls on the table are still allowed; the deny never reached the backend.
    let get = r#"{"TableName":"curity-sessions","Key":{"id":{"S":"s1"}}}"#;
    assert_eq!(call(&state, "GetItem", get).await.0, 200);
    assert_eq!(fake.forwarded.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_deny_in_an_inline_policy_has_no_arn_suffix() {
    let (endpoint, _fake) = fake_backend(true).await;
    let state = gateway(
        &endpoint,
        &[
            ("dynamo-iam-policy", CURITY),
            ("inline-keep-sessions", DENY_SESSION_DELETE),
        ],
        &[(
            "dynamo-iam-policy",
            "arn:aws:iam::111122223333:policy/dynamo-iam-policy",
        )],
    );
    let (status, body) = call(&state, "DeleteItem", DELETE_SESSION).await;
    assert_eq!(status, 400);
    assert_eq!(body["Message"], HEAD);
}

/// Keeps the audit records it is given.
#[derive(Debug, Default)]
struct Records(std::sync::Mutex<Vec<serde_json::Value>>);

impl irsa_core::audit::AuditSink for Records {
    fn record(&self, event: serde_json::Value) {
        self.0.lock().unwrap().push(event);
    }
}

/// Every stage that reads the request (classification, `dynamodb:LeadingKeys`, `CreateTable`'s
/// `ResourcePolicy`, key-schema invalidation, the resource-policy operations, the audit record)
/// reads the one parse of its body: one parse per call, counted on this thread (a current-thread
/// runtime runs the call's stages here).
#[tokio::test(flavor = "current_thread")]
async fn each_call_parses_its_body_once_whatever_stages_read_it() {
    let (endpoint, _fake) = fake_backend(true).await;
    let tables = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:CreateTable","dynamodb:PutResourcePolicy","dynamodb:GetResourcePolicy"],"Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#;
    let mut state = gateway(
        &endpoint,
        &[("own-rows", OWN_ROWS), ("tables", tables)],
        &[],
    );
    let records = Arc::new(Records::default());
    state.audit = Some(Arc::clone(&records) as Arc<dyn irsa_core::audit::AuditSink>);
    let table_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"dynamodb:GetItem","Resource":"*"}]}"#;
    let create = serde_json::json!({
        "TableName": "curity-new",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "ResourcePolicy": table_policy,
    })
    .to_string();
    let batch = format!(
        r#"{{"RequestItems":{{"curity-accounts":[{{"PutRequest":{{"Item":{{"pk":{{"S":"{SUB}"}}}}}}}},{{"DeleteRequest":{{"Key":{{"pk":{{"S":"{SUB}"}}}}}}}}]}}}}"#
    );
    let policy_of_new =
        r#"{"ResourceArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/curity-new"}"#;
    let calls = [
        ("GetItem", get(SUB), 200),
        ("GetItem", get("someone-else"), 400),
        ("BatchWriteItem", batch, 200),
        ("CreateTable", create, 200),
        ("GetResourcePolicy", policy_of_new.to_owned(), 200),
        (
            "GetItem",
            r#"{"TableName":"curity-accounts","Key":{}}"#.to_owned(),
            400,
        ),
    ];
    for (operation, body, expected) in &calls {
        let before = gateway::body::parses_on_this_thread();
        let (status, answer) = call(&state, operation, body).await;
        assert_eq!(status, *expected, "{operation}: {answer}");
        let parses = gateway::body::parses_on_this_thread() - before;
        assert_eq!(parses, 1, "{operation} {body} parsed {parses} times");
    }
    // The policy given with `CreateTable` was kept by the gateway and answered from there.
    let (_, answer) = call(&state, "GetResourcePolicy", policy_of_new).await;
    assert_eq!(answer["Policy"], table_policy);

    // A call refused before classification still parses once, for its audit record.
    let before = gateway::body::parses_on_this_thread();
    let (parts, ()) = http::Request::post("/")
        .header("x-amz-target", "DynamoDB_20120810.GetItem")
        .body(())
        .unwrap()
        .into_parts();
    let response = handle(&state, &parts, Bytes::from(get(SUB)), None).await;
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(gateway::body::parses_on_this_thread() - before, 1);

    let records = records.0.lock().unwrap();
    assert_eq!(records.len(), calls.len() + 2);
    for record in records.iter() {
        assert!(
            record["requestParameters"].is_object(),
            "every record shows its request: {record}"
        );
    }
}
