use super::*;

const TARGET: Target<'static> = Target {
    region: "us-east-1",
    account: "123456789012",
};

const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/curity-accounts";
const STREAM: &str =
    "arn:aws:dynamodb:us-east-1:123456789012:table/curity-accounts/stream/2015-05-20T20:51:10.252";
const BACKUP: &str =
    "arn:aws:dynamodb:us-east-1:123456789012:table/curity-accounts/backup/01489602797149-73d8d5bc";

fn ddb(op: &str, body: &str) -> Result<Classified, ClassifyError> {
    classify(&format!("DynamoDB_20120810.{op}"), body.as_bytes(), TARGET)
}

fn ok(op: &str, body: &str) -> Classified {
    match ddb(op, body) {
        Ok(c) => c,
        Err(e) => panic!("{op} with {body} did not classify: {e}"),
    }
}

fn pairs(c: &Classified) -> Vec<(&str, &str)> {
    c.authorizations
        .iter()
        .map(|a| (a.action.as_str(), a.resource.as_str()))
        .collect()
}

fn key<'a>(a: &'a Authorization, name: &str) -> Option<Vec<&'a str>> {
    a.context
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.iter().map(String::as_str).collect())
}

/// A minimal valid body for each operation of the botocore models.
fn minimal_body(op: &str) -> &'static str {
    match op {
        "BatchExecuteStatement" => r#"{"Statements":[{"Statement":"SELECT * FROM \"t1x\""}]}"#,
        "BatchGetItem" => r#"{"RequestItems":{"t1x":{"Keys":[{"pk":{"S":"a"}}]}}}"#,
        "BatchWriteItem" => {
            r#"{"RequestItems":{"t1x":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}}]}}"#
        }
        "CancelBulkOperation" | "DescribeBulkOperation" => {
            r#"{"BulkOperationArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/bulk-operation/01234567"}"#
        }
        "CreateBackup" => r#"{"TableName":"t1x","BackupName":"b1x"}"#,
        "CreateGlobalTable" => {
            r#"{"GlobalTableName":"g1x","ReplicationGroup":[{"RegionName":"us-east-1"}]}"#
        }
        "DeleteBackup" | "DescribeBackup" => {
            r#"{"BackupArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/backup/01489602797149-73d8d5bc"}"#
        }
        "DeleteItem" | "GetItem" => r#"{"TableName":"t1x","Key":{"pk":{"S":"a"}}}"#,
        "UpdateItem" => {
            r#"{"TableName":"t1x","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{":v":{"S":"x"}}}"#
        }
        "DeleteResourcePolicy" | "GetResourcePolicy" | "ListTagsOfResource" => {
            r#"{"ResourceArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x"}"#
        }
        "PutResourcePolicy" => {
            r#"{"ResourceArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x","Policy":"{}"}"#
        }
        "TagResource" => {
            r#"{"ResourceArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x","Tags":[{"Key":"k","Value":"v"}]}"#
        }
        "UntagResource" => {
            r#"{"ResourceArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x","TagKeys":["k"]}"#
        }
        "DescribeEndpoints"
        | "DescribeLimits"
        | "ListBackups"
        | "ListBulkOperations"
        | "ListContributorInsights"
        | "ListExports"
        | "ListGlobalTables"
        | "ListImports"
        | "ListTables"
        | "ListStreams" => "{}",
        "DescribeExport" => {
            r#"{"ExportArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/export/01234567890123-a1b2c3d4"}"#
        }
        "DescribeImport" => {
            r#"{"ImportArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/import/01234567890123-a1b2c3d4"}"#
        }
        "DescribeGlobalTable" | "DescribeGlobalTableSettings" | "UpdateGlobalTableSettings" => {
            r#"{"GlobalTableName":"g1x"}"#
        }
        "DisableKinesisStreamingDestination"
        | "EnableKinesisStreamingDestination"
        | "UpdateKinesisStreamingDestination" => {
            r#"{"TableName":"t1x","StreamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}"#
        }
        "ExecuteStatement" => r#"{"Statement":"SELECT * FROM \"t1x\""}"#,
        "ExecuteTransaction" => {
            r#"{"TransactStatements":[{"Statement":"DELETE FROM \"t1x\" WHERE pk = ?"}]}"#
        }
        "ExportTableToPointInTime" => {
            r#"{"TableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x","S3Bucket":"b"}"#
        }
        "ImportTable" => {
            r#"{"S3BucketSource":{"S3Bucket":"b"},"InputFormat":"CSV","TableCreationParameters":{"TableName":"t1x","AttributeDefinitions":[],"KeySchema":[]}}"#
        }
        "PutItem" => r#"{"TableName":"t1x","Item":{"pk":{"S":"a"}}}"#,
        "RestoreTableFromBackup" => {
            r#"{"TargetTableName":"t2x","BackupArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/backup/01489602797149-73d8d5bc"}"#
        }
        "RestoreTableToPointInTime" => r#"{"SourceTableName":"t1x","TargetTableName":"t2x"}"#,
        "SearchVectors" => r#"{"TableName":"t1x","IndexName":"v1x","SearchVector":{},"TopK":1}"#,
        "StartBulkPutItems" => {
            r#"{"TableName":"t1x","InputS3Configuration":{},"OutputS3Configuration":{}}"#
        }
        "TransactGetItems" => {
            r#"{"TransactItems":[{"Get":{"TableName":"t1x","Key":{"pk":{"S":"a"}}}}]}"#
        }
        "TransactWriteItems" => {
            r#"{"TransactItems":[{"Put":{"TableName":"t1x","Item":{"pk":{"S":"a"}}}}]}"#
        }
        "UpdateContinuousBackups" => {
            r#"{"TableName":"t1x","PointInTimeRecoverySpecification":{"PointInTimeRecoveryEnabled":true}}"#
        }
        "UpdateContributorInsights" => {
            r#"{"TableName":"t1x","ContributorInsightsAction":"ENABLE"}"#
        }
        "UpdateGlobalTable" => {
            r#"{"GlobalTableName":"g1x","ReplicaUpdates":[{"Create":{"RegionName":"eu-west-1"}}]}"#
        }
        "UpdateTimeToLive" => {
            r#"{"TableName":"t1x","TimeToLiveSpecification":{"Enabled":true,"AttributeName":"ttl"}}"#
        }
        "DescribeStream" => {
            r#"{"StreamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/stream/2015-05-20T20:51:10.252"}"#
        }
        "GetShardIterator" => {
            r#"{"StreamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/stream/2015-05-20T20:51:10.252","ShardId":"shardId-1","ShardIteratorType":"LATEST"}"#
        }
        "GetRecords" => {
            r#"{"ShardIterator":"arn:aws:dynamodb:us-east-1:123456789012:table/t1x/stream/2015-05-20T20:51:10.252|1|AAAAAAAAAAEvJp6D"}"#
        }
        // Operations whose only required member is `TableName`.
        _ => r#"{"TableName":"t1x"}"#,
    }
}

