//! Who signed a call: an assumed-role session (temporary `ASIA…` keys, from STS) or an IAM user
//! (static `AKIA…` keys, from the world), and the policies IAM evaluates for it, read from the
//! *current* world: AWS evaluates a role's or user's policies at request time, so an
//! `iam:AttachRolePolicy` takes effect for sessions issued before it.
//!
//! Also owns the one authorisation path of every emulated service: the request context IAM
//! builds for a caller ([`Caller::context`]), evaluation against the policies in force
//! ([`Caller::authorize`]), and on refusal an [`AccessDenied`] that renders AWS's text.

use std::collections::BTreeMap;
use std::sync::Arc;

use iam_policy::{
    Decision, Effect, Evaluation, NamedPolicy, PolicyKind, PolicySet, Principal, Request,
};

use crate::access_denied::AccessDenied;
use crate::session::Session;
use crate::transport::Transport;
use crate::world::{Role, User, World};

#[derive(Debug, Clone)]
pub enum Caller {
    Session(Arc<Session>),
    User(User),
}

/// The policies in force for a caller now.
#[derive(Debug, Clone, Default)]
pub struct CallerPolicies {
    pub identity: Vec<NamedPolicy>,
    pub permissions_boundary: Option<NamedPolicy>,
    pub session: Vec<NamedPolicy>,
    /// The ARNs of the role's (or user's) customer managed policies, by policy name: what an
    /// explicit deny by one of them names.
    pub managed_policy_arns: BTreeMap<String, String>,
}

/// What IAM's request context holds about a call besides its principal: where it was made and
/// when. One struct for every service, so a new global key is one field here.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// `aws:RequestedRegion`: the region the call was signed for.
    pub region: &'a str,
    /// `aws:EpochTime` and `aws:CurrentTime`, in Unix seconds.
    pub now: i64,
    /// `aws:SourceIp`, when the service knows the caller's address.
    pub source_ip: Option<&'a str>,
    /// `aws:SecureTransport`: whether the request arrived over TLS.
    pub transport: Transport,
}

impl CallerPolicies {
    pub fn set(&self) -> PolicySet<'_> {
        PolicySet {
            identity: &self.identity,
            resource: None,
            permissions_boundary: self.permissions_boundary.as_ref(),
            session: &self.session,
            scp: None,
        }
    }
}

/// The role a session was issued for, as it is in `world` now; `None` once it was deleted.
pub fn current_role<'w>(world: &'w World, session: &Session) -> Option<&'w Role> {
    world
        .role_by_arn(session.role.arn.as_str())
        .filter(|role| role.id == session.role.id)
}

impl Caller {
    /// `aws:PrincipalArn` for users; the assumed-role ARN for sessions (what error texts name).
    pub fn arn(&self) -> &str {
        match self {
            Caller::Session(s) => &s.assumed_role_arn,
            Caller::User(u) => &u.arn,
        }
    }

    /// `aws:userid`: `AROA…:<session>` or `AIDA…`.
    pub fn user_id(&self) -> &str {
        match self {
            Caller::Session(s) => &s.assumed_role_id,
            Caller::User(u) => &u.id,
        }
    }

    /// `aws:PrincipalArn`: the role's ARN for a session, the user's for a user.
    pub fn principal_arn(&self) -> &str {
        match self {
            Caller::Session(s) => s.role.arn.as_str(),
            Caller::User(u) => &u.arn,
        }
    }

