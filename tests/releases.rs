//! Blue/green releases (issue 18) as every existing command sees them: a role with two groups,
//! its base group `CLUSTER-ROLE` and a release `CLUSTER-ROLE-vN`, exactly one of them active.
//!
//! The release commands are not needed here: each test makes the release group out of band
//! with raw Auto Scaling calls, copying the base group udo made (launch template, sizes,
//! subnets, health check, every tag), tags it `udo:active=true`, and tags the base group
//! `udo:active=false`, `udo:release-state=disabled`. The two groups are told apart by their
//! sizes (the release runs more instances than the base), so each test fails if the command
//! acted on the base group instead of the active one.

#[path = "support/sshd.rs"]
#[allow(dead_code)]
mod sshd;
mod support;

use sshd::Sshd;
use support::{Moto, Outcome, Test};

/// A cluster in 127.0.0.0/16 with no public addresses: its instances are loopback addresses
/// a local sshd can listen on (tests/exec.rs).
const LOOPBACK: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
public: false
clusters:
  lo:
    vpc_cidr: 127.0.0.0/16
    roles:
      web:
        subnets_cidr: [127.0.1.0/24]
        scale_policy: {min_size: 1, max_size: 4, desired: 1}
";

const APP: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
clusters:
  dev:
    subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]
    roles:
      web:
        scale_policy: {min_size: 1, max_size: 4, desired: 1}
";

/// Every `<tag>value</tag>` in an XML reply, in document order.
fn values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split_once(&close).map(|(v, _)| v.to_string()))
        .collect()
}

fn value(xml: &str, tag: &str) -> String {
    values(xml, tag).into_iter().next().unwrap_or_default()
}

fn autoscaling(moto: &Moto, params: &[(&str, &str)]) -> String {
    let mut p = vec![("Version", "2011-01-01")];
    p.extend_from_slice(params);
    moto.call("autoscaling", &p)
}

/// The group as moto describes it ("" when it does not exist).
fn group_xml(moto: &Moto, name: &str) -> String {
    let xml = autoscaling(
        moto,
        &[
            ("Action", "DescribeAutoScalingGroups"),
            ("AutoScalingGroupNames.member.1", name),
        ],
    );
    values(&xml, "AutoScalingGroups").concat()
}

/// (key, value) of every tag of the group.
fn tags(xml: &str) -> Vec<(String, String)> {
    value(xml, "Tags")
        .split("<member>")
        .skip(1)
        .map(|m| (value(m, "Key"), value(m, "Value")))
        .collect()
}

/// Sets tags on a group (no propagation).
fn tag(moto: &Moto, group: &str, pairs: &[(&str, &str)]) {
    let mut p: Vec<(String, String)> = vec![("Action".into(), "CreateOrUpdateTags".into())];
    for (i, (k, v)) in pairs.iter().enumerate() {
        let n = i + 1;
        p.push((format!("Tags.member.{n}.ResourceId"), group.into()));
        p.push((
            format!("Tags.member.{n}.ResourceType"),
            "auto-scaling-group".into(),
        ));
        p.push((format!("Tags.member.{n}.Key"), k.to_string()));
        p.push((format!("Tags.member.{n}.Value"), v.to_string()));
        p.push((format!("Tags.member.{n}.PropagateAtLaunch"), "false".into()));
    }
    let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    autoscaling(moto, &refs);
}

