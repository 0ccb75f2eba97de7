//! Table tests for condition operators. Each table names the AWS documentation sentence it
//! follows ("IAM JSON policy elements: Condition operators" unless stated).

use super::*;

struct Case {
    operator: &'static str,
    values: &'static [&'static str],
    /// `None`: key absent; `Some(Err(..))`: multivalued; `Some(Ok(..))`: single value.
    request: Option<Result<&'static [&'static str], &'static str>>,
    holds: bool,
}

const fn single(v: &'static str) -> Option<Result<&'static [&'static str], &'static str>> {
    Some(Err(v))
}

const fn multi(
    v: &'static [&'static str],
) -> Option<Result<&'static [&'static str], &'static str>> {
    Some(Ok(v))
}

const MISSING: Option<Result<&'static [&'static str], &'static str>> = None;

fn run(table: &[Case]) {
    for (i, case) in table.iter().enumerate() {
        let condition = Condition::new(
            Operator::parse(case.operator).unwrap_or_else(|| panic!("operator {}", case.operator)),
            "test:Key".into(),
            case.values.iter().map(|s| (*s).to_owned()).collect(),
        );
        let mut context = Context::new().with("aws:username", "alice");
        match case.request {
            None => {}
            Some(Err(one)) => context.insert("TEST:key", one),
            Some(Ok(many)) => {
                context.insert_multi("test:key", many.iter().map(|s| (*s).to_owned()).collect())
            }
        }
        let got = condition.evaluate(&context, true);
        assert_eq!(
            got.is_ok(),
            case.holds,
            "case {i}: {} {:?} against {:?}: {got:?}",
            case.operator,
            case.values,
            case.request
        );
    }
}

macro_rules! case {
    ($op:literal, [$($v:literal),*], $req:expr, $holds:expr) => {
        Case { operator: $op, values: &[$($v),*], request: $req, holds: $holds }
    };
}

/// "String condition operators let you construct Condition elements that restrict access based
/// on comparing a key to a string value." StringEquals "Exact matching, case sensitive";
/// StringEqualsIgnoreCase "Exact matching, ignoring case"; StringLike "Case-sensitive matching.
/// The values can include multi-character match wildcards (*) and single-character match
/// wildcards (?) anywhere in the string."
#[test]
fn string_operators() {
    run(&[
        case!("StringEquals", ["abc"], single("abc"), true),
        case!("StringEquals", ["abc"], single("ABC"), false),
        case!("StringEquals", ["a*"], single("abc"), false),
        case!("StringEquals", ["x", "abc"], single("abc"), true),
        case!("StringNotEquals", ["x", "y"], single("abc"), true),
        case!("StringNotEquals", ["x", "abc"], single("abc"), false),
        case!("StringEqualsIgnoreCase", ["ABC"], single("abc"), true),
        case!("StringNotEqualsIgnoreCase", ["ABC"], single("abc"), false),
        case!("StringLike", ["a*c"], single("abbbc"), true),
        case!("StringLike", ["a?c"], single("abbc"), false),
        case!("StringLike", ["A*"], single("abc"), false),
        case!("StringNotLike", ["a*"], single("abc"), false),
        case!("StringNotLike", ["b*"], single("abc"), true),
        case!("StringEquals", ["${aws:username}"], single("alice"), true),
        case!("StringLike", ["${aws:username}-*"], single("alice-1"), true),
    ]);
}

/// "If the key that you specify in a policy condition is not present in the request context,
/// the values do not match and the condition is false. If the policy condition requires that
/// the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
/// present, the condition is true."
#[test]
fn missing_key_fails_positive_and_matches_negated_operators() {
    run(&[
        case!("StringEquals", ["a"], MISSING, false),
        case!("StringLike", ["*"], MISSING, false),
        case!("NumericLessThan", ["1"], MISSING, false),
        case!("Bool", ["true"], MISSING, false),
        case!("StringNotEquals", ["a"], MISSING, true),
        case!("StringNotLike", ["a"], MISSING, true),
        case!("ArnNotLike", ["arn:aws:s3:::b"], MISSING, true),
        case!("NotIpAddress", ["10.0.0.0/8"], MISSING, true),
        case!("NumericNotEquals", ["1"], MISSING, true),
        case!("DateNotEquals", ["2024-01-01"], MISSING, true),
    ]);
}

/// "If the policy key is present in the context of the request, process the key as specified
/// in the policy. If the key is not present, evaluate the condition element as true."
#[test]
fn if_exists_operators() {
    run(&[
        case!("StringEqualsIfExists", ["a"], MISSING, true),
        case!("StringEqualsIfExists", ["a"], single("b"), false),
        case!("StringEqualsIfExists", ["a"], single("a"), true),
        case!("NumericLessThanIfExists", ["5"], single("7"), false),
        case!("ArnLikeIfExists", ["arn:aws:iam::*:role/*"], MISSING, true),
    ]);
}

