//! The interop suite's SDK matrix and toolchain installs. [`SDKS`] is the matrix: each SDK's
//! label, how its client is built, how its clock is moved in the refresh rounds, what it is
//! expected to do (which proxy and CA settings it honours, measured by the [`PROBES`]), and the
//! notes the generated `docs/sdk-compatibility.md` prints for it; `tests/tests/it/interop.rs`
//! runs exactly these SDKs, in this order. The client programs under `tests/interop/` are built
//! for each SDK into the project cache, once.
//!
//! Each build lands in `cache_dir()/interop-<sdk>-<hash>`, where the hash covers the program's
//! sources, its dependency pins and the toolchain's version, through
//! [`irsa_harness::backend::cache::install_once`] (install lock, staging directory, rename), so concurrent
//! test processes build once and a killed build leaves nothing behind. Downloads go to caches
//! under the same directory (`maven/`, `go/`, `npm-cache/`); every fetch is tried offline first,
//! so a source change after the first run rebuilds without the network. A second run of an
//! unchanged tree runs no build tool at all.
//!
//! This module describes and builds; it must not run the programs or judge them
//! (`tests/tests/it/interop.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use irsa_harness::backend::cache::{cache_dir, install_once, with_install_lock};

/// One SDK of the matrix: what the suite builds, runs, expects and documents for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdk {
    /// The SDK column of the generated tables (`java`); with a Java version, the label.
    pub name: &'static str,
    pub build: Build,
    pub clock: ClockControl,
    /// Whether the pod's environment alone (`AWS_ENDPOINT_URL*`) points it at the harness; one
    /// that does not must send its STS call to AWS's host (refused by the programs' guards).
    pub reads_endpoint_variables: bool,
    /// Java SDK v2: it also runs the Curity workload (`CurityWorkload.java`), and, with endpoint
    /// settings, the script with the endpoints given as JVM system properties.
    pub jvm_workloads: bool,
    /// The [`PROBES`] with which it reaches the harness ([`Probe::id`]); with every other probe
    /// it must not. Measured: the suite runs every probe and fails on a difference.
    pub honours: &'static [&'static str],
    /// Whether the suite runs the probes for it (`false` only for Java 2.28.1, whose HTTP stack
    /// is the current version's: both measured alike when both were probed).
    pub probed: bool,
    /// Refresh rounds whose ARWWI count for this SDK differs from the suite's general bounds.
    pub refresh_exceptions: &'static [RefreshException],
    pub notes: Notes,
}

/// How an SDK's client is built or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `tests/interop/java` against Java SDK v2 `version` ([`ensure_java_client`]).
    Java { version: &'static str },
    /// `tests/interop/go/main.go` against a module set ([`ensure_go_client`]).
    Go { modules: GoModules },
    /// `tests/interop/js` ([`ensure_js_client`]).
    JavaScript,
    /// `tests/interop/python/interop_boto3.py` with a boto3 install.
    Boto3 { install: Boto3Install },
    /// The AWS CLI v1 of the harness's Python venv, one command per step.
    AwsCli,
    /// The Rust SDK, in the test process.
    Rust,
}

/// The `go.mod`/`go.sum` the Go client is built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoModules {
    /// `tests/interop/go/`: current releases.
    Current,
    /// `tests/interop/go-2023-09/`: the release of 22 September 2023 (`config` v1.18.42, core
    /// v1.21.0, `sts` v1.22.0, `dynamodb` v1.21.5), before the SDK read `AWS_ENDPOINT_URL*`:
    /// `config` v1.21.0 (1 November 2023) is the first whose sources name it (v1.18.45,
    /// v1.19.0, v1.19.1 and v1.20.0 of October 2023 do not).
    September2023,
}

impl GoModules {
    /// The directory under `tests/interop/` holding this set's `go.mod` and `go.sum`.
    pub fn dir(self) -> &'static str {
        match self {
            GoModules::Current => "go",
            GoModules::September2023 => "go-2023-09",
        }
    }
}

