//! Classification of DynamoDB operations into IAM actions, resources and condition keys.
//!
//! Owns: the mapping of every operation of the DynamoDB 2012-08-10 and DynamoDB Streams
//! 2012-08-10 JSON APIs (as named by the `X-Amz-Target` header) to the IAM authorizations AWS
//! performs for it: action, resource ARN and the request-derived condition keys. The mapping
//! follows the Service Authorization Reference page "Actions, resources, and condition keys for
//! Amazon DynamoDB" (its "API operations" and "Actions" tables); where a choice is not sourced
//! from it, the code says so beside the choice.
//!
//! Must not: do I/O, read the clock or the environment, evaluate policies, or guess. The caller
//! denies on `Err`, so anything this module cannot classify exactly is an `Err`.

mod arn;
mod control_plane;
mod data_plane;
mod expression;
mod json;
mod leading_key;
mod operations;
mod partiql;
mod request;

use std::sync::Arc;

use json::{Arr, Obj};
use operations::{DYNAMODB_OPERATIONS, STREAMS_OPERATIONS};
use request::Request;

use crate::body::{BodyError, JsonObject, RequestBody};

pub use leading_key::{leading_keys, partition_key_value};

/// The account and region the gateway serves, used to build ARNs from names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    pub region: &'a str,
    pub account: &'a str,
}

/// What one request needs: every authorization must be allowed for the request to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The operation name, e.g. `GetItem`.
    pub operation: String,
    pub authorizations: Vec<Authorization>,
    /// The request's JSON object as classification read it (shared with the call's body, not a
    /// copy): what the later stages read instead of parsing the body again.
    pub request: Arc<JsonObject>,
}

/// One IAM authorization: an action on a resource, with the request's condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// E.g. `dynamodb:GetItem`.
    pub action: String,
    /// A full ARN, or `*` for actions without a resource type.
    pub resource: String,
    /// Condition keys derived from the request, e.g. `dynamodb:Attributes`, in a fixed order
    /// (`EnclosingOperation`, `Attributes`, `Select`, `ReturnValues`, `ReturnConsumedCapacity`);
    /// a key the request does not determine is absent.
    pub context: Vec<(String, Vec<String>)>,
}

/// Why a request could not be classified. The caller denies it.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error(
        "target `{target}` is not `DynamoDB_20120810.<operation>` or `DynamoDBStreams_20120810.<operation>`"
    )]
    UnknownTargetPrefix { target: String },
    #[error("unknown operation `{operation}`")]
    UnknownOperation { operation: String },
    #[error("request body is not json")]
    BodyNotJson {
        #[source]
        source: Arc<serde_json::Error>,
    },
    #[error("request body repeats an object key")]
    DuplicateKey {
        #[source]
        source: Arc<serde_json::Error>,
    },
    #[error("request body is not a json object")]
    BodyNotObject,
    #[error("gateway target has an invalid region `{region}` or account `{account}`")]
    InvalidTarget { region: String, account: String },
    #[error("missing required member `{member}`")]
    MissingMember { member: String },
    #[error("member `{member}` is not {expected}")]
    WrongType {
        member: String,
        expected: &'static str,
    },
    #[error("member `{member}` is empty")]
    Empty { member: String },
    #[error("`{value}` in `{member}` is not a valid table name or table arn")]
    InvalidTableName { member: String, value: String },
    #[error("`{value}` in `{member}` is not a valid index name")]
    InvalidIndexName { member: String, value: String },
    #[error("`{value}` in `{member}` is not a valid global table name")]
    InvalidGlobalTableName { member: String, value: String },
    #[error("`{value}` in `{member}` is not a valid region")]
    InvalidRegion { member: String, value: String },
    #[error("`{value}` in `{member}` is not a {expected}")]
    InvalidArn {
        member: String,
        value: String,
        expected: &'static str,
    },
    #[error("`{member}` must have exactly one of {expected}")]
    AmbiguousRequest {
        member: String,
        expected: &'static str,
    },
    #[error("cannot read the expression in `{member}`: {reason}")]
    InvalidExpression {
        member: String,
        reason: &'static str,
    },
    #[error("expression attribute name `{name}` used in `{member}` is not defined")]
    UndefinedName { name: String, member: String },
    #[error("cannot read the partiql statement in `{member}`: {reason}")]
    InvalidStatement {
        member: String,
        reason: &'static str,
    },
}

const DYNAMODB_PREFIX: &str = "DynamoDB_20120810";
const STREAMS_PREFIX: &str = "DynamoDBStreams_20120810";

const ENCLOSING_OPERATION: &str = "dynamodb:EnclosingOperation";
const ATTRIBUTES: &str = "dynamodb:Attributes";
const SELECT: &str = "dynamodb:Select";
const RETURN_VALUES: &str = "dynamodb:ReturnValues";
const RETURN_CONSUMED_CAPACITY: &str = "dynamodb:ReturnConsumedCapacity";

