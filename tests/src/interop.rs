//! The interop suite's SDK matrix and toolchain installs. [`SDKS`] is the matrix: each SDK's
//! label, how its client is built, how its clock is moved in the refresh rounds, what it is
//! expected to do, and the notes the generated `docs/sdk-compatibility.md` prints for it;
//! `tests/tests/it/interop.rs` runs exactly these SDKs, in this order. The client programs under
//! `tests/interop/` are built for each SDK into the project cache, once.
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
    /// Java SDK v2 with endpoint settings: it also runs the Curity workload
    /// (`CurityWorkload.java`) and the script with the endpoints given as JVM system properties.
    pub jvm_workloads: bool,
    /// Refresh rounds whose ARWWI count for this SDK differs from the suite's general bounds.
    pub refresh_exceptions: &'static [RefreshException],
    pub notes: Notes,
}

/// How an SDK's client is built or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `tests/interop/java` against Java SDK v2 `version` ([`ensure_java_client`]).
    Java { version: &'static str },
    /// `tests/interop/go` ([`ensure_go_client`]).
    Go,
    /// `tests/interop/js` ([`ensure_js_client`]).
    JavaScript,
    /// `tests/interop/python/interop_boto3.py` in the harness's Python venv.
    Boto3,
    /// The AWS CLI v1 of the harness's Python venv, one command per step.
    AwsCli,
    /// The Rust SDK, in the test process.
    Rust,
}

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
}

impl Sdk {
    /// `java 2.21.42`, `go`, …: names the SDK in every failure, stack and state directory.
    pub fn label(&self) -> String {
        match self.build {
            Build::Java { version } => format!("{} {version}", self.name),
            _ => self.name.to_owned(),
        }
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
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION`",
            endpoints: "`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`; or the JVM system properties `aws.endpointUrlSts` and `aws.endpointUrlDynamoDb` (note the case; the suite runs the script with only these), `aws.endpointUrl`",
            refresh: JAVA_REFRESH,
        },
    }
}

/// The SDK matrix, in the order of the generated doc's rows. Java SDK v2 in three versions:
/// the one Curity's DynamoDB plugin pins, the first that reads `AWS_ENDPOINT_URL_*` (its 2.28.1
/// changelog entry), and a current one.
pub const SDKS: &[Sdk] = &[
    Sdk {
        name: "java",
        build: Build::Java { version: "2.21.42" },
        clock: ClockControl::Libfaketime,
        // Java SDK v2 reads `AWS_ENDPOINT_URL*` only from 2.28.1 on (its changelog; measured).
        reads_endpoint_variables: false,
        jvm_workloads: false,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION`",
            endpoints: "none: no `AWS_ENDPOINT_URL*` variable, `aws.endpointUrl*` property or profile `endpoint_url` exists in this version",
            refresh: JAVA_REFRESH,
        },
    },
    java_with_endpoints("2.28.1"),
    java_with_endpoints("2.57.8"),
    Sdk {
        name: "go",
        build: Build::Go,
        clock: ClockControl::ClockHook,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION` (and `AWS_DEFAULT_REGION`)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "`aws.CredentialsCache` shared by every client of one `aws.Config`; for web identity no expiry window (`config/resolve_credentials.go`): refreshes at `Expiration`",
        },
    },
    Sdk {
        name: "js",
        build: Build::JavaScript,
        clock: ClockControl::Libfaketime,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION` only (`AWS_DEFAULT_REGION` is ignored)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "per client; refreshes when less than 5 min remain",
        },
    },
    Sdk {
        name: "boto3",
        build: Build::Boto3,
        clock: ClockControl::Libfaketime,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_DEFAULT_REGION` only (`AWS_REGION` is ignored)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "per `Session`; advisory 15 min, mandatory 10 min before `Expiration` (credentials under 15 min are refreshed on every call)",
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
        refresh_exceptions: &[RefreshException {
            round: "30-min-left",
            arwwi: (1, 1),
        }],
        notes: Notes {
            region: "`AWS_DEFAULT_REGION` only (`AWS_REGION` is ignored)",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "as boto3, plus a disk cache in `~/.aws/cli/cache` reused by later commands; its vendored botocore keys that cache by role **and token**, so each rewrite of the token file costs one ARWWI on the next command",
        },
    },
    Sdk {
        name: "rust",
        build: Build::Rust,
        clock: ClockControl::TimeSource,
        reads_endpoint_variables: true,
        jvm_workloads: false,
        refresh_exceptions: &[],
        notes: Notes {
            region: "`AWS_REGION`, then `AWS_DEFAULT_REGION`",
            endpoints: ENDPOINT_VARIABLES,
            refresh: "identity cache shared by the clients of one `SdkConfig`; refreshes about 5–10 s before `Expiration`",
        },
    },
];

/// The Maven goal that resolves the client's classpath; the plugin version is pinned so Maven
/// needs no plugin metadata from the network.
const MAVEN_BUILD_CLASSPATH: &str =
    "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath";

/// `tests/interop/`: the client programs and the suite's world.
pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// A built Java client: run `java -cp <classpath> Interop MODE ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaClient {
    pub java: PathBuf,
    pub classpath: String,
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
    })
}

/// Builds (once) the Go client: `go build` with the module and build caches under the cache
/// directory, offline (`GOPROXY=off`) first.
pub fn ensure_go_client() -> anyhow::Result<PathBuf> {
    let go = tool("go")?;
    let dir = interop_dir().join("go");
    let files = ["go.mod", "go.sum", "main.go"];
    let inputs: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    let identity = version_of(&go, &["version"])?;
    let name = format!("interop-go-{}", digest(&inputs, &identity)?);
    let cache = cache_dir()?;
    let entry = install_once(&cache, &name, |staging| -> anyhow::Result<()> {
        let src = staging.join("src");
        std::fs::create_dir_all(&src)?;
        for f in files {
            std::fs::copy(dir.join(f), src.join(f))?;
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
                "js",
                "boto3",
                "aws-cli",
                "rust"
            ]
        );
        for sdk in SDKS {
            if sdk.jvm_workloads {
                assert!(matches!(sdk.build, Build::Java { .. }) && sdk.reads_endpoint_variables);
            }
        }
    }
}