    pub fn account(&self) -> &str {
        match self {
            Caller::Session(s) => s.role.arn.account(),
            Caller::User(u) => u.arn.split(':').nth(4).unwrap_or_default(),
        }
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Caller::Session(_) => "AssumedRole",
            Caller::User(_) => "User",
        }
    }

    pub fn session(&self) -> Option<&Arc<Session>> {
        match self {
            Caller::Session(s) => Some(s),
            Caller::User(_) => None,
        }
    }

    /// The policies in force now. A session whose role was deleted keeps only its session
    /// policies, which grant nothing alone: every call is implicitly denied. A user removed from
    /// the world has none.
    pub fn policies(&self, world: &World) -> CallerPolicies {
        match self {
            Caller::Session(s) => match current_role(world, s) {
                Some(role) => CallerPolicies {
                    identity: role.policies.clone(),
                    permissions_boundary: role.permissions_boundary.clone(),
                    session: s.session_policies.clone(),
                    managed_policy_arns: role.managed_policy_arns.clone(),
                },
                None => CallerPolicies {
                    session: s.session_policies.clone(),
                    ..CallerPolicies::default()
                },
            },
            Caller::User(u) => match world.users.get(&u.name) {
                Some(current) => CallerPolicies {
                    identity: current.policies.clone(),
                    managed_policy_arns: current.managed_policy_arns.clone(),
                    ..CallerPolicies::default()
                },
                None => CallerPolicies::default(),
            },
        }
    }

    /// The request context IAM builds for a call by this principal (global keys only;
    /// services add their own keys to it).
    pub fn context(&self, facts: &RequestFacts<'_>) -> iam_policy::Context {
        let mut context = iam_policy::Context::new();
        context.insert("aws:PrincipalArn", self.principal_arn());
        context.insert("aws:PrincipalAccount", self.account());
        context.insert("aws:PrincipalType", self.principal_type());
        context.insert("aws:userid", self.user_id());
        context.insert("aws:RequestedRegion", facts.region);
        context.insert("aws:SecureTransport", facts.transport.secure_transport());
        context.insert("aws:EpochTime", facts.now.to_string());
        context.insert("aws:CurrentTime", crate::clock::render_utc(facts.now));
        if let Some(ip) = facts.source_ip {
            context.insert("aws:SourceIp", ip);
        }
        match self {
            Caller::Session(s) => {
                context.insert("aws:TokenIssueTime", crate::clock::render_utc(s.issued_at));
                if let Some(wi) = &s.web_identity {
                    context.insert("aws:FederatedProvider", wi.provider_arn.as_str());
                    context.insert(format!("{}:sub", wi.provider_url), wi.subject.as_str());
                    context.insert(format!("{}:aud", wi.provider_url), wi.audience.as_str());
                }
            }
            Caller::User(u) => {
                context.insert("aws:username", u.name.as_str());
            }
        }
        context
    }

    /// Decide `action` on `resource` with the caller's policies in force (`policies`, from
    /// [`Caller::policies`]) and the resource's own policy, if it has one (joined by IAM's
    /// same-account rule). `context` is [`Caller::context`] plus the service's keys.
    pub fn authorize(
        &self,
        policies: &CallerPolicies,
        resource_policy: Option<&NamedPolicy>,
        action: &str,
        resource: &str,
        context: iam_policy::Context,
    ) -> Result<Evaluation, Box<AccessDenied>> {
        let request = Request {
            principal: Some(Principal::Aws(self.arn().to_owned())),
            action: action.to_owned(),
            resource: resource.to_owned(),
            context,
        };
        let set = PolicySet {
            resource: resource_policy,
            ..policies.set()
        };
        let evaluation = iam_policy::evaluate(&set, &request);
        if evaluation.decision == Decision::Allow {
            return Ok(evaluation);
        }
        let denying_policy_arn = denying_policy_arn(policies, &evaluation).map(str::to_owned);
        Err(Box::new(AccessDenied {
            principal: self.arn().to_owned(),
            action: request.action,
            resource: request.resource,
            evaluation,
            denying_policy_arn,
        }))
    }
}

