//! The emulated account and its clusters, resolved and validated: what the harness loads from a
//! world file and shares between STS, IAM and the gateway (each request reads an immutable snapshot
//! from a [`WorldStore`](crate::WorldStore); the IAM API publishes changed copies). Building it from YAML is the
//! harness's job; this module owns only the resolved shape and its lookups.

use std::collections::BTreeMap;

use iam_policy::NamedPolicy;
use sha2::{Digest, Sha256};

use crate::arn::{RoleArn, issuer_host_path, oidc_provider_arn};
use crate::secret::SecretAccessKey;

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
    /// IAM users by name: static access keys and their own policies.
    pub users: BTreeMap<String, User>,
    /// Customer managed policies by ARN (the world file's `policies` and `iam:CreatePolicy`).
    pub managed_policies: BTreeMap<String, ManagedPolicy>,
}

/// An IAM user: a long-term principal signing with static `AKIA…` keys.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    /// `/` or `/team/`.
    pub path: String,
    /// `arn:aws:iam::<account>:user<path><name>`.
    pub arn: String,
    /// `AIDA` + 17 of `[A-Z2-7]` (`aws:userid`).
    pub id: String,
    pub access_keys: Vec<AccessKey>,
    /// Attached managed and inline policies, named as in explanations.
    pub policies: Vec<NamedPolicy>,
    /// ARN of each managed policy among `policies`, by name.
    pub managed_policy_arns: BTreeMap<String, String>,
}

/// A static access key pair of an IAM user.
#[derive(Debug, Clone)]
pub struct AccessKey {
    /// `AKIA` + 16 of `[A-Z2-7]`.
    pub id: String,
    pub secret: SecretAccessKey,
}

/// A customer managed policy, with the document text as it was given (IAM returns it verbatim,
/// URL-encoded).
#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub arn: String,
    /// `ANPA` + 17 of `[A-Z2-7]`.
    pub id: String,
    pub description: Option<String>,
    pub document: String,
    pub policy: NamedPolicy,
    /// Unix seconds.
    pub create_date: i64,
}

/// What IAM keeps about a role besides what evaluation needs: for the IAM API's answers.
#[derive(Debug, Clone, Default)]
pub struct RoleRecord {
    pub description: Option<String>,
    /// Unix seconds.
    pub create_date: i64,
    /// The trust policy text as it was given.
    pub trust_policy_document: String,
    /// Inline policies: name → document text as given.
    pub inline_policy_documents: BTreeMap<String, String>,
    /// Attached managed policies, in attachment order: `(name, arn)`.
    pub attached: Vec<(String, String)>,
    pub permissions_boundary_arn: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    /// `https://oidc.eks.<region>.amazonaws.com/id/<ID>`: the identity in tokens and trust policies.
    pub issuer: String,
    /// Who signed the certificate the issuer's discovery document and JWKS are served with.
    pub issuer_ca: IssuerCa,
}

/// The certificate authority behind an issuer's HTTPS endpoint, which decides whether STS
/// consults an IAM OIDC provider's thumbprints. AWS: "Amazon secures communication with OIDC
/// identity providers (IdPs) using our library of trusted root certificate authorities (CAs) to
/// verify the JSON Web Key Set (JWKS) endpoint's TLS certificate. If your OIDC IdP relies on a
/// certificate that is not signed by one of these trusted CAs, only then we secure communication
/// using the thumbprints set in the IdP's configuration." (IAM API reference,
/// `UpdateOpenIDConnectProviderThumbprint`.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IssuerCa {
    /// A CA in AWS's trusted library, as EKS's issuers use: thumbprints are kept but not used.
    #[default]
    Public,
    /// A private CA the harness generates (a self-managed cluster's issuer): STS requires one
    /// of the provider's thumbprints to be the SHA-1 of the top certificate the issuer serves.
    Private,
}

/// An IAM OIDC identity provider registered in the account.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    /// Issuer without scheme, as IAM stores it: `oidc.eks.<region>.amazonaws.com/id/<ID>`.
    pub url: String,
    pub arn: String,
    pub client_ids: Vec<String>,
    /// SHA-1 fingerprints (40 hex characters, lower-case as IAM stores them) of the issuer's
    /// certificate chain, as given to `CreateOpenIDConnectProvider`.
    pub thumbprints: Vec<String>,
    /// Unix seconds; 0 until the stack stamps its start time.
    pub create_date: i64,
}

