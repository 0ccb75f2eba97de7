//! The environment that points each ecosystem's HTTP stack at the harness's HTTPS proxy and
//! makes it trust the local CA, without touching application code; and the renderings of a
//! pod's environment for `irsa env` (a shell, a Docker env file, a Pod's `env:`).
//!
//! Which variable each stack reads (from its documentation or source; the measured ones are in
//! docs/sdk-compatibility.md):
//! * `HTTPS_PROXY`/`https_proxy`, `NO_PROXY`/`no_proxy`: Go's `net/http`
//!   (`ProxyFromEnvironment`), botocore (through `urllib`'s `getproxies`), the Rust SDK's
//!   hyper client only when built with a proxy connector (not the default one: see the docs).
//! * `AWS_CA_BUNDLE`: botocore and the AWS CLI, the Go SDK v2 (`config.LoadDefaultConfig`).
//! * `NODE_EXTRA_CA_CERTS`: Node.js, read once at start (the JavaScript SDK v3).
//! * `SSL_CERT_FILE`: OpenSSL-based stacks, Go's `crypto/x509` on Linux, `rustls-native-certs`.
//!   It *replaces* the system roots: under `irsa exec` nothing should reach a real host anyway.
//! * `JAVA_TOOL_OPTIONS`: every JVM reads it at start; the JDK's proxy properties (see
//!   [`java_tool_options`]) and a PKCS#12 trust store holding the CA (`javax.net.ssl.trustStore`).

use std::path::Path;

use super::local_ca::CaFiles;

/// Loopback, which the proxy must never see (the harness's own plain endpoints are there).
pub const NO_PROXY: &str = "localhost,127.0.0.1,::1";

/// The variables that route HTTPS through the proxy on `127.0.0.1:proxy_port` and trust the CA of
/// `ca`.
pub fn tls_env(proxy_port: u16, ca: &CaFiles) -> Vec<(String, String)> {
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    let ca_pem = ca.certificate().display().to_string();
    let java = java_tool_options(proxy_port, &ca.trust_store());
    [
        ("HTTPS_PROXY", proxy.as_str()),
        ("https_proxy", proxy.as_str()),
        ("NO_PROXY", NO_PROXY),
        ("no_proxy", NO_PROXY),
        ("AWS_CA_BUNDLE", ca_pem.as_str()),
        ("NODE_EXTRA_CA_CERTS", ca_pem.as_str()),
        ("SSL_CERT_FILE", ca_pem.as_str()),
        ("JAVA_TOOL_OPTIONS", java.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The JVM's proxy and trust-store properties. Both the `https.` and the `http.` proxy pairs:
/// the JDK's own connections read `https.proxyHost` for HTTPS targets, while the SDK v2 Apache
/// client's `ProxyConfiguration` reads the pair of its proxy *scheme*, `http` by default
/// (measured on 2.21.42: `-Dhttps.proxyHost` alone sends nothing to the proxy,
/// `-Dhttp.proxyHost` makes it `CONNECT`). `http.nonProxyHosts` keeps loopback (the harness's
/// plain endpoints, `AWS_ENDPOINT_URL`) off the proxy.
pub fn java_tool_options(proxy_port: u16, trust_store: &Path) -> String {
    format!(
        "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort={proxy_port} \
         -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort={proxy_port} \
         -Dhttp.nonProxyHosts=localhost|127.*|[::1] \
         -Djavax.net.ssl.trustStore={} -Djavax.net.ssl.trustStoreType=PKCS12",
        trust_store.display()
    )
}

/// How `irsa env` prints a pod's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvFormat {
    /// `export KEY='value'` lines, for `eval "$(irsa env ...)"`.
    Shell,
    /// `KEY=value` lines: Docker's `--env-file` (and docker-compose `env_file:`), unquoted.
    Docker,
    /// A Pod's `env:` list, YAML.
    K8s,
}

/// `vars` in `format`.
pub fn render_env(vars: &[(String, String)], format: EnvFormat) -> String {
    match format {
        EnvFormat::Shell => vars
            .iter()
            .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', r"'\''")))
            .collect(),
        EnvFormat::Docker => vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect(),
        EnvFormat::K8s => {
            let mut out = String::from("env:\n");
            for (k, v) in vars {
                // A JSON string is a YAML double-quoted scalar.
                out.push_str(&format!(
                    "  - name: {k}\n    value: {}\n",
                    serde_json::Value::from(v.as_str())
                ));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_and_ca_variables_point_at_the_state_dir() {
        let ca = CaFiles::new(Path::new("state"));
        let env = tls_env(4599, &ca);
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(get("HTTPS_PROXY"), "http://127.0.0.1:4599");
        assert_eq!(get("https_proxy"), get("HTTPS_PROXY"));
        assert_eq!(get("NO_PROXY"), "localhost,127.0.0.1,::1");
        let pem = Path::new("state").join("ca").join("ca.pem");
        assert_eq!(get("AWS_CA_BUNDLE"), pem.display().to_string());
        assert_eq!(get("NODE_EXTRA_CA_CERTS"), get("AWS_CA_BUNDLE"));
        assert_eq!(get("SSL_CERT_FILE"), get("AWS_CA_BUNDLE"));
        let java = get("JAVA_TOOL_OPTIONS");
        assert!(
            java.contains("-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=4599"),
            "{java}"
        );
        assert!(
            java.contains("-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=4599"),
            "{java}"
        );
        let store = Path::new("state").join("ca").join("truststore.p12");
        assert!(
            java.contains(&format!("-Djavax.net.ssl.trustStore={}", store.display())),
            "{java}"
        );
        assert!(
            java.contains("-Dhttp.nonProxyHosts=localhost|127.*|[::1]"),
            "{java}"
        );
    }

    #[test]
    fn each_format_quotes_as_its_reader_needs() {
        let vars = vec![
            ("A".to_owned(), "it's".to_owned()),
            ("B".to_owned(), "x|y z".to_owned()),
        ];
        assert_eq!(
            render_env(&vars, EnvFormat::Shell),
            "export A='it'\\''s'\nexport B='x|y z'\n"
        );
        assert_eq!(render_env(&vars, EnvFormat::Docker), "A=it's\nB=x|y z\n");
        assert_eq!(
            render_env(&vars, EnvFormat::K8s),
            "env:\n  - name: A\n    value: \"it's\"\n  - name: B\n    value: \"x|y z\"\n"
        );
    }
}
