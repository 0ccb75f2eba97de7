//! `irsa inject` on real manifests, and `irsa exec`'s environment derived from the same mutation.

use std::path::PathBuf;
use std::process::Command;

use irsa_harness::pod::inject::{inject_manifest, parse_manifest};
use irsa_harness::pod::webhook_mutation::WebhookConfig;

fn world_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/worlds/curity.yaml")
}

fn env_of(container: &serde_json::Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap_or_default().to_owned(),
                        e["value"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn irsa_inject_mutates_a_deployment_with_service_accounts_from_the_world() {
    let out = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .args([
            "inject",
            "-f",
            "tests/fixtures/curity-deployment.yaml",
            "--world",
        ])
        .arg(world_path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let docs = parse_manifest(&String::from_utf8_lossy(&out.stdout)).expect("valid YAML out");
    assert_eq!(docs.len(), 2);
    let spec = &docs[0]["spec"]["template"]["spec"];
    let idsvr = &spec["containers"][0];
    let env = env_of(idsvr);
    assert_eq!(env[0], ("PASSWORD".into(), "not-a-secret".into()));
    assert_eq!(
        env[1..],
        [
            ("AWS_STS_REGIONAL_ENDPOINTS".into(), "regional".into()),
            ("AWS_DEFAULT_REGION".into(), "eu-west-1".into()),
            ("AWS_REGION".into(), "eu-west-1".into()),
            (
                "AWS_ROLE_ARN".into(),
                "arn:aws:iam::111122223333:role/curity-dynamodb".into()
            ),
            (
                "AWS_WEB_IDENTITY_TOKEN_FILE".into(),
                "/var/run/secrets/eks.amazonaws.com/serviceaccount/token".into()
            ),
        ][..]
    );
    // Every container and init container, the mount, the projected volume.
    for c in spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["initContainers"].as_array().into_iter().flatten())
    {
        assert_eq!(
            c["volumeMounts"][0],
            serde_json::json!({"mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "name": "aws-iam-token", "readOnly": true}),
            "{c}"
        );
    }
    assert_eq!(
        spec["volumes"][0],
        serde_json::json!({"name": "aws-iam-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}})
    );
    // The Job's pods run as `default`, which the world does not annotate: untouched, and said so.
    assert!(docs[1]["spec"]["template"]["spec"]["volumes"].is_null());
    assert!(stderr.contains("curity/migrate"), "{stderr}");
    assert!(
        stderr.contains("injected role arn:aws:iam::111122223333:role/curity-dynamodb"),
        "{stderr}"
    );
}

#[test]
fn irsa_inject_without_region_or_world_says_what_to_try() {
    let out = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .args(["inject", "-f", "tests/fixtures/curity-deployment.yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--region"), "{stderr}");
    let missing = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .args(["inject", "-f", "no-such.yaml", "--region", "eu-west-1"])
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such.yaml"));
}

/// What `irsa exec` runs with is what the webhook injects (the token path mapped to the local
/// token file), with only the harness's endpoint variables on top.
#[test]
fn exec_environment_is_the_injected_one_plus_harness_endpoints() {
    let world = irsa_harness::world_file::load(&world_path())
        .expect("world")
        .world;
    let sa = world
        .service_account("curity", "dynamo-sa")
        .expect("sa")
        .clone();
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: curity}
spec:
  serviceAccountName: dynamo-sa
  containers: [{name: app, image: busybox}]
"#;
    let (out, _) =
        inject_manifest(pod, Some(&world), &WebhookConfig::eks(&world.region)).expect("inject");
    let docs = parse_manifest(&out).expect("yaml");
    let injected = env_of(&docs[0]["spec"]["containers"][0]);

    let local_token = std::env::temp_dir().join("irsa-inject-state/tokens/curity/dynamo-sa/token");
    let endpoint = "http://127.0.0.1:4599";
    let exec_env = irsa_harness::pod::env::pod_env(&world, &sa, &local_token, endpoint);
    let mapped: Vec<(String, String)> = injected
        .iter()
        .map(|(k, v)| {
            if k == "AWS_WEB_IDENTITY_TOKEN_FILE" {
                (k.clone(), local_token.display().to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    assert_eq!(exec_env[..mapped.len()], mapped[..]);
    assert_eq!(
        exec_env[mapped.len()..],
        irsa_harness::pod::env::harness_env(endpoint)[..]
    );
}