/// Null: "Use a Null condition operator to check if a condition key is absent at the time of
/// authorization. In the policy statement, use either true (the key doesn't exist — it is null)
/// or false (the key exists and its value is not null)."
#[test]
fn null_operator() {
    run(&[
        case!("Null", ["true"], MISSING, true),
        case!("Null", ["true"], single("x"), false),
        case!("Null", ["false"], single("x"), true),
        case!("Null", ["false"], MISSING, false),
    ]);
    assert_eq!(Operator::parse("NullIfExists"), None);
}

/// Numeric: "Numeric condition operators let you construct Condition elements that restrict
/// access based on comparing a key to an integer or decimal value."
#[test]
fn numeric_operators() {
    run(&[
        case!("NumericEquals", ["10"], single("10"), true),
        case!("NumericEquals", ["10"], single("10.0"), true),
        case!("NumericNotEquals", ["10"], single("11"), true),
        case!("NumericLessThan", ["10"], single("9"), true),
        case!("NumericLessThan", ["10"], single("10"), false),
        case!("NumericLessThanEquals", ["10"], single("10"), true),
        case!("NumericGreaterThan", ["10"], single("10.5"), true),
        case!("NumericGreaterThanEquals", ["10"], single("9.99"), false),
        case!("NumericEquals", ["10"], single("ten"), false),
    ]);
}

/// Date: "Date condition operators let you construct Condition elements that restrict access
/// based on comparing a key to a date/time value." ... "You must specify a date in one of the
/// W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time."
#[test]
fn date_operators() {
    run(&[
        case!(
            "DateEquals",
            ["2024-01-01T00:00:00Z"],
            single("1704067200"),
            true
        ),
        case!(
            "DateNotEquals",
            ["2024-01-01T00:00:00Z"],
            single("2024-01-01T00:00:01Z"),
            true
        ),
        case!(
            "DateLessThan",
            ["2024-01-01T00:00:00Z"],
            single("2023-12-31T23:59:59Z"),
            true
        ),
        case!(
            "DateLessThan",
            ["2024-01-01"],
            single("2024-01-01T00:00:00Z"),
            false
        ),
        case!(
            "DateLessThanEquals",
            ["2024-01-01"],
            single("2024-01-01T00:00:00Z"),
            true
        ),
        case!(
            "DateGreaterThan",
            ["1704067200"],
            single("2024-06-01T12:00:00+02:00"),
            true
        ),
        case!(
            "DateGreaterThanEquals",
            ["2024-01-01T00:00:00Z"],
            single("2023-01-01T00:00:00Z"),
            false
        ),
    ]);
}

/// Bool: "Boolean condition operators let you construct Condition elements that restrict
/// access based on comparing a key to true or false." BinaryEquals: "The BinaryEquals condition
/// operator lets you construct Condition elements that test key values that are in binary
/// format. It compares the value of the specified key byte for byte against a base-64 encoded
/// representation of the binary value in the policy."
#[test]
fn bool_and_binary_operators() {
    run(&[
        case!("Bool", ["true"], single("true"), true),
        case!("Bool", ["true"], single("TRUE"), true),
        case!("Bool", ["false"], single("true"), false),
        case!("Bool", ["yes"], single("yes"), false),
        case!(
            "BinaryEquals",
            ["QmluYXJ5VmFsdWVJbkJhc2U2NA=="],
            single("QmluYXJ5VmFsdWVJbkJhc2U2NA=="),
            true
        ),
        case!(
            "BinaryEquals",
            ["QmluYXJ5VmFsdWVJbkJhc2U2NA=="],
            single("QmluYXJ5VmFsdWVJbkJhc2U2NA"),
            true
        ),
        case!("BinaryEquals", ["QUJD"], single("QUJE"), false),
    ]);
}

