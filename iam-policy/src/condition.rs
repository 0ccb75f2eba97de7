//! The `Condition` element: operators, set qualifiers, and their evaluation.
//!
//! Owns: the operator vocabulary (every operator AWS documents, `...IfExists`,
//! `ForAllValues:` / `ForAnyValue:`) and deciding one condition against a request context.
//! It does not combine statements or policies.
//!
//! Sources (AWS, "IAM JSON policy elements: Condition operators" unless noted):
//! * "If the key that you specify in a policy condition is not present in the request context,
//!   the values do not match and the condition is false. If the policy condition requires that
//!   the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
//!   present, the condition is true. This logic applies to all condition operators except
//!   ...IfExists and Null check."
//! * ...IfExists: "If the policy key is present in the context of the request, process the key
//!   as specified in the policy. If the key is not present, evaluate the condition element as
//!   true." and "You can add IfExists to the end of any condition operator name except the Null
//!   condition".
//! * "Creating a condition with multiple keys or values": several values for one key are ORed;
//!   several keys, and several operators, are ANDed; negated operators are "NOR" of the values.
//! * Multivalued context keys ("Single-valued vs. multivalued context keys"): `ForAllValues`
//!   "returns true if every context key value in the request matches at least one context key
//!   value in the policy. It also returns true if there are no context keys in the request";
//!   `ForAnyValue` "returns true if at least one of the context key values in the request
//!   matches at least one of the context key values in the policy", false when the key is
//!   absent.
//! * Variables: "You can use a policy variable for Condition values in any condition that
//!   involves the string operators or the ARN operators" (Variables and tags), so only those
//!   operators substitute `${...}`.
//!
//! Not sourced from AWS's documentation:
//! * A single-valued operator (no set qualifier) against a multivalued key is false, negated or
//!   not; iam-simulate records this as confirmed by AWS at re:Inforce 2025 (IAM431).
//! * A policy value that does not parse for its operator (a `NumericEquals` value `ten`) never
//!   matches; IAM may reject such a policy at creation, we cannot tell.
//! * Operator names compare case-insensitively.

mod operator;
mod value;

pub use operator::{BaseOperator, Operator, SetQualifier};

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::arn::arn_condition_matches;
use crate::pattern::{Case, Glob};
use crate::request::{Context, ContextValue};
use crate::variable::{Unresolved, has_variable, substitute};

/// One operator-key pair of a `Condition` block with its values. Built with
/// [`Condition::new`], which reads the values once for every request to come; the fields are
/// read through accessors so what was read can never disagree with them.
#[derive(Clone)]
pub struct Condition {
    operator: Operator,
    /// Shared with every [`ConditionMismatch`] that names it, so explaining a failed condition
    /// copies no text.
    key: Arc<str>,
    values: Arc<[String]>,
    prepared: Prepared,
}

/// What is read from the key and values once, when the condition is built: the key lowercased,
/// whether any value holds `${...}`, and for the numeric, date and IP operators each value
/// parsed (`None` where it does not parse, which never matches).
#[derive(Clone)]
struct Prepared {
    /// `key` lowercased as [`Context`] stores its keys, so looking it up compares bytes.
    lowercase_key: Box<str>,
    /// Whether some value contains `${`.
    variables: bool,
    typed: Typed,
}

/// Policy values parsed for their operator.
#[derive(Clone)]
enum Typed {
    /// String, ARN, `Bool`, `BinaryEquals`, `Null`: compared as text.
    Text,
    Numbers(Box<[Option<f64>]>),
    Dates(Box<[Option<i64>]>),
    Networks(Box<[Option<value::Network>]>),
}

impl Prepared {
    fn new(base: BaseOperator, key: &str, values: &[String]) -> Self {
        use BaseOperator as B;
        let typed = match base {
            B::NumericEquals
            | B::NumericNotEquals
            | B::NumericLessThan
            | B::NumericLessThanEquals
            | B::NumericGreaterThan
            | B::NumericGreaterThanEquals => {
                Typed::Numbers(values.iter().map(|v| value::number(v)).collect())
            }
            B::DateEquals
            | B::DateNotEquals
            | B::DateLessThan
            | B::DateLessThanEquals
            | B::DateGreaterThan
            | B::DateGreaterThanEquals => {
                Typed::Dates(values.iter().map(|v| value::date_millis(v)).collect())
            }
            B::IpAddress | B::NotIpAddress => {
                Typed::Networks(values.iter().map(|v| value::Network::parse(v)).collect())
            }
            _ => Typed::Text,
        };
        Self {
            lowercase_key: key.to_lowercase().into(),
            variables: values.iter().any(|v| has_variable(v)),
            typed,
        }
    }
}

