//! Classification of the item-level operations: items, queries, scans, batches, transactions,
//! PartiQL.

use super::*;

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