/// Release `name` of the role whose base group is `base`: a copy of the base group (its
/// launch template version, max size, subnets, health check and tags) with `desired`
/// instances, and `extra` tags on top.
fn copy_group(moto: &Moto, base: &str, name: &str, desired: u32, extra: &[(&str, &str)]) {
    let g = group_xml(moto, base);
    assert!(!g.is_empty(), "no base group {base}");
    let lt = value(&g, "LaunchTemplate");
    let desired = desired.to_string();
    let max = value(&g, "MaxSize");
    let min = value(&g, "MinSize");
    let mut p: Vec<(String, String)> = vec![
        ("Action".into(), "CreateAutoScalingGroup".into()),
        ("AutoScalingGroupName".into(), name.into()),
        (
            "LaunchTemplate.LaunchTemplateName".into(),
            value(&lt, "LaunchTemplateName"),
        ),
        ("LaunchTemplate.Version".into(), value(&lt, "Version")),
        ("MinSize".into(), min),
        ("MaxSize".into(), max),
        ("DesiredCapacity".into(), desired),
        ("VPCZoneIdentifier".into(), value(&g, "VPCZoneIdentifier")),
        ("HealthCheckType".into(), value(&g, "HealthCheckType")),
        (
            "HealthCheckGracePeriod".into(),
            value(&g, "HealthCheckGracePeriod"),
        ),
    ];
    let mut all = tags(&g);
    for (k, v) in extra {
        all.retain(|(have, _)| have != k);
        all.push((k.to_string(), v.to_string()));
    }
    for (i, (k, v)) in all.iter().enumerate() {
        let n = i + 1;
        p.push((format!("Tags.member.{n}.Key"), k.clone()));
        p.push((format!("Tags.member.{n}.Value"), v.clone()));
        p.push((format!("Tags.member.{n}.PropagateAtLaunch"), "true".into()));
    }
    let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    autoscaling(moto, &refs);
}

/// Makes `BASE-v1` (with `desired` instances) the role's active release and disables `BASE`,
/// as a finished blue/green switch leaves them.
fn switch_to_v1(moto: &Moto, base: &str, desired: u32) -> String {
    let v1 = format!("{base}-v1");
    copy_group(moto, base, &v1, desired, &[("udo:active", "true")]);
    tag(
        moto,
        base,
        &[("udo:active", "false"), ("udo:release-state", "disabled")],
    );
    v1
}

/// The group's instance ids.
fn instance_ids(moto: &Moto, name: &str) -> Vec<String> {
    let g = group_xml(moto, name);
    values(&value(&g, "Instances"), "InstanceId")
}

fn count(out: &Outcome, op: &str) -> usize {
    out.ops().iter().filter(|o| *o == op).count()
}

/// The dev cluster, `dev.web` created (1 instance), then switched to `dev-web-v1` with
/// `desired` instances.
fn two_groups(desired: u32) -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    switch_to_v1(&moto, "dev-web", desired);
    (moto, t)
}