/// Which boto3 runs `interop_boto3.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boto3Install {
    /// The harness's Python venv (`irsa_harness::backend::python::PINS`).
    HarnessVenv,
    /// [`BOTO3_1_26_PINS`] in a venv of their own ([`ensure_boto3_1_26`]).
    Boto3_1_26,
}

/// boto3 1.26's last release and its dependencies as pip resolves them on Python 3.11: before
/// botocore read `AWS_ENDPOINT_URL*` (botocore 1.31.0, boto3 1.28.0, is the first whose sources
/// do: its `ConfiguredEndpointProvider`; 1.29.165 and 1.30.0 have none), so it reaches the
/// harness only through the proxy.
pub const BOTO3_1_26_PINS: &[&str] = &[
    "boto3==1.26.165",
    "botocore==1.29.165",
    "s3transfer==0.6.2",
    "jmespath==1.0.1",
    "python-dateutil==2.9.0.post0",
    "six==1.17.0",
    "urllib3==1.26.20",
];

/// How an SDK's own clock is moved with the harness clock in the refresh rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockControl {
    /// libfaketime preloaded into the process (`LD_PRELOAD`, `FAKETIME_TIMESTAMP_FILE`).
    Libfaketime,
    /// The program moves the SDK's own clock hook by the offset of each round's input line: Go
    /// reads the clock without libc, so libfaketime cannot move it.
    ClockHook,
    /// The Rust SDK config's `TimeSource`, in process.
    TimeSource,
}

/// A refresh round where an SDK's ARWWI count differs from the general bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshException {
    /// The round's name (`tests/tests/it/interop.rs`'s `ROUNDS`).
    pub round: &'static str,
    /// The least and most ARWWI calls the round may add.
    pub arwwi: (usize, usize),
}

/// Facts about an SDK that the suite does not measure, from `wire-contracts.md` §2 and the
/// SDKs' own sources, for the generated doc's "What each SDK reads".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notes {
    /// The region variable it reads.
    pub region: &'static str,
    /// The endpoint settings it reads.
    pub endpoints: &'static str,
    /// How it caches and refreshes web-identity credentials.
    pub refresh: &'static str,
    /// What the proxy and CA measurements ([`PROBES`]) show, in words, and the sources that
    /// explain them.
    pub transport: &'static str,
}

impl Sdk {
    /// `java 2.21.42`, `go`, …: names the SDK in every failure, stack and state directory.
    pub fn label(&self) -> String {
        match self.build {
            Build::Java { version } => format!("{} {version}", self.name),
            Build::Go {
                modules: GoModules::September2023,
            } => format!("{} 2023-09", self.name),
            Build::Boto3 {
                install: Boto3Install::Boto3_1_26,
            } => format!("{} 1.26", self.name),
            _ => self.name.to_owned(),
        }
    }

    fn is_jvm(&self) -> bool {
        matches!(self.build, Build::Java { .. })
    }

    /// The probes that apply to this SDK, in [`PROBES`]' order: the JVM's own settings only for
    /// Java, the `NO_PROXY` group only where an endpoint variable can name the harness.
    pub fn probes(&self) -> impl Iterator<Item = &'static Probe> + '_ {
        PROBES.iter().filter(|probe| {
            self.probed
                && (self.is_jvm() || !probe.jvm_only)
                && (self.reads_endpoint_variables || probe.group != ProbeGroup::NoProxy)
        })
    }
}

/// The endpoint settings of every SDK here that has them, but Java's.
const ENDPOINT_VARIABLES: &str =
    "`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`";
const JAVA_REFRESH: &str = "STS provider caches (`CachedSupplier`): a jittered prefetch from 5 min before `Expiration`, a blocking refresh from 1 min before";

