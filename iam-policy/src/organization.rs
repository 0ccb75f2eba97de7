//! AWS Organizations as evaluation sees it: the hierarchy root → OUs → account, the SCPs and
//! RCPs attached at each level, and the organization's condition keys.
//!
//! Owns: the organization model ([`Organization`]), the path of policy levels that governs an
//! account ([`OrgLevel`], root first), which accounts are exempt, the two AWS managed default
//! policies (`FullAWSAccess`, `RCPFullAWSAccess`) and the `aws:PrincipalOrgID` /
//! `aws:PrincipalOrgPaths` / `aws:ResourceOrgID` / `aws:ResourceOrgPaths` /
//! `aws:PrincipalAccount` / `aws:ResourceAccount` values. It does not evaluate: `evaluate`
//! combines the levels with the other policy kinds.
//!
//! AWS Organizations User Guide:
//! * SCP evaluation: "For a permission to be allowed for a specific account, there must be an
//!   explicit Allow statement at every level from the root through each OU in the direct path to
//!   the account (including the target account itself)."; a `Deny` at any level of that path
//!   denies ("SCPs and Deny").
//! * SCPs: "SCPs don't affect users or roles in the management account. They affect only the
//!   member accounts in your organization." and "SCPs do not affect any service-linked role."
//! * RCP evaluation: "The `RCPFullAWSAccess` policy is an AWS managed policy. It is
//!   automatically attached to the organization root, every OU, and every account in your
//!   organization, when you enable resource control policies (RCPs). You cannot detach this
//!   policy." and "For a permission to be denied for a resource in a specific account, any RCP
//!   from the root through each OU in the direct path to the account (including the target
//!   account itself) can deny that permission."
//! * RCPs: "RCPs don't affect resources in the management account. They only affect resources
//!   in the member accounts within your organization."; RCPs have no effect on service-linked
//!   roles (listed among RCPs' exceptions); "Resource control policies in your organization do
//!   not apply to AWS managed keys" (AWS KMS Developer Guide) — AWS managed KMS keys are not
//!   modelled here.
//!
//! Not modelled (documented by AWS, not implemented): RCPs apply only to the services AWS lists
//! ("List of AWS services that support RCPs"); we apply them to every action, which can only
//! deny more (fail closed). Delegated administrators are ordinary member accounts here, as AWS
//! says they are for RCPs.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::policy::{
    ActionBlock, Effect, NamedPolicy, Policy, PolicyVersion, PrincipalBlock, PrincipalSet,
    ResourceBlock, Statement,
};
use crate::request::Context;

/// One level of the path root → OUs → account, with the policies attached there.
#[derive(Debug, Clone, Copy)]
pub struct OrgLevel<'a> {
    /// The root (`r-…`), OU (`ou-…`) or account id the policies are attached to; the
    /// explanation names the level that decided by it.
    pub id: &'a str,
    /// The SCPs (or RCPs) attached at this level. For SCPs an empty list denies everything
    /// (no `Allow` at this level); for RCPs `RCPFullAWSAccess` is always added by evaluation.
    pub policies: &'a [NamedPolicy],
}

/// An organizational unit: its id and its parent (the root or another OU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationalUnit {
    /// `ou-…`.
    pub id: String,
    /// The parent's id: the root id or another OU's id.
    pub parent: String,
}

/// An organization: its root, OUs, member accounts and the SCPs and RCPs attached to each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// `o-…`, the value of `aws:PrincipalOrgID` / `aws:ResourceOrgID`.
    pub id: String,
    /// `r-…`.
    pub root: String,
    /// The management account: exempt from SCPs and RCPs.
    pub management_account: String,
    /// Every OU.
    pub units: Vec<OrganizationalUnit>,
    /// Member accounts (the management account included or not) to their parent (root or OU).
    pub accounts: BTreeMap<String, String>,
    /// SCPs attached to a root, OU or account id. A target with none attached has none: AWS
    /// attaches `FullAWSAccess` when SCPs are enabled ([`full_aws_access`]), a world that wants
    /// it says so.
    pub scps: BTreeMap<String, Vec<NamedPolicy>>,
    /// RCPs attached to a root, OU or account id, besides `RCPFullAWSAccess`.
    pub rcps: BTreeMap<String, Vec<NamedPolicy>>,
}

/// Why an account has no levels of organization policy: exempt (not a member, the management
/// account) or, as an error the caller must surface, a broken OU chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoLevels {
    /// The account is not in the organization.
    NotAMember,
    /// The management account.
    ManagementAccount,
    /// The OU chain is broken (an OU whose parent is unknown, or a cycle): refused rather
    /// than evaluated with levels missing.
    BrokenHierarchy,
}

impl Organization {
    /// The ids root → OUs → `account`, or why the account has no such path.
    pub fn path(&self, account: &str) -> Result<Vec<&str>, NoLevels> {
        let (account, parent) = self
            .accounts
            .get_key_value(account)
            .ok_or(NoLevels::NotAMember)?;
        let mut ids = vec![account.as_str()];
        let mut at = parent.as_str();
        while at != self.root {
            if ids.len() > self.units.len() + 1 {
                return Err(NoLevels::BrokenHierarchy);
            }
            let unit = self
                .units
                .iter()
                .find(|u| u.id == at)
                .ok_or(NoLevels::BrokenHierarchy)?;
            ids.push(unit.id.as_str());
            at = unit.parent.as_str();
        }
        ids.push(self.root.as_str());
        ids.reverse();
        Ok(ids)
    }

