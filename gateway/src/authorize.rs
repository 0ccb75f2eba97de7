//! Authorising a classified call: each of its authorizations, in order, against the caller's
//! policies in force and the resource's own policy, through irsa-core's one authorisation path
//! ([`Caller::authorize`]), which also renders AWS's access-denied text.
//!
//! Must not: guess. A call with nothing to authorise was not understood and is denied.

use iam_policy::Evaluation;
use irsa_core::access_denied::AccessDenied;
use irsa_core::caller::{Caller, CallerPolicies, RequestFacts};

use crate::classify::Authorization;
use crate::resource_policy::ResourcePolicies;

/// One authorisation that was refused, with the refusal (its evaluation and AWS's text).
#[derive(Debug)]
pub struct Denial {
    pub authorization: Authorization,
    pub denied: AccessDenied,
}

/// Evaluate every authorisation in order with the caller's policies in force (`policies`, read
/// from the current world by [`Caller::policies`]): all allowed → each with its evaluation;
/// else the first refused one.
pub fn decide(
    caller: &Caller,
    policies: &CallerPolicies,
    resource_policies: &ResourcePolicies,
    authorizations: &[Authorization],
    facts: &RequestFacts<'_>,
) -> Result<Vec<(Authorization, Evaluation)>, Box<Denial>> {
    // Nothing to authorise means we did not understand the call: fail closed, by evaluating
    // `dynamodb:Unknown` against no policy at all (an implicit deny).
    let (unknown, no_policy);
    let (policies, authorizations) = if authorizations.is_empty() {
        unknown = [Authorization {
            action: "dynamodb:Unknown".to_owned(),
            resource: "*".to_owned(),
            context: Vec::new(),
        }];
        no_policy = CallerPolicies::default();
        (&no_policy, &unknown[..])
    } else {
        (policies, authorizations)
    };
    let mut allowed = Vec::with_capacity(authorizations.len());
    for a in authorizations {
        let mut context = caller.context(facts);
        for (key, values) in &a.context {
            context.insert_multi(key.clone(), values.clone());
        }
        // A table's resource-based policy (or a stream's) joins the caller's policies by the
        // same-account rule.
        let resource_policy = resource_policies.for_resource(&a.resource);
        match caller.authorize(
            policies,
            resource_policy.as_deref(),
            &a.action,
            &a.resource,
            context,
        ) {
            Ok(evaluation) => allowed.push((a.clone(), evaluation)),
            Err(denied) => {
                return Err(Box::new(Denial {
                    authorization: a.clone(),
                    denied: *denied,
                }));
            }
        }
    }
    Ok(allowed)
}
