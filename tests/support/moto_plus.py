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
import os
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
    # The pid lets the harness tell its own server from another test's that took the same port
    # first (two tests can be handed one free port; the loser's server exits, unseen at first).
    return {"ok": True, "pid": os.getpid()}


# --- CodeDeploy ----------------------------------------------------------------------------
# moto keeps a deployment `Created` forever, returns a group's autoScalingGroups as bare names,
# leaves errorInformation and lastAttemptedDeployment empty, and lacks StopDeployment,
# UpdateDeploymentGroup, ListDeploymentConfigs, GetDeploymentConfig, ListDeploymentTargets and
# BatchGetDeploymentTargets. In AWS the CodeDeploy agents on the instances move a deployment
# along; here a test tells the stand-in agents what to do (`codedeploy_agent`) and each
# GetDeployment poll moves the deployment one step: Created -> InProgress -> the outcome.

from moto.codedeploy import responses as cd_responses  # noqa: E402
from moto.codedeploy.models import codedeploy_backends  # noqa: E402
from moto.codedeploy.responses import CodeDeployResponse  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.core.utils import utcnow  # noqa: E402

CD_ACCOUNT = "123456789012"
# group name -> what the stand-in agents do with its next deployments:
# {"outcome": "Succeeded"|"Failed"|"Stopped"|"Never", "failures": [{instance, event, message}],
#  "error": {"code", "message"}}
CD_AGENT = {}
TERMINAL = ("Succeeded", "Failed", "Stopped")
SERVER_CONFIGS = {
    "CodeDeployDefault.OneAtATime": ("HOST_COUNT", 1),
    "CodeDeployDefault.HalfAtATime": ("FLEET_PERCENT", 50),
    "CodeDeployDefault.AllAtOnce": ("HOST_COUNT", 0),
}


def _cd_backend(region):
    return codedeploy_backends[CD_ACCOUNT][region]


def _cd_instances(deployment, region):
    """The instances of the group's autoscaling groups, as AWS targets them (none: none)."""
    ids = []
    try:
        from moto.autoscaling.models import autoscaling_backends

        asgs = autoscaling_backends[CD_ACCOUNT][region].autoscaling_groups
        for name in deployment.deployment_group.auto_scaling_groups:
            group = asgs.get(name)
            if group is not None:
                ids += [s.instance.id for s in group.instance_states]
    except Exception:  # no such group in moto: no instances
        pass
    return ids


# AWS fails a deployment whose group has no instances to deploy to, with this error.
NO_INSTANCES = {
    "code": "NO_INSTANCES",
    "message": "The deployment failed because no instances were found for your deployment group. Check your deployment group settings to make sure the tags for your Amazon EC2 instances or Auto Scaling groups correctly identify the instances you want to deploy to, and then try again.",
}


def _cd_lifecycle(name, status, message=None):
    event = {"lifecycleEventName": name, "status": status}
    if message is not None:
        event["diagnostics"] = {
            "errorCode": "ScriptFailed",
            "scriptName": f"scripts/{name}.sh",
            "message": message,
            "logTail": message,
        }
    return event