#[test]
fn classifies_every_operation_of_the_botocore_models() {
    let listed = include_str!("../../tests/data/dynamodb-operations.txt");
    let mut count = 0;
    for target in listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (_, op) = target.split_once('.').expect("target has a prefix");
        let classified = classify(target, minimal_body(op).as_bytes(), TARGET)
            .unwrap_or_else(|e| panic!("{target} did not classify: {e}"));
        assert_eq!(classified.operation, op);
        assert!(!classified.authorizations.is_empty(), "{target}");
        for a in &classified.authorizations {
            assert!(a.action.starts_with("dynamodb:"), "{target}: {}", a.action);
            assert!(
                a.resource == "*" || a.resource.starts_with("arn:aws:dynamodb:"),
                "{target}: {}",
                a.resource
            );
        }
        count += 1;
    }
    assert_eq!(count, 66);
    assert_eq!(count, DYNAMODB_OPERATIONS.len() + STREAMS_OPERATIONS.len());
}

#[test]
fn rejects_unknown_operations_and_prefixes() {
    assert!(matches!(
        classify("DynamoDB_20120810.DropEverything", b"{}", TARGET),
        Err(ClassifyError::UnknownOperation { .. })
    ));
    assert!(matches!(
        classify("DynamoDB_20120810.getitem", b"{}", TARGET),
        Err(ClassifyError::UnknownOperation { .. })
    ));
    // Streams operations only under the Streams prefix, and the other way round.
    assert!(matches!(
        classify("DynamoDB_20120810.GetRecords", b"{}", TARGET),
        Err(ClassifyError::UnknownOperation { .. })
    ));
    assert!(matches!(
        classify("DynamoDBStreams_20120810.GetItem", b"{}", TARGET),
        Err(ClassifyError::UnknownOperation { .. })
    ));
    for target in [
        "DynamoDB_20111205.GetItem",
        "GetItem",
        "",
        "Kinesis_20131202.GetRecords",
    ] {
        assert!(
            matches!(
                classify(target, b"{}", TARGET),
                Err(ClassifyError::UnknownTargetPrefix { .. })
            ),
            "{target}"
        );
    }
}

#[test]
fn get_item_authorizes_the_table_with_attributes_and_select() {
    let c = ok(
        "GetItem",
        r##"{"TableName":"curity-accounts","Key":{"pk":{"S":"un#alice"}},
            "ProjectionExpression":"#p, accountId, attrs.email[0]",
            "ExpressionAttributeNames":{"#p":"password"},"ReturnConsumedCapacity":"TOTAL"}"##,
    );
    assert_eq!(c.operation, "GetItem");
    assert_eq!(pairs(&c), [("dynamodb:GetItem", TABLE)]);
    let a = &c.authorizations[0];
    assert_eq!(
        key(a, ATTRIBUTES),
        Some(vec!["accountId", "attrs", "password", "pk"])
    );
    assert_eq!(key(a, SELECT), Some(vec!["SPECIFIC_ATTRIBUTES"]));
    assert_eq!(key(a, RETURN_CONSUMED_CAPACITY), Some(vec!["TOTAL"]));
    assert_eq!(key(a, ENCLOSING_OPERATION), None);
    assert_eq!(key(a, RETURN_VALUES), None);
}

#[test]
fn get_item_without_projection_selects_all_attributes() {
    let c = ok(
        "GetItem",
        r#"{"TableName":"curity-accounts","Key":{"pk":{"S":"a"}}}"#,
    );
    assert_eq!(
        key(&c.authorizations[0], SELECT),
        Some(vec!["ALL_ATTRIBUTES"])
    );
    assert_eq!(key(&c.authorizations[0], ATTRIBUTES), Some(vec!["pk"]));
}

