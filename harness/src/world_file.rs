//! World files (YAML; IAM JSON pastes in as is): read raw, then resolved into an
//! [`irsa_core::World`], collecting every error with the file and the path inside it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use iam_policy::{NamedPolicy, Policy};
use irsa_core::SecretAccessKey;
use irsa_core::arn::{RoleArn, managed_policy_arn};
use irsa_core::world::{
    AccessKey, Cluster, DEFAULT_ACCOUNT, DEFAULT_REGION, IssuerCa, ManagedPolicy, OidcProvider,
    Role, RoleRecord, STS_AUDIENCE, ServiceAccount, User, World, default_issuer,
    derived_access_key, policy_id, role_id, user_id,
};
use serde_json::{Map, Value};

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

/// One problem in a world file: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// JSON pointer into the document (`/roles/0/managed_policies/1`); empty for the whole file.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{}: {}: {}", self.file.display(), path, self.message)
    }
}

/// Every problem found in a world file, reported together.
#[derive(Debug, Clone, thiserror::Error)]
pub struct WorldFileError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for WorldFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "the world file has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

/// A loaded world and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedWorld {
    pub world: World,
    pub source: PathBuf,
}

pub fn load(path: &Path) -> Result<LoadedWorld, WorldFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| WorldFileError {
        problems: vec![Problem {
            file: path.to_owned(),
            path: String::new(),
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    let world = parse(&text, path)?;
    Ok(LoadedWorld {
        world,
        source: path.to_owned(),
    })
}

/// Parse and resolve a world document. `file` names it in errors and anchors `*_file` paths.
pub fn parse(text: &str, file: &Path) -> Result<World, WorldFileError> {
    let value: Value = scenarios::from_yaml(text).map_err(|e| WorldFileError {
        problems: vec![Problem {
            file: file.to_owned(),
            path: String::new(),
            message: format!("not valid YAML: {e}"),
        }],
    })?;
    let mut r = Resolver {
        file: file.to_owned(),
        base: file.parent().map(Path::to_owned).unwrap_or_default(),
        problems: Vec::new(),
    };
    let world = r.world(&value);
    match world {
        Some(world) if r.problems.is_empty() => Ok(world),
        _ => Err(WorldFileError {
            problems: r.problems,
        }),
    }
}

struct Resolver {
    file: PathBuf,
    base: PathBuf,
    problems: Vec<Problem>,
}

fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn index(path: &str, i: usize) -> String {
    format!("{path}/{i}")
}

/// A managed policy of the file by name or by ARN: `(arn, document)`.
fn find_managed<'m>(
    managed: &'m BTreeMap<String, (String, NamedPolicy)>,
    reference: &str,
) -> Option<&'m (String, NamedPolicy)> {
    managed
        .iter()
        .find(|(name, (arn, _))| *name == reference || arn == reference)
        .map(|(_, entry)| entry)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl Resolver {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// A mapping whose keys must all be in `allowed`; unknown keys are reported.
    fn mapping<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = v else {
            self.problem(path, format!("expected a mapping, got {}", kind(v)));
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.problem(
                    &child(path, key),
                    format!(
                        "unknown field `{key}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Some(map)
    }

    fn list<'v>(&mut self, map: &'v Map<String, Value>, key: &str, path: &str) -> &'v [Value] {
        match map.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.problem(
                    &child(path, key),
                    format!("expected a list, got {}", kind(other)),
                );
                &[]
            }
        }
    }

    fn string(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(&child(path, key), format!("`{key}` is required"));
                }
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            // YAML readers turn an unquoted account number into a number: accept it back.
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                self.problem(
                    &child(path, key),
                    format!("expected a string, got {}", kind(other)),
                );
                None
            }
        }
    }

    fn boolean(&mut self, map: &Map<String, Value>, key: &str, path: &str, default: bool) -> bool {
        match map.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.problem(
                    &child(path, key),
                    format!("expected true or false, got {}", kind(other)),
                );
                default
            }
        }
    }

    fn strings(&mut self, map: &Map<String, Value>, key: &str, path: &str) -> Option<Vec<String>> {
        let value = map.get(key)?;
        match value {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => self.problem(
                            &index(&child(path, key), i),
                            format!("expected a string, got {}", kind(other)),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.problem(
                    &child(path, key),
                    format!("expected a list of strings, got {}", kind(other)),
                );
                None
            }
        }
    }

    /// An IAM document given inline (`key`: mapping or JSON string) or as a file (`key_file`).
    fn document(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        name: &str,
    ) -> Option<NamedPolicy> {
        self.document_with_text(map, key, path, name)
            .map(|(doc, _)| doc)
    }

    /// [`document`](Self::document) and its text: the file's or string's text as given, a
    /// mapping as compact JSON (what the IAM API answers for it).
    fn document_with_text(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        name: &str,
    ) -> Option<(NamedPolicy, String)> {
        let file_key = format!("{key}_file");
        let (value, at) = match (map.get(key), map.get(&file_key)) {
            (Some(_), Some(_)) => {
                self.problem(
                    path,
                    format!("give either `{key}` or `{file_key}`, not both"),
                );
                return None;
            }
            (Some(v), None) => (v.clone(), child(path, key)),
            (None, Some(Value::String(rel))) => {
                let full = self.base.join(rel);
                match std::fs::read_to_string(&full) {
                    Ok(text) => (Value::String(text), child(path, &file_key)),
                    Err(e) => {
                        self.problem(
                            &child(path, &file_key),
                            format!("cannot read `{}`: {e}", full.display()),
                        );
                        return None;
                    }
                }
            }
            (None, Some(other)) => {
                self.problem(
                    &child(path, &file_key),
                    format!("expected a path, got {}", kind(other)),
                );
                return None;
            }
            (None, None) => {
                self.problem(path, format!("`{key}` or `{file_key}` is required"));
                return None;
            }
        };
        let parsed = match &value {
            Value::String(text) => Policy::parse(text),
            other => Policy::from_value(other),
        };
        let text = match &value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        match parsed {
            Ok(policy) => Some((
                NamedPolicy {
                    name: name.to_owned(),
                    policy,
                },
                text,
            )),
            Err(e) => {
                self.problem(&at, format!("not a valid IAM policy: {e}"));
                None
            }
        }
    }

    fn world(&mut self, v: &Value) -> Option<World> {
        let root = self.mapping(
            v,
            "",
            &[
                "account",
                "region",
                "clusters",
                "service_accounts",
                "policies",
                "roles",
                "tables",
                "oidc_providers",
                // Read by `crate::stack::imds` beside the world.
                "node_role",
                "users",
            ],
        )?;
        let account = self
            .string(root, "account", "", false)
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned());
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            self.problem(
                "/account",
                format!("`{account}` is not a 12-digit AWS account id"),
            );
        }
        let region = self
            .string(root, "region", "", false)
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());

        let mut clusters = Vec::new();
        let mut providers = Vec::new();
        for (i, c) in self.list(root, "clusters", "").iter().enumerate() {
            let path = index("/clusters", i);
            let Some(m) = self.mapping(
                c,
                &path,
                &[
                    "name",
                    "issuer",
                    "issuer_ca",
                    "associate_oidc_provider",
                    "client_ids",
                ],
            ) else {
                continue;
            };
            let Some(name) = self.string(m, "name", &path, true) else {
                continue;
            };
            if clusters.iter().any(|c: &Cluster| c.name == name) {
                self.problem(
                    &child(&path, "name"),
                    format!("cluster `{name}` is defined twice"),
                );
            }
            let issuer = self
                .string(m, "issuer", &path, false)
                .unwrap_or_else(|| default_issuer(&account, &region, &name));
            if !issuer.starts_with("https://") {
                self.problem(
                    &child(&path, "issuer"),
                    format!(
                        "`{issuer}` must be an https:// URL, as IAM requires of OIDC providers"
                    ),
                );
            }
            if self.boolean(m, "associate_oidc_provider", &path, true) {
                let client_ids = self
                    .strings(m, "client_ids", &path)
                    .unwrap_or_else(|| vec![STS_AUDIENCE.to_owned()]);
                providers.push(OidcProvider::new(&account, &issuer, client_ids));
            }
            let issuer_ca = match self.string(m, "issuer_ca", &path, false).as_deref() {
                None | Some("public") => IssuerCa::Public,
                Some("private") => IssuerCa::Private,
                Some(other) => {
                    self.problem(
                        &child(&path, "issuer_ca"),
                        format!("`{other}` is not an issuer CA: use `public` (a CA AWS trusts, as EKS's issuers use; the default) or `private` (a CA the harness generates; STS then checks the IAM provider's thumbprints)"),
                    );
                    IssuerCa::Public
                }
            };
            clusters.push(Cluster {
                name,
                issuer,
                issuer_ca,
            });
        }
        for (i, p) in self.list(root, "oidc_providers", "").iter().enumerate() {
            let path = index("/oidc_providers", i);
            let Some(m) = self.mapping(p, &path, &["url", "client_ids", "thumbprints"]) else {
                continue;
            };
            let Some(url) = self.string(m, "url", &path, true) else {
                continue;
            };
            let client_ids = self.strings(m, "client_ids", &path).unwrap_or_default();
            let mut provider = OidcProvider::new(&account, &url, client_ids);
            provider.thumbprints = self.strings(m, "thumbprints", &path).unwrap_or_default();
            if providers
                .iter()
                .any(|p: &OidcProvider| p.url == provider.url)
            {
                self.problem(
                    &child(&path, "url"),
                    format!("provider `{url}` is already registered"),
                );
            }
            providers.push(provider);
        }

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
            let arn = managed_policy_arn(&account, &iam_path, &name);
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

        let mut roles = BTreeMap::new();
        for (i, r) in self.list(root, "roles", "").iter().enumerate() {
            let path = index("/roles", i);
            let Some(m) = self.mapping(
                r,
                &path,
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
            ) else {
                continue;
            };
            let Some(name) = self.string(m, "name", &path, true) else {
                continue;
            };
            let iam_path = self
                .string(m, "path", &path, false)
                .unwrap_or_else(|| "/".to_owned());
            let arn = RoleArn::new(&account, &iam_path, &name);
            if let Err(e) = RoleArn::parse(arn.as_str()) {
                self.problem(&child(&path, "name"), e.to_string());
            }
            let trust =
                self.document_with_text(m, "trust_policy", &path, &format!("{name} trust policy"));
            let mut record = RoleRecord {
                description: self.string(m, "description", &path, false),
                ..RoleRecord::default()
            };
            let mut policies = Vec::new();
            let mut managed_policy_arns = BTreeMap::new();
            let managed_list = self
                .strings(m, "managed_policies", &path)
                .unwrap_or_default();
            for (j, reference) in managed_list.iter().enumerate() {
                let found = find_managed(&managed, reference).cloned();
                match found {
                    Some((arn, doc)) => {
                        record.attached.push((doc.name.clone(), arn.clone()));
                        managed_policy_arns.insert(doc.name.clone(), arn);
                        policies.push(doc);
                    }
                    None => self.problem(
                        &index(&child(&path, "managed_policies"), j),
                        format!("no policy named `{reference}` under `policies`"),
                    ),
                }
            }
            for (j, p) in self.list(m, "inline_policies", &path).iter().enumerate() {
                let ipath = index(&child(&path, "inline_policies"), j);
                let Some(im) = self.mapping(p, &ipath, &["name", "document", "document_file"])
                else {
                    continue;
                };
                let Some(iname) = self.string(im, "name", &ipath, true) else {
                    continue;
                };
                if let Some((doc, text)) = self.document_with_text(im, "document", &ipath, &iname) {
                    // An inline policy sharing a managed policy's name makes the name ambiguous
                    // in explanations: no ARN is claimed for it.
                    managed_policy_arns.remove(&doc.name);
                    record
                        .inline_policy_documents
                        .insert(doc.name.clone(), text);
                    policies.push(doc);
                }
            }
            let permissions_boundary = match self.string(m, "permissions_boundary", &path, false) {
                None => None,
                Some(reference) => {
                    let found = find_managed(&managed, &reference).map(|(arn, doc)| {
                        managed_policy_arns.insert(doc.name.clone(), arn.clone());
                        record.permissions_boundary_arn = Some(arn.clone());
                        doc.clone()
                    });
                    if found.is_none() {
                        self.problem(
                            &child(&path, "permissions_boundary"),
                            format!("no policy named `{reference}` under `policies`"),
                        );
                    }
                    found
                }
            };
            let max_session_duration = match m.get("max_session_duration") {
                None | Some(Value::Null) => 3600,
                Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                    Some(d) if (3600..=43200).contains(&d) => d,
                    _ => {
                        self.problem(
                            &child(&path, "max_session_duration"),
                            format!("`{n}` is not between 3600 and 43200 seconds"),
                        );
                        3600
                    }
                },
                Some(other) => {
                    self.problem(
                        &child(&path, "max_session_duration"),
                        format!("expected seconds, got {}", kind(other)),
                    );
                    3600
                }
            };
            let Some((trust_policy, trust_text)) = trust else {
                continue;
            };
            record.trust_policy_document = trust_text;
            let role = Role {
                id: role_id(&account, &name),
                arn,
                trust_policy,
                policies,
                managed_policy_arns,
                permissions_boundary,
                max_session_duration,
                record,
            };
            if roles.insert(name.clone(), role).is_some() {
                self.problem(
                    &child(&path, "name"),
                    format!("role `{name}` is defined twice"),
                );
            }
        }

        let mut service_accounts = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, s) in self.list(root, "service_accounts", "").iter().enumerate() {
            let path = index("/service_accounts", i);
            let Some(m) = self.mapping(
                s,
                &path,
                &[
                    "apiVersion",
                    "kind",
                    "metadata",
                    "cluster",
                    "automountServiceAccountToken",
                ],
            ) else {
                continue;
            };
            if let Some(kind_value) = self.string(m, "kind", &path, false)
                && kind_value != "ServiceAccount"
            {
                self.problem(
                    &child(&path, "kind"),
                    format!("expected `ServiceAccount`, got `{kind_value}`"),
                );
            }
            let meta_path = child(&path, "metadata");
            let Some(meta_value) = m.get("metadata") else {
                self.problem(&meta_path, "`metadata` is required");
                continue;
            };
            let Some(meta) = self.mapping(
                meta_value,
                &meta_path,
                &["name", "namespace", "annotations", "labels", "uid"],
            ) else {
                continue;
            };
            let Some(name) = self.string(meta, "name", &meta_path, true) else {
                continue;
            };
            let namespace = self
                .string(meta, "namespace", &meta_path, false)
                .unwrap_or_else(|| "default".to_owned());
            let mut annotations = BTreeMap::new();
            match meta.get("annotations") {
                None | Some(Value::Null) => {}
                Some(Value::Object(a)) => {
                    for (k, v) in a {
                        match v {
                            Value::String(s) => {
                                annotations.insert(k.clone(), s.clone());
                            }
                            other => self.problem(
                                &child(&child(&meta_path, "annotations"), k),
                                format!("annotation values are strings, got {}", kind(other)),
                            ),
                        }
                    }
                }
                Some(other) => self.problem(
                    &child(&meta_path, "annotations"),
                    format!("expected a mapping, got {}", kind(other)),
                ),
            }
            let cluster = match self.string(m, "cluster", &path, false) {
                Some(c) => {
                    if !clusters.iter().any(|k| k.name == c) {
                        self.problem(
                            &child(&path, "cluster"),
                            format!("no cluster named `{c}` under `clusters`"),
                        );
                    }
                    c
                }
                None => match clusters.as_slice() {
                    [only] => only.name.clone(),
                    [] => {
                        self.problem(
                            &path,
                            "a service account needs a cluster, and `clusters` is empty",
                        );
                        continue;
                    }
                    _ => {
                        self.problem(&child(&path, "cluster"), "several clusters are defined: say which one this service account lives in");
                        continue;
                    }
                },
            };
            if !seen.insert((cluster.clone(), namespace.clone(), name.clone())) {
                self.problem(
                    &meta_path,
                    format!("service account `{namespace}/{name}` is defined twice"),
                );
            }
            service_accounts.push(ServiceAccount {
                namespace,
                name,
                annotations,
                cluster,
            });
        }

        let mut tables = Vec::new();
        let mut table_names = BTreeSet::new();
        for (i, t) in self.list(root, "tables", "").iter().enumerate() {
            let path = index("/tables", i);
            let Value::Object(m) = t else {
                self.problem(
                    &path,
                    format!(
                        "expected a CreateTable request (a mapping), got {}",
                        kind(t)
                    ),
                );
                continue;
            };
            match m.get("TableName") {
                Some(Value::String(n)) => {
                    if !table_names.insert(n.clone()) {
                        self.problem(
                            &child(&path, "TableName"),
                            format!("table `{n}` is defined twice"),
                        );
                    }
                }
                _ => self.problem(
                    &child(&path, "TableName"),
                    "`TableName` (a string) is required",
                ),
            }
            for required in ["KeySchema", "AttributeDefinitions"] {
                if !m.contains_key(required) {
                    self.problem(&child(&path, required), format!("`{required}` is required"));
                }
            }
            tables.push(t.clone());
        }

        let users = self.users(root, &account, &managed);

        Some(World {
            account,
            region,
            clusters,
            oidc_providers: providers,
            roles,
            service_accounts,
            tables,
            users,
            managed_policies,
        })
    }

    /// `users:`, plus the default administrator `admin` (inline `*` on `*`, one derived key) when
    /// the file defines no user of that name.
    fn users(
        &mut self,
        root: &Map<String, Value>,
        account: &str,
        managed: &BTreeMap<String, (String, NamedPolicy)>,
    ) -> BTreeMap<String, User> {
        let mut users = BTreeMap::new();
        let mut key_ids = BTreeSet::new();
        for (i, u) in self.list(root, "users", "").iter().enumerate() {
            let path = index("/users", i);
            let Some(m) = self.mapping(
                u,
                &path,
                &[
                    "name",
                    "path",
                    "access_keys",
                    "managed_policies",
                    "inline_policies",
                ],
            ) else {
                continue;
            };
            let Some(name) = self.string(m, "name", &path, true) else {
                continue;
            };
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            {
                self.problem(
                    &child(&path, "name"),
                    format!("`{name}` is not an IAM user name (1 to 64 of `[\\w+=,.@-]`)"),
                );
            }
            let iam_path = irsa_core::arn::normalise_path(
                &self
                    .string(m, "path", &path, false)
                    .unwrap_or_else(|| "/".to_owned()),
            );
            let mut access_keys = Vec::new();
            let keys = self.list(m, "access_keys", &path);
            for (j, k) in keys.iter().enumerate() {
                let kpath = index(&child(&path, "access_keys"), j);
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
                        format!(
                            "`{id}` is not a static access key id (`AKIA` and letters or digits)"
                        ),
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
                        &child(&path, "access_keys"),
                        format!("access key `{}` is used twice", key.id),
                    );
                }
            }
            let mut policies = Vec::new();
            let mut managed_policy_arns = BTreeMap::new();
            let managed_list = self
                .strings(m, "managed_policies", &path)
                .unwrap_or_default();
            for (j, reference) in managed_list.iter().enumerate() {
                match find_managed(managed, reference) {
                    Some((arn, doc)) => {
                        managed_policy_arns.insert(doc.name.clone(), arn.clone());
                        policies.push(doc.clone());
                    }
                    None => self.problem(
                        &index(&child(&path, "managed_policies"), j),
                        format!("no policy named `{reference}` under `policies`"),
                    ),
                }
            }
            for (j, p) in self.list(m, "inline_policies", &path).iter().enumerate() {
                let ipath = index(&child(&path, "inline_policies"), j);
                let Some(im) = self.mapping(p, &ipath, &["name", "document", "document_file"])
                else {
                    continue;
                };
                let Some(iname) = self.string(im, "name", &ipath, true) else {
                    continue;
                };
                if let Some(doc) = self.document(im, "document", &ipath, &iname) {
                    managed_policy_arns.remove(&doc.name);
                    policies.push(doc);
                }
            }
            let user = User {
                arn: format!("arn:aws:iam::{account}:user{iam_path}{name}"),
                id: user_id(account, &name),
                path: iam_path,
                name: name.clone(),
                access_keys,
                policies,
                managed_policy_arns,
            };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/worlds/curity.yaml")
    }

    #[test]
    fn the_bundled_world_loads() {
        let world = load(&bundled()).unwrap().world;
        assert_eq!(world.account, "111122223333");
        assert_eq!(world.region, "eu-west-1");
        assert_eq!(
            world.oidc_providers.len(),
            1,
            "only the associated cluster registers a provider"
        );
        assert_eq!(
            world.oidc_providers[0].arn,
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
        );
        let role = world
            .role_by_arn("arn:aws:iam::111122223333:role/curity-dynamodb")
            .unwrap();
        assert_eq!(role.policies.len(), 1);
        assert_eq!(role.policies[0].name, "dynamo-iam-policy");
        assert_eq!(
            role.managed_policy_arns
                .get("dynamo-iam-policy")
                .map(String::as_str),
            Some("arn:aws:iam::111122223333:policy/dynamo-iam-policy")
        );
        let sa = world.service_account("curity", "dynamo-sa").unwrap();
        assert_eq!(sa.cluster, "curity-dynamo-irsa");
        // The second cluster's issuer is derived from account, region and name.
        let derived = world.cluster("unassociated-cluster").unwrap();
        assert!(
            derived
                .issuer
                .starts_with("https://oidc.eks.eu-west-1.amazonaws.com/id/")
        );
        // The eleven Curity tables of its DynamoDB plugin, and `other-table`.
        assert_eq!(world.tables.len(), 12);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_file_and_path() {
        let text = r#"
account: "1234"
regoin: eu-west-1
clusters:
  - name: a
  - name: b
    issuer: http://not-https.example
    issuer_ca: self-signed
service_accounts:
  - metadata: {name: sa, namespace: ns, annotations: {eks.amazonaws.com/role-arn: x}}
policies:
  - name: p
    document: {Version: "2012-10-17", Statement: [{Effect: allow, Action: "s3:*", Resource: "*"}]}
  - name: q
    document_file: does-not-exist.json
roles:
  - name: r
    trust_policy: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Federated: x}, Action: "sts:AssumeRoleWithWebIdentity"}]}
    managed_policies: [nope]
    max_session_duration: 60