/// The ARN of the managed policy (or permissions boundary) whose `Deny` statement decided.
fn denying_policy_arn<'p>(
    policies: &'p CallerPolicies,
    evaluation: &Evaluation,
) -> Option<&'p str> {
    if evaluation.decision != Decision::ExplicitDeny {
        return None;
    }
    let kind = evaluation.denied_by().unwrap_or(PolicyKind::Identity);
    if !matches!(kind, PolicyKind::Identity | PolicyKind::PermissionsBoundary) {
        return None;
    }
    evaluation
        .explanation
        .decisive()
        .find(|(k, _, statement)| *k == kind && statement.effect == Effect::Deny)
        .and_then(|(_, name, _)| policies.managed_policy_arns.get(name))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW_READS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#;
    const DENY_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetRole","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;

    /// A world with user `auditor`: an inline policy allowing `iam:Get*` and the managed policy
    /// `no-roles` denying `iam:GetRole` from `10.0.0.0/8`.
    fn world() -> (World, Caller) {
        let user = User {
            name: "auditor".into(),
            path: "/".into(),
            arn: "arn:aws:iam::111122223333:user/auditor".into(),
            id: "AIDAEXAMPLEAUDITOR1".into(),
            access_keys: Vec::new(),
            policies: vec![
                NamedPolicy::parse("reads", ALLOW_READS).unwrap(),
                NamedPolicy::parse("no-roles", DENY_ROLES).unwrap(),
            ],
            managed_policy_arns: BTreeMap::from([(
                "no-roles".to_owned(),
                "arn:aws:iam::111122223333:policy/no-roles".to_owned(),
            )]),
        };
        let mut world = World::empty("111122223333".into(), "eu-west-1".into());
        world.users.insert(user.name.clone(), user.clone());
        (world, Caller::User(user))
    }

    fn authorize(source_ip: Option<&str>, action: &str) -> Result<Evaluation, Box<AccessDenied>> {
        let (world, caller) = world();
        let facts = RequestFacts {
            region: "us-east-1",
            now: 1_795_898_028,
            source_ip,
            transport: Transport::Plain,
        };
        caller.authorize(
            &caller.policies(&world),
            None,
            action,
            "arn:aws:iam::111122223333:role/app",
            caller.context(&facts),
        )
    }

    #[test]
    fn the_context_carries_the_facts_of_the_call() {
        let (_, caller) = world();
        let facts = RequestFacts {
            region: "us-east-1",
            now: 0,
            source_ip: Some("10.1.2.3"),
            transport: Transport::Plain,
        };
        let context = caller.context(&facts);
        let value = |key: &str| context.get(key).and_then(|v| v.single()).map(str::to_owned);
        assert_eq!(value("aws:SourceIp").as_deref(), Some("10.1.2.3"));
        assert_eq!(value("aws:RequestedRegion").as_deref(), Some("us-east-1"));
        assert_eq!(value("aws:username").as_deref(), Some("auditor"));
        let without = caller.context(&RequestFacts {
            source_ip: None,
            ..facts
        });
        assert!(without.get("aws:SourceIp").is_none());
    }

    #[test]
    fn an_allowed_call_answers_its_evaluation() {
        let evaluation = authorize(Some("192.0.2.1"), "iam:GetRole").unwrap();
        assert_eq!(evaluation.decision, Decision::Allow);
    }

    #[test]
    fn an_implicit_deny_names_the_policy_type_that_allows_nothing() {
        let denied = authorize(None, "iam:CreateRole").unwrap_err();
        assert_eq!(
            denied.message(),
            "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111122223333:role/app because no identity-based policy allows the iam:CreateRole action"
        );
        assert_eq!(denied.denying_policy_arn, None);
    }

    #[test]
    fn an_explicit_deny_by_a_managed_policy_names_its_arn() {
        let denied = authorize(Some("10.1.2.3"), "iam:GetRole").unwrap_err();
        assert_eq!(
            denied.message(),
            "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:GetRole on resource: arn:aws:iam::111122223333:role/app with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/no-roles"
        );
        assert_eq!(
            denied.head(),
            "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:GetRole on resource: arn:aws:iam::111122223333:role/app"
        );
    }
}
