//! `node_role:` of a world file: the worker node's instance-profile role, served on instance
//! metadata (IMDSv2) to the node and, one hop further, to its pods.

use std::collections::BTreeMap;

use irsa_core::world::Role;
use serde_json::{Map, Value};

use super::fields::{Resolver, child};

/// The instance id the node role's sessions are named after (`assumed-role/<role>/<instance>`).
pub const DEFAULT_INSTANCE_ID: &str = "i-0123456789abcdef0";
/// The harness's default, chosen to model current EKS managed nodes (UNSOURCED: EKS's generated
/// launch template is not documented here). EC2's own API default is 1.
pub const DEFAULT_HOP_LIMIT: u8 = 2;

/// `node_role:` of a world file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRole {
    /// A role of the world (by name).
    pub role: String,
    pub instance_id: String,
    /// `HttpPutResponseHopLimit`.
    pub hop_limit: u8,
    /// `HttpTokens: required` (IMDSv2 only) when true; `optional` allows IMDSv1 GETs.
    pub tokens_required: bool,
}

impl Resolver<'_> {
    /// `node_role:`, naming a role of `roles`.
    pub(super) fn node_role(
        &mut self,
        root: &Map<String, Value>,
        roles: &BTreeMap<String, Role>,
    ) -> Option<NodeRole> {
        let node = root.get("node_role")?;
        let map = self.mapping(
            node,
            "/node_role",
            &["role", "instance_id", "hop_limit", "http_tokens"],
        )?;
        let role = match map.get("role").and_then(Value::as_str) {
            Some(role) => role.to_owned(),
            None => {
                self.problem(
                    "/node_role/role",
                    "`role` (a role name of `roles:`) is required",
                );
                return None;
            }
        };
        if !roles.contains_key(&role) {
            self.problem(
                "/node_role/role",
                format!(
                    "no role `{role}` in `roles:` (known: {})",
                    roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        let hop_limit = match map.get("hop_limit") {
            None => DEFAULT_HOP_LIMIT,
            Some(v) => match v
                .as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .filter(|n| (1..=64).contains(n))
            {
                Some(n) => n,
                None => {
                    self.problem(
                        &child("/node_role", "hop_limit"),
                        "expected an integer from 1 to 64",
                    );
                    DEFAULT_HOP_LIMIT
                }
            },
        };
        // Default `required`, as on AL2023 EKS nodes (UNSOURCED); EC2's API default is
        // `optional` (documented: "By default, token usage is optional"), which lets any pod use
        // IMDSv1 whatever the hop limit.
        let tokens_required = match map.get("http_tokens").and_then(Value::as_str) {
            None | Some("required") => true,
            Some("optional") => false,
            Some(other) => {
                self.problem(
                    &child("/node_role", "http_tokens"),
                    format!("`{other}`; expected `required` or `optional`"),
                );
                true
            }
        };
        Some(NodeRole {
            role,
            instance_id: map
                .get("instance_id")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_INSTANCE_ID)
                .to_owned(),
            hop_limit,
            tokens_required,
        })
    }
}