tables:
  - {TableName: t}
"#;
        let err = parse(text, Path::new("w.yaml")).unwrap_err();
        let located: Vec<String> = err.problems.iter().map(|p| p.path.clone()).collect();
        for expected in [
            "/account",
            "/regoin",
            "/clusters/1/issuer",
            "/clusters/1/issuer_ca",
            "/service_accounts/0/cluster",
            "/policies/0/document",
            "/policies/1/document_file",
            "/roles/0/managed_policies/0",
            "/roles/0/max_session_duration",
            "/tables/0/KeySchema",
            "/tables/0/AttributeDefinitions",
        ] {
            assert!(
                located.iter().any(|p| p == expected),
                "no problem at {expected}: {located:?}"
            );
        }
        let text = err.to_string();
        assert!(
            text.contains("w.yaml: /regoin: unknown field `regoin`"),
            "{text}"
        );
        assert!(
            text.contains("w.yaml: /roles/0/managed_policies/0: no policy named `nope`"),
            "{text}"
        );
    }

    #[test]
    fn a_cluster_issuer_is_certified_by_a_public_ca_unless_it_says_private() {
        let text = r#"
clusters:
  - {name: eks}
  - {name: kops, issuer: "https://oidc.private.example/kops", issuer_ca: private}
"#;
        let world = parse(text, Path::new("w.yaml")).unwrap();
        assert_eq!(world.cluster("eks").unwrap().issuer_ca, IssuerCa::Public);
        assert_eq!(world.cluster("kops").unwrap().issuer_ca, IssuerCa::Private);
    }

    #[test]
    fn a_role_annotation_naming_no_role_is_not_an_error() {
        let text = r#"
clusters: [{name: c}]
service_accounts:
  - metadata: {name: sa, namespace: ns, annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/typo"}}
"#;
        let world = parse(text, Path::new("w.yaml")).unwrap();
        assert_eq!(world.account, "123456789012");
        assert_eq!(world.region, "us-east-1");
        assert_eq!(
            world.service_accounts[0].role_arn(),
            Some("arn:aws:iam::123456789012:role/typo")
        );
    }

    #[test]
    fn users_get_keys_and_policies_and_admin_exists_by_default() {
        let text = r#"
policies:
  - name: p
    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "iam:Get*", Resource: "*"}]}