def _cd_move(d, status, region, fate=None):
    """Moves deployment `d` to `status` with the overview, targets and errors AWS would show."""
    fate = fate or {}
    now = utcnow()
    if not hasattr(d, "udo_targets"):
        d.udo_targets = {i: "Pending" for i in _cd_instances(d, region)}
        d.udo_events = {}
    failures = {f["instance"]: f for f in fate.get("failures", [])}
    ids = list(d.udo_targets)
    if status == "InProgress":
        d.start_time = d.start_time or now
        for i in ids:
            d.udo_targets[i] = "InProgress"
    elif status == "Succeeded":
        for i in ids:
            d.udo_targets[i] = "Succeeded"
    elif status == "Failed":
        if not failures and ids:
            failures = {ids[0]: {"instance": ids[0], "event": "ApplicationStart",
                                 "message": "Script at specified location: scripts/start.sh run as user root failed with exit code 1"}}
        for f in failures.values():
            d.udo_targets.setdefault(f["instance"], "Pending")
        for i in d.udo_targets:
            d.udo_targets[i] = "Failed" if i in failures else "Skipped"
        for i, f in failures.items():
            d.udo_events[i] = [
                _cd_lifecycle("BeforeInstall", "Succeeded"),
                _cd_lifecycle(f.get("event", "ApplicationStart"), "Failed", f.get("message", "failed")),
            ]
        error = fate.get("error") or {
            "code": "HEALTH_CONSTRAINTS",
            "message": "The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.",
        }
        d.udo_error = error
    elif status == "Stopped":
        for i in d.udo_targets:
            if d.udo_targets[i] not in TERMINAL:
                d.udo_targets[i] = "Skipped"
        d.udo_error = {"code": "MANUAL_STOP", "message": "The deployment was stopped by the user."}
    d.status = status
    if status in TERMINAL:
        d.complete_time = now
    counts = {"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0}
    for s in d.udo_targets.values():
        counts[s if s in counts else "Skipped"] += 1
    d.deployment_overview = counts


@control("codedeploy_agent")
def _codedeploy_agent(body):
    """The stand-in agents' behaviour for the next deployments of one group (see CD_AGENT)."""
    CD_AGENT[body["group"]] = body
    return {"ok": True}


@control("codedeploy_move")
def _codedeploy_move(body):
    """Moves one deployment at once to `status` (InProgress, Succeeded, Failed or Stopped)."""
    region = body.get("region", "us-east-1")
    d = _cd_backend(region).get_deployment(body["id"])
    _cd_move(d, body["status"], region, body)
    return {"id": d.deployment_id, "status": d.status}


_moto_deployment_info = cd_responses._deployment_info
_moto_group_info = cd_responses._deployment_group_info


def _deployment_info(d):
    info = _moto_deployment_info(d)
    info["errorInformation"] = getattr(d, "udo_error", None) or {}
    for key in ("previousRevision", "rollbackInfo", "relatedDeployments"):
        if not info.get(key):
            info.pop(key, None)
    return info


def _deployment_group_info(g):
    info = _moto_group_info(g)
    # AWS returns {name, hook}; moto returns the names the group was created with.
    info["autoScalingGroups"] = [
        a if isinstance(a, dict) else {"name": a, "hook": f"CodeDeploy-managed-automatic-launch-deployment-hook-{g.deployment_group_name}"}
        for a in g.auto_scaling_groups
    ]
    info["deploymentConfigName"] = str(g.deployment_config_name)
    mine = _all_deployments(g)
    for key in ("lastAttemptedDeployment", "lastSuccessfulDeployment", "targetRevision", "alarmConfiguration"):
        info.pop(key, None)
    if mine:
        last = max(mine, key=lambda d: d.create_time)
        info["lastAttemptedDeployment"] = {
            "deploymentId": last.deployment_id,
            "status": last.status,
            "createTime": last.create_time,
            **({"endTime": last.complete_time} if last.complete_time else {}),
        }
        ok = [d for d in mine if d.status == "Succeeded"]
        if ok:
            best = max(ok, key=lambda d: d.create_time)
            info["lastSuccessfulDeployment"] = {
                "deploymentId": best.deployment_id,
                "status": best.status,
                "createTime": best.create_time,
                "endTime": best.complete_time,
            }
    return info


def _all_deployments(g):
    out = []
    for backend in _cd_backends_all():
        for d in backend.deployments.values():
            if d.deployment_group is g:
                out.append(d)
    return out


def _cd_backends_all():
    return [b for _, b in codedeploy_backends[CD_ACCOUNT].items()]


cd_responses._deployment_info = _deployment_info
cd_responses._deployment_group_info = _deployment_group_info

_moto_get_deployment = CodeDeployResponse.get_deployment


def _get_deployment(self):
    """GetDeployment, with the stand-in agents moving the deployment one step per poll."""
    d = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
    fate = CD_AGENT.get(d.deployment_group_name)
    if d.status not in TERMINAL and not hasattr(d, "udo_targets") and not _cd_instances(d, self.region):
        # CodeDeploy itself fails it, whatever the agents would do: there is nowhere to deploy.
        _cd_move(d, "Failed", self.region, {"error": NO_INSTANCES, "failures": []})
    elif fate and d.status not in TERMINAL:
        outcome = fate.get("outcome", "Succeeded")
        if outcome != "Never":
            step = "InProgress" if d.status in ("Created", "Queued") else outcome
            _cd_move(d, step, self.region, fate)
    return _moto_get_deployment(self)


def _stop_deployment(self):
    """StopDeployment: https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_StopDeployment.html"""
    d = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
    if d.status in TERMINAL:
        raise JsonRESTError(
            "DeploymentAlreadyCompletedException",
            f"The deployment {d.deployment_id} has already completed.",
        )
    _cd_move(d, "Stopped", self.region)
    if self._get_param("autoRollbackEnabled"):
        d.udo_rollback_requested = True
    return ActionResult({"status": "Succeeded", "statusMessage": "Deployment stopped"})


def _update_deployment_group(self):
    """UpdateDeploymentGroup: the fields udo sets (autoscaling groups, role, config, rollback)."""
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
    g = backend.get_deployment_group(app, self._get_param("currentDeploymentGroupName"))
    if self._get_param("autoScalingGroups") is not None:
        g.auto_scaling_groups = self._get_param("autoScalingGroups")
    if self._get_param("serviceRoleArn"):
        g.service_role_arn = self._get_param("serviceRoleArn")
    if self._get_param("deploymentConfigName"):
        g.deployment_config_name = self._get_param("deploymentConfigName")
    if self._get_param("autoRollbackConfiguration") is not None:
        g.auto_rollback_configuration = self._get_param("autoRollbackConfiguration")
    new = self._get_param("newDeploymentGroupName")
    if new and new != g.deployment_group_name:
        del backend.deployment_groups[app][g.deployment_group_name]
        g.deployment_group_name = new
        backend.deployment_groups[app][new] = g
    return ActionResult({"hooksNotCleanedUp": []})


def _list_deployment_configs(self):
    """ListDeploymentConfigs: the predefined EC2/on-premises configurations."""
    return ActionResult({"deploymentConfigsList": list(SERVER_CONFIGS)})


def _get_deployment_config(self):
    """GetDeploymentConfig for the predefined EC2/on-premises configurations."""
    name = self._get_param("deploymentConfigName")
    if name not in SERVER_CONFIGS:
        raise JsonRESTError(
            "DeploymentConfigDoesNotExistException",
            f"The deployment configuration {name} does not exist with the user or AWS account.",
        )
    kind, value = SERVER_CONFIGS[name]
    return ActionResult({
        "deploymentConfigInfo": {
            "deploymentConfigId": name,
            "deploymentConfigName": name,
            "minimumHealthyHosts": {"type": kind, "value": value},
            "computePlatform": "Server",
        }
    })


def _list_deployment_targets(self):
    """ListDeploymentTargets with the TargetStatus filter."""
    d = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
    wanted = (self._get_param("targetFilters") or {}).get("TargetStatus")
    targets = getattr(d, "udo_targets", {})
    ids = [i for i, s in targets.items() if not wanted or s in wanted]
    return ActionResult({"targetIds": ids})


def _batch_get_deployment_targets(self):
    """BatchGetDeploymentTargets for EC2 instance targets."""
    d = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
    targets = getattr(d, "udo_targets", {})
    out = []
    for i in self._get_param("targetIds") or []:
        if i not in targets:
            raise JsonRESTError(
                "DeploymentTargetDoesNotExistException",
                f"The target {i} does not exist in deployment {d.deployment_id}.",
            )
        out.append({
            "deploymentTargetType": "InstanceTarget",
            "instanceTarget": {
                "deploymentId": d.deployment_id,
                "targetId": i,
                "targetArn": f"arn:aws:ec2:{self.region}:{CD_ACCOUNT}:instance/{i}",
                "status": targets[i],
                "lastUpdatedAt": d.complete_time or d.create_time,
                "lifecycleEvents": getattr(d, "udo_events", {}).get(i, []),
            },
        })
    return ActionResult({"deploymentTargets": out})


_moto_create_deployment = CodeDeployResponse.create_deployment


def _create_deployment(self):
    """CreateDeployment, refused while the group has an active deployment, as AWS refuses it
    (one in-place deployment per deployment group at a time; moto started any number)."""
    app = self._get_param("applicationName")
    name = self._get_param("deploymentGroupName")
    for d in self.codedeploy_backend.deployments.values():
        if (d.application_name == app and d.deployment_group_name == name
                and d.status not in TERMINAL):
            raise JsonRESTError(
                "DeploymentLimitExceededException",
                f"The Deployment Group '{name}' already has an active Deployment '{d.deployment_id}'",
            )
    return _moto_create_deployment(self)


CodeDeployResponse.create_deployment = _create_deployment
CodeDeployResponse.get_deployment = _get_deployment
CodeDeployResponse.stop_deployment = _stop_deployment
CodeDeployResponse.update_deployment_group = _update_deployment_group
CodeDeployResponse.list_deployment_configs = _list_deployment_configs
CodeDeployResponse.get_deployment_config = _get_deployment_config
CodeDeployResponse.list_deployment_targets = _list_deployment_targets
CodeDeployResponse.batch_get_deployment_targets = _batch_get_deployment_targets



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
import time
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

# Deregistration delay: in AWS a target leaving a target group is `draining`
# (Target.DeregistrationInProgress) for the group's deregistration_delay.timeout_seconds
# (default 300) before it is gone; moto drops it at once. `/_udo/deregistration_delay`
# `{"seconds": N}` gives every target group that delay from then on (0, the default: moto's
# immediate deregistration).
_DEREGISTRATION = {"seconds": 0.0}
_DRAINING = {}  # (target group arn, target id) -> time its deregistration ends
_deregister = _elbv2_models.FakeTargetGroup.deregister


def _deregister_with_delay(self, targets):
    _deregister(self, targets)
    if _DEREGISTRATION["seconds"] > 0:
        until = time.time() + _DEREGISTRATION["seconds"]
        for t in targets:
            _DRAINING[(self.arn, t["Id"])] = until


def _health_while_draining(self, target, ec2_backend):
    until = _DRAINING.get((self.arn, target["Id"]))
    if target["Id"] not in self.targets and until is not None and until > time.time():
        return _elbv2_models.FakeHealthStatus(
            target["Id"],
            target.get("Port", self.port),
            self.health_check_port,
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        )
    return _target_health(self, target, ec2_backend)


_elbv2_models.FakeTargetGroup.deregister = _deregister_with_delay
_elbv2_models.FakeTargetGroup.health_for = _health_while_draining


@control("deregistration_delay")
def _deregistration_delay(body):
    _DEREGISTRATION["seconds"] = float(body.get("seconds", 0))
    return {"seconds": _DEREGISTRATION["seconds"]}

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


# --- Launch settings (issue 16) ------------------------------------------------------------
# AWS merges a launch template's root volume mapping with the AMI's own: a mapping for the
# AMI's root device that names no size and no snapshot gets the AMI's snapshot (and so its
# size). moto created every mapped volume as given and refused a root mapping without a size
# (`MissingParameter size/snapshot`), so no instance could launch from a template that only
# encrypts the root volume or changes its type.


def _root_volume_takes_the_amis_snapshot():
    from moto.ec2.models.instances import Instance

    original = Instance.add_block_device

    def add_block_device(self, size, device_path, snapshot_id, *args, **kwargs):
        if size is None and snapshot_id is None:
            ami = self.ec2_backend.amis.get(self.image_id)
            if ami is not None and device_path == ami.root_device_name:
                snapshot_id = ami.ebs_snapshot.id
        return original(self, size, device_path, snapshot_id, *args, **kwargs)

    Instance.add_block_device = add_block_device


_root_volume_takes_the_amis_snapshot()


# --- Mixed instances, spot and group settings (issue 16) ----------------------------------
# AWS keeps a group's MixedInstancesPolicy across an UpdateAutoScalingGroup that names no
# launch settings (moto erased it); launches each instance of a mixed group as one of the
# policy's override types, on demand or spot as its instances distribution says, and reports
# spot instances with EC2's `InstanceLifecycle: spot` (moto gave every instance the template's
# type, on demand, and counted capacity with rounding that launched too few); and stores a
# group's CapacityRebalance, TerminationPolicies, MaxInstanceLifetime and
# InstanceMaintenancePolicy as UpdateAutoScalingGroup (and CreateAutoScalingGroup) set them
# (moto ignored them on update, and MaxInstanceLifetime and InstanceMaintenancePolicy
# everywhere).


def _mixed_instances():
    import math

    from moto.autoscaling.models import FakeAutoScalingGroup, InstanceState
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.autoscaling.models import ASG_NAME_TAG

    update = FakeAutoScalingGroup.update

    def keep_policy(self, *args, **kwargs):
        names = [
            "availability_zones", "desired_capacity", "max_size", "min_size",
            "launch_config_name", "launch_template", "vpc_zone_identifier",
            "health_check_period", "health_check_type",
            "new_instances_protected_from_scale_in", "mixed_instances_policy",
        ]
        params = dict(zip(names, args))
        params.update(kwargs)
        if (
            not params.get("mixed_instances_policy")
            and not params.get("launch_template")
            and not params.get("launch_config_name")
        ):
            kept = self.mixed_instances_policy
            if kept:
                # moto stores the spec with both the id and the name, which its own update
                # then refuses: hand the kept policy back by name
                kept = dict(kept)
                template = dict(kept.get("LaunchTemplate") or {})
                spec = dict(template.get("LaunchTemplateSpecification") or {})
                if spec.get("LaunchTemplateName"):
                    spec.pop("LaunchTemplateId", None)
                template["LaunchTemplateSpecification"] = spec
                kept["LaunchTemplate"] = template
            params["mixed_instances_policy"] = kept
        return update(self, **params)

    FakeAutoScalingGroup.update = keep_policy

    set_desired = FakeAutoScalingGroup.set_desired_capacity

    def count_instances_not_weights(self, new_capacity):
        # every override weighs 1: the group runs `desired` instances, mixed or not
        policy = self.mixed_instances_policy
        self.mixed_instances_policy = None
        self._udo_policy = policy
        try:
            return set_desired(self, new_capacity)
        finally:
            self.mixed_instances_policy = policy
            self._udo_policy = None

    FakeAutoScalingGroup.set_desired_capacity = count_instances_not_weights

    replace = FakeAutoScalingGroup.replace_autoscaling_group_instances

    def launch_the_mix(self, count_needed, propagated_tags):
        policy = getattr(self, "_udo_policy", None) or self.mixed_instances_policy
        overrides = [
            o.get("InstanceType")
            for o in ((policy or {}).get("LaunchTemplate") or {}).get("Overrides") or []
            if o.get("InstanceType")
        ]
        if not policy or not overrides:
            return replace(self, count_needed, propagated_tags)
        dist = policy.get("InstancesDistribution") or {}
        base = int(dist.get("OnDemandBaseCapacity", 0) or 0)
        percent = int(dist.get("OnDemandPercentageAboveBaseCapacity", 100) or 0)
        for _ in range(count_needed):
            running = [s.instance for s in self.instance_states]
            spot = [i for i in running if getattr(i, "lifecycle", None) == "spot"]
            on_demand = len(running) - len(spot)
            n = len(running) + 1
            # AWS: the base on demand, then `percent` of the rest (rounded up) on demand
            want_on_demand = min(n, base) + math.ceil(max(0, n - base) * percent / 100)
            is_spot = on_demand >= want_on_demand
            # on demand: the overrides in priority order (the first); spot: spread over the
            # types' pools, one after another
            kind = overrides[len(spot) % len(overrides)] if is_spot else overrides[0]
            before = len(self.instance_states)
            self._udo_type = kind
            try:
                replace(self, 1, dict(propagated_tags))
            finally:
                self._udo_type = None
            for state in self.instance_states[before:]:
                if is_spot:
                    state.instance.lifecycle = "spot"

    FakeAutoScalingGroup.replace_autoscaling_group_instances = launch_the_mix

    template_type = FakeAutoScalingGroup.instance_type

    def chosen_type(self):
        return getattr(self, "_udo_type", None) or template_type.fget(self)

    FakeAutoScalingGroup.instance_type = property(chosen_type)

    settings = {
        "CapacityRebalance": ("capacity_rebalance", lambda r, k: r._get_bool_param(k)),
        "TerminationPolicies": ("termination_policies", lambda r, k: r._get_param(k)),
        "MaxInstanceLifetime": ("max_instance_lifetime", lambda r, k: r._get_int_param(k)),
        "InstanceMaintenancePolicy": ("instance_maintenance_policy", lambda r, k: r._get_param(k)),
    }

    def store_settings(original):
        def handler(self):
            result = original(self)
            group = self.autoscaling_backend.autoscaling_groups.get(
                self._get_param("AutoScalingGroupName")
            )
            if group is not None:
                for key, (attr, read) in settings.items():
                    value = read(self, key)
                    if value is None or value == []:
                        continue
                    if key == "InstanceMaintenancePolicy":
                        lo = int(value.get("MinHealthyPercentage", -1))
                        hi = int(value.get("MaxHealthyPercentage", -1))
                        value = None if lo < 0 and hi < 0 else {
                            "MinHealthyPercentage": lo, "MaxHealthyPercentage": hi,
                        }
                    if key == "MaxInstanceLifetime" and value == 0:
                        value = None
                    setattr(group, attr, value)
            return result

        return handler

    AutoScalingResponse.update_auto_scaling_group = store_settings(
        AutoScalingResponse.update_auto_scaling_group
    )
    AutoScalingResponse.create_auto_scaling_group = store_settings(
        AutoScalingResponse.create_auto_scaling_group
    )


_mixed_instances()


# --- Termination lifecycle hooks (issue 16) ------------------------------------------------
# AWS holds an instance it terminates (scale-in, TerminateInstanceInAutoScalingGroup) in
# `Terminating:Wait` while the group has an `autoscaling:EC2_INSTANCE_TERMINATING` hook, until
# CompleteLifecycleAction (or the heartbeat runs out, then the hook's default result: for a
# termination hook both results terminate); a waiting instance no longer counts towards the
# desired capacity. moto stored hooks but terminated at once, and had no
# CompleteLifecycleAction. Expired waits are settled whenever the group is described.


def _termination_hooks():
    import time

    from moto.autoscaling.exceptions import AutoscalingClientError
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult
    from moto.autoscaling.models import TerminateInstanceActivity

    def hook_of(group):
        for h in group.autoscaling_backend.lifecycle_hooks.values():
            if (
                h.auto_scaling_group_name == group.name
                and h.lifecycle_transition == "autoscaling:EC2_INSTANCE_TERMINATING"
            ):
                return h
        return None

    def hold(group, states):
        hook = hook_of(group)
        for state in states:
            state.lifecycle_state = "Terminating:Wait"
            state._udo_deadline = time.time() + int(hook.heartbeat_timeout)

    def finish(group, ids):
        if not ids:
            return
        group.autoscaling_backend.ec2_backend.terminate_instances(list(ids))
        group.instance_states = [s for s in group.instance_states if s.instance.id not in ids]
        backend = group.autoscaling_backend
        if group.name in backend.autoscaling_groups:
            backend.update_attached_elbs(group.name)
            backend.update_attached_target_groups(group.name)

    def settle(group):
        now = time.time()
        expired = {
            s.instance.id
            for s in group.instance_states
            if s.lifecycle_state == "Terminating:Wait" and getattr(s, "_udo_deadline", 0) <= now
        }
        finish(group, expired)

    set_desired = FakeAutoScalingGroup.set_desired_capacity

    def scale_in_waits(self, new_capacity):
        target = self.min_size if new_capacity is None else new_capacity
        active = [s for s in self.active_instances() if not s.protected_from_scale_in]
        surplus = len(self.active_instances()) - (target or 0)
        if hook_of(self) is not None and surplus > 0:
            hold(self, active[:surplus])
        return set_desired(self, new_capacity)

    FakeAutoScalingGroup.set_desired_capacity = scale_in_waits

    terminate = AutoScalingBackend.terminate_instance

    def terminate_waits(self, instance_id, should_decrement):
        for group in self.autoscaling_groups.values():
            for state in group.instance_states:
                if state.instance.id != instance_id or hook_of(group) is None:
                    continue
                original_size = group.desired_capacity
                if state.lifecycle_state == "InService":
                    hold(group, [state])
                    if should_decrement:
                        group.desired_capacity = max(0, group.desired_capacity - 1)
                    else:
                        set_desired(group, group.desired_capacity)
                return TerminateInstanceActivity(state.instance, original_size)
        return terminate(self, instance_id, should_decrement)

    AutoScalingBackend.terminate_instance = terminate_waits

    describe = AutoScalingResponse.describe_auto_scaling_groups

    def describe_settles(self):
        for group in list(self.autoscaling_backend.autoscaling_groups.values()):
            settle(group)
        return describe(self)

    AutoScalingResponse.describe_auto_scaling_groups = describe_settles

    def complete_lifecycle_action(self):
        """CompleteLifecycleAction: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html"""
        name = self._get_param("AutoScalingGroupName")
        hook_name = self._get_param("LifecycleHookName")
        instance_id = self._get_param("InstanceId")
        group = self.autoscaling_backend.autoscaling_groups.get(name)
        hook = group and self.autoscaling_backend.lifecycle_hooks.get(f"{name}_{hook_name}")
        if group is None or hook is None:
            raise AutoscalingClientError(
                "ValidationError", f"No Lifecycle Hook found for {hook_name} on {name}"
            )
        waiting = [
            s
            for s in group.instance_states
            if s.instance.id == instance_id and s.lifecycle_state == "Terminating:Wait"
        ]
        if not waiting:
            raise AutoscalingClientError(
                "ValidationError",
                f"No active Lifecycle Action found with instance ID {instance_id}",
            )
        finish(group, {instance_id})
        return EmptyResult()

    AutoScalingResponse.complete_lifecycle_action = complete_lifecycle_action

    # AWS deletes a group's lifecycle hooks with the group; moto kept them, so a new group of
    # the same name had its predecessor's hooks.
    delete_group = AutoScalingBackend.delete_auto_scaling_group

    def delete_group_and_hooks(self, group_name):
        result = delete_group(self, group_name)
        for key in [k for k, h in self.lifecycle_hooks.items() if h.auto_scaling_group_name == group_name]:
            del self.lifecycle_hooks[key]
        return result

    AutoScalingBackend.delete_auto_scaling_group = delete_group_and_hooks


_termination_hooks()


# --- Production safety (issue 15) -----------------------------------------------------------
# A route to an internet gateway that no longer exists (deleted after it was replaced), or that
# is no longer attached to the route table's VPC, has state `blackhole` in AWS; moto reports no
# state at all. Routes now report `active` or `blackhole` as AWS does.


def _route_states():
    from moto.ec2.models.route_tables import Route

    def state(self):
        g = self.gateway
        gid = getattr(g, "id", "") or ""
        if gid.startswith("igw-"):
            live = self.route_table.ec2_backend.internet_gateways.get(gid)
            vpc = getattr(live, "vpc", None) if live is not None else None
            if vpc is None or vpc.id != self.route_table.vpc_id:
                return "blackhole"
        return "active"

    Route.state = property(state)


_route_states()


def _subnet_associated_once():
    # AWS refuses AssociateRouteTable for a subnet that already has an explicit association
    # (with this route table or another) with Resource.AlreadyAssociated; moto answered with
    # the existing association's id, as if it had associated the subnet with the table asked.
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.route_tables import RouteBackend

    original = RouteBackend.associate_route_table

    def associate_route_table(self, route_table_id, gateway_id=None, subnet_id=None):
        if subnet_id is not None:
            for rt in self.route_tables.values():
                if subnet_id in rt._associations.values():
                    raise EC2ClientError(
                        "Resource.AlreadyAssociated",
                        f"the specified association for route table {route_table_id} conflicts with an existing association",
                    )
        return original(self, route_table_id, gateway_id, subnet_id)

    RouteBackend.associate_route_table = associate_route_table


_subnet_associated_once()


def _primary_interfaces_go_with_their_instance():
    # In AWS the primary network interface an instance is launched with is deleted when the
    # instance terminates (unless DeleteOnTermination says false); moto kept it, still
    # "attached" to the terminated instance, so the VPC looked in use for ever.
    from moto.ec2.models.instances import Instance

    original = Instance.prep_nics

    def prep_nics(self, nic_spec, *args, **kwargs):
        given = {int(n.get("DeviceIndex", 0)): n for n in (nic_spec or [])}
        original(self, nic_spec, *args, **kwargs)
        nic = self.nics.get(0)
        spec = given.get(0, {})
        if nic is not None and not spec.get("NetworkInterfaceId"):
            if str(spec.get("DeleteOnTermination", "true")).lower() != "false":
                nic.delete_on_termination = True

    Instance.prep_nics = prep_nics


_primary_interfaces_go_with_their_instance()


def _terminate_of_an_instance_no_group_has():
    # TerminateInstanceInAutoScalingGroup of an instance no group manages (any more: the retry
    # of a terminate whose reply was lost) is AWS's ValidationError; moto crashed (HTTP 500).
    from moto.autoscaling.exceptions import AutoscalingClientError
    from moto.autoscaling.models import AutoScalingBackend

    original = AutoScalingBackend.terminate_instance

    def terminate_instance(self, instance_id, should_decrement):
        managed = any(
            s.instance.id == instance_id
            for g in self.autoscaling_groups.values()
            for s in g.instance_states
        )
        if not managed:
            raise AutoscalingClientError(
                "ValidationError",
                f"Instance Id not found - No managed instance found for instance ID: {instance_id}",
            )
        return original(self, instance_id, should_decrement)

    AutoScalingBackend.terminate_instance = terminate_instance


_terminate_of_an_instance_no_group_has()

# --- Systems Manager Run Command (issue 17) ------------------------------------------------
# moto's Run Command is a stub: SendCommand validates nothing and reports every invocation
# `Success` with empty output, `Targets` with the key `InstanceIds` raises, and
# ListCommandInvocations, DescribeInstanceInformation and CancelCommand are missing. In AWS the
# SSM agent on each instance picks the command up and runs it; here a stand-in agent runs each
# invocation's script with `sh -c` on this machine (as the real agent runs AWS-RunShellScript's
# `commands` on the instance) and reports what the real one reports, following the API
# reference:
#
# - every running EC2 instance has an agent registered (PingStatus Online) until
#   `/_udo/ssm_agent` `{"instances": [ID…], "registered": false}` unregisters it (`true`
#   registers it again; `"stalled": true` keeps it Online but never picking a command up, as a
#   hung agent looks until its pings stop counting; `"ping": "ConnectionLost"` or `"Inactive"`
#   keeps it registered in that PingStatus, its LastPingDateTime the moment its pings stopped,
#   picking nothing up, and `"ping": "Online"` brings it back); `/_udo/ssm_sent` lists every SendCommand
#   as it was sent, for tests to check what udo asked for; DescribeInstanceInformation lists registered agents of running
#   instances (Filters / InstanceInformationFilterList key `InstanceIds`, MaxResults 5–50);
# - SendCommand (AWS-RunShellScript only; `InstanceIds` at most 50, or `Targets` with the key
#   `InstanceIds` or `tag:NAME`, e.g. `tag:aws:autoscaling:groupName`, which AWS resolves to the
#   running managed instances carrying the tag): an instance id that does not exist is
#   InvalidInstanceId; an instance that is not running is Undeliverable (Status Failed); a
#   running one with no agent stays Pending until the delivery timeout (TimeoutSeconds), then
#   TimedOut / "Delivery Timed Out";
# - MaxConcurrency (N or N%) invocations run at once; past MaxErrors (N or N%) errors (Failed and
#   Execution Timed Out count, delivery timeouts and Undeliverable do not) nothing more is
#   dispatched and the invocations not yet started end Cancelled / "Terminated";
# - `executionTimeout` ends the script (its process group) at that many seconds: TimedOut /
#   "Execution Timed Out"; ResponseCode is the script's exit status (-1 when it never ran);
# - the plugin output in ListCommandInvocations (Details=true) holds at most 2,500 characters,
#   cut as the agent cuts it (stdout, "\n----------ERROR-------\n", stderr, with
#   "\n---Output truncated---" / "\n---Error truncated----" marks); GetCommandInvocation has the
#   first 24,000 characters of stdout and 8,000 of stderr; with OutputS3BucketName the whole
#   stdout and stderr are written to PREFIX/COMMAND/INSTANCE/awsrunShellScript/0.awsrunShellScript/;
# - the script gets AWS_SSM_INSTANCE_ID and AWS_SSM_REGION_NAME in its environment, as the
#   agent sets them;
# - CancelCommand ends running scripts and cancels pending invocations (Status Cancelled);
#   ListCommandInvocations pages at MaxResults (at most 50) with NextToken; ListCommands names
#   a command's overall status and its Comment (Filters InvokedAfter, InvokedBefore,
#   DocumentName, Status).
#
# Each call is answered through `HOOKS` before moto sees it; other SSM operations go to moto.

import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

SSM_UNREGISTERED = set()  # instance ids whose agent is not registered
SSM_STALLED = set()  # registered (Online) agents that never pick a command up
SSM_PING = {}  # instance id -> (PingStatus other than Online, LastPingDateTime) of a registered agent
SSM_COMMANDS = {}  # command id -> _SsmCommand, in send order
SSM_LOCK = threading.Lock()
SSM_PLUGIN = "aws:runShellScript"
SSM_TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
PLUGIN_OUTPUT_MAX = 2500
STDOUT_MAX = 24000
STDERR_MAX = 8000
_TRUNC_OUT = "\n---Output truncated---"
_TRUNC_ERR = "\n---Error truncated----"
_ERR_TITLE = "\n----------ERROR-------\n"


class SsmError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _truncate_output(stdout, stderr, capacity=PLUGIN_OUTPUT_MAX):
    """The plugin output as the SSM agent builds it (iohandler TruncateOutput)."""
    title = _ERR_TITLE if stderr else ""
    space = capacity - len(title)
    if len(stdout) + len(stderr) < space:
        return stdout + title + stderr
    if len(stdout) > space // 2 and len(stderr) > space // 2:
        cut = space - len(_TRUNC_ERR) - len(_TRUNC_OUT)
        return stdout[: cut // 2] + _TRUNC_OUT + title + stderr[: cut // 2] + _TRUNC_ERR
    if len(stdout) < space // 2:
        cut = space - len(_TRUNC_ERR)
        return stdout + title + stderr[: cut - len(stdout)] + _TRUNC_ERR
    cut = space - len(_TRUNC_OUT)
    return stdout[: cut - len(stderr)] + _TRUNC_OUT + title + stderr


def _limit(value, count, name):
    """MaxConcurrency / MaxErrors: a number or a percentage of the targets."""
    text = str(value).strip()
    try:
        if text.endswith("%"):
            pct = int(text[:-1])
            if not 0 <= pct <= 100:
                raise ValueError
            return math.floor(count * pct / 100)
        n = int(text)
        if n < 0:
            raise ValueError
        return n
    except ValueError:
        raise SsmError("ValidationException", f"{name} {value!r} is not a number or a percentage")


def _ec2(account, region):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _all_instances(account, region):
    out = {}
    for reservation in _ec2(account, region).all_reservations():
        for i in reservation.instances:
            out[i.id] = i
    return out


def _running(instance):
    return instance is not None and instance.state == "running"


class _SsmInvocation:
    def __init__(self, instance_id):
        self.instance = instance_id
        self.status = "Pending"
        self.details = "Pending"
        self.code = -1
        self.stdout = ""
        self.stderr = ""
        self.started = None
        self.finished = None
        self.proc = None
        self.files = None
        self.deadline = None


class _SsmCommand:
    def __init__(self, account, region, body, ids):
        params = body.get("Parameters") or {}
        self.id = str(uuid.uuid4())
        self.account, self.region = account, region
        self.body = body
        self.document = body.get("DocumentName")
        self.script = "\n".join(params.get("commands") or [])
        try:
            self.execution_timeout = int((params.get("executionTimeout") or ["3600"])[0])
        except ValueError:
            raise SsmError("InvalidParameters", "executionTimeout must be a whole number of seconds")
        if not 1 <= self.execution_timeout <= 172800:
            raise SsmError("InvalidParameters", "executionTimeout must be between 1 and 172800")
        self.timeout = int(body.get("TimeoutSeconds") or 3600)
        if not 30 <= self.timeout <= 2592000:
            raise SsmError("ValidationException", "TimeoutSeconds must be between 30 and 2592000")
        self.requested = time.time()
        self.bucket = body.get("OutputS3BucketName") or ""
        self.prefix = body.get("OutputS3KeyPrefix") or ""
        self.invocations = {i: _SsmInvocation(i) for i in ids}
        self.concurrency = max(1, _limit(body.get("MaxConcurrency", "50"), len(ids), "MaxConcurrency"))
        self.max_errors = _limit(body.get("MaxErrors", "0"), len(ids), "MaxErrors")
        self.errors = 0
        self.stopped = False  # past MaxErrors: nothing more is dispatched
        self.cancel_requested = False
        self.status = "Pending"
        self.workdir = tempfile.mkdtemp(prefix="udo-ssm-")

    def response(self):
        counts = [inv.status for inv in self.invocations.values()]
        return {
            "CommandId": self.id,
            "DocumentName": self.document,
            "Comment": self.body.get("Comment", ""),
            "Parameters": self.body.get("Parameters") or {},
            "InstanceIds": self.body.get("InstanceIds") or [],
            "Targets": self.body.get("Targets") or [],
            "RequestedDateTime": self.requested,
            "Status": self.status,
            "StatusDetails": self.status,
            "MaxConcurrency": str(self.body.get("MaxConcurrency", "50")),
            "MaxErrors": str(self.body.get("MaxErrors", "0")),
            "TimeoutSeconds": self.timeout,
            "OutputS3BucketName": self.bucket,
            "OutputS3KeyPrefix": self.prefix,
            "TargetCount": len(counts),
            "CompletedCount": sum(1 for c in counts if c in SSM_TERMINAL),
            "ErrorCount": self.errors,
            "DeliveryTimedOutCount": sum(
                1 for inv in self.invocations.values() if inv.details == "Delivery Timed Out"
            ),
        }

    def s3_key(self, instance, stream):
        base = f"{self.id}/{instance}/awsrunShellScript/0.awsrunShellScript/{stream}"
        prefix = self.prefix.rstrip("/")
        return f"{prefix}/{base}" if prefix else base

    # The agents: one dispatcher thread per command, each invocation a process.
    def run(self):
        threading.Thread(target=self._dispatch, daemon=True).start()

    def _finish(self, inv, status, details, code=None):
        inv.status, inv.details = status, details
        if code is not None:
            inv.code = code
        inv.finished = time.time()

    def _start(self, inv):
        out = open(os.path.join(self.workdir, f"{inv.instance}.out"), "w+b")
        err = open(os.path.join(self.workdir, f"{inv.instance}.err"), "w+b")
        inv.files = (out, err)
        inv.started = time.time()
        inv.deadline = inv.started + self.execution_timeout
        inv.status = inv.details = "InProgress"
        inv.details = "In Progress"
        inv.proc = subprocess.Popen(
            ["sh", "-c", self.script],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=self.workdir,
            start_new_session=True,
            # The real agent tells the script where it runs.
            env=dict(os.environ, AWS_SSM_INSTANCE_ID=inv.instance, AWS_SSM_REGION_NAME=self.region),
        )

    def _collect(self, inv):
        out, err = inv.files
        out.seek(0)
        err.seek(0)
        inv.stdout = out.read().decode("utf-8", "replace")
        inv.stderr = err.read().decode("utf-8", "replace")
        out.close()
        err.close()
        if self.bucket:
            try:
                from moto.s3.models import s3_backends

                s3 = s3_backends[self.account]["aws"]
                s3.put_object(self.bucket, self.s3_key(inv.instance, "stdout"), inv.stdout.encode())
                if inv.stderr:
                    s3.put_object(self.bucket, self.s3_key(inv.instance, "stderr"), inv.stderr.encode())
            except Exception:  # no such bucket: the agent cannot upload; the run stands
                pass

    def _kill(self, inv):
        try:
            os.killpg(inv.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        inv.proc.wait()

    def _dispatch(self):
        instances = _all_instances(self.account, self.region)
        order = list(self.invocations.values())
        for inv in order:
            if not _running(instances.get(inv.instance)):
                with SSM_LOCK:
                    self._finish(inv, "Failed", "Undeliverable")
        self.status = "InProgress"
        while True:
            with SSM_LOCK:
                now = time.time()
                running = [i for i in order if i.proc is not None and i.status == "InProgress"]
                for inv in running:
                    code = inv.proc.poll()
                    if code is None and self.cancel_requested:
                        self._kill(inv)
                        self._collect(inv)
                        self._finish(inv, "Cancelled", "Cancelled")
                    elif code is None and now >= inv.deadline:
                        self._kill(inv)
                        self._collect(inv)
                        self._finish(inv, "TimedOut", "Execution Timed Out")
                        self.errors += 1
                    elif code is not None:
                        self._collect(inv)
                        if code == 0:
                            self._finish(inv, "Success", "Success", 0)
                        else:
                            self._finish(inv, "Failed", "Failed", code)
                            self.errors += 1
                if self.errors > self.max_errors:
                    self.stopped = True
                waiting = [i for i in order if i.status == "Pending"]
                for inv in waiting:
                    if self.cancel_requested:
                        self._finish(inv, "Cancelled", "Cancelled")
                    elif self.stopped:
                        self._finish(inv, "Cancelled", "Terminated")
                    elif now - self.requested >= self.timeout:
                        self._finish(inv, "TimedOut", "Delivery Timed Out")
                busy = sum(1 for i in order if i.status == "InProgress")
                for inv in order:
                    if busy >= self.concurrency or self.stopped or self.cancel_requested:
                        break
                    if inv.status != "Pending" or inv.instance in SSM_UNREGISTERED | SSM_STALLED | SSM_PING.keys():
                        continue  # no agent to pick it up: it waits for the delivery timeout
                    try:
                        self._start(inv)
                    except OSError:  # this machine is out of processes: try again next round
                        for f in inv.files or ():
                            f.close()
                        inv.proc, inv.files, inv.started = None, None, None
                        inv.status = inv.details = "Pending"
                        break
                    busy += 1
                if all(i.status in SSM_TERMINAL for i in order):
                    self.status = self._overall()
                    break
            time.sleep(0.02)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _overall(self):
        statuses = [i.status for i in self.invocations.values()]
        if self.cancel_requested:
            return "Cancelled"
        if all(s == "Success" for s in statuses):
            return "Success"
        if self.stopped:
            return "Failed"
        return "Incomplete" if "Success" in statuses else "Failed"

    def invocation(self, inv, details):
        out = {
            "CommandId": self.id,
            "InstanceId": inv.instance,
            "InstanceName": "",
            "Comment": self.body.get("Comment", ""),
            "DocumentName": self.document,
            "DocumentVersion": "$DEFAULT",
            "RequestedDateTime": self.requested,
            "Status": inv.status,
            "StatusDetails": inv.details,
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
            "CommandPlugins": [],
        }
        if details:
            plugin = {
                "Name": SSM_PLUGIN,
                "Status": inv.status,
                "StatusDetails": inv.details,
                "ResponseCode": inv.code,
                "Output": _truncate_output(inv.stdout, inv.stderr)
                if inv.status in SSM_TERMINAL
                else "",
                "OutputS3BucketName": self.bucket,
                "OutputS3KeyPrefix": self.prefix,
                "OutputS3Region": self.region,
                "StandardOutputUrl": "",
                "StandardErrorUrl": "",
            }
            if inv.started is not None:
                plugin["ResponseStartDateTime"] = inv.started
            if inv.finished is not None and inv.started is not None:
                plugin["ResponseFinishDateTime"] = inv.finished
            out["CommandPlugins"] = [plugin]
        return out


def _ssm_targets(account, region, body):
    ids = list(body.get("InstanceIds") or [])
    targets = body.get("Targets") or []
    if ids and targets:
        raise SsmError("ValidationException", "specify either InstanceIds or Targets, not both")
    if len(ids) > 50:
        raise SsmError("ValidationException", "InstanceIds has more than 50 elements")
    instances = _all_instances(account, region)
    for t in targets:
        key, values = t.get("Key", ""), t.get("Values") or []
        if key == "InstanceIds":
            if len(values) > 50:
                raise SsmError("ValidationException", "a target's InstanceIds has more than 50 values")
            ids += values
        elif key.startswith("tag:"):
            name = key[len("tag:") :]
            tags = _ec2(account, region).tags
            for iid, inst in instances.items():
                if _running(inst) and iid not in SSM_UNREGISTERED and tags.get(iid, {}).get(name) in values:
                    ids.append(iid)
        else:
            raise SsmError("InvalidTarget", f"target key {key} is not supported by this stand-in")
    if not ids and not targets:
        raise SsmError("ValidationException", "InstanceIds or Targets is required")
    unknown = [i for i in ids if i not in instances]
    if unknown:
        raise SsmError("InvalidInstanceId", "Instances " + str(unknown) + " not in a valid state for account " + account)
    seen, out = set(), []
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def _send_command(account, region, body):
    if body.get("DocumentName") != "AWS-RunShellScript":
        raise SsmError("InvalidDocument", f"document {body.get('DocumentName')} is not AWS-RunShellScript (the only one this stand-in runs)")
    if not (body.get("Parameters") or {}).get("commands"):
        raise SsmError("InvalidParameters", "the commands parameter is required")
    ids = _ssm_targets(account, region, body)
    cmd = _SsmCommand(account, region, body, ids)
    with SSM_LOCK:
        SSM_COMMANDS[cmd.id] = cmd
    cmd.run()
    return {"Command": cmd.response()}


def _command(body):
    cmd = SSM_COMMANDS.get(body.get("CommandId", ""))
    if cmd is None:
        raise SsmError("InvalidCommandId", "")
    return cmd


def _page(items, body, most=50):
    limit = int(body.get("MaxResults") or most)
    start = int(body.get("NextToken") or 0)
    page = items[start : start + limit]
    token = str(start + limit) if start + limit < len(items) else None
    return page, token


def _list_command_invocations(account, region, body):
    limit = int(body.get("MaxResults") or 50)
    if not 1 <= limit <= 50:
        raise SsmError("ValidationException", "MaxResults must be between 1 and 50")
    with SSM_LOCK:
        cmds = [_command(body)] if body.get("CommandId") else list(SSM_COMMANDS.values())
        rows = [
            cmd.invocation(inv, bool(body.get("Details")))
            for cmd in cmds
            for inv in cmd.invocations.values()
            if not body.get("InstanceId") or inv.instance == body["InstanceId"]
        ]
    page, token = _page(rows, body)
    out = {"CommandInvocations": page}
    if token:
        out["NextToken"] = token
    return out


def _get_command_invocation(account, region, body):
    with SSM_LOCK:
        cmd = _command(body)
        inv = cmd.invocations.get(body.get("InstanceId", ""))
        if inv is None:
            raise SsmError("InvocationDoesNotExist", "")
        done = inv.status in SSM_TERMINAL
        return {
            "CommandId": cmd.id,
            "InstanceId": inv.instance,
            "Comment": cmd.body.get("Comment", ""),
            "DocumentName": cmd.document,
            "PluginName": SSM_PLUGIN,
            "ResponseCode": inv.code,
            "Status": inv.status,
            "StatusDetails": inv.details,
            "StandardOutputContent": inv.stdout[:STDOUT_MAX] if done else "",
            "StandardErrorContent": inv.stderr[:STDERR_MAX] if done else "",
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
        }


def _cancel_command(account, region, body):
    with SSM_LOCK:
        cmd = _command(body)
        if cmd.status in SSM_TERMINAL or cmd.status == "Incomplete":
            raise SsmError("InvalidCommandId", f"command {cmd.id} has already completed")
        cmd.cancel_requested = True
    return {}


def _command_matches(cmd, filters):
    """ListCommands' Filters: InvokedAfter, InvokedBefore, DocumentName, Status."""
    for f in filters or []:
        key, value = f.get("key"), f.get("value", "")
        if key in ("InvokedAfter", "InvokedBefore"):
            when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            if (key == "InvokedAfter" and cmd.requested < when) or (
                key == "InvokedBefore" and cmd.requested > when
            ):
                return False
        elif key == "DocumentName" and cmd.document != value:
            return False
        elif key == "Status" and cmd.status != value:
            return False
    return True


def _list_commands(account, region, body):
    with SSM_LOCK:
        cmds = [_command(body)] if body.get("CommandId") else list(SSM_COMMANDS.values())
        rows = [c.response() for c in cmds if _command_matches(c, body.get("Filters"))]
    page, token = _page(rows, body)
    out = {"Commands": page}
    if token:
        out["NextToken"] = token
    return out


def _describe_instance_information(account, region, body):
    limit = int(body.get("MaxResults") or 50)
    if not 5 <= limit <= 50:
        raise SsmError("ValidationException", "MaxResults must be between 5 and 50")
    wanted = None
    for f in body.get("Filters") or []:
        if f.get("Key") == "InstanceIds":
            wanted = set(f.get("Values") or [])
    for f in body.get("InstanceInformationFilterList") or []:
        if f.get("key") == "InstanceIds":
            wanted = set(f.get("valueSet") or [])
    rows = []
    for iid, inst in sorted(_all_instances(account, region).items()):
        if not _running(inst) or iid in SSM_UNREGISTERED or (wanted is not None and iid not in wanted):
            continue
        ping, last_ping = SSM_PING.get(iid, ("Online", time.time()))
        rows.append({
            "InstanceId": iid,
            "PingStatus": ping,
            "LastPingDateTime": last_ping,
            "AgentVersion": "3.3.0.0",
            "IsLatestVersion": False,
            "PlatformType": "Linux",
            "PlatformName": "Amazon Linux",
            "PlatformVersion": "2023",
            "ResourceType": "EC2Instance",
            "IPAddress": getattr(inst, "private_ip", "") or "",
            "ComputerName": f"ip-{(getattr(inst, 'private_ip', '') or '').replace('.', '-')}",
        })
    page, token = _page(rows, body)
    out = {"InstanceInformationList": page}
    if token:
        out["NextToken"] = token
    return out


SSM_OPERATIONS = {
    "SendCommand": _send_command,
    "ListCommandInvocations": _list_command_invocations,
    "GetCommandInvocation": _get_command_invocation,
    "CancelCommand": _cancel_command,
    "ListCommands": _list_commands,
    "DescribeInstanceInformation": _describe_instance_information,
}


def _ssm_hook(environ, raw):
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target.startswith("AmazonSSM."):
        return None
    fn = SSM_OPERATIONS.get(target[len("AmazonSSM.") :])
    if fn is None:
        return None
    auth = environ.get("HTTP_AUTHORIZATION", "")
    region = "us-east-1"
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 3:
            region = scope[2]
    try:
        status, reply = "200 OK", fn(CD_ACCOUNT, region, json.loads(raw or b"{}"))
    except SsmError as e:
        status = f"{e.status} Bad Request"
        reply = {"__type": e.code, "message": e.message}
    body = json.dumps(reply).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))], body


