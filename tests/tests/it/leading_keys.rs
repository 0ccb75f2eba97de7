//! `dynamodb:LeadingKeys` with `${<issuer>:sub}`, end to end: two service accounts share one role
//! whose policy admits only rows whose partition key is the caller's own `sub`. The real
//! `aws-sdk-dynamodb`, configured from nothing but each pod's environment, against the harness and
//! DynamoDB Local (world `scenarios/worlds/tenants.yaml`, table `tenants-rows`).

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use irsa_harness::stack::Stack;
use irsa_tests::s;

const SUB_A: &str = "system:serviceaccount:tenants:tenant-a";
const SUB_B: &str = "system:serviceaccount:tenants:tenant-b";
const TABLE_ARN: &str = "arn:aws:dynamodb:eu-west-1:222233334444:table/tenants-rows";

/// The DynamoDB client a pod of `tenants/<name>` gets from `aws_config`'s default chain.
async fn pod_client(stack: &Stack, name: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&irsa_tests::pod_sdk_config(stack, "tenants", name).await)
}

/// The error's code and message, asserting it is a denial of `action` on the table.
fn assert_denied<E: ProvideErrorMetadata>(err: &E, action: &str) {
    assert_eq!(
        err.code(),
        Some("AccessDeniedException"),
        "{:?}",
        err.message()
    );
    let message = err.message().unwrap_or_default();
    assert!(
        message.starts_with("User: arn:aws:sts::222233334444:assumed-role/tenant-rows/"),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            " is not authorized to perform: {action} on resource: {TABLE_ARN} because no identity-based policy allows the {action} action"
        )),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_service_account_touches_only_rows_keyed_by_its_own_sub() {
    let stack = irsa_tests::start_stack("tenants.yaml", "lk-rows").await;
    let a = pod_client(&stack, "tenant-a").await;
    let b = pod_client(&stack, "tenant-b").await;
    let item = format!("note-{}", std::process::id());

    // Each writes, reads, updates and queries its own partition.
    for (client, sub) in [(&a, SUB_A), (&b, SUB_B)] {
        client
            .put_item()
            .table_name("tenants-rows")
            .item("tenant", s(sub))
            .item("item", s(&item))
            .item("owner", s(sub))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{sub} writes its own row: {e:?}"));
        let got = client
            .get_item()
            .table_name("tenants-rows")
            .key("tenant", s(sub))
            .key("item", s(&item))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{sub} reads its own row: {e:?}"));
        assert_eq!(got.item().and_then(|i| i.get("owner")), Some(&s(sub)));
        client
            .update_item()
            .table_name("tenants-rows")
            .key("tenant", s(sub))
            .key("item", s(&item))
            .update_expression("SET #n = :n")
            .expression_attribute_names("#n", "note")
            .expression_attribute_values(":n", s("mine"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{sub} updates its own row: {e:?}"));
        let queried = client
            .query()
            .table_name("tenants-rows")
            .key_condition_expression("#t = :t AND #i = :i")
            .expression_attribute_names("#t", "tenant")
            .expression_attribute_names("#i", "item")
            .expression_attribute_values(":t", s(sub))
            .expression_attribute_values(":i", s(&item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{sub} queries its own partition: {e:?}"));
        assert_eq!(queried.count(), 1);
    }

    // Tenant A is denied each way of touching tenant B's row.
    let err = a
        .get_item()
        .table_name("tenants-rows")
        .key("tenant", s(SUB_B))
        .key("item", s(&item))
        .send()
        .await
        .expect_err("A may not read B's row")
        .into_service_error();
    assert_denied(&err, "dynamodb:GetItem");
    let err = a
        .put_item()
        .table_name("tenants-rows")
        .item("tenant", s(SUB_B))
        .item("item", s(&item))
        .item("owner", s(SUB_A))
        .send()
        .await
        .expect_err("A may not overwrite B's row")
        .into_service_error();
    assert_denied(&err, "dynamodb:PutItem");
    let err = a
        .delete_item()
        .table_name("tenants-rows")
        .key("tenant", s(SUB_B))
        .key("item", s(&item))
        .send()
        .await
        .expect_err("A may not delete B's row")
        .into_service_error();
    assert_denied(&err, "dynamodb:DeleteItem");
    let err = a
        .query()
        .table_name("tenants-rows")
        .key_condition_expression("tenant = :t")
        .expression_attribute_values(":t", s(SUB_B))
        .send()
        .await
        .expect_err("A may not query B's partition")
        .into_service_error();
    assert_denied(&err, "dynamodb:Query");
    // A batch with one foreign key is denied as a whole.
    let keys = KeysAndAttributes::builder()
        .keys(
            [
                ("tenant".to_owned(), s(SUB_A)),
                ("item".to_owned(), s(&item)),
            ]
            .into(),
        )
        .keys(
            [
                ("tenant".to_owned(), s(SUB_B)),
                ("item".to_owned(), s(&item)),
            ]
            .into(),
        )
        .build()
        .expect("keys");
    let err = a
        .batch_get_item()
        .request_items("tenants-rows", keys)
        .send()
        .await
        .expect_err("A may not batch-read B's row")
        .into_service_error();
    assert_denied(&err, "dynamodb:BatchGetItem");
    // Only its own keys: allowed.
    let own = KeysAndAttributes::builder()
        .keys(
            [
                ("tenant".to_owned(), s(SUB_A)),
                ("item".to_owned(), s(&item)),
            ]
            .into(),
        )
        .consistent_read(true)
        .build()
        .expect("keys");
    let got = a
        .batch_get_item()
        .request_items("tenants-rows", own)
        .send()
        .await
        .expect("A batch-reads its own row");
    assert_eq!(
        got.responses()
            .and_then(|r| r.get("tenants-rows"))
            .map(Vec::len),
        Some(1)
    );

    // B's row survived A's attempts untouched.
    let got = b
        .get_item()
        .table_name("tenants-rows")
        .key("tenant", s(SUB_B))
        .key("item", s(&item))
        .consistent_read(true)
        .send()
        .await
        .expect("B reads its row");
    let row = got.item().expect("B's row still exists");
    assert_eq!(row.get("owner"), Some(&s(SUB_B)));
    assert_eq!(row.get("note"), Some(&s("mine")));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_trail_records_each_call_with_its_decision_and_no_secrets() {
    use aws_sdk_dynamodb::operation::RequestId as _;

    let stack = irsa_tests::start_stack("tenants.yaml", "lk-audit").await;
    let a = pod_client(&stack, "tenant-a").await;
    let item = format!("audit-{}", std::process::id());
    a.put_item()
        .table_name("tenants-rows")
        .item("tenant", s(SUB_A))
        .item("item", s(&item))
        .item("secret-ish", s("row-value-must-not-be-audited"))
        .send()
        .await
        .expect("A writes its own row");
    let err = a
        .get_item()
        .table_name("tenants-rows")
        .key("tenant", s(SUB_B))
        .key("item", s(&item))
        .send()
        .await
        .expect_err("A may not read B's row")
        .into_service_error();
    let denied_id = err.request_id().expect("request id").to_owned();

    let text = std::fs::read_to_string(stack.state_dir().join("audit.jsonl")).expect("audit file");
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is json"))
        .collect();
    let names: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["eventSource"].as_str().unwrap_or_default(),
                r["eventName"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        names.contains(&("sts.amazonaws.com", "AssumeRoleWithWebIdentity")),
        "{names:?}"
    );
    assert!(
        names.contains(&("dynamodb.amazonaws.com", "PutItem")),
        "{names:?}"
    );
    let denied = records
        .iter()
        .find(|r| r["requestID"] == denied_id.as_str())
        .expect("the denied call is in the trail");
    assert_eq!(denied["errorCode"], "AccessDeniedException");
    assert_eq!(denied["eventVersion"], "1.09");
    assert_eq!(denied["awsRegion"], "eu-west-1");
    assert_eq!(
        denied["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
        "arn:aws:iam::222233334444:role/tenant-rows"
    );
    assert_eq!(
        denied["userIdentity"]["sessionContext"]["webIdFederationData"]["federatedProvider"],
        "arn:aws:iam::222233334444:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/A1B2C3D4E5F60718293A4B5C6D7E8F90"
    );
    assert_eq!(
        denied["requestParameters"]["key"]["tenant"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    let trace = irsa_harness::stack::audit::explain(&records, &denied_id).expect("explain");
    assert!(trace.contains("ImplicitDeny"), "{trace}");
    assert!(trace.contains("dynamodb:LeadingKeys"), "{trace}");

    // No secret, token, signature or item value anywhere in the file.
    assert!(!text.contains("row-value-must-not-be-audited"));
    assert!(!text.contains("Signature="));
    assert!(!text.contains("AWS4-HMAC-SHA256"));
    let web_identity_token = std::fs::read_to_string(irsa_harness::pod::env::token_path(
        stack.state_dir(),
        "tenants",
        "tenant-a",
    ))
    .expect("token file");
    assert!(!text.contains(&web_identity_token));
    assert!(!text.contains(web_identity_token.split('.').nth(2).unwrap_or("-")));
    let mut checked = 0;
    for key in records
        .iter()
        .filter_map(|r| r["userIdentity"]["accessKeyId"].as_str())
    {
        let session = irsa_core::SessionStore::get(stack.sessions(), key).expect("session");
        assert!(!text.contains(session.credentials.secret_access_key.expose()));
        assert!(!text.contains(session.credentials.session_token.expose()));
        checked += 1;
    }
    assert!(checked > 0);
    stack.shutdown().await;
}
