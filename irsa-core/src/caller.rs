//! Who signed a call: an assumed-role session (temporary `ASIA…` keys, from STS) or an IAM user
//! (static `AKIA…` keys, from the world), and the policies IAM evaluates for it, read from the
//! *current* world: AWS evaluates a role's or user's policies at request time, so an
//! `iam:AttachRolePolicy` takes effect for sessions issued before it.

use std::sync::Arc;

use iam_policy::{Evaluation, NamedPolicy, PolicySet, Principal, Request};

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
                },
                None => CallerPolicies {
                    session: s.session_policies.clone(),
                    ..CallerPolicies::default()
                },
            },
            Caller::User(u) => CallerPolicies {
                identity: world
                    .users
                    .get(&u.name)
                    .map(|current| current.policies.clone())
                    .unwrap_or_default(),
                ..CallerPolicies::default()
            },
        }
    }

    /// The request context IAM builds for this principal (global keys only), for a request that
    /// arrived over `transport`.
    pub fn context(&self, region: &str, now: i64, transport: Transport) -> iam_policy::Context {
        let mut context = iam_policy::Context::new();
        context.insert("aws:PrincipalArn", self.principal_arn());
        context.insert("aws:PrincipalAccount", self.account());
        context.insert("aws:PrincipalType", self.principal_type());
        context.insert("aws:userid", self.user_id());
        context.insert("aws:RequestedRegion", region);
        context.insert("aws:SecureTransport", transport.secure_transport());
        context.insert("aws:EpochTime", now.to_string());
        context.insert("aws:CurrentTime", crate::clock::render_utc(now));
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

    /// Decide one action on one resource with the caller's current policies.
    pub fn evaluate(
        &self,
        world: &World,
        action: &str,
        resource: &str,
        region: &str,
        now: i64,
        transport: Transport,
    ) -> Evaluation {
        let policies = self.policies(world);
        let request = Request {
            principal: Some(Principal::Aws(self.arn().to_owned())),
            action: action.to_owned(),
            resource: resource.to_owned(),
            context: self.context(region, now, transport),
        };
        iam_policy::evaluate(&policies.set(), &request)
    }
}