/// A Java SDK v2 version that reads the endpoint settings.
const fn java_with_endpoints(version: &'static str) -> Sdk {
    Sdk {
        name: "java",
        build: Build::Java { version },
        clock: ClockControl::Libfaketime,
        reads_endpoint_variables: true,
        jvm_workloads: true,
        honours: JAVA_HONOURS,
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION`",
            endpoints: "`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`; or the JVM system properties `aws.endpointUrlSts` and `aws.endpointUrlDynamoDb` (note the case; the suite runs the script with only these), `aws.endpointUrl`",
            refresh: JAVA_REFRESH,
            transport: JAVA_TRANSPORT,
        },
    }
}

/// What the probes measure for Java SDK v2 with endpoint settings: the `http.` proxy pair or
/// `HTTP_PROXY`, the trust store, `http.nonProxyHosts`.
const JAVA_HONOURS: &[&str] = &[
    "HTTP_PROXY",
    "-Dhttp.proxyHost",
    "-Djavax.net.ssl.trustStore",
    "-Dhttp.nonProxyHosts",
];
/// 2.21.42: the same, where its probes apply (no endpoint variable, so no `NO_PROXY` group).
const JAVA_PINNED_HONOURS: &[&str] = &[
    "HTTP_PROXY",
    "-Dhttp.proxyHost",
    "-Djavax.net.ssl.trustStore",
];
const JAVA_TRANSPORT: &str = "its Apache HTTP client's `ProxyConfiguration` takes the proxy of its own scheme, `http` by default: `-Dhttp.proxyHost`/`-Dhttp.proxyPort` or the `HTTP_PROXY` variable; with `-Dhttps.proxyHost` or `HTTPS_PROXY`/`https_proxy` alone it connects to the AWS host itself (hence both pairs in `irsa exec`'s `JAVA_TOOL_OPTIONS`). The loopback bypass is `-Dhttp.nonProxyHosts` (not `NO_PROXY`/`no_proxy`; without it the loopback endpoint goes to the proxy, whose `403` the SDK reports as an STS error without request ID). Trust comes from the JVM's trust store only (`-Djavax.net.ssl.trustStore`, the password-less PKCS#12 store loads on JDK 17); no CA variable is read";

/// The SDK matrix, in the order of the generated doc's rows. Java SDK v2 in three versions:
/// the one Curity's DynamoDB plugin pins, the first that reads `AWS_ENDPOINT_URL_*` (its 2.28.1
/// changelog entry), and a current one; the Go SDK v2 and boto3 each current and from before
/// they read `AWS_ENDPOINT_URL*` (those reach the harness only through its HTTPS proxy).
pub const SDKS: &[Sdk] = &[
    Sdk {
        name: "java",
        build: Build::Java { version: "2.21.42" },
        clock: ClockControl::Libfaketime,
        // Java SDK v2 reads `AWS_ENDPOINT_URL*` only from 2.28.1 on (its changelog; measured).
        reads_endpoint_variables: false,
        jvm_workloads: true,
        honours: JAVA_PINNED_HONOURS,
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION`",
            endpoints: "none: no `AWS_ENDPOINT_URL*` variable, `aws.endpointUrl*` property or profile `endpoint_url` exists in this version",
            refresh: JAVA_REFRESH,
            transport: JAVA_TRANSPORT,
        },
    },
    Sdk {
        probed: false,
        ..java_with_endpoints("2.28.1")
    },
    java_with_endpoints("2.57.8"),
    Sdk {
        name: "go",
        build: Build::Go {
            modules: GoModules::Current,
        },
        clock: ClockControl::ClockHook,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        honours: &[
            "HTTPS_PROXY",
            "https_proxy",
            "AWS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "no-proxy: none",
            "NO_PROXY",
            "no_proxy",
        ],
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION` (and `AWS_DEFAULT_REGION`)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: GO_REFRESH,
            transport: GO_TRANSPORT,
        },
    },
    Sdk {
        name: "go",
        build: Build::Go {
            modules: GoModules::September2023,
        },
        clock: ClockControl::ClockHook,
        // `config` before v1.21.0 has no `AWS_ENDPOINT_URL*` (GoModules::September2023).
        reads_endpoint_variables: false,
        jvm_workloads: false,
        honours: &[
            "HTTPS_PROXY",
            "https_proxy",
            "AWS_CA_BUNDLE",
            "SSL_CERT_FILE",
        ],
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION` (and `AWS_DEFAULT_REGION`)",
            endpoints: "none: `config` v1.18.42 reads no `AWS_ENDPOINT_URL*` (the first `config` that does is v1.21.0, 1 November 2023)",
            refresh: GO_REFRESH,
            transport: GO_TRANSPORT,
        },
    },
    Sdk {
        name: "js",
        build: Build::JavaScript,
        clock: ClockControl::Libfaketime,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        honours: &[
            "NODE_EXTRA_CA_CERTS",
            "no-proxy: none",
            "NO_PROXY",
            "no_proxy",
        ],
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION` only (`AWS_DEFAULT_REGION` is ignored)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "per client; refreshes when less than 5 min remain",
            transport: JS_TRANSPORT,
        },
    },
    Sdk {
        name: "boto3",
        build: Build::Boto3 {
            install: Boto3Install::HarnessVenv,
        },
        clock: ClockControl::Libfaketime,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        honours: BOTOCORE_HONOURS,
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_DEFAULT_REGION` only (`AWS_REGION` is ignored)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: BOTO3_REFRESH,
            transport: BOTOCORE_TRANSPORT,
        },
    },
    Sdk {
        name: "boto3",
        build: Build::Boto3 {
            install: Boto3Install::Boto3_1_26,
        },
        clock: ClockControl::Libfaketime,
        // botocore reads `AWS_ENDPOINT_URL*` from 1.31.0 (boto3 1.28.0) on (BOTO3_1_26_PINS).
        reads_endpoint_variables: false,
        jvm_workloads: false,
        honours: &["HTTPS_PROXY", "https_proxy", "AWS_CA_BUNDLE"],
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_DEFAULT_REGION` only (`AWS_REGION` is ignored)",
            endpoints: "none: botocore 1.29 reads no `AWS_ENDPOINT_URL*` (botocore 1.31.0, boto3 1.28.0, is the first whose sources do)",
            refresh: BOTO3_REFRESH,
            transport: BOTOCORE_TRANSPORT,
        },
    },
    Sdk {
        name: "aws-cli",
        build: Build::AwsCli,
        clock: ClockControl::Libfaketime,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        // The AWS CLI v1 vendors its own botocore, whose web-identity disk-cache key includes the
        // token (`awscli/botocore/credentials.py`, `_cache_key_args`): the token file was
        // rewritten before this round, so the next command misses its cache and assumes the
        // role again.
        honours: BOTOCORE_HONOURS,
        probed: true,
        refresh_exceptions: &[RefreshException {
            round: "30-min-left",
            arwwi: (1, 1),
        }],
        notes: Notes {
            region: "`AWS_DEFAULT_REGION` only (`AWS_REGION` is ignored)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "as boto3, plus a disk cache in `~/.aws/cli/cache` reused by later commands; its vendored botocore keys that cache by role **and token**, so each rewrite of the token file costs one ARWWI on the next command",
            transport: BOTOCORE_TRANSPORT,
        },
    },
    Sdk {
        name: "rust",
        build: Build::Rust,
        clock: ClockControl::TimeSource,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        honours: &[
            "HTTPS_PROXY",
            "https_proxy",
            "SSL_CERT_FILE",
            "NO_PROXY",
            "no_proxy",
        ],
        probed: true,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION`, then `AWS_DEFAULT_REGION`",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "identity cache shared by the clients of one `SdkConfig`; refreshes about 5–10 s before `Expiration`",
            transport: RUST_TRANSPORT,
        },
    },
];

