//! The probes: each SDK run once per proxy or CA setting varied, so that what it honours is
//! measured, not assumed; the settings, their variables and JVM properties, and the environment
//! a probe runs with.

use super::*;

/// A group of [`PROBES`]: what stays fixed while one setting is varied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeGroup {
    /// No endpoint setting, every CA setting: which proxy setting makes the SDK send its calls
    /// for `sts.<region>.amazonaws.com` through the harness's proxy.
    Proxy,
    /// Which CA setting makes the SDK trust the harness's certificates: over the HTTPS edge
    /// (`AWS_ENDPOINT_URL*=https://127.0.0.1:<port>`, no proxy) where the SDK reads endpoint
    /// variables, else through the proxy with every proxy setting of `irsa exec`.
    Trust,
    /// The HTTPS edge as the endpoint, with every proxy and CA setting of `irsa exec`: which
    /// setting keeps the SDK from sending a loopback endpoint through the proxy (which refuses
    /// it: not an AWS host).
    NoProxy,
}

/// One proxy or CA setting of `irsa exec`'s environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    HttpsProxy,
    HttpsProxyLowercase,
    /// `HTTP_PROXY`, which `irsa exec` does not set (its value would be the same proxy).
    HttpProxy,
    /// `-Dhttps.proxyHost`/`-Dhttps.proxyPort` in `JAVA_TOOL_OPTIONS`.
    JavaHttpsProxyProperties,
    /// `-Dhttp.proxyHost`/`-Dhttp.proxyPort` in `JAVA_TOOL_OPTIONS`.
    JavaHttpProxyProperties,
    AwsCaBundle,
    NodeExtraCaCerts,
    SslCertFile,
    /// `-Djavax.net.ssl.trustStore` (and its type) in `JAVA_TOOL_OPTIONS`.
    JavaTrustStore,
    NoProxy,
    NoProxyLowercase,
    /// `-Dhttp.nonProxyHosts` in `JAVA_TOOL_OPTIONS`.
    JavaNonProxyHosts,
}

/// `irsa exec`'s proxy settings, all given in the `Trust` (through the proxy) and `NoProxy`
/// groups.
const EXEC_PROXY: &[Setting] = &[
    Setting::HttpsProxy,
    Setting::HttpsProxyLowercase,
    Setting::JavaHttpsProxyProperties,
    Setting::JavaHttpProxyProperties,
];
/// `irsa exec`'s CA settings, all given in the `Proxy` and `NoProxy` groups.
const EXEC_TRUST: &[Setting] = &[
    Setting::AwsCaBundle,
    Setting::NodeExtraCaCerts,
    Setting::SslCertFile,
    Setting::JavaTrustStore,
];

/// One measurement: a group, and the one setting under test (`None`: the group's control, with
/// none of its settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Names the probe in [`Sdk::honours`] and in the generated doc.
    pub id: &'static str,
    pub group: ProbeGroup,
    pub setting: Option<Setting>,
    /// A setting only a JVM reads (`JAVA_TOOL_OPTIONS`).
    pub jvm_only: bool,
}

const fn probe(
    id: &'static str,
    group: ProbeGroup,
    setting: Option<Setting>,
    jvm_only: bool,
) -> Probe {
    Probe {
        id,
        group,
        setting,
        jvm_only,
    }
}

/// The environment measurements, each one `probe` run of an SDK's program (one
/// `GetCallerIdentity` through the default chain) on its own stack. The controls (no setting
/// of the group) show that the probe can fail: with no proxy setting every SDK's call for the
/// AWS host is stopped by the program's network guard, with no CA setting the handshake fails.
pub const PROBES: &[Probe] = &[
    probe("proxy: none", ProbeGroup::Proxy, None, false),
    probe(
        "HTTPS_PROXY",
        ProbeGroup::Proxy,
        Some(Setting::HttpsProxy),
        false,
    ),
    probe(
        "https_proxy",
        ProbeGroup::Proxy,
        Some(Setting::HttpsProxyLowercase),
        false,
    ),
    probe(
        "HTTP_PROXY",
        ProbeGroup::Proxy,
        Some(Setting::HttpProxy),
        false,
    ),
    probe(
        "-Dhttps.proxyHost",
        ProbeGroup::Proxy,
        Some(Setting::JavaHttpsProxyProperties),
        true,
    ),
    probe(
        "-Dhttp.proxyHost",
        ProbeGroup::Proxy,
        Some(Setting::JavaHttpProxyProperties),
        true,
    ),
    probe("CA: none", ProbeGroup::Trust, None, false),
    probe(
        "AWS_CA_BUNDLE",
        ProbeGroup::Trust,
        Some(Setting::AwsCaBundle),
        false,
    ),
    probe(
        "NODE_EXTRA_CA_CERTS",
        ProbeGroup::Trust,
        Some(Setting::NodeExtraCaCerts),
        false,
    ),
    probe(
        "SSL_CERT_FILE",
        ProbeGroup::Trust,
        Some(Setting::SslCertFile),
        false,
    ),
    probe(
        "-Djavax.net.ssl.trustStore",
        ProbeGroup::Trust,
        Some(Setting::JavaTrustStore),
        true,
    ),
    probe("no-proxy: none", ProbeGroup::NoProxy, None, false),
    probe(
        "NO_PROXY",
        ProbeGroup::NoProxy,
        Some(Setting::NoProxy),
        false,
    ),
    probe(
        "no_proxy",
        ProbeGroup::NoProxy,
        Some(Setting::NoProxyLowercase),
        false,
    ),
    probe(
        "-Dhttp.nonProxyHosts",
        ProbeGroup::NoProxy,
        Some(Setting::JavaNonProxyHosts),
        true,
    ),
];

