// The interop suite's JavaScript SDK v3 client (tests/interop/README.md): configured by nothing but
// the pod's environment, it runs the suite's script through the clients' default credentials
// chain and prints one JSON line per step. It decides nothing: the Rust test compares what it saw
// with what AWS would answer.
//
// Usage: node interop.mjs allowed <id> | refused <id> | refresh <id> | probe <id>
// (refresh: one GetItem per line `ROUND OFFSET_SECONDS` read from stdin, until stdin closes; the
// offset is for programs that move their own clock: this one runs under libfaketime; probe: one
// GetCallerIdentity through the default chain, for the environment measurements)

import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);

// Report every connection and refuse each one to anything but this machine, before any name is
// resolved, so nothing can reach `*.amazonaws.com` even if an endpoint variable or a proxy
// setting were ignored: patched on `net.Socket`, under every HTTP and TLS client of the process
// (a request for an AWS host name that went through a proxy on this machine would connect to the
// proxy's address, and pass).
const LOCAL = new Set(["127.0.0.1", "localhost", "::1"]);
const net = require("node:net");
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  let options = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof options !== "object" || options === null) {
    options = typeof options === "string" && Number.isNaN(Number(options))
      ? { path: options }
      : { port: options, host: typeof args[1] === "string" ? args[1] : undefined };
  }
  // As net.Socket decides: a truthy `path` is a local (Unix) socket, anything else TCP.
  if (!options.path) {
    const host = options.host ?? "localhost";
    const local = LOCAL.has(host);
    emit({ event: "request", sdk: "js", version, host: `${host}:${options.port}`, sent: local });
    if (!local) {
      process.nextTick(() => this.destroy(new Error(
        `irsa-harness interop: refused to connect to \`${host}\`: not this machine`)));
      return this;
    }
  }
  return connect.apply(this, args);
};

const { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, DeleteTableCommand } =
  await import("@aws-sdk/client-dynamodb");
const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
const { fromTokenFile } = await import("@aws-sdk/credential-providers");
const version = require("@aws-sdk/client-dynamodb/package.json").version;

function emit(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

async function step(name, body) {
  const out = { event: "step", sdk: "js", version, step: name };
  try {
    out.detail = String(await body());
    out.ok = true;
    out.code = null;
  } catch (e) {
    out.ok = false;
    out.code = e.$metadata ? e.name : null;
    out.exception = e.name;
    out.detail = String(e.message);
  }
  emit(out);
}

const [mode, id] = process.argv.slice(2);
const pk = `un#${id}`;
const s = (v) => ({ S: v });

if (mode === "probe") {
  await step("probe", async () => (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn);
} else if (mode === "refused") {
  await step("sts-refusal", async () => {
    const me = await new STSClient({}).send(new GetCallerIdentityCommand({}));
    return me.Arn;
  });
  await step("sts-refusal-web-identity-provider", async () => {
    const creds = await fromTokenFile()();
    return creds.accessKeyId.slice(0, 4);
  });
} else {
  const ddb = new DynamoDBClient({});
  const sts = new STSClient({});
  if (mode === "refresh") {
    const lines = createInterface({ input: process.stdin });
    for await (const line of lines) {
      await step(`refresh-${line.trim().split(" ")[0]}`, async () => {
        const r = await ddb.send(new GetItemCommand({ TableName: "curity-accounts", Key: { pk: s(pk) } }));
        return r.$metadata.httpStatusCode;
      });
    }
  } else {
    await step("get-caller-identity", async () => (await sts.send(new GetCallerIdentityCommand({}))).Arn);
    await step("put-item", async () => {
      await ddb.send(new PutItemCommand({
        TableName: "curity-accounts",
        Item: { pk: s(pk), userNameInitial: s(id), userName: s(`${id}-name`) },
      }));
      return pk;
    });
    await step("get-item", async () => {
      const r = await ddb.send(new GetItemCommand({
        TableName: "curity-accounts", Key: { pk: s(pk) }, ConsistentRead: true,
      }));
      return r.Item?.userName?.S ?? "<no item>";
    });
    await step("query", async () => (await ddb.send(new QueryCommand({
      TableName: "curity-accounts",
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": s(pk) },
    }))).Count);
    await step("query-index", async () => (await ddb.send(new QueryCommand({
      TableName: "curity-accounts",
      IndexName: "userNameInitial-userName-index",
      KeyConditionExpression: "userNameInitial = :i",
      ExpressionAttributeValues: { ":i": s(id) },
    }))).Count);
    await step("delete-table-denied", async () =>
      (await ddb.send(new DeleteTableCommand({ TableName: "curity-audit" }))).TableDescription.TableName);
  }
}