const GO_REFRESH: &str = "`aws.CredentialsCache` shared by every client of one `aws.Config`; for web identity no expiry window (`config/resolve_credentials.go`): refreshes at `Expiration`";
const BOTO3_REFRESH: &str = "per `Session`; advisory 15 min, mandatory 10 min before `Expiration` (credentials under 15 min are refreshed on every call)";

const GO_TRANSPORT: &str = "net/http's `ProxyFromEnvironment` (the SDK's `BuildableClient` transport): `HTTPS_PROXY` or `https_proxy` for HTTPS (`HTTP_PROXY` only for plain HTTP), and never a proxy for a loopback host, so the edge needs no `NO_PROXY`; trust from `AWS_CA_BUNDLE` (the SDK puts it in its transport's root pool, in place of the system's) or `SSL_CERT_FILE` (`crypto/x509`'s system roots). The modules of September 2023 behave the same";
const JS_TRANSPORT: &str = "Node.js 20's HTTP stack has no proxy support and the SDK's `NodeHttpHandler` sets up none, so no proxy setting is honoured: the SDK connects to the AWS host itself, and reaches the harness only through the endpoint variables (newer Node.js releases add `NODE_USE_ENV_PROXY` for their global agents: not measured, this machine's Node.js is 20); trust from `NODE_EXTRA_CA_CERTS` only (`SSL_CERT_FILE` would need `--use-openssl-ca`)";
/// botocore (boto3 and the AWS CLI) with endpoint settings.
const BOTOCORE_HONOURS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "AWS_CA_BUNDLE",
    "NO_PROXY",
    "no_proxy",
];
const BOTOCORE_TRANSPORT: &str = "botocore takes the proxy from urllib's `getproxies`: `HTTPS_PROXY` or `https_proxy` for HTTPS (`HTTP_PROXY` only for plain HTTP), and `NO_PROXY`/`no_proxy` for the bypass, which the HTTPS edge on loopback needs (without it the loopback endpoint goes to the proxy); trust from `AWS_CA_BUNDLE` only (`SSL_CERT_FILE` is not read: botocore verifies against its own bundle). boto3 1.26 (botocore 1.29) behaves the same, and so does the AWS CLI v1's vendored botocore";
const RUST_TRANSPORT: &str = "the default HTTPS client (`aws-smithy-runtime` 1.16, `default_https_client`) reads `HTTPS_PROXY`/`https_proxy` and `NO_PROXY`/`no_proxy` from the process environment for `BehaviorVersion` `v2025_08_07` and later (earlier behavior versions: no proxy), and sends loopback through the proxy unless `NO_PROXY` names it; trust from `SSL_CERT_FILE` (`rustls-native-certs`, which then replaces the system roots), not `AWS_CA_BUNDLE`. Measured with `rust_sdk_probe`, a process of its own; the suite's in-process Rust runs read the endpoint variables";

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

