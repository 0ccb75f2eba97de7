//! DynamoDB resource ARNs: building them from names and recognising them in requests.
//!
//! Owns: the ARN formats of the Service Authorization Reference's DynamoDB resource types
//! (`table`, `index`, `stream`, `backup`, `export`, `import`, `global-table`) and the name rules of
//! tables and indexes (3 to 255 of `[a-zA-Z0-9_.-]`, per botocore's `TableName`/`IndexName`).
//! Must not: decide which resource an operation needs.

/// The partition of a region, following the AWS partitions' region prefixes.
pub(super) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// A table or index name: 3 to 255 characters of `[a-zA-Z0-9_.-]`.
pub(super) fn is_valid_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

pub(super) fn is_valid_region(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn is_valid_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

fn is_valid_partition(partition: &str) -> bool {
    partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

/// A label after `stream/`, `backup/`, `export/` or `import/`: non-empty, no `/`, printable.
fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'))
}

/// The kinds of regional DynamoDB resource ARN a request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Table,
    Index,
    Stream,
    Backup,
    Export,
    Import,
}

impl Kind {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Kind::Table => "dynamodb table arn",
            Kind::Index => "dynamodb index arn",
            Kind::Stream => "dynamodb stream arn",
            Kind::Backup => "dynamodb backup arn",
            Kind::Export => "dynamodb export arn",
            Kind::Import => "dynamodb import arn",
        }
    }
}

/// The kind of a well-formed regional DynamoDB ARN, or `None` when `arn` is anything else.
pub(super) fn kind(arn: &str) -> Option<Kind> {
    let resource = regional_resource(arn)?;
    let mut parts = resource.split('/');
    let (Some("table"), Some(table)) = (parts.next(), parts.next()) else {
        return None;
    };
    if !is_valid_name(table) {
        return None;
    }
    let kind = match (parts.next(), parts.next()) {
        (None, _) => return Some(Kind::Table),
        (Some("index"), Some(index)) if is_valid_name(index) => Kind::Index,
        (Some("stream"), Some(label)) if is_valid_label(label) => Kind::Stream,
        (Some("backup"), Some(label)) if is_valid_label(label) => Kind::Backup,
        (Some("export"), Some(label)) if is_valid_label(label) => Kind::Export,
        (Some("import"), Some(label)) if is_valid_label(label) => Kind::Import,
        _ => return None,
    };
    parts.next().is_none().then_some(kind)
}

/// The resource part of `arn:<partition>:dynamodb:<region>:<account>:<resource>` when the
/// prefix is well formed.
pub(super) fn regional_resource(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("dynamodb"), Some(region), Some(account)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    let resource = fields.next()?;
    (is_valid_partition(partition)
        && is_valid_region(region)
        && is_valid_account(account)
        && !resource.is_empty())
    .then_some(resource)
}

/// `arn:<partition>:dynamodb:<region>:<account>:table/<table>`.
pub(super) fn table(region: &str, account: &str, table: &str) -> String {
    format!(
        "arn:{}:dynamodb:{region}:{account}:table/{table}",
        partition(region)
    )
}

/// `arn:<partition>:dynamodb::<account>:global-table/<name>` (global tables version 2017.11.29).
pub(super) fn global_table(region: &str, account: &str, name: &str) -> String {
    format!(
        "arn:{}:dynamodb::{account}:global-table/{name}",
        partition(region)
    )
}

/// The stream ARN inside a shard iterator. AWS's iterators start with it
/// (`<stream arn>|<n>|<token>`, as botocore's `GetRecords` example and the SDKs' endpoint rules,
/// which parse the iterator as an ARN, show); DynamoDB Local's put a version first
/// (`000|<stream arn>|<token>`, as transcripts of DynamoDB Local sessions show). Anything else is
/// `None`.
pub(super) fn stream_of_shard_iterator(iterator: &str) -> Option<&str> {
    let mut fields = iterator.split('|');
    let first = fields.next()?;
    let arn = if first.starts_with("arn:") {
        first
    } else if !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()) {
        fields.next()?
    } else {
        return None;
    };
    let token = fields.next()?;
    (kind(arn) == Some(Kind::Stream) && !token.is_empty()).then_some(arn)
}
