//! Classification of the item-level operations: single items, queries and scans, batches,
//! transactions and PartiQL statements, with their condition keys (`dynamodb:Attributes`,
//! `Select`, `ReturnValues`, `ReturnConsumedCapacity`, `EnclosingOperation`).

use serde_json::{Map, Value};

use super::json::Obj;
use super::request::Request;
use super::{
    Authorization, ClassifyError, Context, RETURN_VALUES_VALUES, SELECT_VALUES, arn, authorization,
    expression, non_empty, opt_enum, partiql,
};

impl<'a> Request<'a> {
    /// The resource and condition keys of a `GetItem`/`PutItem`/`UpdateItem`/`DeleteItem`/
    /// `ConditionCheck`-shaped object (top-level request or transaction item).
    pub(super) fn item_operation(
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

    pub(super) fn query_or_scan(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
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

    pub(super) fn batch_get_item(&self, action: &str) -> Result<Vec<Authorization>, ClassifyError> {
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

    pub(super) fn batch_write_item(
        &self,
        action: &str,
    ) -> Result<Vec<Authorization>, ClassifyError> {
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
    pub(super) fn transact_items(&self) -> Result<Vec<Authorization>, ClassifyError> {
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
    pub(super) fn statement(
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
