//! Session policies passed to `AssumeRoleWithWebIdentity` travel with the session to the
//! DynamoDB gateway, which intersects the role's permissions with them (real Rust SDKs, DynamoDB
//! Local).

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use irsa_core::clock::Clock as _;
use irsa_tests::{s, start_stack};
use mock_oidc::TokenSpec;

#[tokio::test(flavor = "multi_thread")]
async fn an_inline_session_policy_narrows_the_role_at_the_gateway() {
    let stack = start_stack("curity.yaml", "session-policies").await;
    let token = stack
        .issuers()
        .by_cluster("curity-dynamo-irsa")
        .unwrap()
        .mint(
            &TokenSpec {
                namespace: "curity".into(),
                service_account: "dynamo-sa".into(),
                audiences: vec!["sts.amazonaws.com".into()],
                expiration_seconds: 3600,
                pod_name: None,
            },
            stack.clock().now(),
        )
        .unwrap();
    let sts = aws_sdk_sts::Client::from_conf(irsa_tests::sts_config(stack.endpoint()).build());
    let assumed = sts
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::111122223333:role/curity-dynamodb")
        .role_session_name("read-only")
        .web_identity_token(token)
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#)
        .send()
        .await
        .expect("assumed with a session policy");
    #[allow(
        deprecated,
        reason = "PackedPolicySize is deprecated in the model but still sent"
    )]
    let packed = assumed.packed_policy_size();
    assert!(packed.is_some());
    let creds = assumed.credentials().unwrap();
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
            .endpoint_url(stack.endpoint())
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_owned()),
                None,
                "test",
            ))
            .build(),
    );
    ddb.get_item()
        .table_name("curity-accounts")
        .key("pk", s("un#session-policy"))
        .send()
        .await
        .expect("GetItem: allowed by the role and by the session policy");
    let err = ddb
        .put_item()
        .table_name("curity-accounts")
        .item("pk", s("un#session-policy"))
        .send()
        .await
        .expect_err("PutItem: allowed by the role, not by the session policy");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert_eq!(
        err.message(),
        Some(
            "User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/read-only is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts because no session policy allows the dynamodb:PutItem action"
        )
    );
}