HOOKS.append(_ssm_hook)


@control("ssm_agent")
def _ssm_agent(body):
    """Registers (`"registered": true`) or unregisters the SSM agents of `instances`;
    `"stalled": true` leaves them registered and Online but never picking a command up (an
    agent that hangs: AWS reports it Online until its pings stop counting); `"ping"` sets the
    PingStatus of registered agents (`ConnectionLost`, `Inactive`: no pings, so no command is
    picked up; `Online` again)."""
    ids = set(body.get("instances", []))
    if "ping" in body:
        ping = body["ping"]
        if ping not in ("Online", "ConnectionLost", "Inactive"):
            raise ValueError(f"PingStatus {ping} is not one AWS reports")
        for iid in ids:
            if ping == "Online":
                SSM_PING.pop(iid, None)
            elif iid not in SSM_PING:
                SSM_PING[iid] = (ping, time.time())
            else:
                SSM_PING[iid] = (ping, SSM_PING[iid][1])
    elif body.get("stalled"):
        SSM_STALLED.update(ids)
    elif body.get("registered", False):
        SSM_UNREGISTERED.difference_update(ids)
        SSM_STALLED.difference_update(ids)
        for iid in ids:
            SSM_PING.pop(iid, None)
    else:
        SSM_UNREGISTERED.update(ids)
    return {
        "unregistered": sorted(SSM_UNREGISTERED),
        "stalled": sorted(SSM_STALLED),
        "ping": {iid: p for iid, (p, _) in sorted(SSM_PING.items())},
    }


@control("ssm_sent")
def _ssm_sent(_body):
    """Every SendCommand so far, as it was sent (for tests to check what udo asked for)."""
    with SSM_LOCK:
        return {"commands": [dict(c.body, CommandId=c.id) for c in SSM_COMMANDS.values()]}


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