users:
  - name: given
    access_keys: [{id: AKIAGIVENKEY00000001, secret: s3cr3t}]
    managed_policies: [p]
  - name: derived
"#;
        let world = parse(text, Path::new("w.yaml")).unwrap();
        let given = &world.users["given"];
        assert_eq!(given.arn, "arn:aws:iam::123456789012:user/given");
        assert_eq!(given.access_keys[0].id, "AKIAGIVENKEY00000001");
        assert_eq!(
            given.managed_policy_arns["p"],
            "arn:aws:iam::123456789012:policy/p"
        );
        assert!(world.users["derived"].access_keys[0].id.starts_with("AKIA"));
        let admin = &world.users[ADMIN_USER];
        assert_eq!(admin.policies.len(), 1);
        assert!(world.user_by_access_key(&admin.access_keys[0].id).is_some());
        assert_eq!(world.managed_policies.len(), 1);

        let err = parse(
            "users:\n  - name: x\n    access_keys: [{id: ASIANOTSTATIC0000001, secret: s}]\n    managed_policies: [nope]\n",
            Path::new("w.yaml"),
        )
        .unwrap_err();
        let located: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
        assert!(
            located.contains(&"/users/0/access_keys/0/id"),
            "{located:?}"
        );
        assert!(
            located.contains(&"/users/0/managed_policies/0"),
            "{located:?}"
        );
    }

    #[test]
    fn yaml_syntax_errors_name_the_file() {
        let err = parse("clusters: [", Path::new("broken.yaml")).unwrap_err();
        assert!(
            err.to_string().contains("broken.yaml: /: not valid YAML"),
            "{err}"
        );
    }
}