#[test]
fn instances_and_randomip_list_the_active_group() {
    let (moto, t) = two_groups(2);
    let base_ids = instance_ids(&moto, "dev-web");
    let v1_ids = instance_ids(&moto, "dev-web-v1");
    assert_eq!((base_ids.len(), v1_ids.len()), (1, 2));

    let out = t.run(&["-v", "asg", "instances", "dev.web", "-o", "json"]);
    let j = out.ok().json();
    assert_eq!(j["group"], "dev-web-v1");
    assert_eq!(j["release"], 1);
    assert_eq!(j["state"], "active");
    let mut listed: Vec<String> = j["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let mut want = v1_ids.clone();
    want.sort();
    assert_eq!(listed, want);
    // the base group carries release tags: one call by name, one by the role's tags
    assert_eq!(
        out.ops(),
        vec![
            "DescribeAutoScalingGroups",
            "DescribeAutoScalingGroups",
            "DescribeInstances"
        ]
    );

    let text = t.run(&["asg", "instances", "dev.web"]);
    text.ok()
        .stdout_has("dev-web-v1 (active): 2 instance(s)")
        .stdout_lacks("dev-web (disabled)");
    for id in &base_ids {
        text.stdout_lacks(id);
    }

    // a random InService instance is one of the active group's
    for _ in 0..3 {
        let ip = t.run(&["asg", "randomip", "dev.web", "--private", "-o", "json"]);
        let j = ip.ok().json();
        assert_eq!(j["group"], "dev-web-v1");
        assert!(
            v1_ids.contains(&j["instance"].as_str().unwrap().to_string()),
            "{j}"
        );
    }
}

#[test]
fn all_groups_and_status_show_every_group_with_its_state() {
    let (moto, t) = two_groups(2);
    let base_ids = instance_ids(&moto, "dev-web");
    let v1_ids = instance_ids(&moto, "dev-web-v1");

    let j = t
        .run(&["asg", "instances", "dev.web", "--all-groups", "-o", "json"])
        .ok()
        .json();
    let groups = j["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{j}");
    assert_eq!(groups[0]["group"], "dev-web");
    assert_eq!(groups[0]["release"], 0);
    assert_eq!(groups[0]["state"], "disabled");
    assert_eq!(groups[0]["instances"][0]["id"], base_ids[0].as_str());
    assert_eq!(groups[1]["group"], "dev-web-v1");
    assert_eq!(groups[1]["state"], "active");
    assert_eq!(groups[1]["instances"].as_array().unwrap().len(), 2);

    let text = t.run(&["asg", "instances", "dev.web", "--all-groups"]);
    text.ok()
        .stdout_has("dev-web (disabled): 1 instance(s)")
        .stdout_has("dev-web-v1 (active): 2 instance(s)");
    for id in base_ids.iter().chain(&v1_ids) {
        text.stdout_has(id);
    }

    // status: every group of the role, marked; the role's keys are the active group's
    let text = t.run(&["status"]);
    text.ok()
        .stdout_has("dev-web-v1 (active)")
        .stdout_has("dev-web (disabled)");
    let active_row = text
        .stdout
        .lines()
        .find(|l| l.contains("dev-web-v1 (active)"))
        .unwrap();
    assert!(active_row.contains("2/1/4"), "{active_row}");
    let j = t.run(&["status", "-o", "json"]).ok().json();
    let web = &j["groups"][0];
    assert_eq!(web["group"], "dev-web-v1");
    assert_eq!(web["desired"], 2);
    assert_eq!(web["in_service"], 2);
    assert_eq!(web["release"], 1);
    assert_eq!(web["state"], "active");
    let all = web["groups"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (&all[0]["group"], &all[0]["state"], &all[0]["desired"]),
        (&"dev-web".into(), &"disabled".into(), &1.into())
    );
    assert_eq!(
        (&all[1]["group"], &all[1]["state"], &all[1]["release"]),
        (&"dev-web-v1".into(), &"active".into(), &1.into())
    );

    // cluster status too
    let j = t
        .run(&["cluster", "status", "dev", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["roles"][0]["group"], "dev-web-v1");
    assert_eq!(j["roles"][0]["groups"].as_array().unwrap().len(), 2);
    t.run(&["cluster", "status", "dev"])
        .ok()
        .stdout_has("dev-web-v1 (active)")
        .stdout_has("dev-web (disabled)");
}

#[test]
fn a_release_being_brought_up_is_shown_releasing_and_is_not_the_active_group() {
    let (moto, t) = two_groups(2);
    copy_group(
        &moto,
        "dev-web-v1",
        "dev-web-v2",
        3,
        &[("udo:active", "false"), ("udo:release-state", "releasing")],
    );
    let j = t.run(&["status", "-o", "json"]).ok().json();
    let web = &j["groups"][0];
    assert_eq!(web["group"], "dev-web-v1");
    let states: Vec<&str> = web["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["disabled", "active", "releasing"]);
    t.run(&["status"]).ok().stdout_has("dev-web-v2 (releasing)");
    t.run(&["asg", "instances", "dev.web"])
        .ok()
        .stdout_has("dev-web-v1 (active): 2 instance(s)");
}

#[test]
fn updatelc_changes_the_active_group_and_leaves_the_disabled_one() {
    let (moto, t) = two_groups(2);
    t.write(
        "udo.yml",
        &APP.replace("instance_type: t3.small", "instance_type: t3.large"),
    );
    let out = t.run(&["-v", "asg", "updatelc", "dev.web"]);
    out.ok()
        .stdout_has("Created launch template dev-web version 2")
        .stdout_has("Changed ASgroup dev-web-v1 launch from dev-web v1 to dev-web v2");
    let v1 = group_xml(&moto, "dev-web-v1");
    assert_eq!(value(&value(&v1, "LaunchTemplate"), "Version"), "2", "{v1}");
    let base = group_xml(&moto, "dev-web");
    assert_eq!(
        value(&value(&base, "LaunchTemplate"), "Version"),
        "1",
        "{base}"
    );
    // the template keeps the base name: no dev-web-v1 template
    out.stdout_lacks("launch template dev-web-v1");
    t.run(&["asg", "updatelc", "dev.web"])
        .ok()
        .stdout_has("Group dev-web-v1 matches udo.yml; nothing to do.");
    // lc show compares with what the active group launches from
    let j = t.run(&["lc", "show", "dev.web", "-o", "json"]).ok().json();
    assert_eq!(j["group_launch"], "dev-web v2");
    assert_eq!(j["in_sync"], true);
}

#[test]
fn plan_compares_udo_yml_with_the_active_group_only() {
    let (moto, t) = two_groups(2);
    // the disabled base group differs from udo.yml; the active release matches it
    autoscaling(
        &moto,
        &[
            ("Action", "UpdateAutoScalingGroup"),
            ("AutoScalingGroupName", "dev-web"),
            ("MaxSize", "7"),
        ],
    );
    let out = t.run(&["plan", "dev.web", "--exit-code"]);
    out.ok()
        .stdout_has("dev.web (group dev-web-v1): matches udo.yml")
        .stdout_has("note: kept for `udo asg rollback dev.web`: dev-web disabled")
        .stdout_has("No differences")
        .stdout_lacks("max size");
    let j = t.run(&["plan", "dev.web", "-o", "json"]).ok().json();
    assert_eq!(j["differences"], false);
    let role = &j["clusters"][0]["roles"][0];
    assert_eq!(role["group"], "dev-web-v1");
    assert_eq!(role["differs"], false);
    assert_eq!(role["groups"][0]["state"], "disabled");
    assert_eq!(role["groups"][1]["group"], "dev-web-v1");
    assert_eq!(role["groups"][1]["state"], "active");
    assert_eq!(role["notes"].as_array().unwrap().len(), 1);
    let apply = t.run(&["-v", "apply", "dev.web", "--yes"]);
    apply.ok().stdout_has("Nothing to change");
    assert!(apply.writes().is_empty(), "{:?}", apply.ops());

    // a change of udo.yml goes to the active group only
    t.write("udo.yml", &APP.replace("max_size: 4", "max_size: 5"));
    t.run(&["plan", "dev.web"])
        .ok()
        .stdout_has("dev.web (group dev-web-v1):")
        .stdout_has("max size 4 -> 5");
    t.run(&["apply", "dev.web", "--yes"]).ok();
    assert_eq!(value(&group_xml(&moto, "dev-web-v1"), "MaxSize"), "5");
    assert_eq!(value(&group_xml(&moto, "dev-web"), "MaxSize"), "7");
    t.run(&["plan", "dev.web", "--exit-code"]).ok();
}

#[test]
fn apply_refuses_sizes_while_a_release_is_in_progress() {
    let (moto, t) = two_groups(2);
    copy_group(
        &moto,
        "dev-web-v1",
        "dev-web-v2",
        2,
        &[("udo:active", "false"), ("udo:release-state", "releasing")],
    );
    // nothing to change: the release in progress is a note, not a difference
    let out = t.run(&["plan", "dev.web", "--exit-code"]);
    out.ok()
        .stdout_has("dev.web (group dev-web-v1): matches udo.yml")
        .stdout_has("note: release in progress (dev-web-v2 releasing)")
        .stdout_has("No differences");

    // new sizes wait until the release ends
    t.write("udo.yml", &APP.replace("max_size: 4", "max_size: 6"));
    t.run(&["plan", "dev.web"])
        .ok()
        .stdout_has("release in progress (dev-web-v2 releasing); udo.yml's sizes wait until it ends (change max size 4 -> 6)");
    for args in [
        &["-v", "apply", "dev.web", "--yes"][..],
        &["-v", "asg", "updatelc", "dev.web"],
    ] {
        let out = t.run(args);
        out.status(1)
            .stderr_has("a release of dev.web is in progress (dev-web-v2 releasing)")
            .stderr_has("udo changes no sizes of the role until it ends");
        assert!(out.writes().is_empty(), "{:?}", out.ops());
    }
    for g in ["dev-web", "dev-web-v1", "dev-web-v2"] {
        assert_ne!(value(&group_xml(&moto, g), "MaxSize"), "6", "{g}");
    }

    // an interrupted switch (the old group not yet disabled) is a release in progress too
    tag(&moto, "dev-web-v2", &[("udo:release-state", "disabled")]);
    tag(&moto, "dev-web", &[("udo:release-state", "")]);
    t.run(&["-v", "apply", "dev.web", "--yes"])
        .status(1)
        .stderr_has("(dev-web disabling)");
}

#[test]
fn create_makes_no_base_group_beside_an_active_release() {
    let (moto, t) = two_groups(1);
    autoscaling(
        &moto,
        &[
            ("Action", "DeleteAutoScalingGroup"),
            ("AutoScalingGroupName", "dev-web"),
            ("ForceDelete", "true"),
        ],
    );
    assert!(group_xml(&moto, "dev-web").is_empty());
    let out = t.run(&["-v", "asg", "create", "dev.web"]);
    out.ok()
        .stdout_has("Group dev-web-v1 already exists and matches udo.yml; no change.");
    assert_eq!(count(&out, "CreateAutoScalingGroup"), 0, "{:?}", out.ops());
    assert!(group_xml(&moto, "dev-web").is_empty());
    t.run(&["plan", "dev.web", "--exit-code"])
        .ok()
        .stdout_has("dev.web: matches udo.yml");

    // no active group at all (every other release deleted by hand): nothing is created
    tag(
        &moto,
        "dev-web-v1",
        &[("udo:active", "false"), ("udo:release-state", "disabled")],
    );
    let out = t.run(&["-v", "asg", "create", "dev.web"]);
    out.status(1)
        .stderr_has("no group of dev.web is active (dev-web-v1 (disabled))");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
}

#[test]
fn policies_suspend_and_resume_act_on_the_active_group() {
    let (moto, t) = two_groups(1);
    t.run(&["asg", "suspend", "dev.web", "AZRebalance", "--yes"])
        .ok()
        .stdout_has("Suspended AZRebalance of ASgroup dev-web-v1");
    let v1 = group_xml(&moto, "dev-web-v1");
    assert!(v1.contains("AZRebalance"), "{v1}");
    assert!(!group_xml(&moto, "dev-web").contains("AZRebalance"));
    let j = t
        .run(&["asg", "policies", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["group"], "dev-web-v1");
    assert_eq!(j["suspended"][0], "AZRebalance");
    t.run(&["asg", "resume", "dev.web", "AZRebalance", "--yes"])
        .ok()
        .stdout_has("Resumed AZRebalance of ASgroup dev-web-v1");
    assert!(!group_xml(&moto, "dev-web-v1").contains("AZRebalance"));
}

#[test]
fn a_role_without_releases_makes_the_calls_it_always_made() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    // a fresh role: its base group is missing, so the role's tags are asked once
    let out = t.run(&["-v", "asg", "create", "dev.web"]);
    out.ok();
    assert_eq!(
        count(&out, "DescribeAutoScalingGroups"),
        2,
        "{:?}",
        out.ops()
    );
    for (args, ops) in [
        (
            &["-v", "asg", "instances", "dev.web"][..],
            &["DescribeAutoScalingGroups", "DescribeInstances"][..],
        ),
        (
            &["-v", "status"],
            &["DescribeAutoScalingGroups", "DescribeInstances"],
        ),
        (
            &["-v", "asg", "updatelc", "dev.web"],
            &[
                "DescribeAutoScalingGroups",
                "DescribeLaunchTemplateVersions",
                "DescribeSubnets",
            ],
        ),
        (
            &["-v", "asg", "policies", "dev.web"],
            &[
                "DescribeAutoScalingGroups",
                "DescribeScheduledActions",
                "DescribePolicies",
            ],
        ),
    ] {
        let out = t.run(args);
        out.ok();
        assert_eq!(out.ops(), ops.to_vec(), "{args:?}");
    }
    let plan = t.run(&["-v", "plan", "dev.web"]);
    plan.ok();
    assert_eq!(
        count(&plan, "DescribeAutoScalingGroups"),
        1,
        "{:?}",
        plan.ops()
    );
    // and nothing says "active" or "disabled" for it
    t.run(&["status"])
        .ok()
        .stdout_lacks("(active)")
        .stdout_has(" dev-web ");
    t.run(&["asg", "instances", "dev.web"])
        .ok()
        .stdout_has("dev-web: 1 instance(s)");
}

/// The loopback cluster with `lo-web` (1 instance) switched to `lo-web-v1` (2 instances); the
/// (id, address) of each group's instances, every address checked to be loopback.
type Hosts = Vec<(String, String)>;
fn loopback_groups() -> (Moto, Test, Hosts, Hosts) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto)
        .config(LOOPBACK)
        .env("UDO_POLL_MS", "100");
    t.run(&["cluster", "create", "lo"]).ok();
    t.run(&["asg", "create", "lo.web"]).ok();
    switch_to_v1(&moto, "lo-web", 2);
    let j = t
        .run(&["asg", "instances", "lo.web", "--all-groups", "-o", "json"])
        .ok()
        .json();
    let hosts = |i: usize| -> Hosts {
        j["groups"][i]["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                assert!(h["public_ip"].is_null(), "{h}");
                let ip = h["private_ip"].as_str().unwrap().to_string();
                let addr: std::net::Ipv4Addr = ip.parse().unwrap();
                assert!(addr.is_loopback(), "{ip} is not a loopback address");
                (h["id"].as_str().unwrap().to_string(), ip)
            })
            .collect()
    };
    assert_eq!(j["groups"][0]["group"], "lo-web");
    assert_eq!(j["groups"][1]["group"], "lo-web-v1");
    let (base, v1) = (hosts(0), hosts(1));
    assert_eq!((base.len(), v1.len()), (1, 2));
    (moto, t, base, v1)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn exec_and_ssh_run_on_the_active_groups_instances_only() {
    let (_m, t, base, v1) = loopback_groups();
    // one server listening on every instance of both groups: where a command runs is the
    // command's choice alone
    let all: Vec<&str> = base.iter().chain(&v1).map(|(_, ip)| ip.as_str()).collect();
    let s = Sshd::start(&all);
    t.write("udo.yml", &format!("{LOOPBACK}{}", s.yaml()));
    let log = t.path().join("ran.log");
    let cmd = format!("echo \"$SSH_CONNECTION\" >> {}", log.display());
    let out = t.run(&["-v", "exec", "lo.web", "--", &cmd]);
    out.ok()
        .stderr_has("2 hosts: 2 succeeded, 0 failed, 0 timed out, 0 unreachable");
    let ran: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
        .collect();
    assert_eq!(
        sorted(ran),
        sorted(v1.iter().map(|(_, ip)| ip.clone()).collect())
    );
    out.stdout_lacks(&base[0].0);
    // ssh: by number, as `asg instances` numbers the active group's instances
    let first = t.run(&["ssh", "lo.web", "1", "--", "echo $SSH_CONNECTION"]);
    first.ok().stdout_has(&format!(" {} {}\n", v1[0].1, s.port));
    // at random, always one of the active group's
    for _ in 0..3 {
        let any = t.run(&["ssh", "lo.web", "--", "echo $SSH_CONNECTION"]);
        any.ok();
        assert!(
            v1.iter()
                .any(|(_, ip)| any.stdout.contains(&format!(" {ip} "))),
            "{}",
            any.stdout
        );
    }
    // the base group's instance is not the role's any more
    t.run(&["ssh", "lo.web", &base[0].0, "--", "true"])
        .status(2)
        .stderr_has("is not an instance of lo-web-v1");
}

#[test]
fn exec_via_ssm_targets_the_active_group_by_its_tag() {
    let (moto, t, base, v1) = loopback_groups();
    t.write("udo.yml", &format!("{LOOPBACK}exec: {{via: ssm}}\n"));
    let log = t.path().join("ran.log");
    let cmd = format!("echo \"$AWS_SSM_INSTANCE_ID\" >> {}", log.display());
    let out = t.run(&["exec", "lo.web", "--", &cmd]);
    out.ok()
        .stdout_has("to 2 instances of ASgroup lo-web-v1 with SSM Run Command");
    let sent = moto.control("ssm_sent", serde_json::json!({}))["commands"].clone();
    assert_eq!(
        sent[0]["Targets"],
        serde_json::json!([{"Key": "tag:aws:autoscaling:groupName", "Values": ["lo-web-v1"]}])
    );
    let ran: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        sorted(ran),
        sorted(v1.iter().map(|(id, _)| id.clone()).collect())
    );
    assert!(!std::fs::read_to_string(&log).unwrap().contains(&base[0].0));
}

