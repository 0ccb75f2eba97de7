//! EC2 instance metadata with the real SDKs: the node role over IMDSv2, the hop limit that keeps
//! pods out, and the seed's point — a pod without the IRSA annotation silently gets the node
//! role's broader access.

use tokio::process::Command;

use irsa_harness::Harness;
use irsa_harness::aws_sdk_dynamodb::types::AttributeValue;
use scenarios::world_file::NodeRole;

const WORLD: &str = "tests/fixtures/node-world.yaml";
const NODE_ARN_PREFIX: &str = "arn:aws:sts::111122223333:assumed-role/eks-node/";

#[tokio::test]
async fn pod_without_irsa_annotation_silently_gets_the_node_roles_access() {
    let harness = Harness::builder()
        .world(WORLD)
        .start()
        .await
        .expect("start");

    // With IRSA: least privilege, `other-table` is refused.
    let irsa = harness
        .dynamodb("curity", "dynamo-sa")
        .await
        .expect("irsa pod");
    let refused = irsa
        .put_item()
        .table_name("other-table")
        .item("id", AttributeValue::S("x".into()))
        .send()
        .await
        .expect_err("IRSA role may not write other-table")
        .into_service_error();
    assert_eq!(refused.meta().code(), Some("AccessDeniedException"));

    // Annotation forgotten: the webhook injects nothing, the SDK's default chain reaches
    // instance metadata, and the node role writes where the pod's role never could.
    let env = harness.pod_env("curity", "no-irsa").expect("env");
    assert!(env.iter().all(|(k, _)| k != "AWS_ROLE_ARN"), "{env:?}");
    let sts = harness.sts("curity", "no-irsa").await.expect("sts");
    let me = sts.get_caller_identity().send().await.expect("caller");
    assert!(
        me.arn().unwrap_or_default().starts_with(NODE_ARN_PREFIX),
        "{me:?}"
    );
    let fallback = harness.dynamodb("curity", "no-irsa").await.expect("pod");
    fallback
        .put_item()
        .table_name("other-table")
        .item("id", AttributeValue::S("written-by-node-role".into()))
        .send()
        .await
        .expect("the node role allows it");
    fallback
        .delete_table()
        .table_name("other-table")
        .send()
        .await
        .expect("even DeleteTable");
}

#[tokio::test]
async fn hop_limit_one_keeps_pods_out_of_instance_metadata() {
    let harness = Harness::builder()
        .world(WORLD)
        .node_role(NodeRole {
            role: "eks-node".into(),
            instance_id: "i-0aaaaaaaaaaaaaaa1".into(),
            hop_limit: 1,
            tokens_required: true,
        })
        .start()
        .await
        .expect("start");
    // The node itself still gets its role.
    let node = irsa_harness::aws_sdk_sts::Client::new(&harness.node().await.expect("node"));
    let me = node
        .get_caller_identity()
        .send()
        .await
        .expect("node caller");
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/eks-node/i-0aaaaaaaaaaaaaaa1")
    );
    // The pod's token PUT never gets an answer: no credentials at all.
    let pod = harness.sts("curity", "no-irsa").await.expect("pod");
    let err = pod
        .get_caller_identity()
        .send()
        .await
        .expect_err("the pod must get no credentials");
    let text = format!("{:?}", err);
    assert!(
        text.contains("credentials") || text.contains("Credentials"),
        "{text}"
    );
}

#[tokio::test]
async fn boto3_on_the_node_uses_imds_v2() {
    let tools = match irsa_harness::backend::python::ensure_python_tools().await {
        Ok(tools) => tools,
        Err(e) => panic!("the pinned boto3 venv is required: {e}"),
    };
    let harness = Harness::builder()
        .world(WORLD)
        .start()
        .await
        .expect("start");
    let env = harness.node_env().expect("node env");
    let script = r#"
import boto3
session = boto3.Session()
print(session.get_credentials().method)
print(boto3.client("sts").get_caller_identity()["Arn"])
boto3.client("dynamodb").put_item(TableName="other-table", Item={"id": {"S": "boto3"}})
print("put ok")
"#;
    let home = harness.state_dir().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = Command::new(&tools.python)
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("HOME", &home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .envs(env)
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "iam-role", "{stdout}");
    assert!(lines[1].starts_with(NODE_ARN_PREFIX), "{stdout}");
    assert_eq!(lines[2], "put ok");
}

/// The same trap through the CLI with boto3: `irsa up` on a world with `node_role:`, then
/// `irsa exec` as the unannotated service account.
#[tokio::test]
async fn boto3_pod_without_annotation_under_irsa_exec_runs_as_the_node_role() {
    let tools = match irsa_harness::backend::python::ensure_python_tools().await {
        Ok(tools) => tools,
        Err(e) => panic!("the pinned boto3 venv is required: {e}"),
    };
    let state = std::env::temp_dir().join(format!("irsa-imds-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let mut up = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .args(["up", "--world", WORLD, "--port", "0", "--state-dir"])
        .arg(&state)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("irsa up starts");
    let stdout = up.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let mut banner = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("ready") {
            break;
        }
    }
    assert!(
        banner.contains("instance metadata for role `eks-node`"),
        "{banner}"
    );
    let script = r#"
import boto3
print(boto3.Session().get_credentials().method)
print(boto3.client("sts").get_caller_identity()["Arn"])
"#;
    let home = state.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .arg("exec")
        .arg("--state-dir")
        .arg(&state)
        .args(["--service-account", "curity/no-irsa", "--"])
        .arg(&tools.python)
        .args(["-c", script])
        .env("HOME", &home)
        .output()
        .await
        .expect("irsa exec runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got[0], "iam-role", "{text}");
    assert!(got[1].starts_with(NODE_ARN_PREFIX), "{text}");
    let _ = up.kill().await;
    let _ = std::fs::remove_dir_all(&state);
}
