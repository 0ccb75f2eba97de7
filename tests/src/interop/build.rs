//! Building each SDK's client program into the project cache once (Maven, Go, npm, pip), and
//! the tools the suite runs beside them (libfaketime).

use super::*;

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
pub(super) fn digest(files: &[PathBuf], identity: &str) -> anyhow::Result<String> {
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
