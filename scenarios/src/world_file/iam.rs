//! `policies:`, `roles:` and `users:` of a world file, and the administrator every world has.

use std::collections::{BTreeMap, BTreeSet};

use iam_policy::{NamedPolicy, Policy};
use irsa_core::SecretAccessKey;
use irsa_core::arn::{RoleArn, managed_policy_arn};
use irsa_core::world::{
    AccessKey, ManagedPolicy, Role, RoleRecord, User, derived_access_key, policy_id, role_id,
    user_id,
};
use serde_json::{Map, Value};

use super::fields::{Managed, Resolver, child, find_managed, index, kind};

/// The administrator every world has unless its file defines a user of this name: the identity
/// `irsa up` writes to `DIR/env/admin.env`, for driving the IAM API as the tutorial does.
pub const ADMIN_USER: &str = "admin";

/// The default administrator: inline `*` on `*` (what `AdministratorAccess` grants).
pub fn admin_user(account: &str, key: AccessKey) -> User {
    let policy = Policy::from_value(&serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    }));
    User {
        arn: format!("arn:aws:iam::{account}:user/{ADMIN_USER}"),
        id: user_id(account, ADMIN_USER),
        path: "/".to_owned(),
        name: ADMIN_USER.to_owned(),
        access_keys: vec![key],
        policies: policy
            .map(|p| NamedPolicy::new("AdministratorAccess", p))
            .into_iter()
            .collect(),
        managed_policy_arns: BTreeMap::new(),
    }
}

