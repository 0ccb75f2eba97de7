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
mod expression;
mod json;
mod leading_key;
mod partiql;

use serde_json::{Map, Value};

use json::{Arr, Obj};

pub use leading_key::leading_keys;

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
        source: serde_json::Error,
    },
    #[error("request body repeats an object key")]
    DuplicateKey {
        #[source]
        source: serde_json::Error,
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

/// Classifies one request: `x_amz_target` is the `X-Amz-Target` header (e.g.
/// `DynamoDB_20120810.GetItem`), `body` the raw JSON request body.
pub fn classify(
    x_amz_target: &str,
    body: &[u8],
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
    let map = json::parse_object(body)?;
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
    })
}

/// The operations of botocore's `dynamodb/2012-08-10` model.
const DYNAMODB_OPERATIONS: &[&str] = &[
    "BatchExecuteStatement",
    "BatchGetItem",
    "BatchWriteItem",
    "CancelBulkOperation",
    "CreateBackup",
    "CreateGlobalTable",
    "CreateTable",
    "DeleteBackup",
    "DeleteItem",
    "DeleteResourcePolicy",
    "DeleteTable",
    "DescribeBackup",
    "DescribeBulkOperation",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeEndpoints",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTableReplicaAutoScaling",
    "DescribeTimeToLive",
    "DisableKinesisStreamingDestination",
    "EnableKinesisStreamingDestination",
    "ExecuteStatement",
    "ExecuteTransaction",
    "ExportTableToPointInTime",
    "GetItem",
    "GetResourcePolicy",
    "ImportTable",
    "ListBackups",
    "ListBulkOperations",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "ListTables",
    "ListTagsOfResource",
    "PutItem",
    "PutResourcePolicy",
    "Query",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "Scan",
    "SearchVectors",
    "StartBulkPutItems",
    "TagResource",
    "TransactGetItems",
    "TransactWriteItems",
    "UntagResource",
    "UpdateContinuousBackups",
    "UpdateContributorInsights",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateItem",
    "UpdateKinesisStreamingDestination",
    "UpdateTable",
    "UpdateTableReplicaAutoScaling",
    "UpdateTimeToLive",
];

/// The operations of botocore's `dynamodbstreams/2012-08-10` model.
const STREAMS_OPERATIONS: &[&str] = &[
    "DescribeStream",
    "GetRecords",
    "GetShardIterator",
    "ListStreams",
];

/// The item-level actions that restoring a table authorizes on the new table, from the "API
/// operations" table of the Service Authorization Reference (`RestoreTableFromBackup`,
/// `RestoreTableToPointInTime`).
const RESTORE_ITEM_ACTIONS: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
];

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

struct Request<'a> {
    body: Obj<'a>,
    target: Target<'a>,
    operation: &'a str,
}

impl<'a> Request<'a> {
    fn action(&self) -> String {
        format!("dynamodb:{}", self.operation)
    }

    /// The ARN of the table named (or given as a table ARN) in `obj.member`.
    fn table_arn_in(&self, obj: &Obj<'a>, member: &str) -> Result<String, ClassifyError> {
        let value = obj.str(member)?;
        self.table_arn_of(value, &obj.path_of(member))
    }

    /// A table name becomes the ARN in the gateway's region and account; a valid table ARN is
    /// used as is (DynamoDB accepts table ARNs wherever it takes a `TableName`).
    fn table_arn_of(&self, value: &str, member: &str) -> Result<String, ClassifyError> {
        if value.starts_with("arn:") {
            if arn::kind(value) == Some(arn::Kind::Table) {
                return Ok(value.to_owned());
            }
        } else if arn::is_valid_name(value) {
            return Ok(arn::table(self.target.region, self.target.account, value));
        }
        Err(ClassifyError::InvalidTableName {
            member: member.to_owned(),
            value: value.to_owned(),
        })
    }

