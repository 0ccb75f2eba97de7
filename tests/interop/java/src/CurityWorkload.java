// The Curity Identity Server's DynamoDB access pattern (curity-workload.md: the public
// curityio/dynamodb-data-access-provider plugin) made through Java SDK v2, Curity's own SDK: the
// start-up DescribeTable, an account created by a TransactWriteItems of Puts guarded by
// attribute_not_exists, the same create refused by its condition, the password-check GetItem
// with a projection, an index Query with begins_with and Select=COUNT, a version-guarded update,
// the per-login conditional writes on curity-sessions, and a TransactWriteItems of Deletes; then
// what the least-privilege policy refuses it (curity-workload.md's negative cases): a Scan (the
// server's `allow-table-scans` is off, the policy grants none), the accounts table of a
// deployment with a table prefix (`prod-curity-accounts`, outside `table/curity-*`), and an
// account-creating TransactWriteItems with one item on that table (authorised per item, so the
// whole transaction is refused). One JSON line per step, like Interop.

import java.util.List;
import java.util.Map;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.Select;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

final class CurityWorkload {
    private CurityWorkload() {}

    static AttributeValue s(String v) {
        return AttributeValue.builder().s(v).build();
    }

    static AttributeValue n(long v) {
        return AttributeValue.builder().n(Long.toString(v)).build();
    }

    static TransactWriteItem put(Map<String, AttributeValue> item) {
        return TransactWriteItem.builder().put(Put.builder().tableName("curity-accounts").item(item)
                .conditionExpression("attribute_not_exists(pk)").build()).build();
    }

    static TransactWriteItem delete(String pk) {
        return TransactWriteItem.builder().delete(Delete.builder().tableName("curity-accounts")
                .key(Map.of("pk", s(pk))).build()).build();
    }

    static void run(DynamoDbClient ddb, String id) {
        String user = id + "-user";
        String email = id + "@example.com";
        String accountId = "ai#" + id;
        Map<String, AttributeValue> account = Map.of(
                "pk", s(accountId), "accountId", s(id), "userName", s(user),
                "userNameInitial", s(user.substring(0, 1)), "email", s(email),
                "emailInitial", s(email.substring(0, 1)), "password", s("hash"), "version", n(0));
        List<TransactWriteItem> create = List.of(
                put(account),
                put(Map.of("pk", s("un#" + user), "accountId", s(id))),
                put(Map.of("pk", s("em#" + email), "accountId", s(id))));
        Interop.step("curity-describe-table", () -> ddb.describeTable(r -> r.tableName("curity-accounts"))
                .table().globalSecondaryIndexes().stream()
                .anyMatch(i -> i.indexName().equals("userNameInitial-userName-index")) + "");
        Interop.step("curity-create-account-transaction", () -> {
            ddb.transactWriteItems(r -> r.transactItems(create));
            return "3 items";
        });
        Interop.step("curity-create-account-again-refused", () -> {
            ddb.transactWriteItems(r -> r.transactItems(create));
            return "3 items";
        });
        Interop.step("curity-password-check-get-item", () -> ddb.getItem(r -> r
                .tableName("curity-accounts").key(Map.of("pk", s(accountId))).consistentRead(true)
                .projectionExpression("accountId, password")).item().get("accountId").s());
        Interop.step("curity-query-index-count", () -> ddb.query(r -> r
                .tableName("curity-accounts").indexName("userNameInitial-userName-index")
                .keyConditionExpression("userNameInitial = :i AND begins_with(userName, :p)")
                .expressionAttributeValues(Map.of(":i", s(user.substring(0, 1)), ":p", s(id)))
                .select(Select.COUNT)).count() + "");
        Interop.step("curity-update-account-versioned", () -> {
            ddb.updateItem(r -> r.tableName("curity-accounts").key(Map.of("pk", s(accountId)))
                    .updateExpression("SET password = :p, version = :next")
                    .conditionExpression("attribute_exists(pk) AND version = :v")
                    .expressionAttributeValues(Map.of(":p", s("hash2"), ":v", n(0), ":next", n(1))));
            return "version 1";
        });
        String session = id + "-session";
        Interop.step("curity-session-put-if-absent", () -> {
            ddb.putItem(r -> r.tableName("curity-sessions")
                    .item(Map.of("id", s(session), "deletableAt", n(4_102_444_800L)))
                    .conditionExpression("attribute_not_exists(id)"));
            return session;
        });
        Interop.step("curity-session-update-if-present", () -> {
            ddb.updateItem(r -> r.tableName("curity-sessions").key(Map.of("id", s(session)))
                    .updateExpression("SET deletableAt = :d")
                    .conditionExpression("attribute_exists(id)")
                    .expressionAttributeValues(Map.of(":d", n(4_102_444_801L))));
            return session;
        });
        Interop.step("curity-delete-account-transaction", () -> {
            ddb.transactWriteItems(r -> r.transactItems(List.of(
                    delete(accountId), delete("un#" + user), delete("em#" + email))));
            return "3 items";
        });
        Interop.step("curity-scan-refused", () -> ddb.scan(r -> r.tableName("curity-accounts"))
                .count() + "");
        Interop.step("curity-prefixed-table-refused", () -> ddb.getItem(r -> r
                .tableName("prod-curity-accounts").key(Map.of("pk", s(accountId)))
                .consistentRead(true)).hasItem() + "");
        Interop.step("curity-transaction-outside-policy-refused", () -> {
            ddb.transactWriteItems(r -> r.transactItems(List.of(
                    put(account),
                    TransactWriteItem.builder().put(Put.builder().tableName("prod-curity-accounts")
                            .item(Map.of("pk", s("un#" + user), "accountId", s(id)))
                            .conditionExpression("attribute_not_exists(pk)").build()).build())));
            return "2 items";
        });
    }
}