/// The Maven goal that resolves the client's classpath; the plugin version is pinned so Maven
/// needs no plugin metadata from the network.
const MAVEN_BUILD_CLASSPATH: &str =
    "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath";

/// `tests/interop/`: the client programs and the suite's world.
pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// A built Java client: run `java -cp <classpath> Interop MODE ID`; with proxy settings in the
/// environment, also `-Djdk.net.hosts.file=<loopback_hosts>` (the network guard, see
/// `LoopbackOnly.java`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaClient {
    pub java: PathBuf,
    pub classpath: String,
    /// `tests/interop/java/loopback.hosts`: a hosts file naming only loopback addresses.
    pub loopback_hosts: PathBuf,
}

/// Builds (once) the Java client against Java SDK v2 `version`: one Maven run resolves the SDK
/// into `cache_dir()/maven`, `javac` compiles the two source files.
pub fn ensure_java_client(version: &str) -> anyhow::Result<JavaClient> {
    let java = tool("java")?;
    let javac = tool("javac")?;
    let mvn = tool("mvn")?;
    let dir = interop_dir().join("java");
    let pom = dir.join("pom.xml");
    let sources = [
        dir.join("src/Interop.java"),
        dir.join("src/LoopbackOnly.java"),
        dir.join("src/CurityWorkload.java"),
    ];
    let interceptors = dir.join("resources/software/amazon/awssdk/global/handlers");
    let mut inputs = vec![pom.clone(), interceptors.join("execution.interceptors")];
    inputs.extend(sources.iter().cloned());
    let identity = format!("{version}\n{}", version_of(&javac, &["-version"])?);
    let name = format!("interop-java-{version}-{}", digest(&inputs, &identity)?);
    let cache = cache_dir()?;
    let entry = install_once(&cache, &name, |staging| -> anyhow::Result<()> {
        let classpath_file = staging.join("classpath.txt");
        let maven = |offline: bool| {
            let mut command = Command::new(&mvn);
            command.args(["-B", "-q"]);
            if offline {
                command.arg("-o");
            }
            command
                .arg(format!(
                    "-Dmaven.repo.local={}",
                    cache.join("maven").display()
                ))
                .arg("-f")
                .arg(&pom)
                .arg(MAVEN_BUILD_CLASSPATH)
                .arg(format!("-Dmdep.outputFile={}", classpath_file.display()))
                .arg(format!("-Dawssdk.version={version}"));
            command
        };
        // One Maven at a time on the shared repository: concurrent resolutions of the same
        // artifact into one local repository fail (seen on a cold cache).
        with_install_lock(&cache, "maven-repository", || -> anyhow::Result<()> {
            if run(&mut maven(true), "mvn -o dependency:build-classpath").is_err() {
                run(&mut maven(false), "mvn dependency:build-classpath")?;
            }
            Ok(())
        })?;
        let classpath = read_classpath(&classpath_file)?;
        let classes = staging.join("classes");
        run(
            Command::new(&javac)
                .arg("-d")
                .arg(&classes)
                .arg("-cp")
                .arg(&classpath)
                .args(&sources),
            "javac",
        )?;
        let target = classes.join("software/amazon/awssdk/global/handlers");
        std::fs::create_dir_all(&target)?;
        std::fs::copy(
            interceptors.join("execution.interceptors"),
            target.join("execution.interceptors"),
        )?;
        Ok(())
    })?;
    let classpath = read_classpath(&entry.join("classpath.txt"))?;
    Ok(JavaClient {
        java,
        classpath: format!("{}:{classpath}", entry.join("classes").display()),
        loopback_hosts: dir.join("loopback.hosts"),
    })
}

