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
#
# For `udo asg rollout` (issue 9) and the outdated marking:
#
# - moto reports, for every instance of a group, the group's *current* launch template (at the
#   template's default version) or configuration; AWS reports what each instance was launched
#   from. Each instance now keeps what it was launched with.
# - moto stores a new launch template version's user data undecoded and then cannot launch
#   from that version; it now decodes it as CreateLaunchTemplate does.
# - moto keeps a group's old launch configuration when the group moves to a template (and the
#   template when it moves to a configuration); in AWS a group uses exactly one, so setting one
#   now clears the other.
# - `/_udo/unhealthy` `{"group": NAME}`: instances the group launches from then on report
#   `unhealthy` in its target groups and `OutOfService` in its classic load balancers (AWS's
#   answer for an instance whose health checks fail); `"skip": N` leaves the next N launches
#   healthy; `{"instances": [ID…]}` names instances instead; `"healthy": true` makes them (or
#   the group's) healthy again, as when a fix lands.
# - StartInstanceRefresh, DescribeInstanceRefreshes and CancelInstanceRefresh (moto has none),
#   following the AWS API reference: a refresh starts `Pending`, one active refresh per group
#   (`InstanceRefreshInProgress`), cancel of none is `ActiveInstanceRefreshNotFound`.
#   `/_udo/instance_refresh` `{"group": NAME, "status": S, "percentage": N}` moves the group's
#   newest refresh along as AWS would; `Successful` first replaces the instances that do not
#   match the group's launch settings (skip matching), as AWS does.

import datetime
import uuid

from moto.autoscaling import models as _asg_models
from moto.autoscaling.exceptions import AutoscalingClientError
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.core.types import Base64EncodedString
from moto.ec2.models import launch_templates as _ec2_templates
from moto.ec2.utils import parse_user_data
from moto.elb import models as _elb_models
from moto.elbv2 import models as _elbv2_models

_state_init = _asg_models.InstanceState.__init__


def _launched_with(self, *args, **kwargs):
    _state_init(self, *args, **kwargs)
    group = self.auto_scaling_group
    self._udo_template = None
    self._udo_config = None
    if group is None:
        return
    if group.ec2_launch_template is not None:
        tags = {t["key"]: t["value"] for t in self.instance.get_tags()}
        version = tags.get(
            "aws:ec2launchtemplate:version",
            str(group.ec2_launch_template.default_version_number),
        )
        self._udo_template = {
            "LaunchTemplateId": group.ec2_launch_template.id,
            "LaunchTemplateName": group.ec2_launch_template.name,
            "Version": version,
        }
    elif getattr(group, "launch_config", None) is not None:
        self._udo_config = group.launch_configuration_name
    if group.name in _UNHEALTHY_GROUPS:
        if _UNHEALTHY_GROUPS[group.name] > 0:
            _UNHEALTHY_GROUPS[group.name] -= 1
        else:
            _UNHEALTHY_IDS.add(self.instance.id)
            _UNHEALTHY_OF.setdefault(group.name, set()).add(self.instance.id)


_asg_models.InstanceState.__init__ = _launched_with
_asg_models.InstanceState.launch_template = property(lambda self: self._udo_template)
_asg_models.InstanceState.launch_configuration_name = property(
    lambda self: self._udo_config
)

_set_launch = _asg_models.FakeAutoScalingGroup._set_launch_configuration

# moto decodes a template's user data on CreateLaunchTemplate but not on
# CreateLaunchTemplateVersion, then fails to launch from any version after the first.
_create_version = _ec2_templates.LaunchTemplate.create_version


def _create_version_with_user_data(self, data, description):
    if isinstance(data, dict) and not isinstance(
        data.get("UserData"), (type(None), Base64EncodedString)
    ):
        data["UserData"] = parse_user_data(data["UserData"])
    return _create_version(self, data, description)


_ec2_templates.LaunchTemplate.create_version = _create_version_with_user_data


def _one_launch(self, launch_config_name, launch_template, mixed_instances_policy):
    if launch_config_name:
        self.ec2_launch_template = None
    elif launch_template or mixed_instances_policy:
        self.launch_config = None
        self.launch_configuration_name = None
    _set_launch(self, launch_config_name, launch_template, mixed_instances_policy)


_asg_models.FakeAutoScalingGroup._set_launch_configuration = _one_launch

_UNHEALTHY_GROUPS = {}  # group -> launches still to leave healthy
_UNHEALTHY_OF = {}  # group -> instances it launched that report unhealthy
_UNHEALTHY_IDS = set()


@control("unhealthy")
def _unhealthy(body):
    group = body.get("group")
    ids = set(body.get("instances", []))
    if body.get("healthy"):
        if group:
            _UNHEALTHY_GROUPS.pop(group, None)
            ids |= _UNHEALTHY_OF.pop(group, set())
        _UNHEALTHY_IDS.difference_update(ids)
    else:
        if group:
            _UNHEALTHY_GROUPS[group] = int(body.get("skip", 0))
        _UNHEALTHY_IDS.update(ids)
    return {"groups": sorted(_UNHEALTHY_GROUPS), "instances": sorted(_UNHEALTHY_IDS)}


