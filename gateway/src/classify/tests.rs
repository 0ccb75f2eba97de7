use super::*;

use bytes::Bytes;

use crate::body::RequestBody;

mod control_plane;
mod data_plane;

/// [`super::classify`] of a body given as bytes.
fn classify(
    x_amz_target: &str,
    body: &[u8],
    target: Target<'_>,
) -> Result<Classified, ClassifyError> {
    super::classify(
        x_amz_target,
        &RequestBody::new(Bytes::copy_from_slice(body)),
        target,
    )
}

/// [`super::leading_keys`] of a body given as bytes; `None` when it is no JSON object.
fn leading_keys(operation: &str, body: &[u8], partition_key: &str) -> Option<Vec<String>> {
    let body = RequestBody::new(Bytes::copy_from_slice(body));
    super::leading_keys(operation, body.object().ok()?, partition_key)
}

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
