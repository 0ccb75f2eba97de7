//! DynamoDB Local names every resource `arn:aws:dynamodb:ddblocal:000000000000:…`, whatever the
//! region and account of the caller. AWS names them with the caller's region and account. So
//! the gateway rewrites ARNs both ways: requests carrying the world's ARNs (`TableName` given as
//! an ARN, `StreamArn`, `ResourceArn`, …) reach DynamoDB Local in its own form, and responses
//! (`TableArn`, `LatestStreamArn`, `IndexArn`, `StreamArn`, …) reach the client in AWS's.
//! Pure: bytes in, bytes out.

/// The prefix DynamoDB Local gives every ARN it returns (observed with DynamoDB Local 3.3.1).
pub const BACKEND_PREFIX: &str = "arn:aws:dynamodb:ddblocal:000000000000:";

/// The prefix of the world's DynamoDB ARNs for one region and account.
pub fn world_prefix(region: &str, account: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:")
}

/// `body` with every `from` replaced by `to`; `None` when there is nothing to replace (the
/// body is then forwarded as it is, byte for byte).
pub fn replace(body: &[u8], from: &str, to: &str) -> Option<Vec<u8>> {
    let from = from.as_bytes();
    let find = |haystack: &[u8]| {
        if from.is_empty() {
            return None;
        }
        haystack.windows(from.len()).position(|w| w == from)
    };
    // One pass: bodies without the prefix (most of them) are left as they are.
    let mut at = find(body)?;
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    loop {
        let (head, tail) = rest.split_at(at);
        out.extend_from_slice(head);
        out.extend_from_slice(to.as_bytes());
        rest = tail.get(from.len()..).unwrap_or_default();
        match find(rest) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.extend_from_slice(rest);
    Some(out)
}

/// A request body as DynamoDB Local must see it.
pub fn to_backend(body: &[u8], region: &str, account: &str) -> Option<Vec<u8>> {
    replace(body, &world_prefix(region, account), BACKEND_PREFIX)
}

/// A response body as the client must see it.
pub fn to_client(body: &[u8], region: &str, account: &str) -> Option<Vec<u8>> {
    replace(body, BACKEND_PREFIX, &world_prefix(region, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_name_the_world_region_and_account() {
        let body = br#"{"Table":{"TableArn":"arn:aws:dynamodb:ddblocal:000000000000:table/curity-accounts","LatestStreamArn":"arn:aws:dynamodb:ddblocal:000000000000:table/curity-accounts/stream/2026-11-29T01:21:30.443"}}"#;
        let out = to_client(body, "eu-west-1", "111122223333").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"Table":{"TableArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts","LatestStreamArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts/stream/2026-11-29T01:21:30.443"}}"#
        );
    }

    #[test]
    fn requests_reach_the_backend_in_its_own_form() {
        let body = br#"{"StreamArn":"arn:aws:dynamodb:eu-west-1:111122223333:table/t/stream/x"}"#;
        assert_eq!(
            to_backend(body, "eu-west-1", "111122223333").unwrap(),
            br#"{"StreamArn":"arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x"}"#
        );
    }

    #[test]
    fn other_accounts_and_bodies_without_arns_are_left_alone() {
        let body = br#"{"TableName":"arn:aws:dynamodb:eu-west-1:444455556666:table/t"}"#;
        assert_eq!(to_backend(body, "eu-west-1", "111122223333"), None);
        assert_eq!(to_client(b"{}", "eu-west-1", "111122223333"), None);
        assert_eq!(replace(b"aXbXc", "X", "YY").unwrap(), b"aYYbYYc");
    }
}
