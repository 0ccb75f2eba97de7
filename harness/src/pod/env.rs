//! The files `irsa up` gives a pod on disk, and the administrator's: each service account's
//! projected token file (written atomically, as the kubelet does), its environment file (what
//! the pod-identity webhook injects plus the harness's endpoint variables), and `admin.env`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use irsa_core::World;
use irsa_core::world::ServiceAccount;

pub fn token_path(state_dir: &Path, namespace: &str, name: &str) -> PathBuf {
    state_dir
        .join("tokens")
        .join(namespace)
        .join(name)
        .join("token")
}

/// Write a token file atomically, with no trailing newline, as the kubelet does.
pub fn write_token(path: &Path, token: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("token path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".token.{}", uuid::Uuid::new_v4()));
    std::fs::write(&tmp, token.as_bytes())?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing `{}`", path.display()))?;
    Ok(())
}

/// The variables the pod-identity webhook injects (computed by [`crate::pod::webhook_mutation`], as EKS
/// would for this world's region, with the token path mapped to the local token file), then the
/// harness's own endpoint variables on top. `AWS_ENDPOINT_URL` (all services) also points here,
/// so an SDK call to any other service reaches the harness and fails loudly instead of going to
/// real AWS.
pub fn pod_env(
    world: &World,
    sa: &ServiceAccount,
    token_file: &Path,
    endpoint: &str,
) -> Vec<(String, String)> {
    let config = crate::pod::webhook_mutation::WebhookConfig::eks(&world.region);
    let mut env =
        match crate::pod::webhook_mutation::identity(&sa.annotations, &Default::default(), &config)
        {
            Some(identity) => crate::pod::webhook_mutation::injected_env(
                &identity,
                &config,
                &token_file.display().to_string(),
            ),
            // The webhook leaves such a pod alone. Harness addition (not what EKS injects): the
            // region, which a real pod's SDK would find through instance metadata.
            None => vec![
                (
                    "AWS_STS_REGIONAL_ENDPOINTS".to_owned(),
                    "regional".to_owned(),
                ),
                ("AWS_DEFAULT_REGION".to_owned(), world.region.clone()),
                ("AWS_REGION".to_owned(), world.region.clone()),
            ],
        };
    env.extend(harness_env(endpoint));
    env
}

/// The harness's endpoint variables, set on top of what the webhook injects.
pub fn harness_env(endpoint: &str) -> Vec<(String, String)> {
    vec![
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_STS".to_owned(), endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), endpoint.to_owned()),
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
    ]
}

/// `DIR/env/admin.env`: the administrator's static keys and every endpoint pointed at this stack,
/// for driving the IAM, STS, EKS and DynamoDB APIs with the AWS CLI or an SDK as the tutorial
/// does. Owner-only permissions: it holds a secret key (a local, derived one).
pub fn write_admin_env(state_dir: &Path, world: &World, endpoint: &str) -> anyhow::Result<()> {
    let Some(env) = admin_env(world, endpoint) else {
        return Ok(());
    };
    let file = admin_env_path(state_dir);
    write_env_file(&file, &env)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// `DIR/env/<namespace>/<name>.env`: a pod's environment, as `irsa up` writes it.
pub fn pod_env_path(state_dir: &Path, namespace: &str, name: &str) -> PathBuf {
    state_dir
        .join("env")
        .join(namespace)
        .join(format!("{name}.env"))
}

/// `DIR/env/admin.env`.
pub fn admin_env_path(state_dir: &Path) -> PathBuf {
    state_dir.join("env").join("admin.env")
}

/// Write `KEY=value` lines, creating the folder.
pub(crate) fn write_env_file(path: &Path, env: &[(String, String)]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(path, text).with_context(|| format!("writing `{}`", path.display()))
}

/// The administrator's environment (`None` when the world has no `admin` user with a key).
pub fn admin_env(world: &World, endpoint: &str) -> Option<Vec<(String, String)>> {
    let user = world.users.get(scenarios::world_file::ADMIN_USER)?;
    let key = user.access_keys.first()?;
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), key.id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            key.secret.expose().to_owned(),
        ),
        ("AWS_REGION".to_owned(), world.region.clone()),
        ("AWS_DEFAULT_REGION".to_owned(), world.region.clone()),
    ];
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_DYNAMODB",
    ] {
        env.push((var.to_owned(), endpoint.to_owned()));
    }
    env.push(("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()));
    Some(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refresher replaces a token while SDKs read it: a reader must only ever see a whole
    /// token, the old or the new (the file is renamed into place, never rewritten in place).
    #[test]
    fn a_reader_never_sees_a_partial_token_while_it_is_replaced() {
        let dir = std::env::temp_dir().join(format!("irsa-token-test-{}", uuid::Uuid::new_v4()));
        let path = dir.join("eks.amazonaws.com/serviceaccount/token");
        let (short, long) = ("a".repeat(900), "b".repeat(40_000));
        write_token(&path, &short).unwrap();
        let writer = {
            let (path, short, long) = (path.clone(), short.clone(), long.clone());
            std::thread::spawn(move || {
                for i in 0..400 {
                    write_token(&path, if i % 2 == 0 { &long } else { &short }).unwrap();
                }
            })
        };
        let (mut reads, mut saw_long) = (0, false);
        while !writer.is_finished() || reads < 400 {
            let token = std::fs::read_to_string(&path).unwrap();
            assert!(
                token == short || token == long,
                "read a token of {} bytes, neither whole token",
                token.len()
            );
            saw_long |= token == long;
            reads += 1;
        }
        writer.join().unwrap();
        assert!(saw_long, "the reader never saw a replacement");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name() != "token")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