impl From<BodyError> for ClassifyError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::NotJson(source) => ClassifyError::BodyNotJson { source },
            BodyError::RepeatedKey(source) => ClassifyError::DuplicateKey { source },
            BodyError::NotObject => ClassifyError::BodyNotObject,
        }
    }
}

/// Classifies one request: `x_amz_target` is the `X-Amz-Target` header (e.g.
/// `DynamoDB_20120810.GetItem`), `body` the call's body, whose JSON object is read here (once:
/// [`RequestBody`] keeps it) and returned in [`Classified::request`].
pub fn classify(
    x_amz_target: &str,
    body: &RequestBody,
    target: Target<'_>,
) -> Result<Classified, ClassifyError> {
    if !arn::is_valid_region(target.region) || !arn::is_valid_account(target.account) {
        return Err(ClassifyError::InvalidTarget {
            region: target.region.to_owned(),
            account: target.account.to_owned(),
        });
    }
    let (prefix, operation) =
        x_amz_target
            .split_once('.')
            .ok_or_else(|| ClassifyError::UnknownTargetPrefix {
                target: x_amz_target.to_owned(),
            })?;
    let streams = match prefix {
        DYNAMODB_PREFIX => false,
        STREAMS_PREFIX => true,
        _ => {
            return Err(ClassifyError::UnknownTargetPrefix {
                target: x_amz_target.to_owned(),
            });
        }
    };
    let known = if streams {
        STREAMS_OPERATIONS.contains(&operation)
    } else {
        DYNAMODB_OPERATIONS.contains(&operation)
    };
    if !known {
        return Err(ClassifyError::UnknownOperation {
            operation: x_amz_target.to_owned(),
        });
    }
    let map = Arc::clone(body.object()?);
    let request = Request {
        body: Obj::root(&map),
        target,
        operation,
    };
    let authorizations = if streams {
        request.streams_operation()?
    } else {
        request.dynamodb_operation()?
    };
    Ok(Classified {
        operation: operation.to_owned(),
        authorizations,
        request: map,
    })
}

/// Condition keys of one authorization, built in a fixed order.
#[derive(Debug, Default)]
struct Context {
    enclosing_operation: Option<String>,
    attributes: Vec<String>,
    select: Option<String>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
}

impl Context {
    fn add_attributes(&mut self, names: impl IntoIterator<Item = String>) {
        for name in names {
            if !self.attributes.contains(&name) {
                self.attributes.push(name);
            }
        }
    }

    fn into_pairs(self) -> Vec<(String, Vec<String>)> {
        let mut pairs = Vec::new();
        if let Some(op) = self.enclosing_operation {
            pairs.push((ENCLOSING_OPERATION.to_owned(), vec![op]));
        }
        if !self.attributes.is_empty() {
            let mut attributes = self.attributes;
            attributes.sort();
            pairs.push((ATTRIBUTES.to_owned(), attributes));
        }
        if let Some(select) = self.select {
            pairs.push((SELECT.to_owned(), vec![select]));
        }
        if let Some(rv) = self.return_values {
            pairs.push((RETURN_VALUES.to_owned(), vec![rv]));
        }
        if let Some(rcc) = self.return_consumed_capacity {
            pairs.push((RETURN_CONSUMED_CAPACITY.to_owned(), vec![rcc]));
        }
        pairs
    }
}

fn authorization(action: &str, resource: String, context: Context) -> Authorization {
    Authorization {
        action: action.to_owned(),
        resource,
        context: context.into_pairs(),
    }
}

fn plain(action: &str, resource: String) -> Authorization {
    authorization(action, resource, Context::default())
}

/// Checks an enum-valued member against its allowed values (from botocore's model).
fn opt_enum<'a>(
    obj: &Obj<'a>,
    member: &str,
    allowed: &'static [&'static str],
    expected: &'static str,
) -> Result<Option<&'a str>, ClassifyError> {
    match obj.opt_str(member)? {
        Some(v) if !allowed.contains(&v) => Err(obj.wrong_type(member, expected)),
        v => Ok(v),
    }
}

const SELECT_VALUES: &[&str] = &[
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
];
const RETURN_VALUES_VALUES: &[&str] = &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"];
const RETURN_CONSUMED_CAPACITY_VALUES: &[&str] = &["INDEXES", "TOTAL", "NONE"];

fn non_empty(array: Arr<'_>) -> Result<Arr<'_>, ClassifyError> {
    if array.is_empty() {
        Err(ClassifyError::Empty {
            member: array.path().to_owned(),
        })
    } else {
        Ok(array)
    }
}

#[cfg(test)]
mod tests;
