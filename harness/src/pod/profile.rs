//! The AWS config profile access method (`irsa exec --profile NAME`; Curity's `aws-profile`):
//! the pod's web identity written as a shared-config profile (`role_arn` +
//! `web_identity_token_file`), and the environment that selects it (`AWS_PROFILE`,
//! `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`) instead of `AWS_ROLE_ARN` /
//! `AWS_WEB_IDENTITY_TOKEN_FILE`. Rendering is pure; [`write_profile`] only writes the files.
//!
//! Keys are the documented shared-config settings (AWS SDKs and Tools reference guide,
//! "Assume role credential provider": `role_arn`, `web_identity_token_file`,
//! `role_session_name`; "Region": `region`; "Service-specific endpoints": `endpoint_url`).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

/// The files of one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFiles {
    pub config: String,
    pub credentials: String,
}

/// A profile name usable in both files' section headers.
pub fn check_profile_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+'))
    {
        return Err(anyhow!(
            "profile name `{name}` must be letters, digits and `-_.@+` only"
        ));
    }
    Ok(())
}

/// The config and credentials files for a web-identity profile.
pub fn render(profile: &str, env: &[(String, String)]) -> anyhow::Result<ProfileFiles> {
    check_profile_name(profile)?;
    let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let role = get("AWS_ROLE_ARN").ok_or_else(|| {
        anyhow!("this service account has no role annotation, so there is no profile to write")
    })?;
    let token = get("AWS_WEB_IDENTITY_TOKEN_FILE")
        .ok_or_else(|| anyhow!("no web identity token file in the pod environment"))?;
    let mut config = format!(
        "# Written by irsa exec --profile {profile}: the pod's web identity as a profile.\n\
         [profile {profile}]\nrole_arn = {role}\nweb_identity_token_file = {token}\n"
    );
    if let Some(region) = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")) {
        config.push_str(&format!("region = {region}\n"));
    }
    if let Some(endpoint) = get("AWS_ENDPOINT_URL") {
        // Every service at the harness, for SDKs that read the profile but not the variable.
        config.push_str(&format!("endpoint_url = {endpoint}\n"));
    }
    let credentials = format!(
        "# Written by irsa exec --profile {profile}. A web-identity profile has no static keys:\n\
         # its credentials come from AssumeRoleWithWebIdentity on the token file.\n"
    );
    Ok(ProfileFiles {
        config,
        credentials,
    })
}

/// Write the profile's files under `dir` and return the environment that runs with it: the pod
/// environment without the web-identity variables, plus the profile selection.
pub fn write_profile(
    dir: &Path,
    profile: &str,
    env: &[(String, String)],
) -> anyhow::Result<Vec<(String, String)>> {
    let files = render(profile, env)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let config: PathBuf = dir.join("config");
    let credentials: PathBuf = dir.join("credentials");
    std::fs::write(&config, files.config)
        .with_context(|| format!("writing `{}`", config.display()))?;
    std::fs::write(&credentials, files.credentials)
        .with_context(|| format!("writing `{}`", credentials.display()))?;
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "AWS_ROLE_ARN"
                    | "AWS_WEB_IDENTITY_TOKEN_FILE"
                    | "AWS_CONFIG_FILE"
                    | "AWS_SHARED_CREDENTIALS_FILE"
                    | "AWS_PROFILE"
            )
        })
        .cloned()
        .collect();
    out.push(("AWS_PROFILE".to_owned(), profile.to_owned()));
    out.push(("AWS_CONFIG_FILE".to_owned(), config.display().to_string()));
    out.push((
        "AWS_SHARED_CREDENTIALS_FILE".to_owned(),
        credentials.display().to_string(),
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        [
            ("AWS_REGION", "eu-west-1"),
            (
                "AWS_ROLE_ARN",
                "arn:aws:iam::111122223333:role/curity-dynamodb",
            ),
            (
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                "/state/tokens/curity/dynamo-sa/token",
            ),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4599"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    #[test]
    fn renders_a_web_identity_profile() {
        let files = render("curity", &env()).expect("render");
        assert_eq!(
            files.config,
            "# Written by irsa exec --profile curity: the pod's web identity as a profile.\n\
             [profile curity]\n\
             role_arn = arn:aws:iam::111122223333:role/curity-dynamodb\n\
             web_identity_token_file = /state/tokens/curity/dynamo-sa/token\n\
             region = eu-west-1\n\
             endpoint_url = http://127.0.0.1:4599\n"
        );
        assert!(!files.credentials.contains('['));
    }

    #[test]
    fn environment_selects_the_profile_instead_of_the_web_identity_variables() {
        let dir = std::env::temp_dir().join(format!("irsa-profile-{}", uuid::Uuid::new_v4()));
        let out = write_profile(&dir, "curity", &env()).expect("write");
        let names: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert!(!names.contains(&"AWS_ROLE_ARN"));
        assert!(!names.contains(&"AWS_WEB_IDENTITY_TOKEN_FILE"));
        assert!(out.contains(&("AWS_PROFILE".into(), "curity".into())));
        assert!(dir.join("config").exists() && dir.join("credentials").exists());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn refuses_bad_names_and_roleless_accounts() {
        assert!(render("a b]", &env()).is_err());
        let roleless: Vec<(String, String)> = env()
            .into_iter()
            .filter(|(k, _)| k != "AWS_ROLE_ARN")
            .collect();
        assert!(
            render("x", &roleless)
                .expect_err("no role")
                .to_string()
                .contains("no role annotation")
        );
    }
}