impl Resolver<'_> {
    /// `policies:`: the customer managed policies, by name (with ARN and document) and by ARN.
    pub(super) fn policies(
        &mut self,
        root: &Map<String, Value>,
        account: &str,
    ) -> (Managed, BTreeMap<String, ManagedPolicy>) {
        let mut managed: BTreeMap<String, (String, NamedPolicy)> = BTreeMap::new();
        let mut managed_policies = BTreeMap::new();
        for (i, p) in self.list(root, "policies", "").iter().enumerate() {
            let path = index("/policies", i);
            let Some(m) = self.mapping(
                p,
                &path,
                &["name", "path", "description", "document", "document_file"],
            ) else {
                continue;
            };
            let Some(name) = self.string(m, "name", &path, true) else {
                continue;
            };
            let iam_path = self
                .string(m, "path", &path, false)
                .unwrap_or_else(|| "/".to_owned());
            let arn = managed_policy_arn(account, &iam_path, &name);
            let description = self.string(m, "description", &path, false);
            let Some((doc, text)) = self.document_with_text(m, "document", &path, &name) else {
                continue;
            };
            managed_policies.insert(
                arn.clone(),
                ManagedPolicy {
                    name: name.clone(),
                    path: irsa_core::arn::normalise_path(&iam_path),
                    id: policy_id(&arn),
                    arn: arn.clone(),
                    description,
                    document: text,
                    policy: doc.clone(),
                    create_date: 0,
                },
            );
            if managed.insert(name.clone(), (arn, doc)).is_some() {
                self.problem(
                    &child(&path, "name"),
                    format!("policy `{name}` is defined twice"),
                );
            }
        }
        (managed, managed_policies)
    }

    /// `roles:`, each with its trust policy and the policies it names.
    pub(super) fn roles(
        &mut self,
        root: &Map<String, Value>,
        account: &str,
        managed: &Managed,
    ) -> BTreeMap<String, Role> {
        let mut roles = BTreeMap::new();
        for (i, r) in self.list(root, "roles", "").iter().enumerate() {
            let path = index("/roles", i);
            let Some((name, role)) = self.role(r, &path, account, managed) else {
                continue;
            };
            if roles.insert(name.clone(), role).is_some() {
                self.problem(
                    &child(&path, "name"),
                    format!("role `{name}` is defined twice"),
                );
            }
        }
        roles
    }

    /// One entry of `roles:`, with its name.
    fn role(
        &mut self,
        r: &Value,
        path: &str,
        account: &str,
        managed: &Managed,
    ) -> Option<(String, Role)> {
        let m = self.mapping(
            r,
            path,
            &[
                "name",
                "path",
                "description",
                "trust_policy",
                "trust_policy_file",
                "managed_policies",
                "inline_policies",
                "permissions_boundary",
                "max_session_duration",
            ],
        )?;
        let name = self.string(m, "name", path, true)?;
        let iam_path = self
            .string(m, "path", path, false)
            .unwrap_or_else(|| "/".to_owned());
        let arn = RoleArn::new(account, &iam_path, &name);
        if let Err(e) = RoleArn::parse(arn.as_str()) {
            self.problem(&child(path, "name"), e.to_string());
        }
        let trust =
            self.document_with_text(m, "trust_policy", path, &format!("{name} trust policy"));
        let mut record = RoleRecord {
            description: self.string(m, "description", path, false),
            ..RoleRecord::default()
        };
        let IdentityPolicies {
            policies,
            mut managed_policy_arns,
            attached,
            inline_texts,
        } = self.identity_policies(m, path, managed);
        record.attached = attached;
        record.inline_policy_documents = inline_texts;
        let permissions_boundary = match self.string(m, "permissions_boundary", path, false) {
            None => None,
            Some(reference) => {
                let found = find_managed(managed, &reference).map(|(arn, doc)| {
                    managed_policy_arns.insert(doc.name.clone(), arn.clone());
                    record.permissions_boundary_arn = Some(arn.clone());
                    doc.clone()
                });
                if found.is_none() {
                    self.problem(
                        &child(path, "permissions_boundary"),
                        format!("no policy named `{reference}` under `policies`"),
                    );
                }
                found
            }
        };
        let max_session_duration = self.max_session_duration(m, path);
        let (trust_policy, trust_text) = trust?;
        record.trust_policy_document = trust_text;
        let role = Role {
            id: role_id(account, &name),
            arn,
            trust_policy,
            policies,
            managed_policy_arns,
            permissions_boundary,
            max_session_duration,
            record,
        };
        Some((name, role))
    }
    /// `max_session_duration`: 3600 to 43200 seconds, as IAM allows (default 3600).
    fn max_session_duration(&mut self, m: &Map<String, Value>, path: &str) -> u32 {
        match m.get("max_session_duration") {
            None | Some(Value::Null) => 3600,
            Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(d) if (3600..=43200).contains(&d) => d,
                _ => {
                    self.problem(
                        &child(path, "max_session_duration"),
                        format!("`{n}` is not between 3600 and 43200 seconds"),
                    );
                    3600
                }
            },
            Some(other) => {
                self.problem(
                    &child(path, "max_session_duration"),
                    format!("expected seconds, got {}", kind(other)),
                );
                3600
            }
        }
    }

    /// `users:`, plus the default administrator `admin` (inline `*` on `*`, one derived key) when
    /// the file defines no user of that name.
    pub(super) fn users(
        &mut self,
        root: &Map<String, Value>,
        account: &str,
        managed: &Managed,
    ) -> BTreeMap<String, User> {
        let mut users = BTreeMap::new();
        let mut key_ids = BTreeSet::new();
        for (i, u) in self.list(root, "users", "").iter().enumerate() {
            let path = index("/users", i);
            let Some(user) = self.user(u, &path, account, managed, &mut key_ids) else {
                continue;
            };
            let name = user.name.clone();
            if users.insert(name.clone(), user).is_some() {
                self.problem(
                    &child(&path, "name"),
                    format!("user `{name}` is defined twice"),
                );
            }
        }
        if !users.contains_key(ADMIN_USER) {
            let key = derived_access_key(account, ADMIN_USER, 0);
            if key_ids.insert(key.id.clone()) {
                users.insert(ADMIN_USER.to_owned(), admin_user(account, key));
            }
        }
        users
    }

    /// One entry of `users:`; its access keys must not be used by another user (`key_ids`).
    fn user(
        &mut self,
        u: &Value,
        path: &str,
        account: &str,
        managed: &Managed,
        key_ids: &mut BTreeSet<String>,
    ) -> Option<User> {
        let m = self.mapping(
            u,
            path,
            &[
                "name",
                "path",
                "access_keys",
                "managed_policies",
                "inline_policies",
            ],
        )?;
        let name = self.string(m, "name", path, true)?;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
        {
            self.problem(
                &child(path, "name"),
                format!("`{name}` is not an IAM user name (1 to 64 of `[\\w+=,.@-]`)"),
            );
        }
        let iam_path = irsa_core::arn::normalise_path(
            &self
                .string(m, "path", path, false)
                .unwrap_or_else(|| "/".to_owned()),
        );
        let mut access_keys = Vec::new();
        let keys = self.list(m, "access_keys", path);
        for (j, k) in keys.iter().enumerate() {
            let kpath = index(&child(path, "access_keys"), j);
            let Some(km) = self.mapping(k, &kpath, &["id", "secret"]) else {
                continue;
            };
            let (Some(id), Some(secret)) = (
                self.string(km, "id", &kpath, true),
                self.string(km, "secret", &kpath, true),
            ) else {
                continue;
            };
            if !(id.starts_with("AKIA")
                && (16..=128).contains(&id.len())
                && id.chars().all(|c| c.is_ascii_alphanumeric()))
            {
                self.problem(
                    &child(&kpath, "id"),
                    format!("`{id}` is not a static access key id (`AKIA` and letters or digits)"),
                );
            }
            access_keys.push(AccessKey {
                id,
                secret: SecretAccessKey::new(secret),
            });
        }
        if keys.is_empty() {
            access_keys.push(derived_access_key(account, &name, 0));
        }
        for key in &access_keys {
            if !key_ids.insert(key.id.clone()) {
                self.problem(
                    &child(path, "access_keys"),
                    format!("access key `{}` is used twice", key.id),
                );
            }
        }
        let IdentityPolicies {
            policies,
            managed_policy_arns,
            ..
        } = self.identity_policies(m, path, managed);
        let user = User {
            arn: format!("arn:aws:iam::{account}:user{iam_path}{name}"),
            id: user_id(account, &name),
            path: iam_path,
            name: name.clone(),
            access_keys,
            policies,
            managed_policy_arns,
        };
        Some(user)
    }

    /// `managed_policies` (names under `policies:`) and `inline_policies` of a role or user.
    fn identity_policies(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        managed: &Managed,
    ) -> IdentityPolicies {
        let mut found = IdentityPolicies::default();
        let managed_list = self
            .strings(m, "managed_policies", path)
            .unwrap_or_default();
        for (j, reference) in managed_list.iter().enumerate() {
            match find_managed(managed, reference) {
                Some((arn, doc)) => {
                    found.attached.push((doc.name.clone(), arn.clone()));
                    found
                        .managed_policy_arns
                        .insert(doc.name.clone(), arn.clone());
                    found.policies.push(doc.clone());
                }
                None => self.problem(
                    &index(&child(path, "managed_policies"), j),
                    format!("no policy named `{reference}` under `policies`"),
                ),
            }
        }
        for (j, p) in self.list(m, "inline_policies", path).iter().enumerate() {
            let ipath = index(&child(path, "inline_policies"), j);
            let Some(im) = self.mapping(p, &ipath, &["name", "document", "document_file"]) else {
                continue;
            };
            let Some(iname) = self.string(im, "name", &ipath, true) else {
                continue;
            };
            if let Some((doc, text)) = self.document_with_text(im, "document", &ipath, &iname) {
                // An inline policy sharing a managed policy's name makes the name ambiguous
                // in explanations: no ARN is claimed for it.
                found.managed_policy_arns.remove(&doc.name);
                found.inline_texts.insert(doc.name.clone(), text);
                found.policies.push(doc);
            }
        }
        found
    }
}

/// A role's or user's identity-based policies as the world file lists them.
#[derive(Default)]
struct IdentityPolicies {
    /// Managed, in attachment order, then inline.
    policies: Vec<NamedPolicy>,
    /// Managed policy name → ARN (an inline policy of the same name removes it).
    managed_policy_arns: BTreeMap<String, String>,
    /// Attached managed policies, in attachment order: `(name, arn)`.
    attached: Vec<(String, String)>,
    /// Inline policies: name → document text as given.
    inline_texts: BTreeMap<String, String>,
}
