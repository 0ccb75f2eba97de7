//! DynamoDB resource-based policies through the real Rust SDK: an administrator attaches,
//! reads and removes a table's policy (answered by the gateway, since DynamoDB Local does not
//! implement these operations), and the Curity pod's calls are decided by its identity policy
//! and the table's policy together, by IAM's same-account rule.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use irsa_tests::{pod_config_loader, pod_sdk_config, s, start_stack};

const TABLE_ARN: &str = "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/curity-dynamodb";

fn policy(effect: &str, action: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ForTheCurityRole",
            "Effect": effect,
            "Principal": {"AWS": ROLE_ARN},
            "Action": action,
            "Resource": [TABLE_ARN, format!("{TABLE_ARN}/index/*")],
        }]
    })
    .to_string()
}

#[tokio::test]
async fn a_table_policy_joins_the_identity_policy_by_the_same_account_rule() {
    let stack = start_stack("curity-least-privilege.yaml", "resource-policies").await;
    let world = stack.world_store().snapshot();
    let admin_env =
        irsa_harness::pod::env::admin_env(&world, stack.endpoint()).expect("admin user");
    let admin = aws_sdk_dynamodb::Client::new(
        &pod_config_loader(stack.state_dir(), admin_env).load().await,
    );
    let pod = aws_sdk_dynamodb::Client::new(&pod_sdk_config(&stack, "curity", "dynamo-sa").await);

    // ARNs come back as AWS names them, not as DynamoDB Local does.
    let described = admin
        .describe_table()
        .table_name("curity-accounts")
        .send()
        .await
        .expect("describe");
    assert_eq!(described.table().unwrap().table_arn(), Some(TABLE_ARN));

    // The least-privilege identity policy grants no Scan.
    let err = pod
        .scan()
        .table_name("curity-accounts")
        .send()
        .await
        .expect_err("no Scan grant yet");
    assert_eq!(err.code(), Some("AccessDeniedException"));

    // No policy yet.
    let err = admin
        .get_resource_policy()
        .resource_arn(TABLE_ARN)
        .send()
        .await
        .expect_err("no policy yet");
    assert_eq!(err.code(), Some("PolicyNotFoundException"), "{err:?}");

    // The table's policy grants Scan to the role: the session may scan.
    let scan_policy = policy("Allow", "dynamodb:Scan");
    let put = admin
        .put_resource_policy()
        .resource_arn(TABLE_ARN)
        .policy(&scan_policy)
        .send()
        .await
        .expect("put policy");
    let revision = put.revision_id().expect("revision").to_owned();
    let again = admin
        .put_resource_policy()
        .resource_arn(TABLE_ARN)
        .policy(&scan_policy)
        .send()
        .await
        .expect("put again");
    assert_eq!(again.revision_id(), Some(revision.as_str()), "idempotent");
    pod.scan()
        .table_name("curity-accounts")
        .send()
        .await
        .expect("the table's policy allows Scan");
    let got = admin
        .get_resource_policy()
        .resource_arn(TABLE_ARN)
        .send()
        .await
        .expect("get policy");
    assert_eq!(got.policy(), Some(scan_policy.as_str()));
    assert_eq!(got.revision_id(), Some(revision.as_str()));

    // An explicit deny in the table's policy wins over the identity policy's allow.
    let stale = admin
        .put_resource_policy()
        .resource_arn(TABLE_ARN)
        .policy(policy("Deny", "dynamodb:GetItem"))
        .expected_revision_id("1")
        .send()
        .await
        .expect_err("wrong expected revision");
    assert_eq!(stale.code(), Some("PolicyNotFoundException"));
    let deny = admin
        .put_resource_policy()
        .resource_arn(TABLE_ARN)
        .policy(policy("Deny", "dynamodb:GetItem"))
        .expected_revision_id(&revision)
        .send()
        .await
        .expect("replace policy");
    let err = pod
        .get_item()
        .table_name("curity-accounts")
        .key("pk", s("un#alice"))
        .send()
        .await
        .expect_err("explicitly denied");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains(
            "is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts with an explicit deny in a resource-based policy"
        ),
        "{message}"
    );

    // Removing it restores the identity policy's answer; the index follows the table's policy.
    admin
        .delete_resource_policy()
        .resource_arn(TABLE_ARN)
        .expected_revision_id(deny.revision_id().unwrap())
        .send()
        .await
        .expect("delete policy");
    pod.get_item()
        .table_name("curity-accounts")
        .key("pk", s("un#alice"))
        .send()
        .await
        .expect("allowed by the identity policy again");

    // Resources that do not exist, or malformed documents, are refused.
    let err = admin
        .put_resource_policy()
        .resource_arn("arn:aws:dynamodb:eu-west-1:111122223333:table/no-such-table")
        .policy(&scan_policy)
        .send()
        .await
        .expect_err("no such table");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let err = admin
        .put_resource_policy()
        .resource_arn(TABLE_ARN)
        .policy("{not json")
        .send()
        .await
        .expect_err("malformed");
    assert_eq!(err.code(), Some("ValidationException"));

    // The pod itself may not attach policies (its identity policy does not grant it).
    let err = pod
        .put_resource_policy()
        .resource_arn(TABLE_ARN)
        .policy(&scan_policy)
        .send()
        .await
        .expect_err("not granted");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    stack.shutdown().await;
}