    fn index_name_in(&self, obj: &Obj<'a>, member: &str) -> Result<Option<&'a str>, ClassifyError> {
        match obj.opt_str(member)? {
            Some(index) if !arn::is_valid_name(index) => Err(ClassifyError::InvalidIndexName {
                member: obj.path_of(member),
                value: index.to_owned(),
            }),
            index => Ok(index),
        }
    }

    /// The table ARN of `TableName`, or its index ARN when `IndexName` is present.
    fn table_or_index_arn(&self, obj: &Obj<'a>) -> Result<String, ClassifyError> {
        let table = self.table_arn_in(obj, "TableName")?;
        Ok(match self.index_name_in(obj, "IndexName")? {
            Some(index) => format!("{table}/index/{index}"),
            None => table,
        })
    }

    /// An ARN of one of `kinds` in `obj.member`, used as is.
    fn arn_in(
        &self,
        obj: &Obj<'a>,
        member: &str,
        kinds: &[arn::Kind],
    ) -> Result<String, ClassifyError> {
        let value = obj.str(member)?;
        match arn::kind(value) {
            Some(kind) if kinds.contains(&kind) => Ok(value.to_owned()),
            _ => Err(ClassifyError::InvalidArn {
                member: obj.path_of(member),
                value: value.to_owned(),
                expected: kinds.first().map_or("dynamodb arn", |k| k.describe()),
            }),
        }
    }

    fn global_table_arn(&self) -> Result<(String, &'a str), ClassifyError> {
        let name = self.body.str("GlobalTableName")?;
        if !arn::is_valid_name(name) {
            return Err(ClassifyError::InvalidGlobalTableName {
                member: "GlobalTableName".to_owned(),
                value: name.to_owned(),
            });
        }
        Ok((
            arn::global_table(self.target.region, self.target.account, name),
            name,
        ))
    }

    fn region_in(&self, obj: &Obj<'a>, member: &str) -> Result<&'a str, ClassifyError> {
        let region = obj.str(member)?;
        if arn::is_valid_region(region) {
            Ok(region)
        } else {
            Err(ClassifyError::InvalidRegion {
                member: obj.path_of(member),
                value: region.to_owned(),
            })
        }
    }

    fn return_consumed_capacity(&self) -> Result<Option<String>, ClassifyError> {
        Ok(opt_enum(
            &self.body,
            "ReturnConsumedCapacity",
            RETURN_CONSUMED_CAPACITY_VALUES,
            "one of `INDEXES`, `TOTAL`, `NONE`",
        )?
        .map(str::to_owned))
    }

    fn dynamodb_operation(&self) -> Result<Vec<Authorization>, ClassifyError> {
        let action = self.action();
        let action = action.as_str();
        let body = &self.body;
        let one = |resource: String| Ok(vec![plain(action, resource)]);
        match self.operation {
            "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" => {
                let (resource, context) = self.item_operation(body, self.operation, None)?;
                Ok(vec![authorization(action, resource, context)])
            }
            "Query" | "Scan" => self.query_or_scan(action),
            "BatchGetItem" => self.batch_get_item(action),
            "BatchWriteItem" => self.batch_write_item(action),
            "TransactGetItems" | "TransactWriteItems" => self.transact_items(),
            "ExecuteStatement" => {
                let statement = self.statement(body, "Statement", None)?;
                Ok(vec![statement])
            }
            "BatchExecuteStatement" => {
                let statements = non_empty(body.array("Statements")?)?;
                statements
                    .objects()?
                    .iter()
                    .map(|s| self.statement(s, "Statement", None))
                    .collect()
            }
            // `dynamodb:EnclosingOperation` = `ExecuteTransaction` for the statements of a PartiQL
            // transaction: the developer guide's "IAM security policies with PartiQL for
            // DynamoDB" (ql-iam) conditions on exactly that value.
            "ExecuteTransaction" => {
                let statements = non_empty(body.array("TransactStatements")?)?;
                statements
                    .objects()?
                    .iter()
                    .map(|s| self.statement(s, "Statement", Some("ExecuteTransaction")))
                    .collect()
            }

            // Table-level operations on `TableName` (a name or table ARN).
            "CreateBackup"
            | "DeleteTable"
            | "DescribeContinuousBackups"
            | "DescribeKinesisStreamingDestination"
            | "DescribeTable"
            | "DescribeTableReplicaAutoScaling"
            | "DescribeTimeToLive"
            | "DisableKinesisStreamingDestination"
            | "EnableKinesisStreamingDestination"
            | "UpdateContinuousBackups"
            | "UpdateKinesisStreamingDestination"
            | "UpdateTable"
            | "UpdateTableReplicaAutoScaling"
            | "UpdateTimeToLive" => one(self.table_arn_in(body, "TableName")?),
            // UNSOURCED: the bulk-operation API postdates the stored reference page; its action
            // is assumed to follow DynamoDB's operation-name convention, on the target table.
            "StartBulkPutItems" => one(self.table_arn_in(body, "TableName")?),
            "CreateTable" => self.create_table(action),
            // The reference: `index` (optional) and `table*`; with `IndexName` the index ARN is
            // authorized, as for `Query`/`Scan` on an index.
            "DescribeContributorInsights" | "UpdateContributorInsights" => {
                one(self.table_or_index_arn(body)?)
            }
            // The reference: `index*` and `table*` are both required.
            "SearchVectors" => {
                let table = self.table_arn_in(body, "TableName")?;
                let index = self
                    .index_name_in(body, "IndexName")?
                    .ok_or_else(|| body.missing("IndexName"))?;
                Ok(vec![
                    plain(action, format!("{table}/index/{index}")),
                    plain(action, table),
                ])
            }
            // The reference: `table*`, and the table must be named by ARN (`TableArn`).
            "ExportTableToPointInTime" => {
                one(self.arn_in(body, "TableArn", &[arn::Kind::Table])?)
            }
            "ImportTable" => {
                let params = body.obj("TableCreationParameters")?;
                one(self.table_arn_in(&params, "TableName")?)
            }
            // The reference: `table` (optional). With `TableArn` the table is authorized.
            // UNSOURCED: without it, `*` (the action then has no resource to name).
            "ListExports" | "ListImports" => match body.opt_str("TableArn")? {
                Some(_) => one(self.arn_in(body, "TableArn", &[arn::Kind::Table])?),
                None => one("*".to_owned()),
            },

            // Backups, exports, imports by ARN.
            "DeleteBackup" | "DescribeBackup" => {
                one(self.arn_in(body, "BackupArn", &[arn::Kind::Backup])?)
            }
            "DescribeExport" => one(self.arn_in(body, "ExportArn", &[arn::Kind::Export])?),
            "DescribeImport" => one(self.arn_in(body, "ImportArn", &[arn::Kind::Import])?),
            "RestoreTableFromBackup" => {
                let backup = self.arn_in(body, "BackupArn", &[arn::Kind::Backup])?;
                let target_table = self.table_arn_in(body, "TargetTableName")?;
                let mut out = vec![plain(action, backup), plain(action, target_table.clone())];
                out.extend(
                    RESTORE_ITEM_ACTIONS
                        .iter()
                        .map(|a| plain(a, target_table.clone())),
                );
                Ok(out)
            }
            // The restore action on the source table; the item actions of the operations table
            // on the new table. UNSOURCED: which table each applies to is not in the reference.
            "RestoreTableToPointInTime" => {
                let source = match (
                    body.opt_str("SourceTableArn")?,
                    body.opt_str("SourceTableName")?,
                ) {
                    (Some(_), None) => self.arn_in(body, "SourceTableArn", &[arn::Kind::Table])?,
                    (None, Some(_)) => self.table_arn_in(body, "SourceTableName")?,
                    _ => {
                        return Err(ClassifyError::AmbiguousRequest {
                            member: "SourceTableArn".to_owned(),
                            expected: "`SourceTableArn` or `SourceTableName`",
                        });
                    }
                };
                let target_table = self.table_arn_in(body, "TargetTableName")?;
                let mut out = vec![plain(action, source)];
                out.extend(
                    RESTORE_ITEM_ACTIONS
                        .iter()
                        .map(|a| plain(a, target_table.clone())),
                );
                Ok(out)
            }

            // Resource policies and tags: a table or a stream (the reference's `stream*`/`table*`).
            "DeleteResourcePolicy"
            | "GetResourcePolicy"
            | "PutResourcePolicy"
            | "ListTagsOfResource"
            | "TagResource"
            | "UntagResource" => {
                one(self.arn_in(body, "ResourceArn", &[arn::Kind::Table, arn::Kind::Stream])?)
            }

            // Global tables, version 2017.11.29: the reference names `global-table*` and `table*`.
            "DescribeGlobalTable" | "DescribeGlobalTableSettings" => {
                one(self.global_table_arn()?.0)
            }
            // UNSOURCED: the `table*` of these actions taken as the replica tables of the regions
            // the request names (the table of a global table has the global table's name).
            "CreateGlobalTable" => {
                let (global, name) = self.global_table_arn()?;
                let mut out = vec![plain(action, global)];
                for replica in non_empty(body.array("ReplicationGroup")?)?.objects()? {
                    let region = self.region_in(&replica, "RegionName")?;
                    out.push(plain(action, arn::table(region, self.target.account, name)));
                }
                Ok(out)
            }
            "UpdateGlobalTable" => {
                let (global, name) = self.global_table_arn()?;
                let mut out = vec![plain(action, global)];
                for update in non_empty(body.array("ReplicaUpdates")?)?.objects()? {
                    let change = match (update.opt_obj("Create")?, update.opt_obj("Delete")?) {
                        (Some(c), None) => c,
                        (None, Some(d)) => d,
                        _ => {
                            return Err(ClassifyError::AmbiguousRequest {
                                member: update.path_of("Create"),
                                expected: "`Create` or `Delete`",
                            });
                        }
                    };
                    let region = self.region_in(&change, "RegionName")?;
                    out.push(plain(action, arn::table(region, self.target.account, name)));
                }
                Ok(out)
            }
            // UNSOURCED: `table*` taken as the replica in the gateway's region.
            "UpdateGlobalTableSettings" => {
                let (global, name) = self.global_table_arn()?;
                Ok(vec![
                    plain(action, global),
                    plain(
                        action,
                        arn::table(self.target.region, self.target.account, name),
                    ),
                ])
            }

            // UNSOURCED: the bulk-operation ARN is used as is; its format is not in the stored
            // reference, so any well-formed regional DynamoDB ARN is accepted.
            "DescribeBulkOperation" | "CancelBulkOperation" => {
                let value = body.str("BulkOperationArn")?;
                if arn::regional_resource(value).is_none() {
                    return Err(ClassifyError::InvalidArn {
                        member: "BulkOperationArn".to_owned(),
                        value: value.to_owned(),
                        expected: "dynamodb arn",
                    });
                }
                one(value.to_owned())
            }

            // Sourced: AccessDenied messages for `ListTables` read `… on resource:
            // arn:aws:dynamodb:us-east-1:<account>:table/*` (AntonShuvaev/intellij-dynamodb#20,
            // 2022). Older ones (sebdah/dynamic-dynamodb#321, 2017; rebuy-de/aws-nuke#265, 2018)
            // read `on resource: *`; the newer form is used.
            "ListTables" => one(format!(
                "arn:{}:dynamodb:{}:{}:table/*",
                arn::partition(self.target.region),
                self.target.region,
                self.target.account
            )),
            // The reference gives these actions no resource type, so policies must grant `*`.
            // UNSOURCED: the resource AWS names in their AccessDenied messages; `*` is used.
            "DescribeEndpoints"
            | "DescribeLimits"
            | "ListBackups"
            | "ListContributorInsights"
            | "ListGlobalTables"
            | "ListBulkOperations" => one("*".to_owned()),
            other => Err(ClassifyError::UnknownOperation {
                operation: other.to_owned(),
            }),
        }
    }

    fn streams_operation(&self) -> Result<Vec<Authorization>, ClassifyError> {
        let action = self.action();
        let body = &self.body;
        let resource = match self.operation {
            "DescribeStream" | "GetShardIterator" => {
                self.arn_in(body, "StreamArn", &[arn::Kind::Stream])?
            }
            "GetRecords" => {
                let iterator = body.str("ShardIterator")?;
                arn::stream_of_shard_iterator(iterator)
                    .ok_or_else(|| ClassifyError::InvalidArn {
                        member: "ShardIterator".to_owned(),
                        value: iterator.to_owned(),
                        expected: "shard iterator starting with a dynamodb stream arn",
                    })?
                    .to_owned()
            }
            // The reference gives `ListStreams` no resource type. UNSOURCED: `*`.
            "ListStreams" => "*".to_owned(),
            other => {
                return Err(ClassifyError::UnknownOperation {
                    operation: other.to_owned(),
                });
            }
        };
        Ok(vec![plain(&action, resource)])
    }

    /// `CreateTable`; with `ResourcePolicy` it also needs `dynamodb:PutResourcePolicy` on the
    /// table (the reference's operations table lists it for `CreateTable`).
    fn create_table(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
        let table = self.table_arn_in(&self.body, "TableName")?;
        let mut out = vec![plain(action, table.clone())];
        if self.body.opt_str("ResourcePolicy")?.is_some() {
            out.push(plain("dynamodb:PutResourcePolicy", table));
        }
        Ok(out)
    }

    /// The resource and condition keys of a `GetItem`/`PutItem`/`UpdateItem`/`DeleteItem`/
    /// `ConditionCheck`-shaped object (top-level request or transaction item).
    fn item_operation(
        &self,
        obj: &Obj<'a>,
        kind: &str,
        enclosing: Option<&str>,
    ) -> Result<(String, Context), ClassifyError> {
        let resource = self.table_arn_in(obj, "TableName")?;
        let names = obj.opt_obj("ExpressionAttributeNames")?;
        let names = names.as_ref().map(Obj::map);
        let mut context = Context {
            enclosing_operation: enclosing.map(str::to_owned),
            ..Context::default()
        };
        if kind == "PutItem" {
            context.add_attributes(obj.obj("Item")?.map().keys().cloned());
        } else {
            let key = obj.obj("Key")?;
            if key.map().is_empty() {
                return Err(ClassifyError::Empty {
                    member: obj.path_of("Key"),
                });
            }
            context.add_attributes(key.map().keys().cloned());
        }
        if kind == "GetItem" {
            let projected = self.projection(obj, names, &mut context)?;
            context.select = Some(implied_select(projected, false));
        } else {
            // Attributes "read, written, or evaluated in a conditional write" (developer guide,
            // "Using IAM policy conditions for fine-grained access control", example 2).
            self.expression_names(obj, "UpdateExpression", names, &mut context)?;
            context.add_attributes(obj.opt_keys("AttributeUpdates")?);
            self.expression_names(obj, "ConditionExpression", names, &mut context)?;
            context.add_attributes(obj.opt_keys("Expected")?);
            // "the `ReturnValues` parameter always has a value (`NONE` unless otherwise
            // specified)" (same page). Transaction items have no `ReturnValues`: `NONE`.
            let explicit = if enclosing.is_none() {
                opt_enum(
                    obj,
                    "ReturnValues",
                    RETURN_VALUES_VALUES,
                    "one of `NONE`, `ALL_OLD`, `UPDATED_OLD`, `ALL_NEW`, `UPDATED_NEW`",
                )?
            } else {
                None
            };
            context.return_values = Some(explicit.unwrap_or("NONE").to_owned());
        }
        context.return_consumed_capacity = self.return_consumed_capacity()?;
        Ok((resource, context))
    }

    /// Adds the top-level attributes of the expression in `obj.member`, when present.
    fn expression_names(
        &self,
        obj: &Obj<'a>,
        member: &str,
        names: Option<&Map<String, Value>>,
        context: &mut Context,
    ) -> Result<(), ClassifyError> {
        if let Some(expr) = obj.opt_str(member)? {
            context.add_attributes(expression::top_level_names(
                expr,
                names,
                &obj.path_of(member),
            )?);
        }
        Ok(())
    }

    /// Adds the attributes of `ProjectionExpression` or `AttributesToGet`; returns whether the
    /// request projects specific attributes.
    fn projection(
        &self,
        obj: &Obj<'a>,
        names: Option<&Map<String, Value>>,
        context: &mut Context,
    ) -> Result<bool, ClassifyError> {
        match (
            obj.opt_str("ProjectionExpression")?,
            obj.opt_array("AttributesToGet")?,
        ) {
            (Some(_), Some(_)) => Err(ClassifyError::AmbiguousRequest {
                member: obj.path_of("ProjectionExpression"),
                expected: "`ProjectionExpression` or `AttributesToGet`",
            }),
            (Some(projection), None) => {
                context.add_attributes(expression::top_level_names(
                    projection,
                    names,
                    &obj.path_of("ProjectionExpression"),
                )?);
                Ok(true)
            }
            (None, Some(list)) => {
                context.add_attributes(list.strings()?.into_iter().map(str::to_owned));
                Ok(true)
            }
            (None, None) => Ok(false),
        }
    }

    fn query_or_scan(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
        let body = &self.body;
        let resource = self.table_or_index_arn(body)?;
        let on_index = body.has("IndexName");
        let names = body.opt_obj("ExpressionAttributeNames")?;
        let names = names.as_ref().map(Obj::map);
        let mut context = Context::default();
        let projected = self.projection(body, names, &mut context)?;
        if self.operation == "Query" {
            self.expression_names(body, "KeyConditionExpression", names, &mut context)?;
            context.add_attributes(body.opt_keys("KeyConditions")?);
            context.add_attributes(body.opt_keys("QueryFilter")?);
        } else {
            context.add_attributes(body.opt_keys("ScanFilter")?);
        }
        // Attributes "evaluated in a … scan filter" count too (developer guide, as above).
        self.expression_names(body, "FilterExpression", names, &mut context)?;
        let explicit = opt_enum(
            body,
            "Select",
            SELECT_VALUES,
            "one of `ALL_ATTRIBUTES`, `ALL_PROJECTED_ATTRIBUTES`, `SPECIFIC_ATTRIBUTES`, `COUNT`",
        )?;
        context.select = Some(match explicit {
            Some(select) => select.to_owned(),
            None => implied_select(projected, on_index),
        });
        context.return_consumed_capacity = self.return_consumed_capacity()?;
        Ok(vec![authorization(action, resource, context)])
    }

    fn batch_get_item(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
        let items = self.body.obj("RequestItems")?;
        let rcc = self.return_consumed_capacity()?;
        let entries = items.entries_as_objects()?;
        if entries.is_empty() {
            return Err(ClassifyError::Empty {
                member: "RequestItems".to_owned(),
            });
        }
        entries
            .into_iter()
            .map(|(table, request)| {
                let resource = self.table_arn_of(table, &items.path_of(table))?;
                let names = request.opt_obj("ExpressionAttributeNames")?;
                let names = names.as_ref().map(Obj::map);
                let mut context = Context::default();
                for key in non_empty(request.array("Keys")?)?.objects()? {
                    context.add_attributes(key.map().keys().cloned());
                }
                let projected = self.projection(&request, names, &mut context)?;
                context.select = Some(implied_select(projected, false));
                context.return_consumed_capacity = rcc.clone();
                Ok(authorization(action, resource, context))
            })
            .collect()
    }

    fn batch_write_item(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
        let items = self.body.obj("RequestItems")?;
        let rcc = self.return_consumed_capacity()?;
        if items.map().is_empty() {
            return Err(ClassifyError::Empty {
                member: "RequestItems".to_owned(),
            });
        }
        let mut out = Vec::new();
        for table in items.map().keys() {
            let resource = self.table_arn_of(table, &items.path_of(table))?;
            let mut context = Context::default();
            for write in non_empty(items.array(table)?)?.objects()? {
                match (
                    write.opt_obj("PutRequest")?,
                    write.opt_obj("DeleteRequest")?,
                ) {
                    (Some(put), None) => {
                        context.add_attributes(put.obj("Item")?.map().keys().cloned());
                    }
                    (None, Some(delete)) => {
                        context.add_attributes(delete.obj("Key")?.map().keys().cloned());
                    }
                    _ => {
                        return Err(ClassifyError::AmbiguousRequest {
                            member: write.path_of("PutRequest"),
                            expected: "`PutRequest` or `DeleteRequest`",
                        });
                    }
                }
            }
            context.return_consumed_capacity = rcc.clone();
            out.push(authorization(action, resource, context));
        }
        Ok(out)
    }

    /// `TransactGetItems`: `dynamodb:GetItem` per item; `TransactWriteItems`:
    /// `dynamodb:ConditionCheckItem`/`PutItem`/`DeleteItem`/`UpdateItem` per item; each with
    /// `dynamodb:EnclosingOperation` naming the transaction.
    fn transact_items(&self) -> Result<Vec<Authorization>, ClassifyError> {
        let items = non_empty(self.body.array("TransactItems")?)?;
        let write = self.operation == "TransactWriteItems";
        let mut out = Vec::new();
        for item in items.objects()? {
            let kinds: &[(&str, &str, &str)] = if write {
                &[
                    (
                        "ConditionCheck",
                        "ConditionCheckItem",
                        "dynamodb:ConditionCheckItem",
                    ),
                    ("Put", "PutItem", "dynamodb:PutItem"),
                    ("Delete", "DeleteItem", "dynamodb:DeleteItem"),
                    ("Update", "UpdateItem", "dynamodb:UpdateItem"),
                ]
            } else {
                &[("Get", "GetItem", "dynamodb:GetItem")]
            };
            let mut present = Vec::new();
            for &(member, kind, action) in kinds {
                if let Some(obj) = item.opt_obj(member)? {
                    present.push((obj, kind, action));
                }
            }
            let [(obj, kind, action)] =
                <[_; 1]>::try_from(present).map_err(|_| ClassifyError::AmbiguousRequest {
                    member: item.path_of(if write { "Put" } else { "Get" }),
                    expected: if write {
                        "`ConditionCheck`, `Put`, `Delete` or `Update`"
                    } else {
                        "`Get`"
                    },
                })?;
            let (resource, context) = self.item_operation(&obj, kind, Some(self.operation))?;
            out.push(authorization(action, resource, context));
        }
        Ok(out)
    }

    /// One PartiQL statement in `obj.member`.
    fn statement(
        &self,
        obj: &Obj<'a>,
        member: &str,
        enclosing: Option<&str>,
    ) -> Result<Authorization, ClassifyError> {
        let text = obj.str(member)?;
        let path = obj.path_of(member);
        let statement = partiql::parse(text).map_err(|reason| ClassifyError::InvalidStatement {
            member: path.clone(),
            reason,
        })?;
        let table = self.table_arn_of(&statement.table, &path)?;
        let resource = match statement.index {
            Some(index) if arn::is_valid_name(&index) => format!("{table}/index/{index}"),
            Some(index) => {
                return Err(ClassifyError::InvalidIndexName {
                    member: path,
                    value: index,
                });
            }
            None => table,
        };
        let context = Context {
            enclosing_operation: enclosing.map(str::to_owned),
            ..Context::default()
        };
        Ok(authorization(statement.verb.action(), resource, context))
    }
}

fn non_empty(array: Arr<'_>) -> Result<Arr<'_>, ClassifyError> {
    if array.is_empty() {
        Err(ClassifyError::Empty {
            member: array.path().to_owned(),
        })
    } else {
        Ok(array)
    }
}

/// The `Select` a read implies when the request does not set it. The developer guide says reads
/// always carry `dynamodb:Select` ("`ALL_ATTRIBUTES`, unless otherwise specified"); the API
/// reference of `Query`/`Scan` gives the defaults used here: `SPECIFIC_ATTRIBUTES` with a
/// projection, otherwise `ALL_ATTRIBUTES` on a table and `ALL_PROJECTED_ATTRIBUTES` on an index.
/// UNSOURCED for `GetItem`/`BatchGetItem`/`TransactGetItems`, which have no `Select` parameter:
/// the same defaults are assumed, so that a projection satisfies `SPECIFIC_ATTRIBUTES` policies.
fn implied_select(projected: bool, on_index: bool) -> String {
    if projected {
        "SPECIFIC_ATTRIBUTES"
    } else if on_index {
        "ALL_PROJECTED_ATTRIBUTES"
    } else {
        "ALL_ATTRIBUTES"
    }
    .to_owned()
}

#[cfg(test)]
mod tests;
