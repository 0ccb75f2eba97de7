//! Several clusters in one stack: each has its own issuer (URL, signing key, JWKS), its own IAM
//! OIDC provider and role; a pod of one cluster reaches its own tables only, and a token of one
//! cluster cannot assume the other cluster's role.

use aws_sdk_sts::error::ProvideErrorMetadata as _;
use irsa_harness::backend::dynamodb_local::ProvisionOptions;
use irsa_harness::stack::{Stack, StackConfig};

const EAST: &str = "oidc.eks.eu-west-1.amazonaws.com/id/EA57000000000000000000000000000E";
const WEST: &str = "oidc.eks.eu-west-1.amazonaws.com/id/3E57000000000000000000000000000W";

fn world_yaml() -> String {
    let role = |name: &str, issuer: &str, namespace: &str| {
        format!(
            r#"  - name: {name}-app
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {{Federated: "arn:aws:iam::111122223333:oidc-provider/{issuer}"}}
          Action: sts:AssumeRoleWithWebIdentity
          Condition:
            StringEquals:
              "{issuer}:sub": system:serviceaccount:{namespace}:app
              "{issuer}:aud": sts.amazonaws.com
    managed_policies: [{name}-tables]
"#
        )
    };
    let policy = |name: &str| {
        format!(
            r#"  - name: {name}-tables
    document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: "dynamodb:*"
          Resource: "arn:aws:dynamodb:eu-west-1:111122223333:table/clusters-{name}-*"
"#
        )
    };
    let sa = |name: &str| {
        format!(
            r#"  - metadata:
      name: app
      namespace: shop-{name}
      annotations:
        eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/{name}-app
    cluster: {name}
"#
        )
    };
    let table = |name: &str| {
        format!(
            r#"  - TableName: clusters-{name}-orders
    BillingMode: PAY_PER_REQUEST
    AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
    KeySchema: [{{AttributeName: id, KeyType: HASH}}]
"#
        )
    };
    format!(
        "account: \"111122223333\"\nregion: eu-west-1\nclusters:\n  - name: east\n    issuer: https://{EAST}\n    associate_oidc_provider: true\n  - name: west\n    issuer: https://{WEST}\n    associate_oidc_provider: true\nservice_accounts:\n{}{}policies:\n{}{}roles:\n{}{}tables:\n{}{}",
        sa("east"),
        sa("west"),
        policy("east"),
        policy("west"),
        role("east", EAST, "shop-east"),
        role("west", WEST, "shop-west"),
        table("east"),
        table("west"),
    )
}

async fn start() -> Stack {
    let dir = irsa_tests::scratch_dir("two-clusters");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("world.yaml");
    std::fs::write(&file, world_yaml()).expect("world file");
    let world = irsa_harness::world_file::load(&file)
        .unwrap_or_else(|e| panic!("the two-cluster world loads: {e}"))
        .world;
    Stack::start(StackConfig {
        world,
        port: 0,
        state_dir: dir.join("state"),
        dynamodb: ProvisionOptions {
            endpoint: Some(irsa_tests::backend_endpoint().to_owned()),
            ..ProvisionOptions::default()
        },
        node_role: None,
    })
    .await
    .expect("stack starts")
}

async fn get(config: &aws_config::SdkConfig, table: &str) -> Result<(), String> {
    aws_sdk_dynamodb::Client::new(config)
        .get_item()
        .table_name(table)
        .key("id", irsa_tests::s("1"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&e.into_service_error())
                .unwrap_or("?")
                .to_owned()
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clusters_each_with_its_own_issuer_provider_and_role() {
    let stack = start().await;
    let east = stack.issuers().by_cluster("east").expect("east issuer");
    let west = stack.issuers().by_cluster("west").expect("west issuer");
    assert_eq!(east.url(), format!("https://{EAST}"));
    assert_ne!(east.active_kid(), west.active_kid(), "one key per cluster");

    // Each issuer serves its own discovery document and JWKS under its own path.
    for issuer in [east, west] {
        let jwks: serde_json::Value = serde_json::from_str(
            &reqwest_like_get(&format!("{}{}/keys", stack.endpoint(), issuer.path())).await,
        )
        .expect("JWKS is JSON");
        assert_eq!(jwks["keys"][0]["kid"], issuer.active_kid());
    }

    for (me, other) in [("east", "west"), ("west", "east")] {
        let config = irsa_tests::pod_sdk_config(&stack, &format!("shop-{me}"), "app").await;
        assert_eq!(get(&config, &format!("clusters-{me}-orders")).await, Ok(()));
        assert_eq!(
            get(&config, &format!("clusters-{other}-orders")).await,
            Err("AccessDeniedException".to_owned())
        );
    }

    // A token of cluster east presented for west's role: the trust policy names west's provider.
    let east_token = stack.mint_token("shop-east", "app").expect("token");
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("eu-west-1"))
            .endpoint_url(stack.endpoint())
            .build(),
    );
    let err = sts
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::111122223333:role/west-app")
        .role_session_name("cross")
        .web_identity_token(east_token)
        .send()
        .await
        .expect_err("east's token cannot assume west's role")
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(
        err.message(),
        Some("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    );

    // Rotating one cluster's key leaves the other's tokens valid.
    let west_token = stack.mint_token("shop-west", "app").expect("token");
    stack.rotate_key("east", false).await.expect("rotate east");
    sts.assume_role_with_web_identity()
        .role_arn("arn:aws:iam::111122223333:role/west-app")
        .role_session_name("still-west")
        .web_identity_token(west_token)
        .send()
        .await
        .expect("west's token still verifies after east's rotation");

    let kubeconfig = std::fs::read_to_string(stack.kubeconfig()).expect("kubeconfig");
    assert!(
        kubeconfig.contains("- name: east\n") && kubeconfig.contains("- name: west\n"),
        "{kubeconfig}"
    );
    stack.shutdown().await;
}

/// A plain HTTP GET over a raw TCP stream (the issuer documents are tiny).
async fn reqwest_like_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    stream
        .write_all(
            format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}
