//! AWS's `AccessDenied` text for a refused authorisation, rendered once for every emulated
//! service (DynamoDB, IAM, EKS).
//!
//! Owns: the wording (IAM User Guide, "Troubleshoot access denied error messages": `User: <arn>
//! is not authorized to perform: <action> on resource: <resource>`, then `with an explicit deny
//! in a <policy type>` or `because no <policy type> allows the <action> action`), and the policy
//! ARN appended to an explicit deny (AWS Security Blog, "Enhanced access denied error messages
//! with policy ARNs": same-account denies name the denying policy's ARN; its example is IAM's own
//! `ListRoles`). Must not: evaluate policies (that is [`Caller::authorize`]).
//!
//! Decision: inline policies (and inline session policies) have no ARN, so their denies get no
//! suffix; AWS's post speaks of policy ARNs only and shows no inline example (UNSOURCED for
//! inline).
//!
//! [`Caller::authorize`]: crate::caller::Caller::authorize

use iam_policy::{Decision, Evaluation, PolicyKind};

/// One authorisation that the caller's policies refused, with the evaluation that refused it.
#[derive(Debug, Clone)]
pub struct AccessDenied {
    /// The caller's ARN as error texts name it (the assumed-role ARN for a session).
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub evaluation: Evaluation,
    /// The ARN of the customer managed policy (or permissions boundary) whose `Deny` statement
    /// decided, when the decisive policy has one.
    pub denying_policy_arn: Option<String>,
}

impl AccessDenied {
    /// `User: <arn> is not authorized to perform: <action> on resource: <resource>`, the part
    /// every access-denied text starts with.
    pub fn head(&self) -> String {
        format!(
            "User: {} is not authorized to perform: {} on resource: {}",
            self.principal, self.action, self.resource
        )
    }

    /// The current text: the head, then why (the policy type that denied, and for an explicit
    /// deny by a managed policy its ARN).
    pub fn message(&self) -> String {
        let head = self.head();
        let kind = self.evaluation.denied_by().unwrap_or(PolicyKind::Identity);
        let phrase = kind.aws_phrase();
        match self.evaluation.decision {
            Decision::ExplicitDeny => {
                let mut message = format!(
                    "{head} with an explicit deny in a{} {phrase}",
                    article(phrase)
                );
                if let Some(arn) = &self.denying_policy_arn {
                    message.push_str(": ");
                    message.push_str(arn);
                }
                message
            }
            _ => format!(
                "{head} because no {phrase} allows the {} action",
                self.action
            ),
        }
    }
}

fn article(phrase: &str) -> &'static str {
    if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "n"
    } else {
        ""
    }
}
