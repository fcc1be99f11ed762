"""A fault-injecting HTTP proxy on 127.0.0.1 between udo and moto_server (tests and bench only).

udo talks to this proxy as its AWS endpoint; the proxy forwards each request to moto, one
request per connection, and on the way injects the faults AWS clients meet on real networks:

- throttling: an AWS-shaped error without forwarding (EC2's `RequestLimitExceeded` with 503,
  the query services' `Throttling` with 400, `ThrottlingException` for JSON services);
- 5xx: an AWS-shaped `InternalError` (500) without forwarding;
- dropped connections: the connection is closed before the request is forwarded;
- lost replies: the request is forwarded and moto makes the change, then the answer is dropped
  (the case where a retried create finds "already exists" and a retried delete "not found");
- kill after the k-th write: once moto answered the k-th write call, the udo process (its pid
  given by the test) gets SIGKILL before the answer reaches it.

Each fault has a rate; one seed makes a run's sequence of draws repeatable, and `writes_only`
limits the faults to write calls (anything but Describe*/List*/Get*, read from the query
protocol's `Action=` or the JSON protocol's `X-Amz-Target`). `lose_first_reply` loses the reply
to the first try of every write (the SDK's retry, the same request, gets its answer): every
change is made twice, deterministically.

Control (JSON, on the proxy's own port, never forwarded):
  POST /_fault/config  {"seed", "throttle", "server_error", "drop", "lost_reply",
                        "writes_only", "lose_first_reply", "kill_after", "kill_pid"}  (replaces the settings,
                        resets the counters)
  POST /_fault/pid     {"kill_pid"}: the process to kill, given once it is started
  POST /_fault/stats   the counters: requests, writes, throttled, server_errors, dropped,
                        lost_replies, killed

Usage: python faultproxy.py --target http://127.0.0.1:PORT [--port 0]; prints `port N`.
"""

import argparse
import json
import os
import random
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

STATE_LOCK = threading.Lock()
SETTINGS = {}
COUNTS = {}
RNG = random.Random(0)
TARGET = ("127.0.0.1", 0)
# Bumped by every configure: a request that started under older settings (still in flight when
# a test moved on) neither counts nor kills.
GENERATION = 0
# Write requests seen (operation and body), for `lose_first_reply`.
SEEN = set()


def configure(cfg):
    global RNG, GENERATION
    with STATE_LOCK:
        GENERATION += 1
        SETTINGS.clear()
        SETTINGS.update(
            {
                "throttle": float(cfg.get("throttle", 0)),
                "server_error": float(cfg.get("server_error", 0)),
                "drop": float(cfg.get("drop", 0)),
                "lost_reply": float(cfg.get("lost_reply", 0)),
                "writes_only": bool(cfg.get("writes_only", False)),
                "lose_first_reply": bool(cfg.get("lose_first_reply", False)),
                "kill_after": cfg.get("kill_after"),
                "kill_pid": cfg.get("kill_pid"),
            }
        )
        RNG = random.Random(int(cfg.get("seed", 0)))
        SEEN.clear()
        COUNTS.clear()
        COUNTS.update(
            {
                "requests": 0,
                "writes": 0,
                "throttled": 0,
                "server_errors": 0,
                "dropped": 0,
                "lost_replies": 0,
                "killed": False,
            }
        )


def read_request(f):
    """One HTTP/1.1 request: (request line, [header lines], body), or None at EOF."""
    line = f.readline()
    if not line:
        return None
    headers = []
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        headers.append(h)
    length = 0
    chunked = False
    for h in headers:
        name, _, value = h.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int(f.readline().split(b";")[0].strip(), 16)
            if size == 0:
                f.readline()
                break
            body += f.read(size)
            f.readline()
        headers = [h for h in headers if not h.lower().startswith(b"transfer-encoding")]
        headers.append(b"Content-Length: %d\r\n" % len(body))
    else:
        body = f.read(length) if length else b""
    return line, headers, body


def header(headers, name):
    for h in headers:
        k, _, v = h.decode("latin-1").partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return None


def operation(headers, body):
    """(protocol, service, operation): protocol is "ec2", "query" or "json"."""
    auth = header(headers, "authorization") or ""
    service = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            service = scope[3]
    target = header(headers, "x-amz-target")
    if target:
        return "json", service, target.rsplit(".", 1)[-1]
    params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    op = (params.get("Action") or [""])[0]
    return ("ec2" if service == "ec2" else "query"), service, op


def is_write(op):
    return bool(op) and not op.startswith(("Describe", "List", "Get"))