/// Builds (once) the Go client against `modules`: `main.go` of `tests/interop/go/` with that
/// set's `go.mod` and `go.sum`, `go build` with the module and build caches under the cache
/// directory, offline (`GOPROXY=off`) first.
pub fn ensure_go_client(modules: GoModules) -> anyhow::Result<PathBuf> {
    let go = tool("go")?;
    let source = interop_dir().join("go").join("main.go");
    let module_dir = interop_dir().join(modules.dir());
    let inputs = vec![
        module_dir.join("go.mod"),
        module_dir.join("go.sum"),
        source.clone(),
    ];
    let identity = version_of(&go, &["version"])?;
    let name = format!("interop-{}-{}", modules.dir(), digest(&inputs, &identity)?);
    let cache = cache_dir()?;
    let entry = install_once(&cache, &name, |staging| -> anyhow::Result<()> {
        let src = staging.join("src");
        std::fs::create_dir_all(&src)?;
        for input in &inputs {
            std::fs::copy(input, src.join(input.file_name().unwrap_or_default()))?;
        }
        let gocache = cache.join("go");
        let build = |offline: bool| {
            let mut command = Command::new(&go);
            command
                .args(["build", "-trimpath", "-o"])
                .arg(staging.join("interop"))
                .arg(".")
                .current_dir(&src)
                .env("GOMODCACHE", gocache.join("mod"))
                .env("GOCACHE", gocache.join("build"))
                .env("GOPATH", gocache.join("path"))
                .env("GOFLAGS", "-mod=mod")
                .env("GOTOOLCHAIN", "local");
            if offline {
                command.env("GOPROXY", "off");
            }
            command
        };
        if run(&mut build(true), "go build (offline)").is_err() {
            run(&mut build(false), "go build")?;
        }
        Ok(())
    })?;
    Ok(entry.join("interop"))
}

