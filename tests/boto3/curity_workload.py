"""The Curity workload's DynamoDB calls through boto3, with nothing but a pod's environment.

Usage: curity_workload.py least-privilege | tenant NAME OTHER
Prints one JSON line per step: {"step", "ok", "code", "message"}; the Rust test decides.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

ddb = boto3.client("dynamodb")


def step(name, call):
    try:
        call()
        print(json.dumps({"step": name, "ok": True, "code": None, "message": None}), flush=True)
    except ClientError as e:
        err = e.response.get("Error", {})
        print(
            json.dumps(
                {"step": name, "ok": False, "code": err.get("Code"), "message": err.get("Message")}
            ),
            flush=True,
        )


def least_privilege():
    step("describe accounts", lambda: ddb.describe_table(TableName="curity-accounts"))
    step(
        "create session",
        lambda: ddb.put_item(
            TableName="curity-sessions",
            Item={"id": {"S": "boto3-session-1"}, "deletableAt": {"N": "1900000000"}},
            ConditionExpression="attribute_not_exists(id)",
        ),
    )
    step(
        "read session",
        lambda: ddb.get_item(
            TableName="curity-sessions", Key={"id": {"S": "boto3-session-1"}}, ConsistentRead=True
        ),
    )
    step(
        "password check",
        lambda: ddb.get_item(
            TableName="curity-accounts",
            Key={"pk": {"S": "un#boto3"}},
            ProjectionExpression="pk, #p",
            ExpressionAttributeNames={"#p": "password"},
        ),
    )
    step(
        "create account",
        lambda: ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "curity-accounts",
                        "Item": {"pk": {"S": "ai#boto3-1"}, "userName": {"S": "boto3"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": "curity-accounts",
                        "Item": {"pk": {"S": "un#boto3"}, "accountId": {"S": "boto3-1"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        ),
    )
    step(
        "query accounts by key",
        lambda: ddb.query(
            TableName="curity-accounts",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "un#boto3"}},
        ),
    )
    # Negative cases of the workload under least privilege.
    step(
        "query an index not granted",
        lambda: ddb.query(
            TableName="curity-accounts",
            IndexName="userNameInitial-userName-index",
            KeyConditionExpression="userNameInitial = :i",
            ExpressionAttributeValues={":i": {"S": "b"}},
        ),
    )
    step("scan without a grant", lambda: ddb.scan(TableName="curity-accounts"))
    step("delete table", lambda: ddb.delete_table(TableName="curity-accounts"))
    step(
        "table outside the grant",
        lambda: ddb.get_item(TableName="other-table", Key={"id": {"S": "x"}}),
    )
    step(
        "delete a session (explicit deny)",
        lambda: ddb.delete_item(TableName="curity-sessions", Key={"id": {"S": "boto3-session-1"}}),
    )
    step(
        "transaction with one denied item",
        lambda: ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "curity-accounts",
                        "Item": {"pk": {"S": "ai#boto3-atomic"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Delete": {"TableName": "curity-sessions", "Key": {"id": {"S": "boto3-session-1"}}}},
            ]
        ),
    )
    step(
        "the denied transaction wrote nothing",
        lambda: ddb.put_item(
            TableName="curity-accounts",
            Item={"pk": {"S": "ai#boto3-atomic"}},
            ConditionExpression="attribute_not_exists(pk)",
        ),
    )
    step(
        "delete account",
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": "curity-accounts", "Key": {"pk": {"S": "ai#boto3-1"}}}},
                {"Delete": {"TableName": "curity-accounts", "Key": {"pk": {"S": "un#boto3"}}}},
                {"Delete": {"TableName": "curity-accounts", "Key": {"pk": {"S": "ai#boto3-atomic"}}}},
            ]
        ),
    )


def tenant(me, other):
    mine = "system:serviceaccount:tenants:" + me
    theirs = "system:serviceaccount:tenants:" + other
    step(
        "write own row",
        lambda: ddb.put_item(
            TableName="tenants-rows", Item={"tenant": {"S": mine}, "item": {"S": "boto3"}}
        ),
    )
    step(
        "query own partition",
        lambda: ddb.query(
            TableName="tenants-rows",
            KeyConditionExpression="tenant = :t",
            ExpressionAttributeValues={":t": {"S": mine}},
        ),
    )
    step(
        "read the other tenant's row",
        lambda: ddb.get_item(
            TableName="tenants-rows", Key={"tenant": {"S": theirs}, "item": {"S": "boto3"}}
        ),
    )
    step(
        "write into the other tenant's partition",
        lambda: ddb.put_item(
            TableName="tenants-rows", Item={"tenant": {"S": theirs}, "item": {"S": "intruder"}}
        ),
    )


if __name__ == "__main__":
    if sys.argv[1] == "least-privilege":
        least_privilege()
    else:
        tenant(sys.argv[2], sys.argv[3])
