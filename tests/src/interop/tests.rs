use super::build::digest;
use super::*;

#[test]
fn digest_covers_names_contents_and_the_toolchain() {
    let dir = std::env::temp_dir().join(format!("irsa-interop-digest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.txt"), dir.join("b.txt"));
    std::fs::write(&a, "one").unwrap();
    std::fs::write(&b, "one").unwrap();
    let first = digest(std::slice::from_ref(&a), "go1.26").unwrap();
    assert_eq!(first.len(), 16);
    assert_eq!(first, digest(std::slice::from_ref(&a), "go1.26").unwrap());
    assert_ne!(first, digest(std::slice::from_ref(&a), "go1.27").unwrap());
    assert_ne!(first, digest(std::slice::from_ref(&b), "go1.26").unwrap());
    std::fs::write(&a, "two").unwrap();
    assert_ne!(first, digest(std::slice::from_ref(&a), "go1.26").unwrap());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn java_versions_are_the_pinned_one_the_first_with_endpoint_variables_and_a_current_one() {
    let java: Vec<(&str, bool)> = SDKS
        .iter()
        .filter_map(|sdk| match sdk.build {
            Build::Java { version } => Some((version, sdk.reads_endpoint_variables)),
            _ => None,
        })
        .collect();
    assert_eq!(
        java,
        [("2.21.42", false), ("2.28.1", true), ("2.57.8", true)]
    );
}

#[test]
fn every_sdk_has_its_own_label_and_only_java_runs_the_jvm_workloads() {
    let labels: Vec<String> = SDKS.iter().map(Sdk::label).collect();
    assert_eq!(
        labels,
        [
            "java 2.21.42",
            "java 2.28.1",
            "java 2.57.8",
            "go",
            "go 2023-09",
            "js",
            "boto3",
            "boto3 1.26",
            "aws-cli",
            "rust"
        ]
    );
    for sdk in SDKS {
        assert_eq!(sdk.jvm_workloads, sdk.is_jvm(), "{}", sdk.label());
    }
}

#[test]
fn every_honoured_probe_is_one_the_sdk_runs() {
    for sdk in SDKS.iter().filter(|s| s.probed) {
        for id in sdk.honours {
            assert!(
                sdk.probes().any(|p| p.id == *id),
                "{}: `{id}` is not one of its probes",
                sdk.label()
            );
        }
    }
    let ids: std::collections::BTreeSet<&str> = PROBES.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), PROBES.len(), "probe ids are unique");
}

fn exec_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/r"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:4599"),
        ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:4599"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let ca = irsa_harness::stack::local_ca::CaFiles::new(Path::new("state"));
    env.extend(irsa_harness::stack::tls_env::tls_env(4599, &ca));
    env
}

fn probe_by_id(id: &str) -> &'static Probe {
    PROBES.iter().find(|p| p.id == id).expect("a probe")
}

fn names(env: &[(String, String)]) -> Vec<&str> {
    env.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn a_proxy_probe_sets_every_ca_setting_and_only_its_proxy_setting() {
    let java = &SDKS[0];
    let env = probe_env(java, probe_by_id("https_proxy"), &exec_env(), "https://e").unwrap();
    assert_eq!(
        names(&env),
        [
            "AWS_ROLE_ARN",
            "AWS_REGION",
            "AWS_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "SSL_CERT_FILE",
            "https_proxy",
            "JAVA_TOOL_OPTIONS"
        ]
    );
    let java_options = &env.last().unwrap().1;
    assert!(java_options.starts_with("-Djavax.net.ssl.trustStore="));
    assert!(!java_options.contains("proxy"), "{java_options}");
    let env = probe_env(java, probe_by_id("HTTP_PROXY"), &exec_env(), "https://e").unwrap();
    let http_proxy = env.iter().find(|(k, _)| k == "HTTP_PROXY").unwrap();
    assert_eq!(http_proxy.1, "http://127.0.0.1:4599");
    let env = probe_env(java, probe_by_id("proxy: none"), &exec_env(), "https://e").unwrap();
    assert!(
        !names(&env)
            .iter()
            .any(|n| n.to_lowercase().contains("proxy"))
    );
}

#[test]
fn a_trust_probe_goes_over_the_https_edge_when_the_sdk_reads_endpoints() {
    let current = SDKS.iter().find(|s| s.label() == "java 2.57.8").unwrap();
    let env = probe_env(
        current,
        probe_by_id("SSL_CERT_FILE"),
        &exec_env(),
        "https://e",
    )
    .unwrap();
    assert_eq!(
        names(&env),
        [
            "AWS_ROLE_ARN",
            "AWS_REGION",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_STS",
            "AWS_ENDPOINT_URL_DYNAMODB",
            "SSL_CERT_FILE"
        ]
    );
    assert!(
        env.iter()
            .all(|(k, v)| !k.starts_with("AWS_ENDPOINT_URL") || v == "https://e")
    );
    let pinned = &SDKS[0];
    let env = probe_env(pinned, probe_by_id("CA: none"), &exec_env(), "https://e").unwrap();
    assert_eq!(
        names(&env),
        [
            "AWS_ROLE_ARN",
            "AWS_REGION",
            "HTTPS_PROXY",
            "https_proxy",
            "JAVA_TOOL_OPTIONS"
        ]
    );
    assert_eq!(
        env.last().unwrap().1,
        "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=4599 -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=4599"
    );
}

#[test]
fn only_sdks_with_endpoint_settings_run_the_no_proxy_group() {
    for sdk in SDKS {
        if !sdk.probed {
            assert_eq!(sdk.probes().count(), 0);
            continue;
        }
        let groups: Vec<ProbeGroup> = sdk.probes().map(|p| p.group).collect();
        assert_eq!(
            groups.contains(&ProbeGroup::NoProxy),
            sdk.reads_endpoint_variables,
            "{}",
            sdk.label()
        );
        assert_eq!(
            sdk.probes().any(|p| p.jvm_only),
            sdk.is_jvm(),
            "{}",
            sdk.label()
        );
    }
}