impl Condition {
    /// A condition of `operator` on `key` with the policy `values`.
    pub fn new(operator: Operator, key: Arc<str>, values: Arc<[String]>) -> Self {
        let prepared = Prepared::new(operator.base, &key, &values);
        Self {
            operator,
            key,
            values,
            prepared,
        }
    }

    /// The operator.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    /// The condition key, as written (compared case-insensitively).
    pub fn key(&self) -> &Arc<str> {
        &self.key
    }

    /// The policy values, numbers and booleans as their JSON text.
    pub fn values(&self) -> &Arc<[String]> {
        &self.values
    }
}

// By hand so that what is prepared from the other fields is neither compared nor shown.
impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.operator == other.operator && self.key == other.key && self.values == other.values
    }
}

impl Eq for Condition {}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("operator", &self.operator)
            .field("key", &self.key)
            .field("values", &self.values)
            .finish()
    }
}

/// Why a condition did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionMismatch {
    /// The operator as AWS spells it.
    pub operator: Operator,
    /// The condition key as written in the policy.
    pub key: Arc<str>,
    /// The policy values after variable substitution (unresolved ones left out).
    pub policy_values: Arc<[String]>,
    /// The request values; `None` when the key is not in the request.
    pub request_values: Option<Arc<[String]>>,
    /// Policy values whose `${...}` had no value and no default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
    /// The rule that decided, in words.
    pub reason: MismatchReason,
}

/// The rule behind a [`ConditionMismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchReason {
    /// The key is absent and the operator needs it.
    KeyMissing,
    /// `Null`: the key's presence is not what the policy asks.
    Presence,
    /// A single-valued operator met a multivalued key.
    MultivaluedKey,
    /// No request value satisfied the operator (or, for `ForAllValues`, one did not).
    NoMatch,
}

impl fmt::Display for ConditionMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "condition `{}` on `{}` ", self.operator, self.key)?;
        let wants = List(&self.policy_values);
        match (&self.reason, &self.request_values) {
            (MismatchReason::Presence, Some(_)) => {
                write!(f, "wants the key absent ({wants}), but it is present")
            }
            (MismatchReason::Presence, None) => {
                write!(f, "wants the key present ({wants}), but it is absent")
            }
            (_, None) => write!(
                f,
                "failed: the key is not in the request (policy values {wants})"
            ),
            (MismatchReason::MultivaluedKey, Some(v)) => write!(
                f,
                "failed: the key is multivalued ({}) and the operator has no `ForAllValues:`/`ForAnyValue:`",
                List(v)
            ),
            (_, Some(v)) => write!(
                f,
                "failed: request value {} against policy values {wants}",
                List(v)
            ),
        }?;
        if !self.unresolved.is_empty() {
            write!(f, "; unresolved {}", List(&self.unresolved))?;
        }
        Ok(())
    }
}

/// Renders `["a", "b"]` as `` `a`, `b` `` (or `(none)`).
pub(crate) struct List<'a>(pub(crate) &'a [String]);

