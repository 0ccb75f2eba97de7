//! World files (YAML; IAM JSON pastes in as is): read raw, then resolved into an
//! [`irsa_core::World`] and the worker node's role (`node_role:`), collecting every error with the
//! file and the path inside it. Pure: the caller passes the file's text and how to read the
//! `*_file` documents it names; nothing here touches the file system.
//!
//! `fields` holds the reader's typed accessors; `clusters` the clusters, OIDC providers and
//! service accounts; `iam` the managed policies, roles and users; `node_role` the instance
//! profile served on instance metadata.

mod clusters;
mod fields;
mod iam;
mod node_role;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use irsa_core::World;
use irsa_core::world::{DEFAULT_ACCOUNT, DEFAULT_REGION};
use serde_json::{Map, Value};

use fields::{Resolver, child, index, kind};
pub use iam::{ADMIN_USER, admin_user};
pub use node_role::{DEFAULT_HOP_LIMIT, DEFAULT_INSTANCE_ID, NodeRole};

/// The top-level fields of a world file.
pub const WORLD_FIELDS: &[&str] = &[
    "account",
    "region",
    "clusters",
    "service_accounts",
    "policies",
    "roles",
    "tables",
    "oidc_providers",
    "node_role",
    "users",
];

/// Whether this text is a world file rather than a scenario: a YAML mapping with no `steps`
/// whose every field is a world file's. Anything else (a scenario, a broken scenario, a file of
/// another kind) is not, so that `irsa run` reports its problems instead of skipping it.
pub fn is_world_file(text: &str) -> bool {
    match crate::from_yaml::<Value>(text) {
        Ok(Value::Object(fields)) => {
            !fields.is_empty()
                && fields
                    .keys()
                    .all(|key| WORLD_FIELDS.contains(&key.as_str()))
        }
        _ => false,
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

/// A resolved world file: the world, and the node role it serves on instance metadata.
#[derive(Debug, Clone)]
pub struct WorldFile {
    pub world: World,
    pub node_role: Option<NodeRole>,
}

/// How the resolver reads a `*_file` document: a path (relative ones already joined to the world
/// file's folder) to its text.
pub type ReadFile<'r> = &'r dyn Fn(&Path) -> std::io::Result<String>;

/// Parse and resolve a world document. `file` names it in errors and anchors `*_file` paths,
/// which `read` reads.
pub fn parse(text: &str, file: &Path, read: ReadFile<'_>) -> Result<WorldFile, WorldFileError> {
    let value: Value = crate::from_yaml(text).map_err(|e| WorldFileError {
        problems: vec![Problem {
            file: file.to_owned(),
            path: String::new(),
            message: format!("not valid YAML: {e}"),
        }],
    })?;
    let mut r = Resolver {
        file: file.to_owned(),
        base: file.parent().map(Path::to_owned).unwrap_or_default(),
        read,
        problems: Vec::new(),
    };
    let resolved = r.world(&value);
    match resolved {
        Some(resolved) if r.problems.is_empty() => Ok(resolved),
        _ => Err(WorldFileError {
            problems: r.problems,
        }),
    }
}

impl Resolver<'_> {
    fn world(&mut self, v: &Value) -> Option<WorldFile> {
        let root = self.mapping(v, "", WORLD_FIELDS)?;
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

        let (clusters, mut providers) = self.clusters(root, &account, &region);
        self.oidc_providers(root, &account, &mut providers);
        let (managed, managed_policies) = self.policies(root, &account);
        let roles = self.roles(root, &account, &managed);
        let service_accounts = self.service_accounts(root, &clusters);
        let tables = self.tables(root);
        let users = self.users(root, &account, &managed);
        let node_role = self.node_role(root, &roles);
        Some(WorldFile {
            world: World {
                account,
                region,
                clusters,
                oidc_providers: providers,
                roles,
                service_accounts,
                tables,
                users,
                managed_policies,
            },
            node_role,
        })
    }

    /// `tables:`: CreateTable requests, checked for a name, a key schema and attributes.
    fn tables(&mut self, root: &Map<String, Value>) -> Vec<Value> {
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
        tables
    }
}

#[cfg(test)]
mod tests;