/// IP: "IP address condition operators let you construct Condition elements that restrict
/// access based on comparing a key to an IPv4 or IPv6 address or range of IP addresses. You use
/// these with the aws:SourceIp key. The value must be in the standard CIDR format".
#[test]
fn ip_address_operators() {
    run(&[
        case!("IpAddress", ["203.0.113.0/24"], single("203.0.113.9"), true),
        case!(
            "IpAddress",
            ["203.0.113.0/24"],
            single("203.0.112.9"),
            false
        ),
        case!(
            "IpAddress",
            ["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
            single("2001:db8:1234:5678::9"),
            true
        ),
        case!(
            "NotIpAddress",
            ["203.0.113.0/24"],
            single("198.51.100.1"),
            true
        ),
        case!(
            "NotIpAddress",
            ["203.0.113.0/24"],
            single("203.0.113.1"),
            false
        ),
        case!("IpAddress", ["203.0.113.0/24"], single("not-an-ip"), false),
    ]);
}

/// ARN: "ArnEquals, ArnLike: Case-sensitive matching of the ARN. Each of the six
/// colon-delimited components of the ARN is checked separately and each can include
/// multi-character match wildcards (*) or single-character match wildcards (?)."
#[test]
fn arn_operators() {
    run(&[
        case!(
            "ArnEquals",
            ["arn:aws:iam::111122223333:role/r"],
            single("arn:aws:iam::111122223333:role/r"),
            true
        ),
        case!(
            "ArnEquals",
            ["arn:aws:iam::*:role/*"],
            single("arn:aws:iam::111122223333:role/r"),
            true
        ),
        case!(
            "ArnLike",
            ["arn:aws:iam::*:role/R*"],
            single("arn:aws:iam::111122223333:role/r"),
            false
        ),
        case!("ArnLike", ["arn:aws:*:*:*:*"], single("not-an-arn"), false),
        case!(
            "ArnNotEquals",
            ["arn:aws:iam::*:role/x"],
            single("arn:aws:iam::111122223333:role/r"),
            true
        ),
        case!(
            "ArnNotLike",
            ["arn:aws:iam::*:role/*"],
            single("arn:aws:iam::111122223333:role/r"),
            false
        ),
        case!(
            "ArnLike",
            ["arn:aws:sns:*:*:topic-${aws:username}"],
            single("arn:aws:sns:eu-west-1:1:topic-alice"),
            true
        ),
    ]);
}

/// "Single-valued vs. multivalued context keys": ForAllValues "returns true if every context key
/// value in the request matches at least one context key value in the policy. It also returns
/// true if there are no context keys in the request"; ForAnyValue "returns true if at least one
/// of the context key values in the request matches at least one of the context key values in
/// the policy" and false when "there are no context keys in the request".
#[test]
fn set_qualifiers() {
    run(&[
        case!(
            "ForAllValues:StringEquals",
            ["a", "b"],
            multi(&["a", "b"]),
            true
        ),
        case!(
            "ForAllValues:StringEquals",
            ["a", "b"],
            multi(&["a", "c"]),
            false
        ),
        case!("ForAllValues:StringEquals", ["a"], MISSING, true),
        case!("ForAllValues:StringEquals", ["a"], multi(&[]), true),
        case!("ForAnyValue:StringEquals", ["a"], multi(&["c", "a"]), true),
        case!("ForAnyValue:StringEquals", ["a"], multi(&["c"]), false),
        case!("ForAnyValue:StringEquals", ["a"], MISSING, false),
        case!("ForAnyValue:StringEquals", ["a"], multi(&[]), false),
        case!("ForAnyValue:StringEqualsIfExists", ["a"], MISSING, true),
        case!(
            "ForAllValues:StringNotEquals",
            ["x"],
            multi(&["a", "b"]),
            true
        ),
        case!(
            "ForAllValues:StringNotEquals",
            ["a"],
            multi(&["a", "b"]),
            false
        ),
        case!(
            "ForAnyValue:StringNotEquals",
            ["a"],
            multi(&["a", "b"]),
            true
        ),
        case!(
            "ForAnyValue:StringNotEquals",
            ["a", "b"],
            multi(&["a", "b"]),
            false
        ),
        case!("ForAnyValue:StringLike", ["a*"], single("abc"), true),
        case!(
            "ForAllValues:NumericLessThan",
            ["10"],
            multi(&["1", "9"]),
            true
        ),
        // a single-valued operator against a multivalued key (see module docs)
        case!("StringEquals", ["a"], multi(&["a"]), false),
        case!("StringNotEquals", ["x"], multi(&["a"]), false),
    ]);
}

#[test]
fn operator_names_parse_case_insensitively_and_render_canonically() {
    let op = Operator::parse("forallvalues:stringequalsignorecaseifexists").unwrap();
    assert_eq!(
        op.to_string(),
        "ForAllValues:StringEqualsIgnoreCaseIfExists"
    );
    assert_eq!(Operator::parse("StringEqualsX"), None);
    assert_eq!(Operator::parse("ForSomeValues:StringEquals"), None);
}

#[test]
fn unresolved_variable_is_left_out_of_policy_values() {
    // "Policy variables with no value": the value cannot match; for a negated operator that
    // means the condition holds (the oracle's documented difference).
    let condition = Condition::new(
        Operator::parse("StringNotEquals").unwrap(),
        "k".into(),
        vec!["${aws:userid}".to_owned()].into(),
    );
    let context = Context::new().with("k", "v");
    assert!(condition.evaluate(&context, true).is_ok());
    let positive = Condition::new(
        Operator::parse("StringEquals").unwrap(),
        condition.key().clone(),
        condition.values().clone(),
    );
    let err = positive.evaluate(&context, true).unwrap_err();
    assert_eq!(err.unresolved, vec!["${aws:userid}"]);
}

#[test]
fn mismatch_display_shows_compared_values() {
    let condition = Condition::new(
        Operator::parse("StringEquals").unwrap(),
        "oidc.example/id/X:sub".into(),
        vec!["system:serviceaccount:curity:dynamo-sa".to_owned()].into(),
    );
    let context = Context::new().with("oidc.example/id/X:sub", "system:serviceaccount:other:sa");
    let err = condition.evaluate(&context, true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "condition `StringEquals` on `oidc.example/id/X:sub` failed: request value `system:serviceaccount:other:sa` against policy values `system:serviceaccount:curity:dynamo-sa`"
    );
}
