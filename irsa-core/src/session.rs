//! STS sessions: what a set of temporary credentials stands for, and the store STS writes and the
//! gateway reads. One store shared in-process; no HTTP hop between our services.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use iam_policy::NamedPolicy;

use crate::credential::{Entropy, TemporaryCredentials, mint_temporary};
use crate::trust::Grant;
use crate::world::Role;

#[derive(Debug, Clone)]
pub struct Session {
    pub credentials: TemporaryCredentials,
    pub role: Role,
    pub role_session_name: String,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub assumed_role_arn: String,
    /// `<RoleId>:<session>` (`aws:userid`).
    pub assumed_role_id: String,
    pub web_identity: Option<WebIdentity>,
    /// Inline and managed session policies passed to AssumeRole*, intersected with the role's.
    pub session_policies: Vec<NamedPolicy>,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct WebIdentity {
    pub provider_arn: String,
    pub provider_url: String,
    pub subject: String,
    pub audience: String,
    pub claims: crate::token::Claims,
}

impl Session {
    pub fn from_grant(grant: Grant, now: i64, entropy: &mut dyn Entropy) -> Self {
        let credentials = mint_temporary(entropy);
        let assumed_role_arn = grant.role.arn.assumed_role_arn(&grant.role_session_name);
        let assumed_role_id = format!("{}:{}", grant.role.id, grant.role_session_name);
        Self {
            credentials,
            assumed_role_arn,
            assumed_role_id,
            role_session_name: grant.role_session_name,
            web_identity: Some(WebIdentity {
                provider_arn: grant.provider_arn,
                provider_url: grant.provider_url,
                subject: grant.subject,
                audience: grant.audience,
                claims: grant.claims,
            }),
            session_policies: Vec::new(),
            issued_at: now,
            expires_at: now + i64::from(grant.duration_seconds),
            role: grant.role,
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.credentials.access_key_id
    }

    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }
}

/// Sessions by access key id. STS inserts; the gateway and signed STS calls look up.
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    fn insert(&self, session: Session) -> Arc<Session>;
    fn get(&self, access_key_id: &str) -> Option<Arc<Session>>;
}

#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: RwLock<HashMap<String, Arc<Session>>>,
}

impl MemorySessionStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl SessionStore for MemorySessionStore {
    fn insert(&self, session: Session) -> Arc<Session> {
        let session = Arc::new(session);
        // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
        let mut map = self
            .sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(session.access_key_id().to_owned(), Arc::clone(&session));
        session
    }

    fn get(&self, access_key_id: &str) -> Option<Arc<Session>> {
        let map = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(access_key_id).cloned()
    }
}