impl OidcProvider {
    pub fn new(account: &str, issuer: &str, client_ids: Vec<String>) -> Self {
        Self {
            url: issuer_host_path(issuer).to_owned(),
            arn: oidc_provider_arn(account, issuer),
            client_ids,
            thumbprints: Vec::new(),
            create_date: 0,
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
    /// What only the IAM API reads: texts as given, dates, attachment order.
    pub record: RoleRecord,
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
    /// An account with nothing in it yet: no clusters, providers, roles, service accounts,
    /// tables, users or managed policies.
    pub fn empty(account: String, region: String) -> Self {
        Self {
            account,
            region,
            clusters: Vec::new(),
            oidc_providers: Vec::new(),
            roles: BTreeMap::new(),
            service_accounts: Vec::new(),
            tables: Vec::new(),
            users: BTreeMap::new(),
            managed_policies: BTreeMap::new(),
        }
    }

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

    /// The IAM user owning a static access key id, with that key.
    pub fn user_by_access_key(&self, access_key_id: &str) -> Option<(&User, &AccessKey)> {
        self.users.values().find_map(|user| {
            user.access_keys
                .iter()
                .find(|key| key.id == access_key_id)
                .map(|key| (user, key))
        })
    }

    /// Give every entity without a creation date (those loaded from a world file) `now`.
    pub fn stamp_create_dates(&mut self, now: i64) {
        for provider in &mut self.oidc_providers {
            if provider.create_date == 0 {
                provider.create_date = now;
            }
        }
        for role in self.roles.values_mut() {
            if role.record.create_date == 0 {
                role.record.create_date = now;
            }
        }
        for policy in self.managed_policies.values_mut() {
            if policy.create_date == 0 {
                policy.create_date = now;
            }
        }
    }
}

/// A user id as IAM shapes it (`AIDA` + 17 of `[A-Z2-7]`), stable per account and user name.
pub fn user_id(account: &str, user_name: &str) -> String {
    let digest = Sha256::digest(format!("user/{account}/{user_name}"));
    format!("AIDA{}", base32_upper(&digest, 17))
}

/// A managed policy id as IAM shapes it (`ANPA` + 17 of `[A-Z2-7]`), stable per ARN.
pub fn policy_id(arn: &str) -> String {
    let digest = Sha256::digest(format!("policy/{arn}"));
    format!("ANPA{}", base32_upper(&digest, 17))
}

/// The `index`-th static access key of a user, derived deterministically from the account and
/// user name when the world file gives none: `AKIA` + 16 of `[A-Z2-7]` (alphanumeric, as DynamoDB
/// Local requires) and a 40-character secret. Deterministic on purpose: the harness is local and
/// offline, and stable keys let a developer keep the same `admin.env` across restarts. Never use
/// them anywhere real.
pub fn derived_access_key(account: &str, user_name: &str, index: usize) -> AccessKey {
    use base64::Engine as _;
    let id_digest = Sha256::digest(format!("access-key/{account}/{user_name}/{index}"));
    let secret_digest = Sha256::digest(format!("secret-key/{account}/{user_name}/{index}"));
    let secret = base64::engine::general_purpose::STANDARD
        .encode(secret_digest.get(..30).unwrap_or_default());
    AccessKey {
        id: format!("AKIA{}", base32_upper(&id_digest, 16)),
        secret: SecretAccessKey::new(secret),
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
    fn derived_access_keys_have_aws_shapes_and_are_stable() {
        let key = derived_access_key("111122223333", "admin", 0);
        assert_eq!(key.id.len(), 20);
        assert!(key.id.starts_with("AKIA"));
        assert!(key.id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(key.secret.expose().len(), 40);
        assert_eq!(derived_access_key("111122223333", "admin", 0).id, key.id);
        assert_ne!(derived_access_key("111122223333", "admin", 1).id, key.id);
        assert!(user_id("111122223333", "admin").starts_with("AIDA"));
        assert!(policy_id("arn:aws:iam::111122223333:policy/p").starts_with("ANPA"));
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
            oidc_providers: vec![OidcProvider::new(
                "111122223333",
                "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
                vec![STS_AUDIENCE.into()],
            )],
            ..World::empty("111122223333".into(), "eu-west-1".into())
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
