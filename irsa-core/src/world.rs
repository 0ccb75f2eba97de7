//! The emulated account and its clusters, resolved and validated: what the harness loads from a
//! world file and shares, immutable, between STS and the gateway. Building it from YAML is the
//! harness's job; this module owns only the resolved shape and its lookups.

use std::collections::BTreeMap;

use iam_policy::NamedPolicy;
use sha2::{Digest, Sha256};

use crate::arn::{RoleArn, issuer_host_path, oidc_provider_arn};

pub const DEFAULT_ACCOUNT: &str = "123456789012";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
pub const AUDIENCE_ANNOTATION: &str = "eks.amazonaws.com/audience";

#[derive(Debug, Clone)]
pub struct World {
    pub account: String,
    pub region: String,
    pub clusters: Vec<Cluster>,
    pub oidc_providers: Vec<OidcProvider>,
    pub roles: BTreeMap<String, Role>,
    pub service_accounts: Vec<ServiceAccount>,
    /// `CreateTable` requests, applied to DynamoDB Local at start.
    pub tables: Vec<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    /// `https://oidc.eks.<region>.amazonaws.com/id/<ID>`: the identity in tokens and trust policies.
    pub issuer: String,
}

/// An IAM OIDC identity provider registered in the account.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    /// Issuer without scheme, as IAM stores it: `oidc.eks.<region>.amazonaws.com/id/<ID>`.
    pub url: String,
    pub arn: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
}

impl OidcProvider {
    pub fn new(account: &str, issuer: &str, client_ids: Vec<String>) -> Self {
        Self {
            url: issuer_host_path(issuer).to_owned(),
            arn: oidc_provider_arn(account, issuer),
            client_ids,
            thumbprints: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Role {
    pub arn: RoleArn,
    /// `AROA` + 17 upper-case alphanumerics, stable for the same account and name.
    pub id: String,
    pub trust_policy: NamedPolicy,
    /// Attached managed policies and inline policies, each named as it appears in explanations.
    pub policies: Vec<NamedPolicy>,
    /// ARN of each customer managed policy among `policies` (and of the permissions boundary),
    /// by policy name. Inline policies have no ARN and no entry.
    pub managed_policy_arns: BTreeMap<String, String>,
    pub permissions_boundary: Option<NamedPolicy>,
    /// Seconds, 3600 to 43200.
    pub max_session_duration: u32,
}

#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
    /// The cluster whose issuer signs this account's tokens.
    pub cluster: String,
}

impl ServiceAccount {
    pub fn subject(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }

    pub fn role_arn(&self) -> Option<&str> {
        self.annotations
            .get(ROLE_ARN_ANNOTATION)
            .map(String::as_str)
    }

    /// The audience the pod-identity webhook projects: the annotation, else `sts.amazonaws.com`.
    pub fn audience(&self) -> &str {
        self.annotations
            .get(AUDIENCE_ANNOTATION)
            .map_or(STS_AUDIENCE, String::as_str)
    }
}

impl World {
    /// The provider registered for a token's `iss`, matched as IAM does: scheme dropped, exact.
    pub fn provider_for_issuer(&self, iss: &str) -> Option<&OidcProvider> {
        let wanted = issuer_host_path(iss);
        // IAM only registers https issuers; a token whose `iss` is not https never matches.
        if !iss.starts_with("https://") {
            return None;
        }
        self.oidc_providers.iter().find(|p| p.url == wanted)
    }

    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        let parsed = RoleArn::parse(arn).ok()?;
        if parsed.account() != self.account {
            return None;
        }
        self.roles
            .get(parsed.name())
            .filter(|role| role.arn.path() == parsed.path())
    }

    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&ServiceAccount> {
        self.service_accounts
            .iter()
            .find(|sa| sa.namespace == namespace && sa.name == name)
    }
}

/// The issuer EKS would give a cluster: `https://oidc.eks.<region>.amazonaws.com/id/<ID>`, with a
/// 32-character upper-case hex ID derived from the account, region and cluster name.
pub fn default_issuer(account: &str, region: &str, cluster: &str) -> String {
    let digest = Sha256::digest(format!("{account}/{region}/{cluster}"));
    let id: String = hex_upper(digest.get(..16).unwrap_or_default());
    format!("https://oidc.eks.{region}.amazonaws.com/id/{id}")
}

/// A role id as IAM shapes it (`AROA` + 17 of `[A-Z2-7]`), stable per account and role name.
pub fn role_id(account: &str, role_name: &str) -> String {
    let digest = Sha256::digest(format!("role/{account}/{role_name}"));
    format!("AROA{}", base32_upper(&digest, 17))
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The first `len` characters of the RFC 4648 base32 form of `bytes` (no padding).
pub fn base32_upper(bytes: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < len {
            bits -= 5;
            let index = ((buffer >> bits) & 31) as usize;
            out.push(char::from(BASE32.get(index).copied().unwrap_or(b'A')));
        }
    }
    out
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_issuer_looks_like_eks() {
        let issuer = default_issuer("111122223333", "eu-west-1", "curity-dynamo-irsa");
        let id = issuer
            .strip_prefix("https://oidc.eks.eu-west-1.amazonaws.com/id/")
            .unwrap();
        assert_eq!(id.len(), 32);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(
            issuer,
            default_issuer("111122223333", "eu-west-1", "curity-dynamo-irsa")
        );
    }

    #[test]
    fn role_id_has_iam_shape() {
        let id = role_id("111122223333", "curity-dynamodb");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn provider_lookup_ignores_scheme_but_requires_https_in_token() {
        let world = World {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            clusters: vec![],
            oidc_providers: vec![OidcProvider::new(
                "111122223333",
                "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
                vec![STS_AUDIENCE.into()],
            )],
            roles: BTreeMap::new(),
            service_accounts: vec![],
            tables: vec![],
        };
        assert!(
            world
                .provider_for_issuer("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC")
                .is_some()
        );
        assert!(
            world
                .provider_for_issuer("http://oidc.eks.eu-west-1.amazonaws.com/id/ABC")
                .is_none()
        );
        assert!(
            world
                .provider_for_issuer("https://oidc.eks.eu-west-1.amazonaws.com/id/ABD")
                .is_none()
        );
    }
}