_health_for = _elbv2_models.FakeTargetGroup.health_for


def _target_health(self, target, ec2_backend):
    status = _health_for(self, target, ec2_backend)
    if target["Id"] in _UNHEALTHY_IDS and status.status == "healthy":
        return _elbv2_models.FakeHealthStatus(
            target["Id"],
            status.port,
            self.health_check_port,
            "unhealthy",
            "Target.FailedHealthChecks",
            "Health checks failed",
        )
    return status


_elbv2_models.FakeTargetGroup.health_for = _target_health

_instance_health = _elb_models.ELBBackend.describe_instance_health


def _classic_health(self, lb_name, instances):
    out = _instance_health(self, lb_name, instances)
    for i in out:
        if i["InstanceId"] in _UNHEALTHY_IDS and i["State"] == "InService":
            i["State"] = "OutOfService"
    return out


_elb_models.ELBBackend.describe_instance_health = _classic_health

# (account, region, group) -> refreshes, newest first
_REFRESHES = {}
_ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _refreshes(resp, group):
    return _REFRESHES.setdefault((resp.current_account, resp.region, group), [])


def _start_instance_refresh(self):
    group = self._get_param("AutoScalingGroupName")
    if group not in self.autoscaling_backend.autoscaling_groups:
        raise AutoscalingClientError(
            "ValidationError", f"AutoScalingGroup name not found - {group}"
        )
    refreshes = _refreshes(self, group)
    if any(r["Status"] in _ACTIVE for r in refreshes):
        raise AutoscalingClientError(
            "InstanceRefreshInProgress",
            f"An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
        )
    prefs = self._get_param("Preferences", {}) or {}
    refresh = {
        "InstanceRefreshId": str(uuid.uuid4()),
        "AutoScalingGroupName": group,
        "Status": "Pending",
        "StatusReason": "Waiting for instances to warm up before continuing.",
        "StartTime": _now(),
        "PercentageComplete": 0,
        "InstancesToUpdate": len(
            self.autoscaling_backend.autoscaling_groups[group].instance_states
        ),
        "Preferences": prefs,
        "Strategy": self._get_param("Strategy", "Rolling"),
    }
    refreshes.insert(0, refresh)
    return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})


def _describe_instance_refreshes(self):
    group = self._get_param("AutoScalingGroupName")
    ids = self._get_param("InstanceRefreshIds", []) or []
    found = [r for r in _refreshes(self, group) if not ids or r["InstanceRefreshId"] in ids]
    return ActionResult({"InstanceRefreshes": found})


def _cancel_instance_refresh(self):
    group = self._get_param("AutoScalingGroupName")
    for r in _refreshes(self, group):
        if r["Status"] in ("Pending", "InProgress"):
            r["Status"] = "Cancelled"
            r["StatusReason"] = "Cancelled by user"
            r["EndTime"] = _now()
            return ActionResult({"InstanceRefreshId": r["InstanceRefreshId"]})
    raise AutoscalingClientError(
        "ActiveInstanceRefreshNotFound",
        f"No in progress or pending Instance Refresh found for Auto Scaling group {group}",
    )


AutoScalingResponse.start_instance_refresh = _start_instance_refresh
AutoScalingResponse.describe_instance_refreshes = _describe_instance_refreshes
AutoScalingResponse.cancel_instance_refresh = _cancel_instance_refresh


def _matches(state):
    group = state.auto_scaling_group
    if group.ec2_launch_template is not None:
        lt = state.launch_template or {}
        return lt.get("LaunchTemplateId") == group.ec2_launch_template.id and str(
            lt.get("Version")
        ) == str(group.ec2_launch_template.get_version(group.launch_template_version).number)
    return state.launch_configuration_name == group.launch_configuration_name


@control("instance_refresh")
def _move_refresh(body):
    group_name = body["group"]
    for (account, region, name), refreshes in _REFRESHES.items():
        if name != group_name or not refreshes:
            continue
        r = refreshes[0]
        status = body.get("status", "InProgress")
        if status == "Successful":
            backend = _asg_models.autoscaling_backends[account][region]
            group = backend.autoscaling_groups[name]
            old = [s.instance.id for s in group.instance_states if not _matches(s)]
            if old:
                backend.detach_instances(name, old, False)
                backend.ec2_backend.terminate_instances(old)
        r["Status"] = status
        r["StatusReason"] = body.get("reason", "")
        r["PercentageComplete"] = body.get(
            "percentage", 100 if status == "Successful" else r["PercentageComplete"]
        )
        if status not in _ACTIVE:
            r["EndTime"] = _now()
        return {"id": r["InstanceRefreshId"], "status": r["Status"]}
    raise KeyError(f"no instance refresh for group {group_name}")


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
