//! The audit trail's port: one CloudTrail-shaped JSON record per call, handed to a sink.
//!
//! Owns only the trait; the shells (mock-sts, gateway) build the records and the harness writes
//! them. Records must never carry secrets, session tokens, signatures or web-identity tokens:
//! the shells build them from typed, non-secret fields only.

/// Where audit records go. Implementations must not block for long: they are called once per
/// request on the request path.
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    fn record(&self, event: serde_json::Value);
}

/// The CloudTrail `eventTime` format: `2026-11-28T20:33:48Z`.
pub fn render_event_time(unix: i64) -> String {
    crate::clock::render_utc(unix)
}

/// `IncompleteSignature(Exception)` echoes the `Authorization` header, which may hold a
/// `Signature=`: an audited message keeps the text up to `Authorization=` only.
pub fn redact_message(message: &str) -> String {
    match message.find("Authorization=") {
        Some(at) => format!(
            "{}Authorization=<redacted>",
            message.get(..at).unwrap_or("")
        ),
        None => message.to_owned(),
    }
}

/// CloudTrail's `userIdentity` for a call made with an assumed-role session's credentials. The
/// access key id is included, as CloudTrail does; the secret and session token never are.
pub fn assumed_role_identity(session: &crate::Session) -> serde_json::Value {
    let role = &session.role;
    let mut context = serde_json::json!({
        "sessionIssuer": {
            "type": "Role",
            "principalId": role.id,
            "arn": role.arn.as_str(),
            "accountId": role.arn.account(),
            "userName": role.arn.name(),
        },
        "attributes": {
            "creationDate": render_event_time(session.issued_at),
            "mfaAuthenticated": "false",
        },
    });
    if let (Some(wi), Some(map)) = (&session.web_identity, context.as_object_mut()) {
        map.insert(
            "webIdFederationData".to_owned(),
            serde_json::json!({
                "federatedProvider": wi.provider_arn,
                "attributes": {
                    "issuer": wi.provider_url,
                    "sub": wi.subject,
                    "aud": wi.audience,
                },
            }),
        );
    }
    serde_json::json!({
        "type": "AssumedRole",
        "principalId": session.assumed_role_id,
        "arn": session.assumed_role_arn,
        "accountId": role.arn.account(),
        "accessKeyId": session.access_key_id(),
        "sessionContext": context,
    })
}

/// CloudTrail's `userIdentity` for whoever signed a call: an assumed-role session, an IAM user,
/// or `Unknown` when the signature was not verified.
pub fn caller_identity(
    caller: Option<&crate::caller::Caller>,
    world: &crate::World,
) -> serde_json::Value {
    match caller {
        Some(crate::caller::Caller::Session(s)) => assumed_role_identity(s),
        Some(crate::caller::Caller::User(u)) => iam_user_identity(u, world),
        None => serde_json::json!({"type": "Unknown"}),
    }
}

/// One CloudTrail management event (`AwsApiCall`) of STS, IAM or EKS.
#[derive(Debug, Clone)]
pub struct ApiCall<'a> {
    /// `sts.amazonaws.com`, `iam.amazonaws.com`, `eks.amazonaws.com`.
    pub source: &'a str,
    pub name: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub time: i64,
    pub request_id: &'a str,
    /// A fresh random id (the shell draws it; this crate does no I/O or randomness).
    pub event_id: String,
    pub read_only: bool,
    pub user_identity: serde_json::Value,
    pub request_parameters: serde_json::Value,
    pub response_elements: serde_json::Value,
    /// `(errorCode, errorMessage)`; the message is redacted here.
    pub error: Option<(&'a str, &'a str)>,
}

impl ApiCall<'_> {
    /// The record, with an empty `explanation`.
    pub fn record(self) -> serde_json::Value {
        let mut record = serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": self.user_identity,
            "eventTime": render_event_time(self.time),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": self.region,
            "sourceIPAddress": serde_json::Value::Null,
            "requestParameters": self.request_parameters,
            "responseElements": self.response_elements,
            "requestID": self.request_id,
            "eventID": self.event_id,
            "readOnly": self.read_only,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": self.account,
            "eventCategory": "Management",
            "explanation": [],
        });
        if let (Some((code, message)), Some(map)) = (self.error, record.as_object_mut()) {
            map.insert("errorCode".into(), code.into());
            map.insert("errorMessage".into(), redact_message(message).into());
        }
        record
    }
}

/// CloudTrail's `userIdentity` for an IAM user signing with a static key (type `IAMUser`).
pub fn iam_user_identity(user: &crate::world::User, world: &crate::World) -> serde_json::Value {
    serde_json::json!({
        "type": "IAMUser",
        "principalId": user.id,
        "arn": user.arn,
        "accountId": world.account,
        "userName": user.name,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cuts_the_echoed_authorization_header() {
        assert_eq!(
            super::redact_message(
                "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 Signature=abc"
            ),
            "Authorization header requires 'Credential' parameter. Authorization=<redacted>"
        );
        assert_eq!(super::redact_message("plain"), "plain");
    }

    #[test]
    fn event_time_is_utc_seconds() {
        assert_eq!(
            super::render_event_time(1_795_898_028),
            "2026-11-28T20:33:48Z"
        );
    }
}
