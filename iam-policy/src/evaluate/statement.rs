//! One statement, and one layer of statements, against a request: principal, action,
//! resource and conditions, each mismatch kept as a reason for the explanation.

use super::principal::{PrincipalMatch, principal_matches};
use super::{LayerReport, Mismatch, PolicyKind, PolicyReport, StatementReport};
use crate::arn::{Target, glob_target_matches, prefix_matches, resource_matches};
use crate::pattern::{Case, Glob};
use crate::policy::{
    ActionBlock, Effect, NamedPolicy, PrincipalBlock, ResourceBlock, Statement, StatementRef,
};
use crate::request::Request;
use crate::variable::{has_variable, substitute, substitute_widest};

/// What one statement did.
struct Outcome {
    applies: bool,
    /// The principal matched by `*` or its exact session/user ARN.
    direct: bool,
    /// The principal matched only through its account: authority delegated, nothing granted.
    account_only: bool,
    reasons: Vec<Mismatch>,
}

/// Evaluates every statement of `first` then `rest` (an RCP level: `RCPFullAWSAccess`, then the
/// level's own) as one layer of `kind`.
pub(super) fn layer(
    kind: PolicyKind,
    level: Option<&str>,
    first: &[NamedPolicy],
    rest: &[NamedPolicy],
    request: &Request,
    target: Target<'_>,
) -> LayerReport {
    let mut layer = LayerReport {
        kind,
        level: level.map(str::to_owned),
        allows: false,
        denies: false,
        policies: Vec::with_capacity(first.len() + rest.len()),
    };
    for named in first.iter().chain(rest) {
        let mut report = PolicyReport {
            name: named.name.clone(),
            statements: Vec::with_capacity(named.policy.statements.len()),
        };
        for (i, statement) in named.policy.statements.iter().enumerate() {
            let outcome = evaluate_statement(kind, named, statement, request, target);
            if outcome.applies {
                match statement.effect {
                    Effect::Allow => layer.allows |= !outcome.account_only,
                    Effect::Deny => layer.denies = true,
                }
            }
            report.statements.push(StatementReport {
                statement: StatementRef::of(statement, i),
                effect: statement.effect,
                applies: outcome.applies,
                decisive: false,
                direct_grant: outcome.applies && outcome.direct,
                delegated_to_account: outcome.applies && outcome.account_only,
                reasons: outcome.reasons,
            });
        }
        layer.policies.push(report);
    }
    layer
}

/// One statement against the request: whether it applies, and every reason it does not.
fn evaluate_statement(
    kind: PolicyKind,
    named: &NamedPolicy,
    statement: &Statement,
    request: &Request,
    target: Target<'_>,
) -> Outcome {
    let mut reasons = Vec::new();
    let resolve = named.policy.resolves_variables();
    let principal = principal_match(kind, statement, request, &mut reasons);
    action_match(statement, request, &mut reasons);
    if let Some(block) = &statement.resource {
        resource_match(block, resolve, request, target, &mut reasons);
    }
    for condition in &statement.conditions {
        if let Err(mismatch) = condition.evaluate(&request.context, resolve) {
            reasons.push(Mismatch::Condition(mismatch));
        }
    }

    Outcome {
        applies: reasons.is_empty(),
        direct: principal == PrincipalMatch::Direct,
        account_only: principal == PrincipalMatch::Account,
        reasons,
    }
}