#[test]
fn put_update_delete_carry_attributes_and_return_values() {
    let put = ok(
        "PutItem",
        r#"{"TableName":"curity-sessions","Item":{"id":{"S":"1"},"deletableAt":{"N":"5"}},
            "ConditionExpression":"attribute_not_exists(id)","ReturnValues":"ALL_OLD"}"#,
    );
    let a = &put.authorizations[0];
    assert_eq!(a.action, "dynamodb:PutItem");
    assert_eq!(key(a, ATTRIBUTES), Some(vec!["deletableAt", "id"]));
    assert_eq!(key(a, RETURN_VALUES), Some(vec!["ALL_OLD"]));

    let update = ok(
        "UpdateItem",
        r##"{"TableName":"curity-sessions","Key":{"id":{"S":"1"}},
            "UpdateExpression":"SET #d = :d, meta.seen = if_not_exists(meta.seen, :z) REMOVE old ADD hits :one",
            "ExpressionAttributeNames":{"#d":"deletableAt"},
            "ExpressionAttributeValues":{":d":{"N":"1"},":z":{"N":"0"},":one":{"N":"1"}},
            "ReturnValues":"UPDATED_NEW"}"##,
    );
    let a = &update.authorizations[0];
    assert_eq!(
        key(a, ATTRIBUTES),
        Some(vec!["deletableAt", "hits", "id", "meta", "old"])
    );
    assert_eq!(key(a, RETURN_VALUES), Some(vec!["UPDATED_NEW"]));

    let delete = ok(
        "DeleteItem",
        r#"{"TableName":"curity-sessions","Key":{"id":{"S":"1"}}}"#,
    );
    assert_eq!(delete.authorizations[0].action, "dynamodb:DeleteItem");
    assert_eq!(key(&delete.authorizations[0], ATTRIBUTES), Some(vec!["id"]));
}

#[test]
fn query_on_an_index_authorizes_the_index_arn() {
    let c = ok(
        "Query",
        r#"{"TableName":"curity-accounts","IndexName":"userNameInitial-userName-index",
            "KeyConditionExpression":"userNameInitial = :i AND begins_with(userName, :p)",
            "ExpressionAttributeValues":{":i":{"S":"a"},":p":{"S":"al"}},"Select":"COUNT"}"#,
    );
    assert_eq!(
        pairs(&c),
        [(
            "dynamodb:Query",
            "arn:aws:dynamodb:us-east-1:123456789012:table/curity-accounts/index/userNameInitial-userName-index"
        )]
    );
    let a = &c.authorizations[0];
    assert_eq!(key(a, SELECT), Some(vec!["COUNT"]));
    assert_eq!(
        key(a, ATTRIBUTES),
        Some(vec!["userName", "userNameInitial"])
    );
}

#[test]
fn query_and_scan_without_index_authorize_the_table() {
    let q = ok(
        "Query",
        r#"{"TableName":"curity-accounts","KeyConditionExpression":"pk = :v",
            "ExpressionAttributeValues":{":v":{"S":"a"}}}"#,
    );
    assert_eq!(pairs(&q), [("dynamodb:Query", TABLE)]);
    assert_eq!(
        key(&q.authorizations[0], SELECT),
        Some(vec!["ALL_ATTRIBUTES"])
    );
    let s = ok(
        "Scan",
        r#"{"TableName":"curity-accounts","IndexName":"emailInitial-email-index"}"#,
    );
    assert_eq!(
        pairs(&s),
        [(
            "dynamodb:Scan",
            "arn:aws:dynamodb:us-east-1:123456789012:table/curity-accounts/index/emailInitial-email-index"
        )]
    );
    assert_eq!(
        key(&s.authorizations[0], SELECT),
        Some(vec!["ALL_PROJECTED_ATTRIBUTES"])
    );
}

#[test]
fn table_arn_in_table_name_is_used_as_is() {
    let other = "arn:aws:dynamodb:eu-west-1:210987654321:table/shared";
    let c = ok(
        "GetItem",
        &format!(r#"{{"TableName":"{other}","Key":{{"pk":{{"S":"a"}}}}}}"#),
    );
    assert_eq!(pairs(&c), [("dynamodb:GetItem", other)]);
    let q = ok(
        "Query",
        &format!(r#"{{"TableName":"{other}","IndexName":"gsi1"}}"#),
    );
    assert_eq!(q.authorizations[0].resource, format!("{other}/index/gsi1"));
}

#[test]
fn rejects_invalid_table_names_and_non_table_arns() {
    for name in [
        "ab",
        "bad/name",
        "has space",
        "arn:aws:dynamodb:us-east-1:123456789012:table/t1x/index/i1x",
        "arn:aws:s3:::bucket",
        "arn:aws:dynamodb:us-east-1:12345:table/t1x",
        "",
    ] {
        let body = format!(r#"{{"TableName":"{name}"}}"#);
        assert!(
            matches!(
                ddb("DescribeTable", &body),
                Err(ClassifyError::InvalidTableName { .. })
            ),
            "{name}"
        );
    }
    assert!(matches!(
        ddb("Query", r#"{"TableName":"t1x","IndexName":"x"}"#),
        Err(ClassifyError::InvalidIndexName { .. })
    ));
}

#[test]
fn batch_get_item_authorizes_each_table_once() {
    let c = ok(
        "BatchGetItem",
        r##"{"RequestItems":{
            "curity-accounts":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}],"ProjectionExpression":"#n","ExpressionAttributeNames":{"#n":"name"}},
            "curity-links":{"Keys":[{"linkedAccountId_linkedAccountDomainName":{"S":"x"}}]}}}"##,
    );
    assert_eq!(
        pairs(&c),
        [
            ("dynamodb:BatchGetItem", TABLE),
            (
                "dynamodb:BatchGetItem",
                "arn:aws:dynamodb:us-east-1:123456789012:table/curity-links"
            ),
        ]
    );
    assert_eq!(
        key(&c.authorizations[0], ATTRIBUTES),
        Some(vec!["name", "pk"])
    );
    assert_eq!(
        key(&c.authorizations[0], SELECT),
        Some(vec!["SPECIFIC_ATTRIBUTES"])
    );
    assert_eq!(
        key(&c.authorizations[1], SELECT),
        Some(vec!["ALL_ATTRIBUTES"])
    );
}

