//! The model constraints of the parameters IAM operations read (botocore's IAM model), checked
//! before authorisation as AWS does, every broken one counted in one coral validation error.

use crate::error::IamError;
use crate::query::Query;

use super::IamOperation;

/// Every model constraint `q` breaks for `operation`, as one `ValidationError`.
pub(super) fn validate(operation: IamOperation, q: &Query) -> Result<(), IamError> {
    let mut errors = Vec::new();
    for (name, member) in operation.required_parameters() {
        if q.get(name).is_none() && q.list(name).is_none() {
            errors.push(format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ));
        }
    }
    names(q, &mut errors);
    if let Some(v) = q.get("Path")
        && !(v == "/" || (v.starts_with('/') && v.ends_with('/') && v.len() <= 512))
    {
        errors.push(format!("Value '{v}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"));
    }
    if let Some(v) = q.get("Url") {
        let len = v.chars().count();
        if !(1..=255).contains(&len) {
            errors.push(format!("Value '{v}' at 'url' failed to satisfy constraint: Member must have length less than or equal to 255"));
        }
    }
    if let Some(v) = q.get("MaxSessionDuration") {
        match v.parse::<i64>() {
            Ok(d) if d < 3600 => errors.push(format!("Value '{d}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")),
            Ok(d) if d > 43200 => errors.push(format!("Value '{d}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200")),
            Ok(_) => {}
            Err(_) => errors.push(format!("Value '{v}' at 'maxSessionDuration' failed to satisfy constraint: Member must be an integer")),
        }
    }
    for (param, member) in [
        ("PolicyDocument", "policyDocument"),
        ("AssumeRolePolicyDocument", "assumeRolePolicyDocument"),
    ] {
        if let Some(v) = q.get(param)
            && v.is_empty()
        {
            errors.push(format!("Value '' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(IamError::Validation(errors))
    }
}

/// `RoleName` and `PolicyName`: length and the `[\w+=,.@-]+` pattern.
fn names(q: &Query, errors: &mut Vec<String>) {
    let name_pattern = |v: &str| {
        v.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
    };
    for (param, member, max) in [
        ("RoleName", "roleName", 64),
        ("PolicyName", "policyName", 128),
    ] {
        if let Some(v) = q.get(param) {
            let len = v.chars().count();
            if len < 1 {
                errors.push(format!("Value '{v}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1"));
            }
            if len > max {
                errors.push(format!("Value '{v}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"));
            }
            if !name_pattern(v) {
                errors.push(format!("Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"));
            }
        }
    }
}
