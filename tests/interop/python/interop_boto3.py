"""The interop suite's boto3 client (tests/interop/README.md).

Configured by nothing but the pod's environment, it runs the suite's script through botocore's
default credentials chain and prints one JSON line per step. It decides nothing: the Rust test
compares what it saw with what AWS would answer.

Usage: python interop_boto3.py allowed <id> | refused <id> | refresh <id> | probe <id>
(refresh: one GetItem per line `ROUND OFFSET_SECONDS` read from stdin, until stdin closes; the
offset is for programs that move their own clock: this one runs under libfaketime; probe: one
GetCallerIdentity through the default chain, for the environment measurements)

The suite runs it with the harness venv's boto3 and with boto3 1.26 (before botocore read
`AWS_ENDPOINT_URL*`), each with `guard/` on PYTHONPATH.
"""

import json
import sys

import boto3
import botocore
import botocore.endpoint
from botocore.exceptions import ClientError

VERSION = boto3.__version__


def emit(fields):
    print(json.dumps(fields), flush=True)


# Report where each request goes, and refuse it unless its connection stays on this machine: the
# endpoint is this machine, or botocore sends it through a proxy on this machine (`HTTPS_PROXY`;
# the endpoint's own proxy decision, NO_PROXY included). The network guard on PYTHONPATH
# (`guard/sitecustomize.py`) refuses any other connection below this, so nothing can reach
# `*.amazonaws.com` even if an endpoint variable or the proxy setting were ignored.
_LOCAL = ("127.0.0.1", "localhost", "::1")
_send = botocore.endpoint.Endpoint._send


def _guarded_send(self, request):
    from urllib.parse import urlsplit

    url = urlsplit(request.url)
    proxy = self.http_session._proxy_config.proxy_url_for(request.url)
    next_hop = urlsplit(proxy).hostname if proxy else url.hostname
    local = next_hop in _LOCAL
    port = url.port or (443 if url.scheme == "https" else 80)
    emit({"event": "request", "sdk": "boto3", "version": VERSION,
          "host": f"{url.hostname}:{port}", "proxy": bool(proxy), "sent": local})
    if not local:
        raise RuntimeError(f"irsa-harness interop: refused to send a request to `{url.hostname}`")
    return _send(self, request)


botocore.endpoint.Endpoint._send = _guarded_send


def step(name, body):
    out = {"event": "step", "sdk": "boto3", "version": VERSION, "step": name}
    try:
        out.update(ok=True, code=None, detail=str(body()))
    except ClientError as e:
        out.update(ok=False, code=e.response["Error"]["Code"], exception=type(e).__name__,
                   detail=str(e))
    except Exception as e:  # noqa: BLE001 - reported, and the test fails on it
        out.update(ok=False, code=None, exception=type(e).__name__, detail=str(e))
    emit(out)


def main():
    mode, ident = sys.argv[1], sys.argv[2]
    pk = f"un#{ident}"
    session = boto3.session.Session()
    sts = session.client("sts")
    if mode == "probe":
        step("probe", lambda: sts.get_caller_identity()["Arn"])
        return
    if mode == "refused":
        step("sts-refusal", lambda: sts.get_caller_identity()["Arn"])
        return
    ddb = session.client("dynamodb")
    if mode == "refresh":
        for line in sys.stdin:
            step(f"refresh-{line.split()[0]}", lambda: ddb.get_item(
                TableName="curity-accounts", Key={"pk": {"S": pk}}
            )["ResponseMetadata"]["HTTPStatusCode"])
        return
    step("get-caller-identity", lambda: sts.get_caller_identity()["Arn"])

    def put():
        ddb.put_item(TableName="curity-accounts", Item={
            "pk": {"S": pk}, "userNameInitial": {"S": ident}, "userName": {"S": f"{ident}-name"}})
        return pk

    step("put-item", put)
    step("get-item", lambda: ddb.get_item(
        TableName="curity-accounts", Key={"pk": {"S": pk}}, ConsistentRead=True
    ).get("Item", {}).get("userName", {}).get("S", "<no item>"))
    step("query", lambda: ddb.query(
        TableName="curity-accounts", KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}})["Count"])
    step("query-index", lambda: ddb.query(
        TableName="curity-accounts", IndexName="userNameInitial-userName-index",
        KeyConditionExpression="userNameInitial = :i",
        ExpressionAttributeValues={":i": {"S": ident}})["Count"])
    step("delete-table-denied", lambda: ddb.delete_table(
        TableName="curity-audit")["TableDescription"]["TableName"])


if __name__ == "__main__":
    main()
