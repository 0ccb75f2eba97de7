//! The request being classified and the members every operation reads from it: table names
//! and ARNs, index names, typed ARNs, global tables, regions, `ReturnConsumedCapacity`.
//!
//! Owns: turning a member into the resource ARN it names, with errors that name the member.
//! Must not: decide which resource an operation needs (the operation modules do).

use super::json::Obj;
use super::{ClassifyError, RETURN_CONSUMED_CAPACITY_VALUES, Target, arn, opt_enum};

/// One request being classified: its body, the gateway's account and region, the operation.
pub(super) struct Request<'a> {
    pub(super) body: Obj<'a>,
    pub(super) target: Target<'a>,
    pub(super) operation: &'a str,
}

impl<'a> Request<'a> {
    pub(super) fn action(&self) -> String {
        format!("dynamodb:{}", self.operation)
    }

    /// The ARN of the table named (or given as a table ARN) in `obj.member`.
    pub(super) fn table_arn_in(
        &self,
        obj: &Obj<'a>,
        member: &str,
    ) -> Result<String, ClassifyError> {
        let value = obj.str(member)?;
        self.table_arn_of(value, &obj.path_of(member))
    }

    /// A table name becomes the ARN in the gateway's region and account; a valid table ARN is
    /// used as is (DynamoDB accepts table ARNs wherever it takes a `TableName`).
    pub(super) fn table_arn_of(&self, value: &str, member: &str) -> Result<String, ClassifyError> {
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

    pub(super) fn index_name_in(
        &self,
        obj: &Obj<'a>,
        member: &str,
    ) -> Result<Option<&'a str>, ClassifyError> {
        match obj.opt_str(member)? {
            Some(index) if !arn::is_valid_name(index) => Err(ClassifyError::InvalidIndexName {
                member: obj.path_of(member),
                value: index.to_owned(),
            }),
            index => Ok(index),
        }
    }

    /// The table ARN of `TableName`, or its index ARN when `IndexName` is present.
    pub(super) fn table_or_index_arn(&self, obj: &Obj<'a>) -> Result<String, ClassifyError> {
        let table = self.table_arn_in(obj, "TableName")?;
        Ok(match self.index_name_in(obj, "IndexName")? {
            Some(index) => format!("{table}/index/{index}"),
            None => table,
        })
    }

    /// An ARN of one of `kinds` in `obj.member`, used as is.
    pub(super) fn arn_in(
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

    pub(super) fn global_table_arn(&self) -> Result<(String, &'a str), ClassifyError> {
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

    pub(super) fn region_in(&self, obj: &Obj<'a>, member: &str) -> Result<&'a str, ClassifyError> {
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

    pub(super) fn return_consumed_capacity(&self) -> Result<Option<String>, ClassifyError> {
        Ok(opt_enum(
            &self.body,
            "ReturnConsumedCapacity",
            RETURN_CONSUMED_CAPACITY_VALUES,
            "one of `INDEXES`, `TOTAL`, `NONE`",
        )?
        .map(str::to_owned))
    }
}
