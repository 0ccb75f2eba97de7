//! The library door: `Harness` as a user's `cargo test` lives in it.

use irsa_harness::Harness;
use irsa_harness::aws_sdk_dynamodb::types::AttributeValue;

const WORLD: &str = "tests/fixtures/my-world.yaml";

/// docs/testing.md shows `user_policies.rs` verbatim: the example users copy is the one CI runs.
#[test]
fn testing_doc_example_is_the_compiled_test() {
    let doc = include_str!("../../../docs/testing.md");
    let code = include_str!("user_policies.rs");
    let fenced = format!("```rust\n{code}```\n");
    assert!(
        doc.contains(&fenced),
        "docs/testing.md must contain harness/tests/it/user_policies.rs verbatim in a ```rust block"
    );
    assert!(
        code.lines().count() < 20,
        "the example must stay under 20 lines"
    );
}

/// docs/testing.md tells users to depend on the library the way they can: by path to this
/// workspace's `harness/` folder, which is the `irsa-harness` crate (it is not published and
/// there is no repository URL to give).
#[test]
fn testing_doc_names_a_dependency_that_exists() {
    let doc = include_str!("../../../docs/testing.md");
    assert!(
        !doc.contains("git = "),
        "no git dependency: there is no such repository"
    );
    let line = doc
        .lines()
        .find(|l| l.starts_with("irsa-harness = "))
        .expect("a dependency line");
    assert!(
        line.contains("path = \"") && line.contains("/harness\""),
        "{line}"
    );
    let manifest = include_str!("../../Cargo.toml");
    assert!(manifest.contains("name = \"irsa-harness\""));
}

#[tokio::test]
async fn several_harnesses_in_one_binary_do_not_collide() {
    let (a, b) = tokio::join!(
        Harness::builder().world(WORLD).start(),
        Harness::builder().world(WORLD).start()
    );
    let (a, b) = (a.expect("first harness"), b.expect("second harness"));
    assert_ne!(a.endpoint(), b.endpoint());
    assert_ne!(a.state_dir(), b.state_dir());

    let db_a = a.dynamodb("curity", "dynamo-sa").await.expect("pod a");
    let db_b = b.dynamodb("curity", "dynamo-sa").await.expect("pod b");
    db_a.put_item()
        .table_name("curity-accounts")
        .item("pk", AttributeValue::S("un#only-in-a".into()))
        .send()
        .await
        .expect("put in a");
    let in_b = db_b
        .get_item()
        .table_name("curity-accounts")
        .key("pk", AttributeValue::S("un#only-in-a".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get in b");
    assert!(in_b.item().is_none(), "b sees a's item: {in_b:?}");

    // Each harness audits only its own calls, as its own assumed-role session.
    let audit_a = a.audit().expect("audit a");
    let audit_b = b.audit().expect("audit b");
    let actions = |records: &[serde_json::Value]| -> Vec<String> {
        records
            .iter()
            .filter_map(|r| r["eventName"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(
        actions(&audit_a).contains(&"PutItem".to_owned()),
        "{audit_a:?}"
    );
    assert!(
        !actions(&audit_b).contains(&"PutItem".to_owned()),
        "{audit_b:?}"
    );
    assert!(
        actions(&audit_b).contains(&"GetItem".to_owned()),
        "{audit_b:?}"
    );

    // Dropping one stops it (its port refuses) and leaves the other serving.
    let a_endpoint = a.endpoint().to_owned();
    let a_dir = a.state_dir().to_owned();
    drop(a);
    let addr = a_endpoint.trim_start_matches("http://").to_owned();
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "the dropped harness still accepts connections");
    assert!(
        !a_dir.exists(),
        "the dropped harness left {}",
        a_dir.display()
    );
    db_b.describe_table()
        .table_name("curity-accounts")
        .send()
        .await
        .expect("b still serves");
    b.shutdown().await;
}

#[tokio::test]
async fn pod_config_uses_web_identity_and_the_clock_moves_sessions() {
    let harness = Harness::builder()
        .world(WORLD)
        .start()
        .await
        .expect("start");
    let env = harness.pod_env("curity", "dynamo-sa").expect("env");
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(
        get("AWS_ROLE_ARN").as_deref(),
        Some("arn:aws:iam::111122223333:role/curity-dynamodb")
    );
    assert!(get("AWS_WEB_IDENTITY_TOKEN_FILE").is_some());

    let sts = harness.sts("curity", "dynamo-sa").await.expect("sts");
    let me = sts.get_caller_identity().send().await.expect("caller");
    assert!(
        me.arn()
            .unwrap_or_default()
            .starts_with("arn:aws:sts::111122223333:assumed-role/curity-dynamodb/"),
        "{me:?}"
    );
    let records = harness.audit().expect("audit");
    assert!(
        records
            .iter()
            .any(|r| r["eventName"] == "AssumeRoleWithWebIdentity"),
        "{records:?}"
    );

    let before = irsa_core::clock::Clock::now(harness.clock());
    harness.clock().advance(7200);
    let after = irsa_core::clock::Clock::now(harness.clock());
    assert!(after - before >= 7200);

    // An unknown service account is an error that names it.
    let err = harness
        .pod("curity", "nobody")
        .await
        .expect_err("unknown sa");
    assert!(err.to_string().contains("curity/nobody"), "{err}");
}

#[tokio::test]
async fn a_builder_without_a_world_says_what_to_do() {
    let err = Harness::builder().start().await.expect_err("no world");
    assert!(err.to_string().contains(".world("), "{err}");
}