#[test]
fn scale_shows_and_sets_the_active_groups_sizes() {
    let (moto, t) = two_groups(2);
    t.run(&["asg", "scale", "dev.web"])
        .ok()
        .stdout_has("dev-web-v1: desired 2, min 1, max 4; 2 InService");
    let j = t
        .run(&["asg", "scale", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert_eq!(
        (&j["group"], &j["desired"]),
        (&"dev-web-v1".into(), &2.into())
    );
    t.run(&["asg", "scale", "dev.web", "3", "--wait", "--yes"])
        .ok()
        .stdout_has("Changed ASgroup dev-web-v1 desired capacity from 2 to 3")
        .stdout_has("dev-web-v1 has 3 InService instances.");
    assert_eq!(
        value(&group_xml(&moto, "dev-web-v1"), "DesiredCapacity"),
        "3"
    );
    assert_eq!(value(&group_xml(&moto, "dev-web"), "DesiredCapacity"), "1");

    // while a release is in progress the sizes wait, as for `apply`
    copy_group(
        &moto,
        "dev-web-v1",
        "dev-web-v2",
        3,
        &[("udo:active", "false"), ("udo:release-state", "releasing")],
    );
    let out = t.run(&["-v", "asg", "scale", "dev.web", "1", "--yes"]);
    out.status(1)
        .stderr_has("a release of dev.web is in progress (dev-web-v2 releasing)");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
}

#[test]
fn destroy_shows_and_removes_every_group_of_the_role() {
    let (moto, t) = two_groups(2);
    // a disabled release's processes are suspended (its instances keep running)
    autoscaling(
        &moto,
        &[
            ("Action", "SuspendProcesses"),
            ("AutoScalingGroupName", "dev-web"),
            ("ScalingProcesses.member.1", "Launch"),
            ("ScalingProcesses.member.2", "Terminate"),
        ],
    );
    let dry = t.run(&["asg", "destroy", "dev.web", "--dry-run"]);
    dry.ok()
        .stdout_has("~ resume Terminate of dev-web")
        .stdout_has("set dev-web sizes to 0 and wait for its 1 instance(s) to terminate")
        .stdout_has("- delete autoscaling group dev-web\n")
        .stdout_has("set dev-web-v1 sizes to 0 and wait for its 2 instance(s) to terminate")
        .stdout_has("- delete autoscaling group dev-web-v1")
        .stdout_has("- delete launch template dev-web");
    // the active group goes last: an interruption leaves the role its active group
    assert!(
        dry.stdout.find("delete autoscaling group dev-web\n")
            < dry.stdout.find("sizes to 0 and wait for its 2")
    );
    // refused without --yes, nothing changed
    let refused = t.run(&["-v", "asg", "destroy", "dev.web"]);
    refused.status(1);
    assert!(refused.writes().is_empty(), "{:?}", refused.ops());
    // a batch shows every group's steps before its one question
    let batch = t.run(&["-v", "asg", "destroy", "dev.*"]);
    batch
        .status(1)
        .stdout_has("[dev.web]   - delete autoscaling group dev-web\n")
        .stdout_has("[dev.web]   - delete autoscaling group dev-web-v1\n");
    assert!(batch.writes().is_empty(), "{:?}", batch.ops());

    let out = t.run(&["asg", "destroy", "dev.web", "--yes"]);
    out.ok()
        .stdout_has("Resumed Terminate of ASgroup dev-web")
        .stdout_has("Deleted ASgroup dev-web\n")
        .stdout_has("Deleted ASgroup dev-web-v1")
        .stdout_has("Deleted launch template dev-web");
    assert!(group_xml(&moto, "dev-web").is_empty());
    assert!(group_xml(&moto, "dev-web-v1").is_empty());
    t.run(&["asg", "destroy", "dev.web", "--yes"])
        .ok()
        .stdout_has("Group dev-web does not exist; nothing to delete there.");
    t.run(&["cluster", "destroy", "dev", "--yes"])
        .ok()
        .stdout_has("Deleted VPC");
}

#[test]
fn a_surge_rollout_replaces_the_active_groups_instances_only() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP).env("UDO_POLL_MS", "20");
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    switch_to_v1(&moto, "dev-web", 1);
    let (base, v1) = (
        instance_ids(&moto, "dev-web"),
        instance_ids(&moto, "dev-web-v1"),
    );
    t.write(
        "udo.yml",
        &APP.replace("instance_type: t3.small", "instance_type: t3.large"),
    );
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let out = t.run(&["asg", "rollout", "dev.web", "--yes"]);
    out.ok()
        .stdout_has("Finished rollout of ASgroup dev-web-v1: 1 instance(s) replaced");
    let after = instance_ids(&moto, "dev-web-v1");
    assert_eq!(after.len(), 1);
    assert_ne!(after, v1);
    assert_eq!(instance_ids(&moto, "dev-web"), base);
    assert!(!group_xml(&moto, "dev-web-v1").contains("udo:rollout"));

    // refused while a blue/green release is in progress
    copy_group(
        &moto,
        "dev-web-v1",
        "dev-web-v2",
        1,
        &[("udo:active", "false"), ("udo:release-state", "releasing")],
    );
    let out = t.run(&["-v", "asg", "rollout", "dev.web", "--all", "--yes"]);
    out.status(1)
        .stderr_has("a release of dev.web is in progress (dev-web-v2 releasing)");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
}