    /// The SCP levels that govern principals of `account`, root first; `Err` when SCPs do not
    /// apply to it (the management account, an account outside the organization).
    ///
    /// A broken hierarchy is an error the caller must surface, not an exemption to act on.
    pub fn scp_levels(&self, account: &str) -> Result<Vec<OrgLevel<'_>>, NoLevels> {
        self.levels(account, &self.scps)
    }

    /// The RCP levels that govern resources of `account`, root first (without
    /// `RCPFullAWSAccess`, which evaluation adds at every level); `Err` when RCPs do not apply.
    pub fn rcp_levels(&self, account: &str) -> Result<Vec<OrgLevel<'_>>, NoLevels> {
        self.levels(account, &self.rcps)
    }

    fn levels<'o>(
        &'o self,
        account: &str,
        attached: &'o BTreeMap<String, Vec<NamedPolicy>>,
    ) -> Result<Vec<OrgLevel<'o>>, NoLevels> {
        if account == self.management_account {
            return Err(NoLevels::ManagementAccount);
        }
        Ok(self
            .path(account)?
            .into_iter()
            .map(|id| OrgLevel {
                id,
                policies: attached.get(id).map(Vec::as_slice).unwrap_or(&[]),
            })
            .collect())
    }

    /// `o-…/r-…/ou-…/…/`: the organization, root and OUs above `account`, each followed by `/`
    /// — the shape of the IAM guide's `aws:PrincipalOrgPaths` examples
    /// (`o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/`). The guide shows OU paths
    /// only; that the account id itself is not part of the value is how we read those examples.
    pub fn org_path(&self, account: &str) -> Option<String> {
        let path = self.path(account).ok()?;
        let mut text = format!("{}/", self.id);
        for id in path.iter().take(path.len().saturating_sub(1)) {
            text.push_str(id);
            text.push('/');
        }
        Some(text)
    }

    /// Adds the organization keys of a request, where the context has no value for them yet:
    /// `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` (multivalued) when the principal's
    /// account is a member, `aws:ResourceOrgID` and `aws:ResourceOrgPaths` when the
    /// resource's is.
    pub fn add_context_keys(
        &self,
        context: &mut Context,
        principal_account: Option<&str>,
        resource_account: Option<&str>,
    ) {
        for (account, id_key, paths_key) in [
            (
                principal_account,
                "aws:PrincipalOrgID",
                "aws:PrincipalOrgPaths",
            ),
            (
                resource_account,
                "aws:ResourceOrgID",
                "aws:ResourceOrgPaths",
            ),
        ] {
            let Some(path) = account.and_then(|a| self.org_path(a)) else {
                continue;
            };
            if context.get(id_key).is_none() {
                context.insert(id_key, self.id.clone());
            }
            if context.get(paths_key).is_none() {
                context.insert_multi(paths_key, vec![path]);
            }
        }
    }
}

/// Adds `aws:PrincipalAccount` and `aws:ResourceAccount` where the context has no value for
/// them yet (IAM global condition keys: "the account to which the requesting principal
/// belongs" and "the resource owner's AWS account ID").
pub fn add_account_keys(
    context: &mut Context,
    principal_account: Option<&str>,
    resource_account: Option<&str>,
) {
    for (account, key) in [
        (principal_account, "aws:PrincipalAccount"),
        (resource_account, "aws:ResourceAccount"),
    ] {
        if let Some(account) = account
            && context.get(key).is_none()
        {
            context.insert(key, account);
        }
    }
}

/// Whether `arn` is a service-linked role or one of its sessions: IAM creates service-linked
/// roles under the path `/aws-service-role/` ("Using service-linked roles"). A session ARN
/// (`assumed-role/R/S`) does not show the path; pass the role ARN (`aws:PrincipalArn`).
pub fn is_service_linked_role(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.contains(":role/aws-service-role/")
}

/// `Allow` everything (`"Action": "*"`, `"Resource": "*"`, and `"Principal": "*"` when
/// `principal` is set): the body of both AWS managed defaults.
fn allow_everything(name: &str, principal: bool) -> NamedPolicy {
    NamedPolicy::new(
        name,
        Policy {
            version: Some(PolicyVersion::V2012_10_17),
            id: None,
            statements: vec![Statement {
                sid: None,
                effect: Effect::Allow,
                principal: principal.then(|| {
                    PrincipalBlock::Principal(PrincipalSet {
                        any: true,
                        ..PrincipalSet::default()
                    })
                }),
                action: ActionBlock::Action(vec!["*".to_owned()]),
                resource: Some(ResourceBlock::Resource(vec!["*".to_owned()])),
                conditions: Vec::new(),
            }],
        },
    )
}

