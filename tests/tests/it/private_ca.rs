//! A self-managed cluster's issuer served over HTTPS with a private CA: the thumbprint AWS's
//! "Obtain the thumbprint for an OpenID Connect identity provider" procedure computes with
//! `openssl` is the one STS compares; a provider with another CA's thumbprint fails the Rust
//! SDK's default chain with AWS's text; the AWS CLI's `update-open-id-connect-provider-thumbprint`
//! with the computed value fixes it; an EKS provider's stale thumbprint never matters.

use std::path::Path;
use std::process::Output;

use aws_sdk_sts::error::DisplayErrorContext;
use irsa_tests::{pod_sdk_config, scratch_dir, start_stack};

const GREEN_PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.kops.example.internal/green";
const BLUE_PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.kops.example.internal/blue";
const MISMATCH: &str =
    "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint";

async fn run(program: &Path, args: &[&str], env: &[(String, String)], home: &Path) -> Output {
    tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The IAM User Guide's procedure: `openssl s_client -servername <host> -showcerts -connect
/// <host>:443`, keep the last certificate shown, `openssl x509 -fingerprint -sha1 -noout`, drop
/// the colons. `None` where `openssl` is not installed.
async fn thumbprint_by_openssl(endpoint: &str, host: &str, home: &Path) -> Option<String> {
    let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())?;
    let connect = endpoint.trim_start_matches("https://");
    let shown = run(
        openssl,
        &[
            "s_client",
            "-servername",
            host,
            "-showcerts",
            "-connect",
            connect,
        ],
        &[],
        home,
    )
    .await;
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let start = text
        .rfind(begin)
        .unwrap_or_else(|| panic!("s_client showed no certificate:\n{text}"));
    let stop = text[start..].find(end).unwrap() + start + end.len();
    let last = home.join("certificate.crt");
    std::fs::write(&last, format!("{}\n", &text[start..stop])).unwrap();
    let fingerprint = run(
        openssl,
        &[
            "x509",
            "-in",
            last.to_str().unwrap(),
            "-fingerprint",
            "-sha1",
            "-noout",
        ],
        &[],
        home,
    )
    .await;
    let line = ok(&fingerprint, "openssl x509 -fingerprint");
    // `SHA1 Fingerprint=9E:99:A4:…` (the label's case varies across OpenSSL versions).
    let hex = line.trim().rsplit('=').next().unwrap().replace(':', "");
    Some(hex)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_ca_issuer_is_trusted_only_through_the_providers_thumbprint() {
    let tools = irsa_harness::backend::python::ensure_python_tools()
        .await
        .expect("a venv with the AWS CLI from PyPI");
    let stack = start_stack("self-managed-clusters.yaml", "private-ca").await;
    let home = scratch_dir("private-ca-home");
    std::fs::create_dir_all(&home).unwrap();
    let admin = irsa_harness::pod::env::admin_env(stack.world(), stack.endpoint()).unwrap();

    // Two private-CA issuers are served over HTTPS; the EKS one is not.
    let https = stack.https_issuers();
    assert_eq!(
        https.iter().map(|h| h.cluster.as_str()).collect::<Vec<_>>(),
        ["kops-blue", "kops-green"]
    );
    let served = |cluster: &str| https.iter().find(|h| h.cluster == cluster).unwrap();
    let green = served("kops-green");
    assert!(stack.issuer_ca_file("kops-green").exists());

    // The user computes the thumbprint as AWS's documentation says.
    let computed = match thumbprint_by_openssl(&green.endpoint, "oidc.kops.example.internal", &home)
        .await
    {
        Some(hex) => {
            assert_eq!(hex.to_ascii_lowercase(), green.thumbprint);
            hex
        }
        None => {
            eprintln!(
                "SKIPPED (part): openssl is not installed; the thumbprint is taken from the stack"
            );
            green.thumbprint.to_ascii_uppercase()
        }
    };

    // IAM retrieved the blue issuer's thumbprint when its provider was registered without one.
    let blue = ok(
        &run(
            &tools.aws,
            &[
                "iam",
                "get-open-id-connect-provider",
                "--open-id-connect-provider-arn",
                BLUE_PROVIDER,
                "--query",
                "ThumbprintList",
                "--output",
                "text",
            ],
            &admin,
            &home,
        )
        .await,
        "get-open-id-connect-provider (blue)",
    );
    assert_eq!(blue.trim(), served("kops-blue").thumbprint);

    // The green provider holds another CA's thumbprint: the pod's default chain fails.
    let config = pod_sdk_config(&stack, "curity-green", "dynamo-sa").await;
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect_err("a stale thumbprint must fail the web-identity exchange");
    let shown = DisplayErrorContext(&err).to_string();
    assert!(
        shown.contains("InvalidIdentityToken") && shown.contains(MISMATCH),
        "{shown}"
    );

    // The fix users apply: the thumbprint they computed.
    ok(
        &run(
            &tools.aws,
            &[
                "iam",
                "update-open-id-connect-provider-thumbprint",
                "--open-id-connect-provider-arn",
                GREEN_PROVIDER,
                "--thumbprint-list",
                &computed,
            ],
            &admin,
            &home,
        )
        .await,
        "update-open-id-connect-provider-thumbprint",
    );
    let config = pod_sdk_config(&stack, "curity-green", "dynamo-sa").await;
    let me = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", DisplayErrorContext(&e)));
    assert!(
        me.arn()
            .unwrap()
            .starts_with("arn:aws:sts::111122223333:assumed-role/curity-green/"),
        "{me:?}"
    );

    // EKS: a CA in AWS's library; its provider's stale thumbprint is ignored.
    let config = pod_sdk_config(&stack, "curity-eks", "dynamo-sa").await;
    aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", DisplayErrorContext(&e)));
}
