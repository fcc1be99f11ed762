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


# --- Autoscaling scheduled actions and scaling policies, per group -------------------------
# AWS names scheduled actions and scaling policies per group (`udo-night` may exist in every
# group) and deletes them with their group; moto keeps one of each name per region and keeps
# them after the group is gone. Key them by (group, name) and drop them with the group.


def _per_group_scaling():
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.models import AutoScalingBackend
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    put_action = AutoScalingBackend.put_scheduled_update_group_action

    def _put_action(self, *args, **kwargs):
        action = put_action(self, *args, **kwargs)
        name = action.scheduled_action_name
        if self.scheduled_actions.get(name) is action:
            del self.scheduled_actions[name]
        self.scheduled_actions[(action.auto_scaling_group_name, name)] = action
        return action

    def _delete_action(self, auto_scaling_group_name, scheduled_action_name):
        key = (auto_scaling_group_name, scheduled_action_name)
        if self.scheduled_actions.pop(key, None) is None:
            raise ValidationError("Scheduled action name not found")

    put_policy = AutoScalingBackend.put_scaling_policy

    def _put_policy(self, name, *args, **kwargs):
        policy = put_policy(self, name, *args, **kwargs)
        if self.policies.get(name) is policy:
            del self.policies[name]
        self.policies[(policy.auto_scaling_group_name, name)] = policy
        return policy

    def _delete_policy_response(self):
        key = (self._get_param("AutoScalingGroupName"), self._get_param("PolicyName"))
        self.autoscaling_backend.policies.pop(key, None)
        return EmptyResult()

    delete_group = AutoScalingBackend.delete_auto_scaling_group

    def _delete_group(self, group_name):
        result = delete_group(self, group_name)
        for store in (self.scheduled_actions, self.policies):
            for key in [k for k in store if isinstance(k, tuple) and k[0] == group_name]:
                del store[key]
        return result

    AutoScalingBackend.put_scheduled_update_group_action = _put_action
    AutoScalingBackend.delete_scheduled_action = _delete_action
    AutoScalingBackend.put_scaling_policy = _put_policy
    AutoScalingResponse.delete_policy = _delete_policy_response
    AutoScalingBackend.delete_auto_scaling_group = _delete_group


_per_group_scaling()


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