/// A built JavaScript client: run `node <dir>/interop.mjs MODE ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsClient {
    pub node: PathBuf,
    pub script: PathBuf,
}

/// Installs (once) the JavaScript client's pinned packages with `npm ci` from the lock file, from
/// the npm cache under the cache directory (`--offline` first).
pub fn ensure_js_client() -> anyhow::Result<JsClient> {
    let node = tool("node")?;
    let npm = tool("npm")?;
    let dir = interop_dir().join("js");
    let files = ["package.json", "package-lock.json", "interop.mjs"];
    let inputs: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    let identity = version_of(&node, &["--version"])?;
    let name = format!("interop-js-{}", digest(&inputs, &identity)?);
    let cache = cache_dir()?;
    let entry = install_once(&cache, &name, |staging| -> anyhow::Result<()> {
        for f in files {
            std::fs::copy(dir.join(f), staging.join(f))?;
        }
        let install = |offline: bool| {
            let mut command = Command::new(&npm);
            command
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .arg(if offline {
                    "--offline"
                } else {
                    "--prefer-offline"
                })
                .arg("--cache")
                .arg(cache.join("npm-cache"))
                .current_dir(staging);
            command
        };
        if run(&mut install(true), "npm ci --offline").is_err() {
            run(&mut install(false), "npm ci")?;
        }
        Ok(())
    })?;
    Ok(JsClient {
        node,
        script: entry.join("interop.mjs"),
    })
}

/// `tests/interop/python/guard`: the network guard every Python process of the suite gets on
/// `PYTHONPATH` (its `sitecustomize.py`).
pub fn python_guard_dir() -> PathBuf {
    interop_dir().join("python").join("guard")
}

/// boto3 1.26 installed: run `python <script>` with `PYTHONPATH=<guard>:<site>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boto3_1_26 {
    /// The `python` of a venv without packages (so nothing of the system's site-packages).
    pub python: PathBuf,
    /// The directory the pins were installed into (`pip install --target`).
    pub site: PathBuf,
}

/// Installs (once) [`BOTO3_1_26_PINS`] from PyPI: an empty venv (`--without-pip`: its
/// `python` names only the base interpreter, so the entry can be staged and renamed into place)
/// and the pins installed with the base interpreter's pip into a directory of their own
/// (`--target`: pure-Python packages, relocatable), through
/// [`install_once`].
pub fn ensure_boto3_1_26() -> anyhow::Result<Boto3_1_26> {
    let python3 = tool("python3")?;
    let identity = format!(
        "{}\n{}",
        BOTO3_1_26_PINS.join("\n"),
        version_of(&python3, &["--version"])?
    );
    let name = format!("interop-boto3-1.26-{}", digest(&[], &identity)?);
    let cache = cache_dir()?;
    let entry = install_once(&cache, &name, |staging| -> anyhow::Result<()> {
        run(
            Command::new(&python3)
                .args(["-m", "venv", "--without-pip"])
                .arg(staging.join("venv")),
            "python3 -m venv",
        )?;
        run(
            Command::new(&python3)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--no-input",
                    "--disable-pip-version-check",
                    "--no-warn-conflicts",
                    "--target",
                ])
                .arg(staging.join("site"))
                .args(BOTO3_1_26_PINS)
                .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
            "pip install --target (boto3 1.26)",
        )?;
        Ok(())
    })?;
    let installed = Boto3_1_26 {
        python: entry.join("venv").join("bin").join("python"),
        site: entry.join("site"),
    };
    anyhow::ensure!(
        installed.python.exists() && installed.site.join("boto3").is_dir(),
        "`{}` is incomplete",
        entry.display()
    );
    Ok(installed)
}