def error_reply(protocol, code, message, status):
    rid = "udo-fault-%d" % random.randrange(1 << 30)
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        ctype = "application/x-amz-json-1.1"
    elif protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            "<Code>%s</Code><Message>%s</Message></Error></Errors>"
            "<RequestID>%s</RequestID></Response>" % (code, message, rid)
        ).encode()
        ctype = "text/xml"
    else:
        body = (
            "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message>"
            "</Error><RequestId>%s</RequestId></ErrorResponse>"
            % ("Sender" if status < 500 else "Receiver", code, message, rid)
        ).encode()
        ctype = "text/xml"
    reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
    head = (
        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
        "x-amzn-RequestId: %s\r\nConnection: close\r\n\r\n"
        % (status, reason.get(status, "Error"), ctype, len(body), rid)
    )
    return head.encode() + body


def throttle_reply(protocol):
    if protocol == "ec2":
        return error_reply(protocol, "RequestLimitExceeded", "Request limit exceeded.", 503)
    if protocol == "json":
        return error_reply(protocol, "ThrottlingException", "Rate exceeded", 400)
    return error_reply(protocol, "Throttling", "Rate exceeded", 400)


def server_error_reply(protocol):
    if protocol == "json":
        return error_reply(protocol, "InternalFailure", "We encountered an internal error.", 500)
    return error_reply(protocol, "InternalError", "We encountered an internal error.", 500)


def forward(line, headers, body):
    """Sends the request to moto on a fresh connection and returns moto's whole reply."""
    s = socket.create_connection(TARGET, timeout=120)
    try:
        kept = [h for h in headers if not h.lower().startswith((b"connection", b"keep-alive"))]
        s.sendall(line + b"".join(kept) + b"Connection: close\r\n\r\n" + body)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)
    finally:
        s.close()


def json_reply(obj):
    body = json.dumps(obj).encode()
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % len(body)
    ) + body


def kill(pid):
    """SIGKILL the udo process; waits briefly for a pid the test has not given yet."""
    deadline = time.time() + 10
    while pid is None and time.time() < deadline:
        time.sleep(0.01)
        with STATE_LOCK:
            pid = SETTINGS.get("kill_pid")
    if pid is not None:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        f = sock.makefile("rb")
        try:
            req = read_request(f)
        except (OSError, ValueError):
            return
        if req is None:
            return
        line, headers, body = req
        path = line.split(b" ")[1].decode("latin-1") if b" " in line else ""
        if path.startswith("/_fault/"):
            if path == "/_fault/config":
                configure(json.loads(body or b"{}"))
            elif path == "/_fault/pid":
                with STATE_LOCK:
                    SETTINGS["kill_pid"] = json.loads(body or b"{}").get("kill_pid")
            with STATE_LOCK:
                reply = dict(COUNTS)
            sock.sendall(json_reply(reply))
            return
        protocol, _service, op = operation(headers, body)
        write = is_write(op)
        with STATE_LOCK:
            s = dict(SETTINGS)
            generation = GENERATION
            COUNTS["requests"] += 1
            if COUNTS["killed"]:
                return  # udo is gone: nothing more reaches moto
            fault = None
            if write or not s["writes_only"]:
                r = RNG.random()
                for name in ("throttle", "server_error", "drop", "lost_reply"):
                    if r < s[name]:
                        fault = name
                        break
                    r -= s[name]
            if write and s["lose_first_reply"] and fault is None:
                key = (op, body)
                if key not in SEEN:
                    SEEN.add(key)
                    fault = "lost_reply"
            if fault == "throttle":
                COUNTS["throttled"] += 1
            elif fault == "server_error":
                COUNTS["server_errors"] += 1
            elif fault == "drop":
                COUNTS["dropped"] += 1
        if fault == "throttle":
            sock.sendall(throttle_reply(protocol))
            return
        if fault == "server_error":
            sock.sendall(server_error_reply(protocol))
            return
        if fault == "drop":
            return  # closed without an answer, nothing forwarded
        try:
            reply = forward(line, headers, body)
        except OSError as e:
            print("faultproxy: forwarding %s failed: %r" % (op, e), file=sys.stderr, flush=True)
            return
        kill_now = False
        with STATE_LOCK:
            if generation != GENERATION:
                fault = None if fault == "lost_reply" else fault
            elif write:
                COUNTS["writes"] += 1
                k = s.get("kill_after")
                if k is not None and COUNTS["writes"] >= int(k) and not COUNTS["killed"]:
                    COUNTS["killed"] = True
                    kill_now = True
            if fault == "lost_reply" and generation == GENERATION:
                COUNTS["lost_replies"] += 1
        if kill_now:
            kill(s.get("kill_pid"))
            return
        if fault == "lost_reply":
            return  # moto made the change; the answer never comes back
        try:
            sock.sendall(reply)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    global TARGET
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="moto's endpoint, http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--config", default="{}", help="initial settings as JSON")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.target)
    if url.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("faultproxy: the target must be on loopback")
    TARGET = ("127.0.0.1", url.port)
    configure(json.loads(args.config))
    server = Server(("127.0.0.1", args.port), Handler)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