/// The AWS managed SCP `FullAWSAccess` (`Allow` `*` on `*`), attached to every root, OU and
/// account when SCPs are enabled ("SCPs and Allow").
pub fn full_aws_access() -> &'static NamedPolicy {
    static POLICY: OnceLock<NamedPolicy> = OnceLock::new();
    POLICY.get_or_init(|| allow_everything("FullAWSAccess", false))
}

/// The AWS managed RCP `RCPFullAWSAccess` (`Allow` `"Principal": "*"` `*` on `*`), attached to
/// every root, OU and account and impossible to detach ("RCP evaluation").
pub fn rcp_full_aws_access() -> &'static NamedPolicy {
    static POLICY: OnceLock<NamedPolicy> = OnceLock::new();
    POLICY.get_or_init(|| allow_everything("RCPFullAWSAccess", true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Organization {
        let deny = NamedPolicy::parse(
            "deny-delete",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}}"#,
        )
        .unwrap();
        Organization {
            id: "o-a1b2c3d4e5".into(),
            root: "r-ab12".into(),
            management_account: "999999999999".into(),
            units: vec![
                OrganizationalUnit {
                    id: "ou-ab12-11111111".into(),
                    parent: "r-ab12".into(),
                },
                OrganizationalUnit {
                    id: "ou-ab12-22222222".into(),
                    parent: "ou-ab12-11111111".into(),
                },
            ],
            accounts: [
                ("111122223333".into(), "ou-ab12-22222222".into()),
                ("444455556666".into(), "r-ab12".into()),
                ("999999999999".into(), "r-ab12".into()),
            ]
            .into(),
            scps: [
                ("r-ab12".into(), vec![full_aws_access().clone()]),
                ("ou-ab12-11111111".into(), vec![deny]),
            ]
            .into(),
            rcps: BTreeMap::new(),
        }
    }

    #[test]
    fn path_runs_root_first_to_the_account() {
        let org = org();
        assert_eq!(
            org.path("111122223333").unwrap(),
            [
                "r-ab12",
                "ou-ab12-11111111",
                "ou-ab12-22222222",
                "111122223333"
            ]
        );
        assert_eq!(
            org.path("444455556666").unwrap(),
            ["r-ab12", "444455556666"]
        );
        assert_eq!(org.path("000000000000"), Err(NoLevels::NotAMember));
    }

    #[test]
    fn levels_carry_what_is_attached_and_exempt_the_management_account() {
        let org = org();
        let levels = org.scp_levels("111122223333").unwrap();
        let attached: Vec<(&str, usize)> =
            levels.iter().map(|l| (l.id, l.policies.len())).collect();
        assert_eq!(
            attached,
            [
                ("r-ab12", 1),
                ("ou-ab12-11111111", 1),
                ("ou-ab12-22222222", 0),
                ("111122223333", 0)
            ]
        );
        assert_eq!(
            org.scp_levels("999999999999").unwrap_err(),
            NoLevels::ManagementAccount
        );
        assert_eq!(
            org.rcp_levels("999999999999").unwrap_err(),
            NoLevels::ManagementAccount
        );
    }

    #[test]
    fn a_broken_hierarchy_is_refused() {
        let mut org = org();
        org.units[0].parent = "ou-ab12-22222222".into(); // a cycle
        assert_eq!(org.path("111122223333"), Err(NoLevels::BrokenHierarchy));
        org.units[0].parent = "ou-missing".into();
        assert_eq!(org.path("111122223333"), Err(NoLevels::BrokenHierarchy));
    }

    #[test]
    fn org_keys_are_added_only_where_absent() {
        let org = org();
        let mut context = Context::new().with("aws:ResourceOrgID", "o-given");
        org.add_context_keys(&mut context, Some("111122223333"), Some("444455556666"));
        add_account_keys(&mut context, Some("111122223333"), Some("444455556666"));
        assert_eq!(
            context.get("aws:PrincipalOrgID").and_then(|v| v.single()),
            Some("o-a1b2c3d4e5")
        );
        let paths = context.get("aws:PrincipalOrgPaths").unwrap();
        assert!(paths.multivalued);
        assert_eq!(
            paths.values[..],
            ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"]
        );
        assert_eq!(
            context.get("aws:ResourceOrgID").and_then(|v| v.single()),
            Some("o-given")
        );
        assert_eq!(
            context.get("aws:ResourceOrgPaths").unwrap().values[..],
            ["o-a1b2c3d4e5/r-ab12/"]
        );
        assert_eq!(
            context.get("aws:PrincipalAccount").and_then(|v| v.single()),
            Some("111122223333")
        );
        assert_eq!(
            context.get("aws:ResourceAccount").and_then(|v| v.single()),
            Some("444455556666")
        );
        let mut outside = Context::new();
        org.add_context_keys(&mut outside, Some("000000000000"), None);
        assert!(outside.is_empty());
    }

    #[test]
    fn service_linked_roles_are_recognised_by_their_path() {
        assert!(is_service_linked_role(
            "arn:aws:iam::111122223333:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
        ));
        assert!(!is_service_linked_role(
            "arn:aws:iam::111122223333:role/app"
        ));
    }
}