/// Whether the statement's `Principal`/`NotPrincipal` names the request's principal, and how:
/// a mismatch is pushed to `reasons` (and `Yes` returned); `Direct` and `Account` say how a
/// resource-based statement named it.
fn principal_match(
    kind: PolicyKind,
    statement: &Statement,
    request: &Request,
    reasons: &mut Vec<Mismatch>,
) -> PrincipalMatch {
    match &statement.principal {
        // AWS Organizations, RCP syntax: an RCP's `Principal` "must be `*`"; it names every
        // caller, the request's principal or none, and conditions narrow it.
        Some(PrincipalBlock::Principal(set))
            if kind == PolicyKind::ResourceControl
                && (set.any || set.aws.iter().any(|v| v == "*")) => {}
        Some(PrincipalBlock::Principal(set)) => {
            match principal_matches(set, request.principal.as_ref(), &request.context) {
                PrincipalMatch::No => {
                    reasons.push(Mismatch::Principal {
                        negated: false,
                        principal: request.principal.clone(),
                    });
                }
                PrincipalMatch::Yes => {}
                PrincipalMatch::Account => return PrincipalMatch::Account,
                PrincipalMatch::Direct => return PrincipalMatch::Direct,
            }
        }
        Some(PrincipalBlock::NotPrincipal(set))
            if principal_matches(set, request.principal.as_ref(), &request.context)
                != PrincipalMatch::No =>
        {
            reasons.push(Mismatch::Principal {
                negated: true,
                principal: request.principal.clone(),
            });
        }
        Some(PrincipalBlock::NotPrincipal(_)) => {}
        None if kind == PolicyKind::Resource => reasons.push(Mismatch::PrincipalRequired),
        None => {}
    }
    PrincipalMatch::Yes
}

/// Whether the statement's `Action`/`NotAction` covers the request's action.
fn action_match(statement: &Statement, request: &Request, reasons: &mut Vec<Mismatch>) {
    let (negated, patterns) = match &statement.action {
        ActionBlock::Action(p) => (false, p),
        ActionBlock::NotAction(p) => (true, p),
    };
    // AWS, Action element: action names are case-insensitive ("iam:listaccesskeys" is the same
    // as "IAM:ListAccessKeys"); `*` and `?` are wildcards.
    let listed = patterns
        .iter()
        .any(|p| Glob::Text(p).matches(&request.action, Case::Insensitive));
    if listed == negated {
        reasons.push(Mismatch::Action {
            negated,
            action: request.action.clone(),
            patterns: patterns.clone(),
        });
    }
}

/// Whether the statement's `Resource`/`NotResource` covers the request's resource, `${...}`
/// substituted where the policy version resolves variables.
fn resource_match(
    block: &ResourceBlock,
    resolve: bool,
    request: &Request,
    target: Target<'_>,
    reasons: &mut Vec<Mismatch>,
) {
    let (negated, patterns) = match block {
        ResourceBlock::Resource(p) => (false, p),
        ResourceBlock::NotResource(p) => (true, p),
    };
    let mut unresolved = Vec::new();
    // Without `${...}` to substitute, a pattern is matched as written (nothing compiled).
    let substitutes = |p: &str| resolve && has_variable(p);
    let listed = patterns.iter().any(|p| {
        if !substitutes(p) {
            return glob_target_matches(Glob::Text(p), target);
        }
        match substitute(p, &request.context, resolve) {
            Ok(pattern) => resource_matches(&pattern, &request.resource),
            Err(u) => {
                unresolved.push(u.variable);
                false
            }
        }
    });
    // A `NotResource` pattern whose variable has no value cannot show that the resource is
    // outside the set ("If AWS cannot resolve a variable this might cause the entire
    // statement to be invalid", Variables and tags), unless the parts of the ARN before the
    // resource part already differ. Then the statement does not apply. Where exactly AWS
    // draws this line is not documented; iam-simulate draws it at the same place.
    let undecidable = negated
        && patterns.iter().any(|p| {
            substitutes(p)
                && substitute(p, &request.context, resolve).is_err()
                && prefix_matches(&substitute_widest(p, &request.context), &request.resource)
        });
    if listed == negated || undecidable {
        reasons.push(Mismatch::Resource {
            negated,
            resource: request.resource.clone(),
            patterns: patterns.clone(),
            unresolved: if listed && negated {
                Vec::new()
            } else {
                unresolved
            },
        });
    }
}
