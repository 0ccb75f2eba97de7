//! What a step calls: an STS operation the harness runs, or an operation of DynamoDB's API,
//! parsed once from `<service>:<Operation>`. An operation the service does not have is a file
//! error naming the nearest one it has (`dynamodb:GetItm` → `GetItem`), never a call that fails
//! at run time.

use std::fmt;

/// The STS operations a scenario step can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StsOperation {
    AssumeRoleWithWebIdentity,
    GetCallerIdentity,
}

impl StsOperation {
    pub const ALL: [StsOperation; 2] = [
        StsOperation::AssumeRoleWithWebIdentity,
        StsOperation::GetCallerIdentity,
    ];

    /// The operation's name on the wire (`Action=`).
    pub fn name(self) -> &'static str {
        match self {
            StsOperation::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            StsOperation::GetCallerIdentity => "GetCallerIdentity",
        }
    }
}

/// An operation of DynamoDB's API, one of [`DYNAMODB_OPERATIONS`]. Whether the gateway lets a
/// caller perform it is decided at run time, as AWS decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DynamoDbOperation(&'static str);

impl DynamoDbOperation {
    /// The known operation of this exact name.
    pub fn named(name: &str) -> Option<Self> {
        DYNAMODB_OPERATIONS
            .iter()
            .find(|known| **known == name)
            .map(|known| DynamoDbOperation(known))
    }

    /// The operation's name on the wire (`X-Amz-Target: DynamoDB_20120810.<name>`).
    pub fn name(self) -> &'static str {
        self.0
    }
}

/// One call of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    Sts(StsOperation),
    DynamoDb(DynamoDbOperation),
}

/// The services a step can call, as written before the `:`.
pub const SERVICES: &[&str] = &["sts", "dynamodb"];

impl Call {
    /// `sts` or `dynamodb`.
    pub fn service(&self) -> &'static str {
        match self {
            Call::Sts(_) => "sts",
            Call::DynamoDb(_) => "dynamodb",
        }
    }

    pub fn operation(&self) -> &'static str {
        match self {
            Call::Sts(op) => op.name(),
            Call::DynamoDb(op) => op.name(),
        }
    }

    /// `<service>:<Operation>`; the error says what is wrong and, for an unknown operation,
    /// names the nearest known one.
    pub fn parse(text: &str) -> Result<Call, String> {
        let Some((service, operation)) = text
            .split_once(':')
            .filter(|(s, o)| SERVICES.contains(s) && !o.is_empty())
        else {
            return Err(format!(
                "`{text}` is not `<service>:<Operation>` with service one of: {}",
                SERVICES.join(", ")
            ));
        };
        if service == "sts" {
            let names = StsOperation::ALL.map(StsOperation::name);
            return StsOperation::ALL
                .into_iter()
                .find(|op| op.name() == operation)
                .map(Call::Sts)
                .ok_or_else(|| {
                    format!(
                        "`{operation}` is not an STS operation the harness runs{}; expected one of: {}",
                        nearest_hint(operation, &names),
                        names.join(", ")
                    )
                });
        }
        DynamoDbOperation::named(operation)
            .map(Call::DynamoDb)
            .ok_or_else(|| {
                format!(
                    "`{operation}` is not a DynamoDB operation{}",
                    nearest_hint(operation, DYNAMODB_OPERATIONS)
                )
            })
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service(), self.operation())
    }
}

/// `; the nearest is `X``, or nothing when no name is near.
fn nearest_hint(word: &str, known: &[&str]) -> String {
    match nearest(word, known) {
        Some(name) => format!("; did you mean `{name}`?"),
        None => String::new(),
    }
}

/// The known name closest to `word` by edit distance (case-insensitive), when it is within a
/// third of the word's length (at least 2) of it: near enough to be the one meant.
pub fn nearest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    known
        .iter()
        .map(|name| (edit_distance(&word, &name.to_ascii_lowercase()), *name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance: insertions, deletions and substitutions, one each.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute =
                previous.get(j).copied().unwrap_or(usize::MAX - 1) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(usize::MAX - 1) + 1;
            let insert = current.get(j).copied().unwrap_or(usize::MAX - 1) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

/// The operations of botocore's `dynamodb/2012-08-10` model: what a step may call on DynamoDB.
pub use irsa_core::dynamodb_operations::DYNAMODB_OPERATIONS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_parse_into_their_service_and_operation() {
        let get = Call::parse("dynamodb:GetItem").unwrap();
        assert_eq!((get.service(), get.operation()), ("dynamodb", "GetItem"));
        assert_eq!(get.to_string(), "dynamodb:GetItem");
        assert_eq!(
            Call::parse("sts:AssumeRoleWithWebIdentity").unwrap(),
            Call::Sts(StsOperation::AssumeRoleWithWebIdentity)
        );
    }

    #[test]
    fn an_unknown_operation_names_the_nearest_known_one() {
        let e = Call::parse("dynamodb:GetItm").unwrap_err();
        assert_eq!(
            e,
            "`GetItm` is not a DynamoDB operation; did you mean `GetItem`?"
        );
        let e = Call::parse("dynamodb:querry").unwrap_err();
        assert!(e.ends_with("did you mean `Query`?"), "{e}");
        let e = Call::parse("sts:AssumeRole").unwrap_err();
        assert!(
            e.starts_with(
                "`AssumeRole` is not an STS operation the harness runs; expected one of:"
            ),
            "{e}"
        );
        // Nothing near: no guess.
        assert_eq!(
            Call::parse("dynamodb:Frobnicate").unwrap_err(),
            "`Frobnicate` is not a DynamoDB operation"
        );
        assert!(
            Call::parse("s3:GetObject")
                .unwrap_err()
                .contains("with service one of: sts, dynamodb")
        );
        assert!(Call::parse("dynamodb:").is_err());
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("getitm", "getitem"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("scan", "scan"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
