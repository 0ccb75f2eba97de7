use irsa_harness::Harness;
use irsa_harness::aws_sdk_dynamodb::types::AttributeValue::S;

#[tokio::test]
async fn curity_pod_may_write_accounts_but_not_drop_the_table() {
    let world = "tests/fixtures/my-world.yaml";
    let harness = Harness::builder().world(world).start().await.unwrap();
    let db = harness.dynamodb("curity", "dynamo-sa").await.unwrap();

    let put = db.put_item().table_name("curity-accounts");
    assert!(put.item("pk", S("un#alice".into())).send().await.is_ok());

    let drop = db.delete_table().table_name("curity-accounts");
    let err = drop.send().await.unwrap_err().into_service_error();
    assert_eq!(err.meta().code(), Some("AccessDeniedException"));
}