/// The `JAVA_TOOL_OPTIONS` properties of a JVM setting (their names' prefix).
fn java_properties(setting: Setting) -> Option<&'static [&'static str]> {
    match setting {
        Setting::JavaHttpsProxyProperties => Some(&["-Dhttps.proxyHost=", "-Dhttps.proxyPort="]),
        Setting::JavaHttpProxyProperties => Some(&["-Dhttp.proxyHost=", "-Dhttp.proxyPort="]),
        Setting::JavaTrustStore => Some(&[
            "-Djavax.net.ssl.trustStore=",
            "-Djavax.net.ssl.trustStoreType=",
        ]),
        Setting::JavaNonProxyHosts => Some(&["-Dhttp.nonProxyHosts="]),
        _ => None,
    }
}

/// The variable of a non-JVM setting, and the `irsa exec` variable its value is taken from.
fn variable(setting: Setting) -> Option<(&'static str, &'static str)> {
    Some(match setting {
        Setting::HttpsProxy => ("HTTPS_PROXY", "HTTPS_PROXY"),
        Setting::HttpsProxyLowercase => ("https_proxy", "https_proxy"),
        Setting::HttpProxy => ("HTTP_PROXY", "HTTPS_PROXY"),
        Setting::AwsCaBundle => ("AWS_CA_BUNDLE", "AWS_CA_BUNDLE"),
        Setting::NodeExtraCaCerts => ("NODE_EXTRA_CA_CERTS", "NODE_EXTRA_CA_CERTS"),
        Setting::SslCertFile => ("SSL_CERT_FILE", "SSL_CERT_FILE"),
        Setting::NoProxy => ("NO_PROXY", "NO_PROXY"),
        Setting::NoProxyLowercase => ("no_proxy", "no_proxy"),
        _ => return None,
    })
}

/// The environment of `probe` for `sdk`, built from `exec_env` (what `irsa exec` gives the pod:
/// [`irsa_harness::stack::Stack::pod_env_with_proxy`]) so that every value is the harness's
/// own: the pod's variables, no `AWS_ENDPOINT_URL*` but the HTTPS edge where the group needs
/// it, the group's fixed settings and the one under test.
pub fn probe_env(
    sdk: &Sdk,
    probe: &Probe,
    exec_env: &[(String, String)],
    https_endpoint: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let exec = |name: &str| {
        exec_env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .with_context(|| format!("`irsa exec` sets no `{name}`"))
    };
    let tls_variables: Vec<&str> = EXEC_PROXY
        .iter()
        .chain(EXEC_TRUST)
        .chain(&[Setting::NoProxy, Setting::NoProxyLowercase])
        .filter_map(|s| variable(*s).map(|(name, _)| name))
        .chain(["JAVA_TOOL_OPTIONS"])
        .collect();
    let mut env: Vec<(String, String)> = exec_env
        .iter()
        .filter(|(k, _)| !k.starts_with("AWS_ENDPOINT_URL") && !tls_variables.contains(&k.as_str()))
        .cloned()
        .collect();
    let through_edge = match probe.group {
        ProbeGroup::Proxy => false,
        ProbeGroup::Trust => sdk.reads_endpoint_variables,
        ProbeGroup::NoProxy => true,
    };
    if through_edge {
        for name in [
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_STS",
            "AWS_ENDPOINT_URL_DYNAMODB",
        ] {
            env.push((name.to_owned(), https_endpoint.to_owned()));
        }
    }
    let mut settings: Vec<Setting> = match probe.group {
        ProbeGroup::Proxy => EXEC_TRUST.to_vec(),
        ProbeGroup::Trust if through_edge => Vec::new(),
        ProbeGroup::Trust => EXEC_PROXY.to_vec(),
        ProbeGroup::NoProxy => EXEC_PROXY.iter().chain(EXEC_TRUST).copied().collect(),
    };
    settings.extend(probe.setting);
    let java_options = exec("JAVA_TOOL_OPTIONS")?;
    let mut java = Vec::new();
    for setting in settings {
        if let Some(prefixes) = java_properties(setting) {
            java.extend(
                java_options
                    .split_whitespace()
                    .filter(|o| prefixes.iter().any(|p| o.starts_with(p))),
            );
        } else if let Some((name, from)) = variable(setting) {
            env.push((name.to_owned(), exec(from)?));
        }
    }
    if !java.is_empty() {
        env.push(("JAVA_TOOL_OPTIONS".to_owned(), java.join(" ")));
    }
    Ok(env)
}
