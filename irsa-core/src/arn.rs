//! The ARNs the emulated account hands out and accepts: roles, OIDC providers, managed
//! policies, assumed-role sessions. Parsing only; no lookup.

use std::fmt;

/// A role ARN, `arn:<partition>:iam::<account>:role/<path><name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleArn {
    raw: String,
    partition: String,
    account: String,
    /// `/` or `/team/`: always starts and ends with `/`.
    path: String,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{raw}` is not a role ARN: {reason}")]
pub struct ArnError {
    pub raw: String,
    pub reason: &'static str,
}

impl RoleArn {
    pub fn parse(raw: &str) -> Result<Self, ArnError> {
        let err = |reason| ArnError {
            raw: raw.to_owned(),
            reason,
        };
        let mut parts = raw.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(err("expected `arn:aws:iam::<account>:role/<name>`"));
        };
        if partition.is_empty() {
            return Err(err("the partition is empty"));
        }
        if service != "iam" {
            return Err(err("the service is not `iam`"));
        }
        if !region.is_empty() {
            return Err(err("IAM ARNs have an empty region"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("the account is not 12 digits"));
        }
        let Some(path_and_name) = res.strip_prefix("role/") else {
            return Err(err("the resource is not `role/...`"));
        };
        let (path, name) = match path_and_name.rfind('/') {
            Some(i) => (
                format!("/{}", path_and_name.get(..=i).unwrap_or_default()),
                path_and_name.get(i + 1..).unwrap_or_default(),
            ),
            None => ("/".to_owned(), path_and_name),
        };
        if name.is_empty() || name.len() > 64 {
            return Err(err("the role name must be 1 to 64 characters"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
        {
            return Err(err("the role name has characters outside `[\\w+=,.@-]`"));
        }
        Ok(Self {
            raw: raw.to_owned(),
            partition: partition.to_owned(),
            account: account.to_owned(),
            path,
            name: name.to_owned(),
        })
    }

    pub fn new(account: &str, path: &str, name: &str) -> Self {
        let path = normalise_path(path);
        Self {
            raw: format!("arn:aws:iam::{account}:role{path}{name}"),
            partition: "aws".to_owned(),
            account: account.to_owned(),
            path,
            name: name.to_owned(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
    pub fn account(&self) -> &str {
        &self.account
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// `arn:aws:sts::<account>:assumed-role/<name>/<session>`: AWS drops the role path here.
    pub fn assumed_role_arn(&self, session_name: &str) -> String {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/{}",
            self.partition, self.account, self.name, session_name
        )
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// `/` stays `/`; `team` and `/team` become `/team/`.
pub fn normalise_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

/// The IAM OIDC provider ARN for an issuer URL: `arn:aws:iam::<account>:oidc-provider/<host/path>`.
pub fn oidc_provider_arn(account: &str, issuer: &str) -> String {
    format!(
        "arn:aws:iam::{account}:oidc-provider/{}",
        issuer_host_path(issuer)
    )
}

/// The issuer without its scheme and trailing slash, as IAM keys providers and condition keys:
/// `https://oidc.eks.eu-west-1.amazonaws.com/id/X` → `oidc.eks.eu-west-1.amazonaws.com/id/X`.
pub fn issuer_host_path(issuer: &str) -> &str {
    issuer
        .strip_prefix("https://")
        .unwrap_or(issuer)
        .trim_end_matches('/')
}

pub fn managed_policy_arn(account: &str, path: &str, name: &str) -> String {
    format!(
        "arn:aws:iam::{account}:policy{}{name}",
        normalise_path(path)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_with_path_and_drops_path_in_session_arn() {
        let arn = RoleArn::parse("arn:aws:iam::111122223333:role/team/app-role").unwrap();
        assert_eq!(arn.account(), "111122223333");
        assert_eq!(arn.path(), "/team/");
        assert_eq!(arn.name(), "app-role");
        assert_eq!(
            arn.assumed_role_arn("s1"),
            "arn:aws:sts::111122223333:assumed-role/app-role/s1"
        );
    }

    #[test]
    fn rejects_non_role_arns() {
        for bad in [
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::1111:role/x",
            "arn:aws:s3:::bucket",
            "role/x",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam:eu-west-1:111122223333:role/x",
        ] {
            assert!(RoleArn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_builds_the_same_arn_parse_reads() {
        let arn = RoleArn::new("111122223333", "team", "r");
        assert_eq!(arn.as_str(), "arn:aws:iam::111122223333:role/team/r");
        assert_eq!(RoleArn::parse(arn.as_str()).unwrap(), arn);
    }

    #[test]
    fn provider_arn_strips_scheme() {
        assert_eq!(
            oidc_provider_arn(
                "111122223333",
                "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
            ),
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        );
    }
}
