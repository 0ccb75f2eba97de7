//! `irsa clock`, `irsa token`, `irsa rotate-key` and `irsa issuer`: their arguments and the
//! entry points that send them to a running stack over its control API
//! ([`crate::stack::control::ControlClient`], found by the state dir).

use std::path::PathBuf;

use anyhow::anyhow;

use scenarios::{TokenOverrides, parse_duration};

use crate::stack::control::{ControlClient, TokenBody};

/// `irsa clock …`.
#[derive(Debug, clap::Args)]
pub struct ClockArgs {
    #[command(subcommand)]
    pub command: ClockCommand,
    #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR", global = true)]
    pub state_dir: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub enum ClockCommand {
    /// Move the running stack's clock forward (tokens, credentials and `aws:CurrentTime` follow
    /// it; SigV4 skew is still accepted against the real time).
    Advance {
        /// `90m`, `2h`, `3600s`, `1h30m`; negative moves back.
        #[arg(allow_hyphen_values = true, value_parser = parse_duration)]
        duration: i64,
    },
    /// Print the running stack's clock.
    Show,
}

/// `irsa token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
    pub state_dir: PathBuf,
    /// `<namespace>/<name>`, a service account of the world.
    #[arg(long)]
    pub service_account: String,
    /// `aud` (repeatable); default: the service account's audience.
    #[arg(long = "audience")]
    pub audiences: Vec<String>,
    /// Lifetime from now (`1h`, `10m`); negative gives an already-expired token.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_duration, conflicts_with = "expired")]
    pub expires_in: Option<i64>,
    /// An already-expired token (expired one minute ago).
    #[arg(long)]
    pub expired: bool,
    /// `nbf` relative to now (`10m`: not valid for ten minutes).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_duration)]
    pub not_before: Option<i64>,
    /// `iss` (the token is still signed by this cluster's key).
    #[arg(long)]
    pub issuer: Option<String>,
    /// The header's `kid`.
    #[arg(long)]
    pub kid: Option<String>,
    /// `sub`.
    #[arg(long)]
    pub sub: Option<String>,
    /// `active` (the issuer's published key) or `foreign` (a key the issuer never published).
    #[arg(long, default_value = "active", value_parser = ["active", "foreign"])]
    pub signing_key: String,
}

impl TokenArgs {
    pub fn body(&self) -> anyhow::Result<TokenBody> {
        let (namespace, name) = self
            .service_account
            .split_once('/')
            .ok_or_else(|| anyhow!("`{}` is not `<namespace>/<name>`", self.service_account))?;
        Ok(TokenBody {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            overrides: TokenOverrides {
                audience: self.audiences.clone(),
                expires_in: if self.expired {
                    Some(-60)
                } else {
                    self.expires_in
                },
                not_before: self.not_before,
                issuer: self.issuer.clone(),
                kid: self.kid.clone(),
                sub: self.sub.clone(),
                foreign_key: self.signing_key == "foreign",
                ..TokenOverrides::default()
            },
        })
    }
}

/// `irsa rotate-key`.
#[derive(Debug, clap::Args)]
pub struct RotateKeyArgs {
    #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
    pub state_dir: PathBuf,
    /// The cluster whose issuer gets a new signing key.
    #[arg(long)]
    pub cluster: String,
    /// Publish only the new key: tokens signed before fail STS ("Couldn't retrieve verification
    /// key …"). Without it the old key stays in the JWKS.
    #[arg(long)]
    pub drop_old: bool,
}

pub async fn run_clock(args: &ClockArgs) -> anyhow::Result<()> {
    let client = ControlClient::from_state_dir(&args.state_dir)?;
    let reading = match args.command {
        ClockCommand::Advance { duration } => client.advance_clock(duration).await?,
        ClockCommand::Show => client.clock().await?,
    };
    println!(
        "harness time {} (offset {}s from the wall clock)",
        irsa_core::clock::render_utc(reading.now),
        reading.offset
    );
    Ok(())
}

pub async fn run_token(args: &TokenArgs) -> anyhow::Result<()> {
    let client = ControlClient::from_state_dir(&args.state_dir)?;
    let token = client.token(&args.body()?).await?;
    println!("{token}");
    Ok(())
}

/// `irsa issuer down|up`.
#[derive(Debug, clap::Args)]
pub struct IssuerArgs {
    #[command(subcommand)]
    pub command: IssuerCommand,
    #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR", global = true)]
    pub state_dir: PathBuf,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum IssuerCommand {
    /// STS can no longer reach the cluster's issuer: `AssumeRoleWithWebIdentity` for its tokens
    /// answers `IDPCommunicationError` (which the SDKs retry).
    Down {
        #[arg(long)]
        cluster: String,
    },
    /// STS reaches the cluster's issuer again.
    Up {
        #[arg(long)]
        cluster: String,
    },
}

pub async fn run_issuer(args: &IssuerArgs) -> anyhow::Result<()> {
    let client = ControlClient::from_state_dir(&args.state_dir)?;
    let (cluster, reachable) = match &args.command {
        IssuerCommand::Down { cluster } => (cluster, false),
        IssuerCommand::Up { cluster } => (cluster, true),
    };
    client.set_issuer_reachable(cluster, reachable).await?;
    println!(
        "issuer of cluster `{cluster}` is {} for STS",
        if reachable {
            "reachable"
        } else {
            "unreachable"
        }
    );
    Ok(())
}

pub async fn run_rotate_key(args: &RotateKeyArgs) -> anyhow::Result<()> {
    let client = ControlClient::from_state_dir(&args.state_dir)?;
    let answer = client.rotate_key(&args.cluster, !args.drop_old).await?;
    println!("active kid {}", answer.kid);
    println!("published kids {}", answer.published.join(" "));
    Ok(())
}