#[test]
fn batch_write_item_authorizes_each_table_once() {
    let c = ok(
        "BatchWriteItem",
        r#"{"RequestItems":{
            "curity-nonces":[{"PutRequest":{"Item":{"nonce":{"S":"n"},"deletableAt":{"N":"1"}}}},
                             {"DeleteRequest":{"Key":{"nonce":{"S":"m"}}}}],
            "curity-tokens":[{"DeleteRequest":{"Key":{"tokenHash":{"S":"h"}}}}]}}"#,
    );
    assert_eq!(
        pairs(&c),
        [
            (
                "dynamodb:BatchWriteItem",
                "arn:aws:dynamodb:us-east-1:123456789012:table/curity-nonces"
            ),
            (
                "dynamodb:BatchWriteItem",
                "arn:aws:dynamodb:us-east-1:123456789012:table/curity-tokens"
            ),
        ]
    );
    assert_eq!(
        key(&c.authorizations[0], ATTRIBUTES),
        Some(vec!["deletableAt", "nonce"])
    );
    assert!(matches!(
        ddb(
            "BatchWriteItem",
            r#"{"RequestItems":{"t1x":[{"PutRequest":{"Item":{}},"DeleteRequest":{"Key":{}}}]}}"#
        ),
        Err(ClassifyError::AmbiguousRequest { .. })
    ));
    assert!(matches!(
        ddb("BatchWriteItem", r#"{"RequestItems":{}}"#),
        Err(ClassifyError::Empty { .. })
    ));
}

#[test]
fn transact_write_items_authorizes_each_item_with_enclosing_operation() {
    let c = ok(
        "TransactWriteItems",
        r#"{"TransactItems":[
            {"Put":{"TableName":"curity-accounts","Item":{"pk":{"S":"ai#1"}},"ConditionExpression":"attribute_not_exists(pk)"}},
            {"Update":{"TableName":"curity-delegations","Key":{"id":{"S":"d"}},"UpdateExpression":"SET st = :s","ExpressionAttributeValues":{":s":{"S":"revoked"}}}},
            {"Delete":{"TableName":"curity-accounts","Key":{"pk":{"S":"un#a"}}}},
            {"ConditionCheck":{"TableName":"curity-links","Key":{"linkedAccountId_linkedAccountDomainName":{"S":"x"}},"ConditionExpression":"attribute_exists(accountId)"}}
        ],"ReturnConsumedCapacity":"TOTAL"}"#,
    );
    assert_eq!(
        pairs(&c),
        [
            ("dynamodb:PutItem", TABLE),
            (
                "dynamodb:UpdateItem",
                "arn:aws:dynamodb:us-east-1:123456789012:table/curity-delegations"
            ),
            ("dynamodb:DeleteItem", TABLE),
            (
                "dynamodb:ConditionCheckItem",
                "arn:aws:dynamodb:us-east-1:123456789012:table/curity-links"
            ),
        ]
    );
    for a in &c.authorizations {
        assert_eq!(
            key(a, ENCLOSING_OPERATION),
            Some(vec!["TransactWriteItems"])
        );
        assert_eq!(key(a, RETURN_CONSUMED_CAPACITY), Some(vec!["TOTAL"]));
    }
    assert_eq!(
        key(&c.authorizations[1], ATTRIBUTES),
        Some(vec!["id", "st"])
    );
}

#[test]
fn transact_get_items_authorizes_get_item_per_item() {
    let c = ok(
        "TransactGetItems",
        r#"{"TransactItems":[
            {"Get":{"TableName":"curity-accounts","Key":{"pk":{"S":"a"}}}},
            {"Get":{"TableName":"curity-links","Key":{"linkedAccountId_linkedAccountDomainName":{"S":"b"}},"ProjectionExpression":"accountId"}}]}"#,
    );
    assert_eq!(c.authorizations.len(), 2);
    for a in &c.authorizations {
        assert_eq!(a.action, "dynamodb:GetItem");
        assert_eq!(key(a, ENCLOSING_OPERATION), Some(vec!["TransactGetItems"]));
    }
    assert_eq!(
        key(&c.authorizations[1], SELECT),
        Some(vec!["SPECIFIC_ATTRIBUTES"])
    );
}

