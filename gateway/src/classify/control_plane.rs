//! Classification of the control-plane operations (tables, backups, exports, imports, global
//! tables, resource policies, tags, account-wide listings) and of DynamoDB Streams; the
//! item-level operations are dispatched to [`super::data_plane`].

use super::request::Request;
use super::{Authorization, ClassifyError, arn, authorization, non_empty, plain};

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

impl Request<'_> {
    /// A DynamoDB operation: the item-level (data plane) ones here, the rest by kind.
    pub(super) fn dynamodb_operation(&self) -> Result<Vec<Authorization>, ClassifyError> {
        let action = self.action();
        let action = action.as_str();
        let body = &self.body;
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
            _ => self.table_operation(action),
        }
    }

    /// Operations on one table (by `TableName` or ARN), its backups, exports and imports.
    fn table_operation(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
        let body = &self.body;
        let one = |resource: String| Ok(vec![plain(action, resource)]);
        match self.operation {
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
            _ => self.account_operation(action),
        }
    }

    /// Resource policies and tags, global tables, bulk operations, and the account-wide
    /// operations without a table.
    fn account_operation(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
        let body = &self.body;
        let one = |resource: String| Ok(vec![plain(action, resource)]);
        match self.operation {
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

    /// A DynamoDB Streams operation.
    pub(super) fn streams_operation(&self) -> Result<Vec<Authorization>, ClassifyError> {
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
}
