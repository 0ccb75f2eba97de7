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

mod build;
mod probes;
pub use build::*;
pub use probes::*;

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

#[cfg(test)]
mod tests;