#[test]
fn transact_items_need_exactly_one_kind() {
    for body in [
        r#"{"TransactItems":[{}]}"#,
        r#"{"TransactItems":[{"Put":{"TableName":"t1x","Item":{}},"Delete":{"TableName":"t1x","Key":{"k":{"S":"a"}}}}]}"#,
        r#"{"TransactItems":[{"Get":{"TableName":"t1x","Key":{"k":{"S":"a"}}}}]}"#,
    ] {
        assert!(
            matches!(
                ddb("TransactWriteItems", body),
                Err(ClassifyError::AmbiguousRequest { .. })
            ),
            "{body}"
        );
    }
    assert!(matches!(
        ddb("TransactWriteItems", r#"{"TransactItems":[]}"#),
        Err(ClassifyError::Empty { .. })
    ));
}

#[test]
fn partiql_verbs_map_to_partiql_actions() {
    let cases = [
        (
            r#"SELECT * FROM "curity-accounts" WHERE pk = ?"#,
            "dynamodb:PartiQLSelect",
            TABLE.to_owned(),
        ),
        (
            r#"select "a" from "curity-accounts"."userNameInitial-userName-index" where userNameInitial = 'a'"#,
            "dynamodb:PartiQLSelect",
            format!("{TABLE}/index/userNameInitial-userName-index"),
        ),
        (
            r#"INSERT INTO "curity-accounts" VALUE {'pk': 'x'}"#,
            "dynamodb:PartiQLInsert",
            TABLE.to_owned(),
        ),
        (
            r#"UPDATE "curity-accounts" SET a = 1 WHERE pk = 'x'"#,
            "dynamodb:PartiQLUpdate",
            TABLE.to_owned(),
        ),
        (
            r#"UPDATE "curity-accounts" REMOVE a WHERE pk = 'x'"#,
            "dynamodb:PartiQLUpdate",
            TABLE.to_owned(),
        ),
        (
            r#"DELETE FROM "curity-accounts" WHERE pk = 'x'"#,
            "dynamodb:PartiQLDelete",
            TABLE.to_owned(),
        ),
        (
            r#"SELECT * FROM Music WHERE Artist = 'a'"#,
            "dynamodb:PartiQLSelect",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music".to_owned(),
        ),
        (
            r#"SELECT "from" FROM "t1x" WHERE a = 'FROM "y"'"#,
            "dynamodb:PartiQLSelect",
            "arn:aws:dynamodb:us-east-1:123456789012:table/t1x".to_owned(),
        ),
    ];
    for (statement, action, resource) in cases {
        let body = serde_json::json!({ "Statement": statement }).to_string();
        let c = ok("ExecuteStatement", &body);
        assert_eq!(pairs(&c), [(action, resource.as_str())], "{statement}");
    }
}

#[test]
fn partiql_batch_and_transaction_authorize_each_statement() {
    let c = ok(
        "BatchExecuteStatement",
        r#"{"Statements":[{"Statement":"SELECT * FROM \"curity-accounts\" WHERE pk = ?"},
                          {"Statement":"DELETE FROM \"curity-links\" WHERE k = ?"}]}"#,
    );
    assert_eq!(
        pairs(&c),
        [
            ("dynamodb:PartiQLSelect", TABLE),
            (
                "dynamodb:PartiQLDelete",
                "arn:aws:dynamodb:us-east-1:123456789012:table/curity-links"
            ),
        ]
    );
    let t = ok(
        "ExecuteTransaction",
        r#"{"TransactStatements":[{"Statement":"UPDATE \"curity-accounts\" SET a = ? WHERE pk = ?"},
                                  {"Statement":"EXISTS(SELECT * FROM \"curity-links\" WHERE k = ?)"}]}"#,
    );
    assert_eq!(
        pairs(&t),
        [
            ("dynamodb:PartiQLUpdate", TABLE),
            (
                "dynamodb:PartiQLSelect",
                "arn:aws:dynamodb:us-east-1:123456789012:table/curity-links"
            ),
        ]
    );
    for a in &t.authorizations {
        assert_eq!(
            key(a, ENCLOSING_OPERATION),
            Some(vec!["ExecuteTransaction"])
        );
    }
}

#[test]
fn unparseable_partiql_is_an_error() {
    for statement in [
        "",
        "DROP TABLE \"t1x\"",
        "SELECT * WHERE a = 1",
        "SELECT * FROM",
        "SELECT * FROM \"t1x\".\"i1x\".\"z\"",
        "INSERT INTO \"t1x\".\"i1x\" VALUE {'a': 1}",
        "UPDATE \"t1x\" WHERE a = 1",
        "DELETE \"t1x\" WHERE a = 1",
        "SELECT * FROM \"t1x -- \" ",
        "SELECT * FROM \"t1x\" -- comment",
        "SELECT * FROM 't1x'",
        "SELECT * FROM \"t1x\", \"t2x\"",
        "EXISTS SELECT * FROM \"t1x\"",
    ] {
        let body = serde_json::json!({ "Statement": statement }).to_string();
        assert!(ddb("ExecuteStatement", &body).is_err(), "{statement}");
    }
}

