"""The interop suite's network guard for every Python process it runs (boto3, the AWS CLI).

On `PYTHONPATH`, so the interpreter imports it at start, before any client code. It refuses to
resolve or connect to anything but this machine, so no connection can leave it: a request for an
AWS host name gets through only inside a tunnel of a proxy on this machine (then only the proxy's
address is resolved). A client that ignores its proxy setting is stopped here, before any name
lookup, and the refused host is reported on stderr as one JSON line.
"""

import json
import socket
import sys

_LOCAL = {"127.0.0.1", "localhost", "::1"}
MARKER = "irsa-harness interop: refused"


def _refuse(what, host):
    detail = f"{MARKER} to {what} `{host}`: not this machine"
    sys.stderr.write(json.dumps({"event": "guard", "host": host, "detail": detail}) + "\n")
    sys.stderr.flush()
    raise OSError(detail)


_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _LOCAL:
        _refuse("resolve", name)
    return _getaddrinfo(host, *args, **kwargs)


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _check(address):
    if isinstance(address, tuple) and address and address[0] not in _LOCAL:
        _refuse("connect to", str(address[0]))


def _guarded_connect(self, address):
    _check(address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _check(address)
    return _connect_ex(self, address)


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
