//! Classification of the control-plane operations and of DynamoDB Streams.

use super::*;

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