#[test]
fn malformed_bodies_are_errors() {
    assert!(matches!(
        ddb("GetItem", "not json"),
        Err(ClassifyError::BodyNotJson { .. })
    ));
    assert!(matches!(
        ddb("ListTables", ""),
        Err(ClassifyError::BodyNotJson { .. })
    ));
    assert!(matches!(
        ddb("ListTables", "{} trailing"),
        Err(ClassifyError::BodyNotJson { .. })
    ));
    assert!(matches!(
        ddb("ListTables", "[]"),
        Err(ClassifyError::BodyNotObject)
    ));
    assert!(matches!(
        ddb("ListTables", "null"),
        Err(ClassifyError::BodyNotObject)
    ));
    assert!(matches!(
        ddb("GetItem", r#"{"Key":{"pk":{"S":"a"}}}"#),
        Err(ClassifyError::MissingMember { .. })
    ));
    assert!(matches!(
        ddb("GetItem", r#"{"TableName":7,"Key":{"pk":{"S":"a"}}}"#),
        Err(ClassifyError::WrongType { .. })
    ));
    assert!(matches!(
        ddb("GetItem", r#"{"TableName":"t1x","Key":{}}"#),
        Err(ClassifyError::Empty { .. })
    ));
    assert!(matches!(
        ddb("Query", r#"{"TableName":"t1x","Select":"EVERYTHING"}"#),
        Err(ClassifyError::WrongType { .. })
    ));
}

#[test]
fn repeated_keys_are_rejected_at_any_depth() {
    assert!(matches!(
        ddb("DescribeTable", r#"{"TableName":"t1x","TableName":"t2x"}"#),
        Err(ClassifyError::DuplicateKey { .. })
    ));
    assert!(matches!(
        ddb(
            "BatchWriteItem",
            r#"{"RequestItems":{"t1x":[{"PutRequest":{"Item":{"a":{"S":"1"},"a":{"S":"2"}}}}]}}"#
        ),
        Err(ClassifyError::DuplicateKey { .. })
    ));
}

#[test]
fn expressions_need_their_names_defined_and_valid_syntax() {
    assert!(matches!(
        ddb(
            "GetItem",
            r##"{"TableName":"t1x","Key":{"k":{"S":"a"}},"ProjectionExpression":"#missing"}"##
        ),
        Err(ClassifyError::UndefinedName { .. })
    ));
    assert!(matches!(
        ddb(
            "GetItem",
            r#"{"TableName":"t1x","Key":{"k":{"S":"a"}},"ProjectionExpression":"a; b"}"#
        ),
        Err(ClassifyError::InvalidExpression { .. })
    ));
    assert!(matches!(
        ddb(
            "GetItem",
            r#"{"TableName":"t1x","Key":{"k":{"S":"a"}},"ProjectionExpression":"a","AttributesToGet":["b"]}"#
        ),
        Err(ClassifyError::AmbiguousRequest { .. })
    ));
}

#[test]
fn streams_operations_authorize_the_stream_arn() {
    let c = classify(
        "DynamoDBStreams_20120810.GetRecords",
        format!(r#"{{"ShardIterator":"{STREAM}|1|AAAAAAAAAAEvJp6D+zaQ"}}"#).as_bytes(),
        TARGET,
    )
    .expect("classifies");
    assert_eq!(pairs(&c), [("dynamodb:GetRecords", STREAM)]);
    let d = classify(
        "DynamoDBStreams_20120810.DescribeStream",
        format!(r#"{{"StreamArn":"{STREAM}"}}"#).as_bytes(),
        TARGET,
    )
    .expect("classifies");
    assert_eq!(pairs(&d), [("dynamodb:DescribeStream", STREAM)]);
    for body in [
        format!(r#"{{"StreamArn":"{TABLE}"}}"#),
        r#"{"StreamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}"#.to_owned(),
    ] {
        assert!(matches!(
            classify(
                "DynamoDBStreams_20120810.DescribeStream",
                body.as_bytes(),
                TARGET
            ),
            Err(ClassifyError::InvalidArn { .. })
        ));
    }
    for iterator in [
        "opaque-token",
        "x|arn:aws:dynamodb:us-east-1:123456789012:table/t1x/stream/l|t",
        &format!("{STREAM}|"),
        &format!("000|{TABLE}|t"),
    ] {
        let body = serde_json::json!({ "ShardIterator": iterator }).to_string();
        assert!(
            matches!(
                classify(
                    "DynamoDBStreams_20120810.GetRecords",
                    body.as_bytes(),
                    TARGET
                ),
                Err(ClassifyError::InvalidArn { .. })
            ),
            "{iterator}"
        );
    }
}

#[test]
fn get_records_reads_the_stream_arn_of_a_dynamodb_local_shard_iterator() {
    let local = "arn:aws:dynamodb:ddblocal:000000000000:table/janet_postings/stream/2022-01-06T18:07:44.275";
    let body =
        serde_json::json!({ "ShardIterator": format!("000|{local}|c2hhcmRJZC0w") }).to_string();
    let c = classify(
        "DynamoDBStreams_20120810.GetRecords",
        body.as_bytes(),
        TARGET,
    )
    .expect("classifies");
    assert_eq!(pairs(&c), [("dynamodb:GetRecords", local)]);
}

#[test]
fn condition_and_filter_expressions_count_as_attributes() {
    let put = ok(
        "PutItem",
        r##"{"TableName":"t1x","Item":{"pk":{"S":"a"}},
            "ConditionExpression":"attribute_not_exists(pk) OR #v < :v",
            "ExpressionAttributeNames":{"#v":"version"},"ExpressionAttributeValues":{":v":{"N":"3"}}}"##,
    );
    assert_eq!(
        key(&put.authorizations[0], ATTRIBUTES),
        Some(vec!["pk", "version"])
    );
    let scan = ok(
        "Scan",
        r#"{"TableName":"t1x","FilterExpression":"contains(tags, :t) AND size(nick) > :n",
            "ProjectionExpression":"pk","ExpressionAttributeValues":{":t":{"S":"a"},":n":{"N":"1"}}}"#,
    );
    let a = &scan.authorizations[0];
    assert_eq!(key(a, ATTRIBUTES), Some(vec!["nick", "pk", "tags"]));
    assert_eq!(key(a, SELECT), Some(vec!["SPECIFIC_ATTRIBUTES"]));
    let legacy = ok(
        "DeleteItem",
        r#"{"TableName":"t1x","Key":{"pk":{"S":"a"}},"Expected":{"owner":{"Value":{"S":"me"}}}}"#,
    );
    assert_eq!(
        key(&legacy.authorizations[0], ATTRIBUTES),
        Some(vec!["owner", "pk"])
    );
}

#[test]
fn writes_carry_return_values_none_unless_specified() {
    let d = ok(
        "DeleteItem",
        r#"{"TableName":"t1x","Key":{"pk":{"S":"a"}}}"#,
    );
    assert_eq!(key(&d.authorizations[0], RETURN_VALUES), Some(vec!["NONE"]));
    let u = ok(
        "UpdateItem",
        r#"{"TableName":"t1x","Key":{"pk":{"S":"a"}},"UpdateExpression":"REMOVE x","ReturnValues":"ALL_NEW"}"#,
    );
    assert_eq!(
        key(&u.authorizations[0], RETURN_VALUES),
        Some(vec!["ALL_NEW"])
    );
    let g = ok("GetItem", r#"{"TableName":"t1x","Key":{"pk":{"S":"a"}}}"#);
    assert_eq!(key(&g.authorizations[0], RETURN_VALUES), None);
}

#[test]
fn account_level_operations_use_the_documented_resource() {
    assert_eq!(
        pairs(&ok("ListTables", "{}")),
        [(
            "dynamodb:ListTables",
            "arn:aws:dynamodb:us-east-1:123456789012:table/*"
        )]
    );
    for op in [
        "DescribeLimits",
        "DescribeEndpoints",
        "ListBackups",
        "ListGlobalTables",
    ] {
        let c = ok(op, "{}");
        assert_eq!(c.authorizations[0].resource, "*", "{op}");
    }
    let s = classify("DynamoDBStreams_20120810.ListStreams", b"{}", TARGET).expect("classifies");
    assert_eq!(pairs(&s), [("dynamodb:ListStreams", "*")]);
}

#[test]
fn backups_and_restores_authorize_backup_and_target_table() {
    let d = ok("DescribeBackup", &format!(r#"{{"BackupArn":"{BACKUP}"}}"#));
    assert_eq!(pairs(&d), [("dynamodb:DescribeBackup", BACKUP)]);
    let r = ok(
        "RestoreTableFromBackup",
        &format!(r#"{{"BackupArn":"{BACKUP}","TargetTableName":"curity-restored"}}"#),
    );
    let target = "arn:aws:dynamodb:us-east-1:123456789012:table/curity-restored";
    assert_eq!(
        pairs(&r)[..2],
        [
            ("dynamodb:RestoreTableFromBackup", BACKUP),
            ("dynamodb:RestoreTableFromBackup", target)
        ]
    );
    assert!(pairs(&r).contains(&("dynamodb:PutItem", target)));
    assert!(matches!(
        ddb("DescribeBackup", &format!(r#"{{"BackupArn":"{TABLE}"}}"#)),
        Err(ClassifyError::InvalidArn { .. })
    ));
}

#[test]
fn global_tables_authorize_global_table_and_replicas() {
    let c = ok(
        "CreateGlobalTable",
        r#"{"GlobalTableName":"curity-accounts","ReplicationGroup":[{"RegionName":"us-east-1"},{"RegionName":"eu-west-1"}]}"#,
    );
    assert_eq!(
        pairs(&c),
        [
            (
                "dynamodb:CreateGlobalTable",
                "arn:aws:dynamodb::123456789012:global-table/curity-accounts"
            ),
            ("dynamodb:CreateGlobalTable", TABLE),
            (
                "dynamodb:CreateGlobalTable",
                "arn:aws:dynamodb:eu-west-1:123456789012:table/curity-accounts"
            ),
        ]
    );
}

#[test]
fn tags_and_resource_policies_take_table_or_stream_arns() {
    let c = ok(
        "ListTagsOfResource",
        &format!(r#"{{"ResourceArn":"{STREAM}"}}"#),
    );
    assert_eq!(pairs(&c), [("dynamodb:ListTagsOfResource", STREAM)]);
    assert!(matches!(
        ddb(
            "TagResource",
            r#"{"ResourceArn":"curity-accounts","Tags":[]}"#
        ),
        Err(ClassifyError::InvalidArn { .. })
    ));
}

#[test]
fn create_table_with_resource_policy_also_needs_put_resource_policy() {
    let c = ok(
        "CreateTable",
        r#"{"TableName":"curity-accounts","ResourcePolicy":"{}"}"#,
    );
    assert_eq!(
        pairs(&c),
        [
            ("dynamodb:CreateTable", TABLE),
            ("dynamodb:PutResourcePolicy", TABLE)
        ]
    );
}

#[test]
fn search_vectors_authorizes_index_and_table() {
    let c = ok("SearchVectors", minimal_body("SearchVectors"));
    assert_eq!(
        pairs(&c),
        [
            (
                "dynamodb:SearchVectors",
                "arn:aws:dynamodb:us-east-1:123456789012:table/t1x/index/v1x"
            ),
            (
                "dynamodb:SearchVectors",
                "arn:aws:dynamodb:us-east-1:123456789012:table/t1x"
            ),
        ]
    );
}

#[test]
fn partition_follows_the_region() {
    let cn = Target {
        region: "cn-north-1",
        account: "123456789012",
    };
    let c = classify(
        "DynamoDB_20120810.DescribeTable",
        br#"{"TableName":"t1x"}"#,
        cn,
    )
    .expect("classifies");
    assert_eq!(
        c.authorizations[0].resource,
        "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/t1x"
    );
    assert!(matches!(
        classify(
            "DynamoDB_20120810.DescribeTable",
            br#"{"TableName":"t1x"}"#,
            Target {
                region: "us-east-1",
                account: "1234"
            }
        ),
        Err(ClassifyError::InvalidTarget { .. })
    ));
}

#[test]
fn error_messages_are_one_lowercase_line_with_input_in_backticks() {
    let e = ddb("DescribeTable", r#"{"TableName":"a/b"}"#).expect_err("invalid");
    assert_eq!(
        e.to_string(),
        "`a/b` in `TableName` is not a valid table name or table arn"
    );
    let e = ddb("Nope", "{}").expect_err("unknown");
    assert_eq!(e.to_string(), "unknown operation `DynamoDB_20120810.Nope`");
    let e = ddb("GetItem", "{").expect_err("not json");
    assert_eq!(e.to_string(), "request body is not json");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn leading_keys_come_from_key_item_and_key_condition() {
    assert_eq!(
        leading_keys(
            "GetItem",
            br#"{"TableName":"curity-accounts","Key":{"pk":{"S":"ai(tenant1)#42"}}}"#,
            "pk"
        ),
        Some(vec!["ai(tenant1)#42".to_owned()])
    );
    assert_eq!(
        leading_keys(
            "PutItem",
            br#"{"TableName":"t","Item":{"id":{"N":"17"},"x":{"S":"y"}}}"#,
            "id"
        ),
        Some(vec!["17".to_owned()])
    );
    assert_eq!(
        leading_keys(
            "Query",
            br##"{"TableName":"t","KeyConditionExpression":"#p = :v AND sk > :s",
                 "ExpressionAttributeNames":{"#p":"pk"},
                 "ExpressionAttributeValues":{":v":{"S":"un#alice"},":s":{"S":"a"}}}"##,
            "pk"
        ),
        Some(vec!["un#alice".to_owned()])
    );
    assert_eq!(
        leading_keys(
            "Query",
            br#"{"TableName":"t","KeyConditionExpression":":v = pk","ExpressionAttributeValues":{":v":{"B":"AQI="}}}"#,
            "pk"
        ),
        Some(vec!["AQI=".to_owned()])
    );
    assert_eq!(
        leading_keys(
            "Query",
            br#"{"TableName":"t","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"z"}]}}}"#,
            "pk"
        ),
        Some(vec!["z".to_owned()])
    );
    // A nested `x.pk` is not the partition key; no equality means no leading key.
    assert_eq!(
        leading_keys(
            "Query",
            br#"{"TableName":"t","KeyConditionExpression":"x.pk = :v","ExpressionAttributeValues":{":v":{"S":"a"}}}"#,
            "pk"
        ),
        None
    );
    assert_eq!(leading_keys("Scan", br#"{"TableName":"t"}"#, "pk"), None);
    assert_eq!(
        leading_keys(
            "GetItem",
            br#"{"TableName":"t","Key":{"other":{"S":"a"}}}"#,
            "pk"
        ),
        None
    );
}

/// Renders the classification of every operation's minimal body, one authorization a line:
/// `operation  action  resource  key=value,value;key=value`.
fn render_minimal_classifications() -> String {
    let listed = include_str!("../../tests/data/dynamodb-operations.txt");
    let mut out = String::new();
    for target in listed
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (_, op) = target.split_once('.').expect("prefix");
        let c = classify(target, minimal_body(op).as_bytes(), TARGET).expect("classifies");
        for a in &c.authorizations {
            let context: Vec<String> = a
                .context
                .iter()
                .map(|(k, v)| format!("{k}={}", v.join(",")))
                .collect();
            out.push_str(&format!(
                "{op}\t{}\t{}\t{}\n",
                a.action,
                a.resource,
                context.join(";")
            ));
        }
    }
    out
}

/// The golden file is reviewed by hand against the Service Authorization Reference; a change in
/// any operation's action, resource or condition keys shows up here as a diff.
#[test]
fn minimal_bodies_classify_as_the_golden_file_says() {
    let actual = render_minimal_classifications();
    let golden = include_str!("../../tests/data/classify-minimal.tsv");
    let golden: String = golden
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        actual == golden,
        "classification changed; new golden content:\n{actual}"
    );
}