impl fmt::Display for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(none)");
        }
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{v}`")?;
        }
        Ok(())
    }
}

impl Condition {
    /// Decides this condition for `context`; `resolve_variables` follows the policy `Version`.
    pub(crate) fn evaluate(
        &self,
        context: &Context,
        resolve_variables: bool,
    ) -> Result<(), ConditionMismatch> {
        let base = self.operator.base;
        let prepared = &self.prepared;
        let entry = context.get_lowercase(&prepared.lowercase_key);

        if base == BaseOperator::Null {
            // "Null": "true" holds when the key is absent, "false" when it is present.
            let present = entry.is_some();
            let holds = self.values.iter().any(|v| {
                (v.eq_ignore_ascii_case("true") && !present)
                    || (v.eq_ignore_ascii_case("false") && present)
            });
            return if holds {
                Ok(())
            } else {
                Err(self.mismatch(
                    entry,
                    MismatchReason::Presence,
                    self.values.clone(),
                    Vec::new(),
                ))
            };
        }

        let resolve = resolve_variables && base.takes_variables();
        if !(resolve && prepared.variables) {
            // No `${...}` to substitute: every value is its own pattern and its own text, as
            // `substitute` would compile it; nothing is compiled or copied unless it fails.
            let failed = |reason| self.mismatch(entry, reason, self.values.clone(), Vec::new());
            // Numbers, dates and networks were parsed when the condition was built; the
            // request value is parsed once, not once per policy value.
            match &prepared.typed {
                Typed::Text => {}
                Typed::Numbers(policy) => {
                    return self
                        .decide(entry, |r| numbers_match(base, policy, r))
                        .map_err(failed);
                }
                Typed::Dates(policy) => {
                    return self
                        .decide(entry, |r| dates_match(base, policy, r))
                        .map_err(failed);
                }
                Typed::Networks(policy) => {
                    return self
                        .decide(entry, |r| networks_match(policy, r))
                        .map_err(failed);
                }
            }
            let values = self
                .values
                .iter()
                .map(|v| (v.as_str(), Glob::Text(v.as_str())));
            return self
                .decide(entry, |r| {
                    values
                        .clone()
                        .any(|(text, pattern)| positive_match(base, text, pattern, r))
                })
                .map_err(failed);
        }

        // Compile policy values once.
        let mut compiled = Vec::new();
        let mut unresolved = Vec::new();
        for value in self.values.iter() {
            match substitute(value, context, resolve) {
                Ok(pattern) => compiled.push((pattern.to_text(), pattern)),
                Err(Unresolved { variable }) => unresolved.push(variable),
            }
        }
        let values = compiled
            .iter()
            .map(|(text, pattern)| (text.as_str(), pattern.as_glob()));
        let positive = |r: &str| {
            values
                .clone()
                .any(|(text, pattern)| positive_match(base, text, pattern, r))
        };
        self.decide(entry, positive).map_err(|reason| {
            let shown = if compiled.is_empty() {
                // every value unresolved: share one empty list rather than allocate one
                static NONE: OnceLock<Arc<[String]>> = OnceLock::new();
                NONE.get_or_init(|| Arc::from([])).clone()
            } else {
                compiled.into_iter().map(|(text, _)| text).collect()
            };
            self.mismatch(entry, reason, shown, unresolved)
        })
    }

    fn mismatch(
        &self,
        entry: Option<&ContextValue>,
        reason: MismatchReason,
        policy_values: Arc<[String]>,
        unresolved: Vec<String>,
    ) -> ConditionMismatch {
        ConditionMismatch {
            operator: self.operator.clone(),
            key: self.key.clone(),
            policy_values,
            request_values: entry.map(|e| e.values.clone()),
            unresolved,
            reason,
        }
    }

    /// Decides the condition for the request `entry`, where `positive` says whether one
    /// request value matches some policy value under the positive form of the operator;
    /// `Err` names the rule that failed.
    fn decide(
        &self,
        entry: Option<&ContextValue>,
        positive: impl Fn(&str) -> bool,
    ) -> Result<(), MismatchReason> {
        let Operator {
            set,
            base,
            if_exists,
        } = self.operator;
        let Some(entry) = entry else {
            let holds = match set {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => if_exists,
                None => if_exists || base.is_negated(),
            };
            return if holds {
                Ok(())
            } else {
                Err(MismatchReason::KeyMissing)
            };
        };

        let satisfies = |request_value: &str| positive(request_value) != base.is_negated();
        let holds = match set {
            Some(SetQualifier::ForAllValues) => entry.values.iter().all(|v| satisfies(v)),
            Some(SetQualifier::ForAnyValue) => entry.values.iter().any(|v| satisfies(v)),
            None => match entry.single() {
                Some(v) => satisfies(v),
                None => return Err(MismatchReason::MultivaluedKey),
            },
        };
        if holds {
            Ok(())
        } else {
            Err(MismatchReason::NoMatch)
        }
    }
}

/// [`positive_match`] of a `Numeric*` operator for policy values parsed in advance.
fn numbers_match(base: BaseOperator, policy: &[Option<f64>], request: &str) -> bool {
    use BaseOperator as B;
    let Some(r) = value::number(request) else {
        return false;
    };
    policy.iter().flatten().any(|&p| match base {
        B::NumericEquals | B::NumericNotEquals => r == p,
        B::NumericLessThan => r < p,
        B::NumericLessThanEquals => r <= p,
        B::NumericGreaterThan => r > p,
        B::NumericGreaterThanEquals => r >= p,
        _ => false,
    })
}

/// [`positive_match`] of a `Date*` operator for policy values parsed in advance.
fn dates_match(base: BaseOperator, policy: &[Option<i64>], request: &str) -> bool {
    use BaseOperator as B;
    let Some(r) = value::date_millis(request) else {
        return false;
    };
    policy.iter().flatten().any(|&p| match base {
        B::DateEquals | B::DateNotEquals => r == p,
        B::DateLessThan => r < p,
        B::DateLessThanEquals => r <= p,
        B::DateGreaterThan => r > p,
        B::DateGreaterThanEquals => r >= p,
        _ => false,
    })
}

/// [`positive_match`] of `IpAddress` / `NotIpAddress` for networks parsed in advance.
fn networks_match(policy: &[Option<value::Network>], request: &str) -> bool {
    let Ok(ip) = request.trim().parse::<IpAddr>() else {
        return false;
    };
    policy.iter().flatten().any(|net| net.contains(ip))
}

/// Whether `request` matches the policy value (`text`, and `policy` as a pattern) under the
/// positive form of `base` (`StringEquals` for `StringNotEquals`, ...).
fn positive_match(base: BaseOperator, text: &str, policy: Glob<'_>, request: &str) -> bool {
    use BaseOperator as B;
    let numbers = |cmp: fn(f64, f64) -> bool| match (value::number(request), value::number(text)) {
        (Some(r), Some(p)) => cmp(r, p),
        _ => false,
    };
    let dates =
        |cmp: fn(i64, i64) -> bool| match (value::date_millis(request), value::date_millis(text)) {
            (Some(r), Some(p)) => cmp(r, p),
            _ => false,
        };
    match base {
        B::StringEquals | B::StringNotEquals => text == request,
        B::StringEqualsIgnoreCase | B::StringNotEqualsIgnoreCase => {
            if text.is_ascii() && request.is_ascii() {
                // `to_lowercase` of ASCII text is its ASCII lowercase
                text.eq_ignore_ascii_case(request)
            } else {
                text.to_lowercase() == request.to_lowercase()
            }
        }
        B::StringLike | B::StringNotLike => policy.matches(request, Case::Sensitive),
        B::NumericEquals | B::NumericNotEquals => numbers(|r, p| r == p),
        B::NumericLessThan => numbers(|r, p| r < p),
        B::NumericLessThanEquals => numbers(|r, p| r <= p),
        B::NumericGreaterThan => numbers(|r, p| r > p),
        B::NumericGreaterThanEquals => numbers(|r, p| r >= p),
        B::DateEquals | B::DateNotEquals => dates(|r, p| r == p),
        B::DateLessThan => dates(|r, p| r < p),
        B::DateLessThanEquals => dates(|r, p| r <= p),
        B::DateGreaterThan => dates(|r, p| r > p),
        B::DateGreaterThanEquals => dates(|r, p| r >= p),
        B::Bool => {
            (text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false"))
                && text.eq_ignore_ascii_case(request)
        }
        B::BinaryEquals => {
            text == request
                || matches!((value::base64(text), value::base64(request)), (Some(a), Some(b)) if a == b)
        }
        B::IpAddress | B::NotIpAddress => {
            match (
                value::Network::parse(text),
                request.trim().parse::<IpAddr>(),
            ) {
                (Some(net), Ok(ip)) => net.contains(ip),
                _ => false,
            }
        }
        // AWS: ArnEquals and ArnLike both check each of the six ARN parts with wildcards.
        B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike => {
            arn_condition_matches(policy, request)
        }
        B::Null => false,
    }
}

#[cfg(test)]
mod tests;