/// Where Debian installs libfaketime's thread-safe library.
const SYSTEM_LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

/// libfaketime's thread-safe library, to move the wall clock of the SDK processes with the
/// harness clock in the refresh rounds (`LD_PRELOAD`, `FAKETIME_TIMESTAMP_FILE`). The system's
/// if installed; otherwise Debian's `libfaketime` package, fetched once with
/// `apt-get download` (and `apt-get update` if the package lists lack it) and unpacked into the
/// cache with `dpkg-deb -x`.
pub fn ensure_libfaketime() -> anyhow::Result<PathBuf> {
    let system = PathBuf::from(SYSTEM_LIBFAKETIME);
    if system.is_file() {
        return Ok(system);
    }
    let cache = cache_dir()?;
    let entry = install_once(&cache, "libfaketime-deb", |staging| -> anyhow::Result<()> {
        let apt = tool("apt-get")?;
        let download = || {
            let mut command = Command::new(&apt);
            command
                .args(["download", "-q", "libfaketime"])
                .current_dir(staging);
            command
        };
        if run(&mut download(), "apt-get download libfaketime").is_err() {
            run(Command::new(&apt).args(["update", "-qq"]), "apt-get update")?;
            run(&mut download(), "apt-get download libfaketime")?;
        }
        let deb = std::fs::read_dir(staging)?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .context("apt-get download left no .deb")?;
        run(
            Command::new(tool("dpkg-deb")?)
                .arg("-x")
                .arg(&deb)
                .arg(staging.join("root")),
            "dpkg-deb -x",
        )?;
        Ok(())
    })?;
    let library = entry
        .join("root")
        .join(SYSTEM_LIBFAKETIME.trim_start_matches('/'));
    anyhow::ensure!(
        library.is_file(),
        "`{}` is missing from the unpacked libfaketime package",
        library.display()
    );
    Ok(library)
}

/// `NAME` on `PATH`, or an error saying the suite cannot run that SDK without it.
pub fn tool(name: &str) -> anyhow::Result<PathBuf> {
    irsa_harness::backend::dynamodb_local::jar::find_on_path(name).with_context(|| {
        format!("`{name}` is not on PATH: the interop suite cannot build that SDK's client")
    })
}

fn read_classpath(file: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading `{}`", file.display()))?;
    Ok(text.trim().to_owned())
}

/// The first line a tool prints for its version flag (stdout or stderr).
fn version_of(tool: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running `{}`", tool.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(text.lines().next().unwrap_or_default().trim().to_owned())
}

/// FNV-1a (64 bit) over the files' names and contents and `identity`, as 16 hex digits.
fn digest(files: &[PathBuf], identity: &str) -> anyhow::Result<String> {
    let mut bytes = identity.as_bytes().to_vec();
    for file in files {
        bytes.push(0);
        bytes.extend_from_slice(file.file_name().unwrap_or_default().as_encoded_bytes());
        bytes.push(0);
        bytes.extend(std::fs::read(file).with_context(|| format!("reading `{}`", file.display()))?);
    }
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Ok(format!("{hash:016x}"))
}

fn run(command: &mut Command, name: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running `{name}`"))?;
    if output.status.success() {
        return Ok(());
    }
    let tail = |bytes: &[u8]| {
        irsa_harness::backend::dynamodb_local::jar::tail(&String::from_utf8_lossy(bytes), 15)
    };
    bail!(
        "`{name}` failed ({}):\n{}\n{}",
        output.status,
        tail(&output.stdout),
        tail(&output.stderr)
    )
}

#[cfg(test)]
mod tests {
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
}
