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
import json
import threading

from moto.moto_server import threaded_moto_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

# Test-only control routes: path (after `/_udo/`) -> function(dict body) -> dict reply.
# Each section below registers its own.
CONTROL = {}


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
        return super().__call__(environ, start_response)


@control("ping")
def _ping(_body):
    return {"ok": True}


# --- CodeDeploy ----------------------------------------------------------------------------


# --- Autoscaling instance refresh ----------------------------------------------------------


# --- Reliability: client tokens (issue 10) -------------------------------------------------
# AWS deduplicates a create that carries a ClientToken: a retry with the same token answers with
# what the first request made instead of making another. moto ignores the token, so a retried
# create whose first reply was lost would leave a duplicate; this stand-in remembers each
# (account, region, operation, token) and answers a repeat with the first answer's resource.

_TOKEN_LOCK = threading.Lock()
_TOKENS = {}


def _honour_client_token(operation):
    from moto.ec2.responses import EC2Response

    original = getattr(EC2Response, operation)

    def with_token(self):
        token = self._get_param("ClientToken")
        if not token:
            return original(self)
        key = (self.current_account, self.region, operation, token)
        with _TOKEN_LOCK:
            if key not in _TOKENS:
                _TOKENS[key] = original(self)
            return _TOKENS[key]

    setattr(EC2Response, operation, with_token)


for _op in ("create_route_table", "create_launch_template", "create_launch_template_version"):
    _honour_client_token(_op)


def _delete_missing_template_is_not_found():
    # AWS answers DeleteLaunchTemplate for a name that does not exist (e.g. the retry of a
    # delete whose reply was lost) with InvalidLaunchTemplateName.NotFoundException; moto
    # answers MissingParameter, as if no name had been given.
    from moto.ec2.exceptions import InvalidLaunchTemplateNameNotFoundError
    from moto.ec2.models.launch_templates import LaunchTemplateBackend

    original = LaunchTemplateBackend.delete_launch_template

    def delete_launch_template(self, name, tid):
        if name and name not in self.launch_template_name_to_ids:
            raise InvalidLaunchTemplateNameNotFoundError()
        return original(self, name, tid)

    LaunchTemplateBackend.delete_launch_template = delete_launch_template


_delete_missing_template_is_not_found()


def _autoscaling_names_are_taken():
    # AWS answers CreateAutoScalingGroup and CreateLaunchConfiguration for a name in use with
    # AlreadyExists (e.g. the retry of a create whose reply was lost); moto replaced the
    # existing group or configuration.
    from moto.autoscaling.exceptions import AutoscalingClientError
    from moto.autoscaling.models import AutoScalingBackend

    class AlreadyExists(AutoscalingClientError):
        code = "AlreadyExists"

    def refuse_taken(method, existing, what):
        original = getattr(AutoScalingBackend, method)

        def create(self, *args, **kwargs):
            name = kwargs.get("name", args[0] if args else None)
            if name in getattr(self, existing):
                raise AlreadyExists(f"{what} by this name already exists - {name}")
            return original(self, *args, **kwargs)

        setattr(AutoScalingBackend, method, create)

    refuse_taken("create_auto_scaling_group", "autoscaling_groups", "AutoScalingGroup")
    refuse_taken("create_launch_configuration", "launch_configurations", "Launch Configuration")


_autoscaling_names_are_taken()


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
