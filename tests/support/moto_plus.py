"""moto_server for udo's tests, with the few test-only additions the harness needs.

This is plain moto (the pinned `moto[server]` in .venv) served over HTTP on loopback by moto's
own ThreadedMotoServer, exactly as `moto_server` serves it. It exists because moto lacks a few
operations udo calls and never moves some states that real AWS moves (a CodeDeploy deployment
stays `Created` forever; instance refresh is not implemented). Everything added here is listed
in the README's testing section and kept to the smallest faithful stand-in:

- a test-only control endpoint under `/_udo/…` (see `CONTROL`), standing in for what AWS or
  its agents would do on their own;
- missing operations, following the AWS API reference, patched onto moto's own response and
  backend classes (see the sections below).

Nothing here mocks udo: udo talks to this server over HTTP through the AWS SDK as it would to
AWS. Usage: python moto_plus.py -H 127.0.0.1 -p PORT
"""

import argparse
import io
import json
import threading
import urllib.parse

from moto.moto_server import threaded_moto_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

# Test-only control routes: path (after `/_udo/`) -> function(dict body) -> dict reply.
# Each section below registers its own.
CONTROL = {}


# Request hooks: function(environ, body bytes) -> (status, headers, body bytes) or None. A hook
# that answers stands in for AWS's reply; each section may register its own.
HOOKS = []


def control(name):
    def register(fn):
        CONTROL[name] = fn
        return fn

    return register


class UdoApplication(DomainDispatcherApplication):
    """moto's WSGI dispatcher, with `/_udo/NAME` (POST, JSON body) routed to CONTROL[NAME]."""

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_udo/"):
            name = path[len("/_udo/") :]
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            fn = CONTROL.get(name)
            if fn is None:
                status, reply = "404 Not Found", {"error": f"no control route {name}"}
            else:
                try:
                    status, reply = "200 OK", fn(json.loads(raw or b"{}"))
                except Exception as e:  # a test's mistake: say what went wrong
                    status, reply = "400 Bad Request", {"error": f"{type(e).__name__}: {e}"}
            body = json.dumps(reply).encode()
            start_response(
                status,
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if HOOKS:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            for hook in HOOKS:
                canned = hook(environ, raw)
                if canned is not None:
                    status, headers, body = canned
                    start_response(status, headers)
                    return [body]
        return super().__call__(environ, start_response)


@control("ping")
def _ping(_body):
    return {"ok": True}


# --- CodeDeploy ----------------------------------------------------------------------------


# --- Autoscaling instance refresh ----------------------------------------------------------


# --- Errors (issue 10: one clear line for every AWS error) ----------------------------------
# `/_udo/fail` makes the next `times` calls of a query-protocol `action` (EC2, Auto Scaling, STS)
# answer `status` with `body` and `headers` as given, as AWS does when it refuses a request or a
# front end answers with something that is not an AWS error document.
FAILURES = []
_failures_lock = threading.Lock()


@control("fail")
def _fail(body):
    rule = {
        "action": body["action"],
        "status": int(body.get("status", 400)),
        "body": body.get("body", ""),
        "headers": body.get("headers", {}),
        "times": int(body.get("times", 1)),
    }
    with _failures_lock:
        FAILURES.append(rule)
    return {"ok": True}


def _failure_hook(environ, raw):
    if not FAILURES:
        return None
    action = urllib.parse.parse_qs(raw.decode("utf-8", "replace")).get("Action", [""])[0]
    with _failures_lock:
        rule = next((r for r in FAILURES if r["action"] == action and r["times"] > 0), None)
        if rule is None:
            return None
        rule["times"] -= 1
    body = rule["body"].encode()
    headers = [("Content-Length", str(len(body)))] + list(rule["headers"].items())
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "text/xml"))
    return f"{rule['status']} Error", headers, body


HOOKS.append(_failure_hook)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    # ThreadedMotoServer builds its dispatcher by this name: serve ours in its place.
    threaded_moto_server.DomainDispatcherApplication = UdoApplication
    server = threaded_moto_server.ThreadedMotoServer(
        ip_address=args.host, port=args.port, verbose=False
    )
    server.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
