//! The spine, end to end: the real `aws-sdk-dynamodb` and `aws-sdk-sts`, built by
//! `aws_config` from nothing but a pod's environment, against the harness and DynamoDB Local.

use irsa_harness::stack::Stack;
use irsa_tests::{backend_client, pod_sdk_config, s};

async fn start_stack(name: &str) -> Stack {
    irsa_tests::start_stack("curity.yaml", name).await
}

#[tokio::test(flavor = "multi_thread")]
async fn curity_pod_puts_gets_and_queries_its_tables() {
    let stack = start_stack("allow").await;
    let config = pod_sdk_config(&stack, "curity", "dynamo-sa").await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let pk = format!("un#allow-{}", std::process::id());

    ddb.put_item()
        .table_name("curity-accounts")
        .item("pk", s(&pk))
        .item("userNameInitial", s("z"))
        .item("userName", s("zed"))
        .send()
        .await
        .expect("PutItem on curity-accounts is allowed");
    let got = ddb
        .get_item()
        .table_name("curity-accounts")
        .key("pk", s(&pk))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem on curity-accounts is allowed");
    assert_eq!(got.item().and_then(|i| i.get("userName")), Some(&s("zed")));
    let queried = ddb
        .query()
        .table_name("curity-accounts")
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(&pk))
        .send()
        .await
        .expect("Query on curity-accounts is allowed");
    assert_eq!(queried.count(), 1);

    // The SDK's own STS client, through the same chain, sees the assumed-role session.
    let sts = aws_sdk_sts::Client::new(&config);
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("111122223333"));
    let arn = me.arn().unwrap_or_default();
    assert!(
        arn.starts_with("arn:aws:sts::111122223333:assumed-role/curity-dynamodb/"),
        "{arn}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn curity_pod_is_denied_outside_its_prefix_and_the_backend_is_untouched() {
    let stack = start_stack("deny").await;
    let config = pod_sdk_config(&stack, "curity", "dynamo-sa").await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let backend = backend_client("eu-west-1");
    let marker = format!("marker-{}", std::process::id());
    backend
        .put_item()
        .table_name("other-table")
        .item("id", s(&marker))
        .send()
        .await
        .expect("seeding other-table directly");

    let err = ddb
        .get_item()
        .table_name("other-table")
        .key("id", s(&marker))
        .send()
        .await
        .expect_err("GetItem on other-table must be denied");
    let service = err.into_service_error();
    let meta = aws_sdk_dynamodb::error::ProvideErrorMetadata::meta(&service);
    assert_eq!(meta.code(), Some("AccessDeniedException"));
    let message = meta.message().unwrap_or_default();
    assert!(
        message.starts_with("User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/"),
        "{message}"
    );
    assert!(
        message.ends_with(" is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/other-table because no identity-based policy allows the dynamodb:GetItem action"),
        "{message}"
    );

    let err = ddb
        .delete_table()
        .table_name("other-table")
        .send()
        .await
        .expect_err("DeleteTable on other-table must be denied");
    let service = err.into_service_error();
    assert_eq!(
        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&service),
        Some("AccessDeniedException")
    );

    // DynamoDB Local never saw the denied calls: the table and its item are still there.
    backend
        .describe_table()
        .table_name("other-table")
        .send()
        .await
        .expect("other-table still exists");
    let item = backend
        .get_item()
        .table_name("other-table")
        .key("id", s(&marker))
        .send()
        .await
        .expect("direct read");
    assert!(item.item().is_some());
    stack.shutdown().await;
}

/// The credential chain's error, flattened with its sources, for message assertions.
fn chain_error_text(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(" | ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_for_the_wrong_namespace_fails_at_sts_with_access_denied() {
    let stack = start_stack("wrong-ns").await;
    let config = pod_sdk_config(&stack, "default", "dynamo-sa").await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let err = ddb
        .get_item()
        .table_name("curity-accounts")
        .key("pk", s("un#alice"))
        .send()
        .await
        .expect_err("the default/dynamo-sa pod gets no credentials");
    let text = chain_error_text(&err);
    assert!(text.contains("AccessDenied"), "{text}");
    assert!(
        text.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        "{text}"
    );
    // It failed while loading credentials, so nothing reached DynamoDB.
    assert!(
        text.contains("loading credentials") || text.contains("credentials"),
        "{text}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_from_an_unregistered_issuer_fails_with_invalid_identity_token() {
    let stack = start_stack("unregistered").await;
    let issuer = stack
        .world()
        .cluster("unassociated-cluster")
        .expect("cluster in world")
        .issuer
        .clone();
    let config = pod_sdk_config(&stack, "curity-staging", "dynamo-sa").await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let err = ddb
        .get_item()
        .table_name("curity-accounts")
        .key("pk", s("un#alice"))
        .send()
        .await
        .expect_err("a token from an unassociated issuer is refused");
    let text = chain_error_text(&err);
    assert!(text.contains("InvalidIdentityToken"), "{text}");
    assert!(
        text.contains(&format!(
            "No OpenIDConnect provider found in your account for {issuer}"
        )),
        "{text}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_with_one_denied_item_is_refused_whole_and_changes_no_table() {
    use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
    let stack = start_stack("transact").await;
    let config = pod_sdk_config(&stack, "curity", "dynamo-sa").await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let allowed_key = format!("ai#tx-{}", std::process::id());
    let denied_key = format!("tx-{}", std::process::id());
    let put = |table: &str, attr: &str, key: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(table)
                    .item(attr, s(key))
                    .build()
                    .expect("put"),
            )
            .build()
    };
    let err = ddb
        .transact_write_items()
        .transact_items(put("curity-accounts", "pk", &allowed_key))
        .transact_items(put("other-table", "id", &denied_key))
        .send()
        .await
        .expect_err("one item is outside the grant");
    let service = err.into_service_error();
    let meta = aws_sdk_dynamodb::error::ProvideErrorMetadata::meta(&service);
    assert_eq!(meta.code(), Some("AccessDeniedException"));
    let message = meta.message().unwrap_or_default();
    assert!(
        message.contains("is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/other-table"),
        "the message names the denied item's action and table: {message}"
    );
    let backend = backend_client("eu-west-1");
    for (table, attr, key) in [
        ("curity-accounts", "pk", &allowed_key),
        ("other-table", "id", &denied_key),
    ] {
        let got = backend
            .get_item()
            .table_name(table)
            .key(attr, s(key))
            .consistent_read(true)
            .send()
            .await
            .expect("direct read");
        assert!(
            got.item().is_none(),
            "{table} was written by a denied transaction"
        );
    }
    stack.shutdown().await;
}
