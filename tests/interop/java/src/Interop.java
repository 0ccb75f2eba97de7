// The interop suite's Java SDK v2 client (tests/interop/README.md): configured by nothing but the
// pod's environment, it runs the suite's script through the SDK's default credentials chain and
// prints one JSON line per step. It decides nothing: the Rust test compares what it saw with what
// AWS would answer.
//
// Usage: java Interop allowed <id> | refused <id> | refresh <id> | curity <id> | probe <id>
// (probe: one GetCallerIdentity through the default chain, for the environment measurements)
// (curity: the calls of ../shared/docs/curity-workload.md, see CurityWorkload.java)
// (refresh: one GetItem per line `ROUND OFFSET_SECONDS` read from stdin, until stdin closes; the
// offset is for programs that move their own clock: this one runs under libfaketime)

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.util.VersionInfo;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.sts.StsClient;

public final class Interop {
    private Interop() {}

    static void emit(Map<String, Object> fields) {
        StringBuilder b = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            if (!first) b.append(',');
            first = false;
            b.append(json(e.getKey())).append(':');
            Object v = e.getValue();
            if (v == null) b.append("null");
            else if (v instanceof Boolean || v instanceof Number) b.append(v);
            else b.append(json(v.toString()));
        }
        System.out.println(b.append('}'));
        System.out.flush();
    }

    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** The AWS error code anywhere in the cause chain (the default chain wraps STS errors). */
    static String code(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof AwsServiceException) {
                AwsServiceException a = (AwsServiceException) c;
                if (a.awsErrorDetails() != null) return a.awsErrorDetails().errorCode();
            }
            for (Throwable s : c.getSuppressed()) {
                String inner = code(s);
                if (inner != null) return inner;
            }
        }
        return null;
    }

    static void step(String name, Supplier<String> body) {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("event", "step");
        out.put("sdk", "java");
        out.put("version", VersionInfo.SDK_VERSION);
        out.put("step", name);
        try {
            String detail = body.get();
            out.put("ok", true);
            out.put("code", null);
            out.put("detail", detail);
        } catch (RuntimeException e) {
            out.put("ok", false);
            out.put("code", code(e));
            out.put("exception", e.getClass().getSimpleName());
            out.put("detail", String.valueOf(e.getMessage()));
        }
        emit(out);
    }

    static AttributeValue s(String v) {
        return AttributeValue.builder().s(v).build();
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String id = args[1];
        String pk = "un#" + id;
        if (mode.equals("probe")) {
            step("probe", () -> {
                try (StsClient sts = StsClient.create()) {
                    return sts.getCallerIdentity().arn();
                }
            });
            return;
        }
        if (mode.equals("refused")) {
            step("sts-refusal", () -> {
                try (StsClient sts = StsClient.create()) {
                    return sts.getCallerIdentity().arn();
                }
            });
            // Curity's `web-identity-token-file` setting: the provider on its own, not the chain.
            step("sts-refusal-web-identity-provider", () -> {
                try (WebIdentityTokenFileCredentialsProvider p =
                        WebIdentityTokenFileCredentialsProvider.create()) {
                    return p.resolveCredentials().accessKeyId().substring(0, 4);
                }
            });
            return;
        }
        try (DynamoDbClient ddb = DynamoDbClient.create(); StsClient sts = StsClient.create()) {
            if (mode.equals("curity")) {
                CurityWorkload.run(ddb, id);
                return;
            }
            if (mode.equals("refresh")) {
                BufferedReader in = new BufferedReader(
                        new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    String round = line.trim().split(" ")[0];
                    step("refresh-" + round, () -> ddb.getItem(r -> r.tableName("curity-accounts")
                            .key(Map.of("pk", s(pk)))).sdkHttpResponse().statusCode() + "");
                }
                return;
            }
            step("get-caller-identity", () -> sts.getCallerIdentity().arn());
            step("put-item", () -> {
                Map<String, AttributeValue> item = new HashMap<>();
                item.put("pk", s(pk));
                item.put("userNameInitial", s(id));
                item.put("userName", s(id + "-name"));
                ddb.putItem(r -> r.tableName("curity-accounts").item(item));
                return pk;
            });
            step("get-item", () -> {
                Map<String, AttributeValue> item = ddb.getItem(r -> r.tableName("curity-accounts")
                        .key(Map.of("pk", s(pk))).consistentRead(true)).item();
                return item.containsKey("userName") ? item.get("userName").s() : "<no item>";
            });
            step("query", () -> String.valueOf(ddb.query(r -> r.tableName("curity-accounts")
                    .keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", s(pk)))).count()));
            step("query-index", () -> String.valueOf(ddb.query(r -> r.tableName("curity-accounts")
                    .indexName("userNameInitial-userName-index")
                    .keyConditionExpression("userNameInitial = :i")
                    .expressionAttributeValues(Map.of(":i", s(id)))).count()));
            step("delete-table-denied", () ->
                    ddb.deleteTable(r -> r.tableName("curity-audit")).tableDescription().tableName());
        }
    }
}