#[test]
fn deploy_sets_up_and_deploys_to_the_active_group() {
    let config = APP.replace(
        "clusters:",
        "deploy:\n  application: Shop\n  github: {repo: acme/shop}\n  service_role: arn:aws:iam::123456789012:role/codedeploy\n  suspend_scaling: true\nclusters:",
    );
    let moto = Moto::start();
    let t = Test::with_moto(&moto)
        .config(&config)
        .env("UDO_POLL_MS", "50");
    t.run(&["--no-notify", "cluster", "create", "dev"]).ok();
    t.run(&["--no-notify", "asg", "create", "dev.web"]).ok();
    switch_to_v1(&moto, "dev-web", 2);
    t.run(&["deploy", "setup", "dev.web"])
        .ok()
        .stdout_has("Created deployment group dev-web for ASgroup dev-web-v1");
    let names = |moto: &Moto| -> Vec<String> {
        let g = moto.codedeploy(
            "GetDeploymentGroup",
            serde_json::json!({"applicationName": "Shop", "deploymentGroupName": "dev-web"}),
        );
        g["deploymentGroupInfo"]["autoScalingGroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&moto), vec!["dev-web-v1"]);
    let again = t.run(&["-v", "deploy", "setup", "dev.web"]);
    again.ok().stdout_has("matches udo.yml; no change");
    assert!(again.writes().is_empty(), "{:?}", again.ops());

    moto.control(
        "codedeploy_agent",
        serde_json::json!({"group": "dev-web", "outcome": "Succeeded"}),
    );
    let sha = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";
    let out = t.run(&["deploy", "dev.web", sha, "--skip-hooks"]);
    out.ok()
        .stdout_has("succeeded in")
        .stdout_has("of ASgroup dev-web-v1")
        .stdout_lacks("of ASgroup dev-web\n")
        .stdout_lacks("of ASgroup dev-web ");
    // the deployment ran on the active group's two instances, not the base group's one
    let j = t
        .run(&["deploy", "last", "dev.web", "-o", "json"])
        .ok()
        .json();
    let d = &j["groups"][0]["deployment"];
    assert_eq!(d["status"], "Succeeded", "{j}");
    assert_eq!(d["instances"]["succeeded"], 2, "{j}");
    // suspend_scaling suspended and resumed the active group only
    assert!(!group_xml(&moto, "dev-web-v1").contains("udo:deploy-suspended"));
    assert!(!group_xml(&moto, "dev-web").contains("<ProcessName>"));
}
