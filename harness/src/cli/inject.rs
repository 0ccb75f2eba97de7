//! `irsa inject`: its arguments (which `irsa webhook` shares), and the shell that reads the
//! manifest and world file and prints the mutated manifest. The translation lives in
//! [`crate::pod::inject`], the decisions in [`crate::pod::webhook_mutation`]; serving the
//! AdmissionReview endpoint in [`super::webhook`].

use irsa_core::World;

use crate::pod::inject::inject_manifest;
use crate::pod::webhook_mutation::WebhookConfig;

/// `irsa inject`'s arguments.
#[derive(Debug, clap::Args)]
pub struct InjectArgs {
    /// The manifest (multi-document YAML; `-` reads stdin).
    #[arg(short = 'f', long = "filename")]
    pub manifest: std::path::PathBuf,
    /// Take service accounts (and the region) from this world file; ServiceAccount objects in
    /// the manifest are used too, and win.
    #[arg(long, env = "IRSA_WORLD")]
    pub world: Option<std::path::PathBuf>,
    /// The cluster's region (`--aws-default-region` of the webhook); default: the world's.
    #[arg(long)]
    pub region: Option<String>,
    /// Use the open-source webhook's flag defaults (no region, no regional STS variable)
    /// instead of what EKS's managed webhook injects.
    #[arg(long)]
    pub upstream_defaults: bool,
}

impl InjectArgs {
    /// The world file (if given) and the webhook configuration the flags select.
    pub(crate) fn load(&self) -> anyhow::Result<(Option<World>, WebhookConfig)> {
        use anyhow::anyhow;
        let world = match &self.world {
            Some(path) => Some(
                crate::world_file::load(path)
                    .map_err(|e| anyhow!("{e}"))?
                    .world,
            ),
            None => None,
        };
        let region = self
            .region
            .clone()
            .or_else(|| world.as_ref().map(|w| w.region.clone()));
        let config = if self.upstream_defaults {
            WebhookConfig {
                region,
                ..WebhookConfig::upstream_defaults()
            }
        } else {
            match region {
                Some(region) => WebhookConfig::eks(&region),
                None => {
                    return Err(anyhow!(
                        "no region: EKS injects the cluster's region; pass `--region REGION` or `--world FILE`, or `--upstream-defaults` for the open-source webhook's defaults"
                    ));
                }
            }
        };
        Ok((world, config))
    }
}

/// `irsa inject`: print the mutated manifest on `out`, one note per pod on `notes`.
pub fn run_inject(
    args: &InjectArgs,
    out: &mut dyn std::io::Write,
    notes: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let text = if args.manifest.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the manifest from stdin")?
    } else {
        std::fs::read_to_string(&args.manifest).with_context(|| {
            format!(
                "cannot read the manifest `{}` (check the path given to -f)",
                args.manifest.display()
            )
        })?
    };
    let (world, config) = args.load()?;
    let (rendered, pods) = inject_manifest(&text, world.as_ref(), &config)
        .with_context(|| format!("in `{}`", args.manifest.display()))?;
    out.write_all(rendered.as_bytes())?;
    for pod in pods {
        match (&pod.role_arn, &pod.reason) {
            (Some(role), _) => writeln!(
                notes,
                "irsa: {} {}/{}: injected role {role} (service account {})",
                pod.kind, pod.namespace, pod.name, pod.service_account
            )?,
            (None, Some(reason)) => writeln!(
                notes,
                "irsa: {} {}/{}: {reason}",
                pod.kind, pod.namespace, pod.name
            )?,
            (None, None) => {}
        }
    }
    Ok(())
}
