//! Blue/green releases against moto_server: `udo asg rollout --strategy bluegreen` brings a
//! new group `CLUSTER-ROLE-vN` up beside the active one and switches to it with no drop in
//! healthy targets, keeping the old one disabled with its instances running; `udo asg
//! rollback` switches back; a release that never becomes healthy deletes its group and leaves
//! the active one exactly as it was; every kill point converges on a re-run.

mod support;
use support::faultproxy::FaultProxy;
use support::{Moto, Outcome, Test};

const YML: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
clusters:
  dev:
    subnets_cidr: [10.30.1.0/24, 10.30.2.0/24]
    roles:
      web:
        scale_policy: {min_size: 2, max_size: 6, desired: 4}
        target_groups: [dev-tg]
";

fn large() -> String {
    YML.replace("instance_type: t3.small", "instance_type: t3.large")
}

/// A cluster with its network, the target group `dev-tg` in its VPC, and dev-web (4 instances,
/// t3.small) in it; udo.yml then says t3.large. Returns the target group's ARN.
fn stage(moto: &Moto, t: &Test) -> String {
    t.write("udo.yml", YML);
    t.run(&["cluster", "create", "dev"]).ok();
    let vpc = t
        .run(&["cluster", "status", "dev", "-o", "json"])
        .ok()
        .json()["vpc"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let xml = moto.call(
        "elasticloadbalancing",
        &[
            ("Action", "CreateTargetGroup"),
            ("Version", "2015-12-01"),
            ("Name", "dev-tg"),
            ("Protocol", "HTTP"),
            ("Port", "80"),
            ("VpcId", &vpc),
        ],
    );
    t.run(&["asg", "create", "dev.web"]).ok();
    t.write("udo.yml", &large());
    between(&xml, "<TargetGroupArn>", "</TargetGroupArn>")
        .unwrap()
        .to_string()
}

fn setup() -> (Moto, Test, String) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).env("UDO_POLL_MS", "20");
    let tg = stage(&moto, &t);
    (moto, t, tg)
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> Option<&'a str> {
    let start = s.find(a)? + a.len();
    let len = s[start..].find(b)?;
    Some(&s[start..start + len])
}

/// Every `<open>…</open>` in `s`.
fn all<'a>(s: &'a str, open: &str) -> Vec<&'a str> {
    let close = open.replace('<', "</");
    s.split(open)
        .skip(1)
        .filter_map(|p| p.split(close.as_str()).next())
        .collect()
}

fn group_xml(moto: &Moto, group: &str) -> String {
    let xml = moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeAutoScalingGroups"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupNames.member.1", group),
        ],
    );
    // the reply without its request id, which differs on every call
    let body = xml.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    match between(&body, "<RequestId>", "</RequestId>") {
        Some(id) => body.replace(id, ""),
        None => body,
    }
}

/// What the tests look at of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    exists: bool,
    sizes: (i64, i64, i64),
    in_service: Vec<String>,
    target_groups: Vec<String>,
    suspended: Vec<String>,
    tags: Vec<(String, String)>,
}

impl Facts {
    fn tag(&self, k: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
}

fn facts(moto: &Moto, group: &str) -> Facts {
    let xml = group_xml(moto, group);
    let num = |k: &str| -> i64 {
        between(&xml, &format!("<{k}>"), &format!("</{k}>"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1)
    };
    let section = |k: &str| {
        between(&xml, &format!("<{k}>"), &format!("</{k}>"))
            .unwrap_or_default()
            .to_string()
    };
    let mut in_service: Vec<String> = all(&section("Instances"), "<member>")
        .into_iter()
        .filter(|m| m.contains("<LifecycleState>InService</LifecycleState>"))
        .filter_map(|m| between(m, "<InstanceId>", "</InstanceId>").map(String::from))
        .collect();
    in_service.sort();
    let mut suspended: Vec<String> = all(&section("SuspendedProcesses"), "<ProcessName>")
        .into_iter()
        .map(String::from)
        .collect();
    suspended.sort();
    let target_groups = all(&section("TargetGroupARNs"), "<member>")
        .into_iter()
        .map(|s| s.trim().to_string())
        .collect();
    let mut tags: Vec<(String, String)> = all(&section("Tags"), "<member>")
        .into_iter()
        .filter_map(|m| {
            Some((
                between(m, "<Key>", "</Key>")?.to_string(),
                between(m, "<Value>", "</Value>")
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect();
    tags.sort();
    Facts {
        exists: xml.contains("<AutoScalingGroupName>"),
        sizes: (num("MinSize"), num("MaxSize"), num("DesiredCapacity")),
        in_service,
        target_groups,
        suspended,
        tags,
    }
}

/// The instances registered healthy in the target group.
fn healthy_targets(moto: &Moto, tg: &str) -> Vec<String> {
    let xml = moto.call(
        "elasticloadbalancing",
        &[
            ("Action", "DescribeTargetHealth"),
            ("Version", "2015-12-01"),
            ("TargetGroupArn", tg),
        ],
    );
    let mut ids: Vec<String> = all(&xml, "<member>")
        .into_iter()
        .filter(|m| m.contains("<State>healthy</State>"))
        .filter_map(|m| between(m, "<Id>", "</Id>").map(String::from))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn instance_type(moto: &Moto, id: &str) -> String {
    let xml = moto.call(
        "ec2",
        &[
            ("Action", "DescribeInstances"),
            ("Version", "2016-11-15"),
            ("InstanceId.1", id),
        ],
    );
    between(&xml, "<instanceType>", "</instanceType>")
        .unwrap_or_default()
        .to_string()
}

/// Runs udo while a watcher counts the healthy targets every few milliseconds; returns the
/// outcome and every count seen.
fn sampled(moto: &Moto, t: &Test, tg: &str, args: &[&str]) -> (Outcome, Vec<usize>) {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut seen = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                seen.push(healthy_targets(moto, tg).len());
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            seen
        });
        let out = t.run(args);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (out, watcher.join().unwrap())
    })
}

const DISABLED_PROCESSES: [&str; 4] = [
    "AlarmNotification",
    "Launch",
    "ScheduledActions",
    "Terminate",
];

#[test]
fn a_release_switches_groups_without_losing_healthy_targets_and_a_rollback_switches_back() {
    let (moto, t, tg) = setup();
    let old = facts(&moto, "dev-web");
    assert_eq!(old.in_service.len(), 4);
    assert_eq!(healthy_targets(&moto, &tg), old.in_service);

    let dry = t.run(&[
        "-v",
        "--dry-run",
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
    ]);
    dry.ok()
        .stdout_has("+ create version 2 of launch template dev-web")
        .stdout_has("~ tag dev-web udo:active=true")
        .stdout_has("+ create autoscaling group dev-web-v1 from dev-web v2 with dev-web's sizes (min 2, max 6, desired 4)")
        .stdout_has("~ wait until 4 instance(s) of dev-web-v1 are InService and healthy in its 1 target group(s)")
        .stdout_has("~ switch: dev-web-v1 becomes the active group, dev-web not")
        .stdout_has("~ disable dev-web: detach its target groups")
        .stdout_has("Dry run: nothing was changed.");
    assert!(dry.writes().is_empty(), "{:?}", dry.ops());
    // it takes a group out of traffic: no terminal and no --yes is a refusal, nothing changed
    let refused = t.run(&["-v", "asg", "rollout", "dev.web", "--strategy", "bluegreen"]);
    refused.status(1).stderr_has("--yes");
    assert!(refused.writes().is_empty(), "{:?}", refused.ops());

    let (out, seen) = sampled(
        &moto,
        &t,
        &tg,
        &[
            "asg",
            "rollout",
            "dev.web",
            "--strategy",
            "bluegreen",
            "--yes",
        ],
    );
    out.ok()
        .stdout_has("Created ASgroup dev-web-v1 (min 2, max 6, desired 4) from dev-web v2")
        .stdout_has("ASgroup dev-web-v1: 4 instance(s) InService and healthy")
        .stdout_has("Switched dev.web: ASgroup dev-web-v1 is active, dev-web not")
        .stdout_has("Detached target groups")
        .stdout_has(
            "Suspended Launch, Terminate, AlarmNotification, ScheduledActions of ASgroup dev-web",
        )
        .stdout_has("Disabled ASgroup dev-web: out of traffic, its 4 instance(s) running")
        .stdout_has("Released ASgroup dev-web-v1 of dev.web");
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|n| *n >= 4),
        "healthy targets fell below 4: {seen:?}"
    );

    let new = facts(&moto, "dev-web-v1");
    assert_eq!(new.sizes, (2, 6, 4));
    assert_eq!(new.in_service.len(), 4);
    assert_eq!(new.target_groups, vec![tg.clone()]);
    assert!(new.suspended.is_empty(), "{new:?}");
    assert_eq!(new.tag("udo:active"), Some("true"));
    assert_eq!(new.tag("udo:role"), Some("web"));
    assert_eq!(new.tag("Name"), Some("dev-web"));
    for id in &new.in_service {
        assert_eq!(instance_type(&moto, id), "t3.large");
    }
    let disabled = facts(&moto, "dev-web");
    assert_eq!(
        disabled.in_service, old.in_service,
        "its instances keep running"
    );
    assert_eq!(disabled.sizes, old.sizes);
    assert!(disabled.target_groups.is_empty());
    assert_eq!(disabled.suspended, DISABLED_PROCESSES);
    assert_eq!(disabled.tag("udo:active"), Some("false"));
    assert_eq!(disabled.tag("udo:release-state"), Some("disabled"));
    assert!(disabled.tag("udo:disabled-at").is_some());
    for id in &old.in_service {
        assert_eq!(instance_type(&moto, id), "t3.small");
    }
    assert_eq!(healthy_targets(&moto, &tg), new.in_service);

    // the release is what udo.yml describes: plan finds nothing to change, the old group a note
    t.run(&["plan", "dev", "--exit-code"])
        .ok()
        .stdout_has("dev-web disabled");
    // nothing left to release: no write
    let again = t.run(&[
        "-v",
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ]);
    again.ok().stdout_has("nothing to roll out");
    assert!(again.writes().is_empty(), "{:?}", again.ops());
    // unless every instance is to be replaced
    t.run(&[
        "--dry-run",
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--all",
    ])
    .ok()
    .stdout_has("+ create autoscaling group dev-web-v2 from dev-web v2");

    let dry = t.run(&["-v", "--dry-run", "asg", "rollback", "dev.web"]);
    dry.ok()
        .stdout_has("~ switch: dev-web becomes the active group, dev-web-v1 not")
        .stdout_has("Dry run: nothing was changed.");
    assert!(dry.writes().is_empty(), "{:?}", dry.ops());
    // back to the old group: warm, so it waits only for the health checks
    let (back, seen) = sampled(
        &moto,
        &t,
        &tg,
        &["-v", "asg", "rollback", "dev.web", "--yes"],
    );
    back.ok()
        .stdout_has("~ re-enable dev-web (mark it releasing): resume Launch, Terminate, AlarmNotification, ScheduledActions")
        .stdout_has(&format!("+ attach dev-web to target group {tg}"))
        .stdout_has("Switched dev.web: ASgroup dev-web is active, dev-web-v1 not")
        .stdout_has("Disabled ASgroup dev-web-v1");
    assert!(
        seen.iter().all(|n| *n >= 4),
        "healthy targets fell below 4: {seen:?}"
    );
    assert_eq!(
        back.ops().iter().filter(|o| *o == "RunInstances").count(),
        0,
        "a warm rollback launches nothing"
    );
    let restored = facts(&moto, "dev-web");
    assert_eq!(restored.in_service, old.in_service);
    assert_eq!(restored.target_groups, vec![tg.clone()]);
    assert!(restored.suspended.is_empty());
    assert_eq!(restored.tag("udo:active"), Some("true"));
    assert_eq!(healthy_targets(&moto, &tg), old.in_service);
    let v1 = facts(&moto, "dev-web-v1");
    assert_eq!(
        v1.in_service, new.in_service,
        "kept, so the rollback can be undone"
    );
    assert_eq!(v1.suspended, DISABLED_PROCESSES);
    assert_eq!(v1.tag("udo:release-state"), Some("disabled"));

    // udo.yml still says t3.large: plan shows the rolled-back group's launch as a difference
    t.run(&["plan", "dev", "--exit-code"])
        .status(3)
        .stdout_has("~ switch dev-web from dev-web v1 to dev-web v2")
        .stdout_has("dev-web-v1 disabled");
    // and the rollback undone: --to names the release
    t.run(&["asg", "rollback", "dev.web", "--to", "v1", "--yes"])
        .ok()
        .stdout_has("Switched dev.web: ASgroup dev-web-v1 is active, dev-web not");
    assert_eq!(healthy_targets(&moto, &tg), new.in_service);
    t.run(&["asg", "rollback", "dev.web", "--to", "v7", "--yes"])
        .status(1)
        .stderr_has("dev.web has no disabled release v7; it has v0 (dev-web)");
}

#[test]
fn a_release_that_never_becomes_healthy_is_deleted_and_the_active_group_left_as_it_was() {
    let (moto, t, tg) = setup();
    // someone suspended a process by hand: it must stay as it is
    t.run(&["asg", "suspend", "dev.web", "AZRebalance"]).ok();
    let before = group_xml(&moto, "dev-web");
    let serving = healthy_targets(&moto, &tg);
    moto.control("unhealthy", serde_json::json!({"group": "dev-web-v1"}));

    let (out, seen) = sampled(
        &moto,
        &t,
        &tg,
        &[
            "asg",
            "rollout",
            "dev.web",
            "--strategy",
            "bluegreen",
            "--timeout",
            "2",
            "--yes",
        ],
    );
    out.status(1)
        .stderr_has(
            "release dev-web-v1 stopped: 0 of 4 instance(s) became InService and healthy within 2s",
        )
        .stderr_has("(unhealthy: Target.FailedHealthChecks in arn:")
        .stderr_has(
            "dev-web-v1 and its instances were deleted; dev-web stays the active group, untouched",
        )
        .stdout_lacks("Switched");
    assert!(seen.iter().all(|n| *n >= 4), "{seen:?}");
    assert!(!facts(&moto, "dev-web-v1").exists);
    assert_eq!(
        group_xml(&moto, "dev-web"),
        before,
        "the active group changed"
    );
    assert_eq!(healthy_targets(&moto, &tg), serving);
}

#[test]
fn the_old_group_is_disabled_only_once_its_targets_have_drained() {
    let (moto, t, tg) = setup();
    moto.control("deregistration_delay", serde_json::json!({"seconds": 1.5}));
    let start = std::time::Instant::now();
    let out = t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ]);
    out.ok()
        .stderr_has("dev-web: 4 instance(s) deregistering from arn:")
        .stdout_has("Disabled ASgroup dev-web");
    assert!(start.elapsed() >= std::time::Duration::from_millis(1500));
    // suspended only after the drain: the detach line comes first, the suspension after it
    let detached = out.stdout.find("Detached target groups").unwrap();
    let suspended = out.stdout.find("Suspended Launch").unwrap();
    assert!(detached < suspended);
    assert_eq!(
        healthy_targets(&moto, &tg),
        facts(&moto, "dev-web-v1").in_service
    );
}

#[test]
fn a_rollback_whose_group_does_not_become_healthy_is_disabled_again() {
    let (moto, t, tg) = setup();
    let old = facts(&moto, "dev-web");
    t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ])
    .ok();
    let serving = healthy_targets(&moto, &tg);
    // the old instances fail their health checks once back in the target group
    moto.control(
        "unhealthy",
        serde_json::json!({"instances": old.in_service}),
    );
    let (out, seen) = sampled(
        &moto,
        &t,
        &tg,
        &["asg", "rollback", "dev.web", "--timeout", "2", "--yes"],
    );
    out.status(1)
        .stderr_has("rollback to dev-web stopped: 0 of 4 instance(s) became InService and healthy within 2s")
        .stderr_has("dev-web was disabled again; dev-web-v1 stays the active group, untouched");
    assert!(seen.iter().all(|n| *n >= 4), "{seen:?}");
    assert_eq!(healthy_targets(&moto, &tg), serving);
    let back = facts(&moto, "dev-web");
    assert_eq!(back.in_service, old.in_service);
    assert!(back.target_groups.is_empty());
    assert_eq!(back.suspended, DISABLED_PROCESSES);
    assert_eq!(back.tag("udo:release-state"), Some("disabled"));
    assert_eq!(facts(&moto, "dev-web-v1").tag("udo:active"), Some("true"));
}

/// Starts a release whose new instances never become healthy, so it waits; returns once
/// udo says it created the new group.
fn waiting_release(t: &Test) -> std::process::Child {
    let mut child = t.spawn(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ]);
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    for line in lines.by_ref() {
        if line.unwrap().contains("Created ASgroup dev-web-v1") {
            break;
        }
    }
    // keep reading so udo never blocks on a full pipe
    std::thread::spawn(move || for _ in lines {});
    child
}

#[test]
fn ctrl_c_while_the_release_waits_deletes_it() {
    let (moto, t, _tg) = setup();
    let before = group_xml(&moto, "dev-web");
    moto.control("unhealthy", serde_json::json!({"group": "dev-web-v1"}));
    let mut child = waiting_release(&t);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(!facts(&moto, "dev-web-v1").exists);
    assert_eq!(group_xml(&moto, "dev-web"), before);
}

#[test]
fn a_rollback_after_a_killed_release_deletes_the_half_made_group() {
    let (moto, t, tg) = setup();
    let before = facts(&moto, "dev-web");
    moto.control("unhealthy", serde_json::json!({"group": "dev-web-v1"}));
    let mut child = waiting_release(&t);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert_eq!(
        facts(&moto, "dev-web-v1").tag("udo:release-state"),
        Some("releasing")
    );
    t.run(&["asg", "rollback", "dev.web", "--yes"])
        .ok()
        .stdout_has("undo the interrupted release dev-web-v1; dev-web stays active")
        .stdout_has("- delete autoscaling group dev-web-v1");
    assert!(!facts(&moto, "dev-web-v1").exists);
    let after = facts(&moto, "dev-web");
    assert_eq!(after.in_service, before.in_service);
    assert_eq!(after.target_groups, before.target_groups);
    assert_eq!(healthy_targets(&moto, &tg), before.in_service);
}

#[test]
fn keep_previous_deletes_older_disabled_groups_and_asks_first() {
    let (moto, t, _tg) = setup();
    t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ])
    .ok();
    // a second release: dev-web (disabled) is older than keep_previous allows
    t.write(
        "udo.yml",
        &YML.replace("instance_type: t3.small", "instance_type: t3.xlarge"),
    );
    let dry = t.run(&[
        "--dry-run",
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
    ]);
    dry.ok()
        .stdout_has("+ create autoscaling group dev-web-v2 from dev-web v3")
        .stdout_has("- delete autoscaling group dev-web and its 4 instance(s) (rollout.keep_previous = 1: older disabled groups go)");
    let refused = t.run(&["-v", "asg", "rollout", "dev.web", "--strategy", "bluegreen"]);
    refused.status(1).stderr_has("--yes");
    assert!(refused.writes().is_empty(), "{:?}", refused.ops());
    // asked on a terminal: no is no, and nothing changes
    let no = t.run_tty(
        &["asg", "rollout", "dev.web", "--strategy", "bluegreen"],
        "n\n",
    );
    assert_ne!(no.code, 0, "{no:?}");
    assert!(facts(&moto, "dev-web").exists);
    assert!(!facts(&moto, "dev-web-v2").exists);
    t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ])
    .ok()
    .stdout_has("Deleted ASgroup dev-web and its instances");
    assert!(!facts(&moto, "dev-web").exists);
    assert_eq!(
        facts(&moto, "dev-web-v1").tag("udo:release-state"),
        Some("disabled")
    );
    assert_eq!(facts(&moto, "dev-web-v2").tag("udo:active"), Some("true"));
    // without its base group the role's releases are still found (by their tags)
    t.run(&["asg", "rollback", "dev.web", "--yes"])
        .ok()
        .stdout_has("Switched dev.web: ASgroup dev-web-v1 is active, dev-web-v2 not");
}

#[test]
fn asg_updatelc_also_does_a_due_scale_down() {
    let (moto, t, _tg) = setup();
    let yml = large().replace(
        "        target_groups: [dev-tg]\n",
        "        target_groups: [dev-tg]\n        rollout: {strategy: bluegreen, scale_down_after: 30}\n",
    );
    t.write("udo.yml", &yml);
    t.run(&["asg", "rollout", "dev.web", "--yes"]).ok();
    disabled_long_ago(&moto, "dev-web");
    t.run(&["asg", "updatelc", "dev.web", "--dry-run"])
        .ok()
        .stdout_has("~ scale disabled group dev-web to 0");
    assert_eq!(facts(&moto, "dev-web").in_service.len(), 4);
    t.run(&["asg", "updatelc", "dev.web", "--yes"])
        .ok()
        .stdout_has("Scaled disabled ASgroup dev-web to 0 (rollout.scale_down_after)");
    assert_eq!(facts(&moto, "dev-web").sizes.2, 0);
    assert_eq!(facts(&moto, "dev-web-v1").in_service.len(), 4);
}

/// Time passes for `rollout.scale_down_after`: group `group`'s disabled-at tag says 2020.
fn disabled_long_ago(moto: &Moto, group: &str) {
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateOrUpdateTags"),
            ("Version", "2011-01-01"),
            ("Tags.member.1.ResourceId", group),
            ("Tags.member.1.ResourceType", "auto-scaling-group"),
            ("Tags.member.1.Key", "udo:disabled-at"),
            ("Tags.member.1.Value", "2020-01-01T00:00:00Z"),
            ("Tags.member.1.PropagateAtLaunch", "false"),
        ],
    );
}

#[test]
fn the_strategy_comes_from_udo_yml_and_scale_down_after_scales_a_disabled_group_to_zero() {
    let (moto, t, _tg) = setup();
    let yml = large().replace(
        "        target_groups: [dev-tg]\n",
        "        target_groups: [dev-tg]\n        rollout: {strategy: bluegreen, keep_previous: 2, scale_down_after: 30}\n",
    );
    t.write("udo.yml", &yml);
    // a CLUSTER.* batch: each role as its udo.yml says, its lines prefixed
    t.run(&["asg", "rollout", "dev.*", "--yes"])
        .ok()
        .stdout_has("[dev.web] Released ASgroup dev-web-v1")
        .stdout_has("All 1 roles of dev.* succeeded.");
    assert_eq!(facts(&moto, "dev-web").in_service.len(), 4);
    // 31 minutes pass: the disabled-at tag says so
    disabled_long_ago(&moto, "dev-web");
    t.write("udo.yml", &yml.replace("t3.large", "t3.xlarge"));
    t.run(&["asg", "rollout", "dev.web", "--yes"])
        .ok()
        .stdout_has("~ scale disabled group dev-web to 0 (4 instance(s); disabled more than rollout.scale_down_after = 30 minute(s) ago)")
        .stdout_has("trading a fast rollback for cost")
        .stdout_has("Scaled disabled ASgroup dev-web to 0");
    let down = facts(&moto, "dev-web");
    assert_eq!(down.sizes.2, 0);
    assert!(down.in_service.is_empty(), "{down:?}");
    // a rollback to it says it waits for instances, and brings it back to the active's sizes
    t.run(&["asg", "rollback", "dev.web", "--to", "v0", "--yes"])
        .ok()
        .stdout_has("(4 to launch: this waits for new instances)")
        .stdout_has("Switched dev.web: ASgroup dev-web is active, dev-web-v2 not");
    let back = facts(&moto, "dev-web");
    assert_eq!(back.in_service.len(), 4);
    assert_eq!(back.sizes, (2, 6, 4));
}

#[test]
fn a_due_scale_down_is_in_the_plan_and_apply_does_it_without_a_release() {
    let (moto, t, _tg) = setup();
    let yml = large().replace(
        "        target_groups: [dev-tg]\n",
        "        target_groups: [dev-tg]\n        rollout: {strategy: bluegreen, scale_down_after: 30}\n",
    );
    t.write("udo.yml", &yml);
    t.run(&["asg", "rollout", "dev.web", "--yes"])
        .ok()
        .stdout_has("Released ASgroup dev-web-v1");
    // just disabled: nothing is due, the plan is clean
    t.run(&["plan", "dev", "--exit-code"])
        .ok()
        .stdout_lacks("scale disabled group");
    // 31 minutes pass: the disabled-at tag says so
    disabled_long_ago(&moto, "dev-web");
    let line = "~ scale disabled group dev-web to 0 (4 instance(s); disabled more than rollout.scale_down_after = 30 minute(s) ago)";
    t.run(&["plan", "dev", "--exit-code"])
        .status(3)
        .stdout_has(line);
    // it takes a rollback's warm group away: asked like every such step
    t.run(&["apply", "dev"]).status(1);
    assert_eq!(facts(&moto, "dev-web").in_service.len(), 4);
    t.run(&["apply", "dev", "--yes"])
        .ok()
        .stdout_has("Scaled disabled ASgroup dev-web to 0 (rollout.scale_down_after)");
    let down = facts(&moto, "dev-web");
    assert_eq!(down.sizes.2, 0);
    assert!(down.in_service.is_empty(), "{down:?}");
    // the active release is untouched, and nothing is left to do
    assert_eq!(facts(&moto, "dev-web-v1").in_service.len(), 4);
    t.run(&["plan", "dev", "--exit-code"])
        .ok()
        .stdout_lacks("scale disabled group");
    // a rollback to it still works: it waits for new instances
    t.run(&["asg", "rollback", "dev.web", "--yes"])
        .ok()
        .stdout_has("(4 to launch: this waits for new instances)")
        .stdout_has("Switched dev.web: ASgroup dev-web is active, dev-web-v1 not");
    assert_eq!(facts(&moto, "dev-web").in_service.len(), 4);
}

fn deploys_to(moto: &Moto) -> Vec<String> {
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
}

#[test]
fn a_release_joins_the_deployment_group_before_it_launches_and_schedules_and_drain_follow_it() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).env("UDO_POLL_MS", "20");
    let tg = stage(&moto, &t);
    let yml = large().replace(
        "clusters:\n",
        "deploy:\n  application: Shop\n  github: {repo: acme/shop}\n  service_role: arn:aws:iam::123456789012:role/codedeploy\nclusters:\n",
    ).replace(
        "        target_groups: [dev-tg]\n",
        "        target_groups: [dev-tg]\n        drain: {command: 'true', timeout: 120}\n        schedule:\n          - {name: night, recurrence: '0 20 * * *', desired: 2}\n",
    );
    t.write("udo.yml", &yml);
    t.run(&["deploy", "setup", "dev.web"]).ok();
    assert_eq!(deploys_to(&moto), vec!["dev-web"]);

    let out = t.run(&[
        "-v",
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ]);
    out.ok()
        .stdout_has("+ create autoscaling group dev-web-v1 from dev-web v2 with dev-web's sizes (min 2, max 6, desired 4), at 0 instances until it is in the deployment group")
        .stdout_has("Added ASgroup dev-web-v1 to CodeDeploy deployment group dev-web")
        .stdout_has("Removed ASgroup dev-web from CodeDeploy deployment group dev-web");
    let ops = out.ops();
    let at = |op: &str| {
        ops.iter()
            .position(|o| o == op)
            .unwrap_or_else(|| panic!("no {op}: {ops:?}"))
    };
    // created empty, in the deployment group, and only then given instances
    assert!(at("CreateAutoScalingGroup") < at("UpdateDeploymentGroup"));
    assert!(
        at("UpdateDeploymentGroup") < at("UpdateAutoScalingGroup"),
        "{ops:?}"
    );
    assert_eq!(deploys_to(&moto), vec!["dev-web-v1"]);
    assert_eq!(facts(&moto, "dev-web-v1").in_service.len(), 4);
    assert_eq!(
        healthy_targets(&moto, &tg),
        facts(&moto, "dev-web-v1").in_service
    );
    let actions = moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeScheduledActions"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "dev-web-v1"),
        ],
    );
    assert!(
        actions.contains("<ScheduledActionName>udo-night</ScheduledActionName>"),
        "{actions}"
    );
    let hooks = moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeLifecycleHooks"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "dev-web-v1"),
        ],
    );
    assert!(
        hooks.contains("<LifecycleHookName>udo-drain</LifecycleHookName>"),
        "{hooks}"
    );
    assert!(
        hooks.contains("<HeartbeatTimeout>120</HeartbeatTimeout>"),
        "{hooks}"
    );

    t.run(&["asg", "rollback", "dev.web", "--yes"]).ok();
    assert_eq!(deploys_to(&moto), vec!["dev-web"]);
}

#[test]
fn a_role_on_launch_configurations_without_balancers_is_released_and_rolled_back() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).env("UDO_POLL_MS", "20");
    let yml = YML.replace(
        "        target_groups: [dev-tg]\n",
        "        launch: configuration\n",
    );
    t.write("udo.yml", &yml);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    let old = facts(&moto, "dev-web");
    // nothing to go back to yet
    let none = t.run(&["-v", "asg", "rollback", "dev.web", "--yes"]);
    none.status(1)
        .stderr_has("dev.web has no disabled group to roll back to");
    assert!(none.writes().is_empty(), "{:?}", none.ops());
    t.write("udo.yml", &yml.replace("t3.small", "t3.large"));
    t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--yes",
    ])
    .ok()
    .stdout_has("+ create launch configuration dev-web-v2")
    .stdout_has("+ create autoscaling group dev-web-v1 from dev-web-v2")
    .stdout_has("~ wait until 4 instance(s) of dev-web-v1 are InService (4 to launch")
    .stdout_lacks("Detached");
    let new = facts(&moto, "dev-web-v1");
    assert_eq!(new.in_service.len(), 4);
    for id in &new.in_service {
        assert_eq!(instance_type(&moto, id), "t3.large");
    }
    let disabled = facts(&moto, "dev-web");
    assert_eq!(disabled.in_service, old.in_service);
    assert_eq!(disabled.suspended, DISABLED_PROCESSES);
    // the configuration the disabled group launches from is in use: nothing to delete
    t.run(&["plan", "dev", "--exit-code"]).ok();
    t.run(&["asg", "rollback", "dev.web", "--yes"])
        .ok()
        .stdout_has("Switched dev.web: ASgroup dev-web is active, dev-web-v1 not");
    assert!(facts(&moto, "dev-web").suspended.is_empty());
}

#[test]
fn bad_rollout_settings_and_flags_exit_2_without_aws() {
    let t = Test::new().config(&YML.replace(
        "        target_groups: [dev-tg]\n",
        "        target_groups: [dev-tg]\n        rollout: {strategy: redblack}\n",
    ));
    t.run(&["asg", "rollout", "dev.web"])
        .status(2)
        .stderr_has("udo.yml:13:29")
        .stderr_has("`redblack` is not one of surge, bluegreen");
    let t = Test::new().config(&YML.replace(
        "        target_groups: [dev-tg]\n",
        "        target_groups: [dev-tg]\n        rollout: {keep_previous: -1}\n",
    ));
    t.run(&["asg", "rollout", "dev.web"])
        .status(2)
        .stderr_has("keep_previous");
    let t = Test::new().config(YML);
    t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--native",
    ])
    .status(2)
    .stderr_has("--native is for the surge strategy");
    t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--strategy",
        "bluegreen",
        "--batch",
        "2",
    ])
    .status(2)
    .stderr_has("--batch is for the surge strategy");
    t.run(&["asg", "rollback", "dev.web", "--to", "two"])
        .status(2)
        .stderr_has("`two` is not a release");
    assert!(!t.aws_was_touched());
}

// ---------------------------------------------------------------- kill points

/// The role's groups as a converged run leaves them, without what differs from run to run
/// (instance ids, times): (group, sizes, instances InService, attached, suspended, state).
fn state(moto: &Moto, tg: &str) -> Vec<String> {
    let mut out = Vec::new();
    for g in ["dev-web", "dev-web-v1", "dev-web-v2"] {
        let f = facts(moto, g);
        if !f.exists {
            continue;
        }
        out.push(format!(
            "{g} {:?} {} in service, tgs {}, suspended {:?}, active={:?} state={:?} at={}",
            f.sizes,
            f.in_service.len(),
            f.target_groups.len(),
            f.suspended,
            f.tag("udo:active"),
            f.tag("udo:release-state"),
            f.tag("udo:disabled-at").is_some()
        ));
    }
    out.push(format!(
        "{} healthy targets",
        healthy_targets(moto, tg).len()
    ));
    out
}

fn reset(moto: &Moto) {
    use std::io::{Read, Write};
    let addr = moto.endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.contains(" 200 "), "moto reset failed: {out}");
}

/// Kills udo after each of its writes in turn while it runs `args` on a freshly staged role
/// (after `before`, run fault-free); a plain re-run must then end where an uninterrupted run
/// ends. Returns the number of kill points.
fn kill_at_every_write(before: &[&[&str]], args: &[&str]) -> usize {
    kill_points(false, before, args)
}

/// udo.yml with a CodeDeploy application for every role.
fn with_deploy(yml: &str) -> String {
    yml.replace(
        "clusters:\n",
        "deploy:\n  application: Shop\n  github: {repo: acme/shop}\n  service_role: arn:aws:iam::123456789012:role/codedeploy\nclusters:\n",
    )
}

/// [`kill_at_every_write`]; with `deploys`, the role deploys with CodeDeploy (its deployment
/// group made by `deploy setup`), and the state includes whom that group deploys to.
fn kill_points(deploys: bool, before: &[&[&str]], args: &[&str]) -> usize {
    kill_points_with(deploys, before, None, args)
}

/// [`kill_points`], with udo.yml replaced by `then` after `before` ran.
fn kill_points_with(deploys: bool, before: &[&[&str]], then: Option<&str>, args: &[&str]) -> usize {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let t = Test::with_moto(&moto).env("UDO_POLL_MS", "20").via(&proxy);
    let stage = || {
        reset(&moto);
        let tg = stage(&moto, &t);
        if deploys {
            t.write("udo.yml", &with_deploy(&large()));
            t.run(&["deploy", "setup", "dev.web"]).ok();
        }
        for b in before {
            t.run(b).ok();
        }
        if let Some(yml) = then {
            t.write("udo.yml", yml);
        }
        tg
    };
    let state = |moto: &Moto, tg: &str| {
        let mut s = state(moto, tg);
        if deploys {
            s.push(format!("deploys to {:?}", deploys_to(moto)));
        }
        s
    };
    let tg = stage();
    t.run(args).ok();
    let want = state(&moto, &tg);
    for k in 1.. {
        let tg = stage();
        let killed = proxy.run_killed_after(&t, k, args);
        if killed.code == 0 {
            assert_eq!(state(&moto, &tg), want);
            return k - 1;
        }
        assert_eq!(killed.code, -1, "not killed: {killed:?}");
        let rerun = t.run(args);
        assert_eq!(
            rerun.code, 0,
            "re-run after a kill at write {k} failed: {rerun:?}"
        );
        assert_eq!(
            state(&moto, &tg),
            want,
            "`udo {}` killed after write {k}, then re-run, did not converge\n{rerun:?}",
            args.join(" ")
        );
    }
    unreachable!()
}

const RELEASE: &[&str] = &[
    "asg",
    "rollout",
    "dev.web",
    "--strategy",
    "bluegreen",
    "--yes",
];

#[test]
fn a_release_killed_after_any_write_is_finished_by_a_rerun() {
    let n = kill_at_every_write(&[], RELEASE);
    assert!(n >= 8, "only {n} kill points");
}

#[test]
fn a_release_of_a_role_that_deploys_killed_after_any_write_is_finished_by_a_rerun() {
    let n = kill_points(true, &[], RELEASE);
    assert!(n >= 11, "only {n} kill points");
}

#[test]
fn a_rollback_of_a_role_that_deploys_killed_after_any_write_is_finished_by_a_rerun() {
    let n = kill_points(
        true,
        &[RELEASE],
        &["asg", "rollback", "dev.web", "--to", "v0", "--yes"],
    );
    assert!(n >= 10, "only {n} kill points");
}

/// A second release deletes the group keep_previous no longer keeps; killed before that, the
/// re-run still deletes it.
#[test]
fn a_release_that_deletes_an_older_group_killed_after_any_write_is_finished_by_a_rerun() {
    let xlarge = YML.replace("instance_type: t3.small", "instance_type: t3.xlarge");
    let n = kill_points_with(false, &[RELEASE], Some(&xlarge), RELEASE);
    assert!(n >= 8, "only {n} kill points");
}

/// With `--to`, a re-run after the last write finds the rollback done (a plain `rollback`
/// re-run then would roll back again, as it is asked to).
#[test]
fn a_rollback_killed_after_any_write_is_finished_by_a_rerun() {
    let n = kill_at_every_write(
        &[RELEASE],
        &["asg", "rollback", "dev.web", "--to", "v0", "--yes"],
    );
    assert!(n >= 8, "only {n} kill points");
}

/// Every write's first reply lost (moto made the change; the SDK's retry asks again), then 30%
/// of the replies to writes lost: a release and a rollback succeed on their first run and end
/// as an uninterrupted one does.
#[test]
fn a_release_and_a_rollback_survive_lost_replies() {
    use support::faultproxy::Faults;
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    let plain = Test::with_moto(&moto).env("UDO_POLL_MS", "20");
    let tg = stage(&moto, &plain);
    let t = Test::with_moto(&moto).env("UDO_POLL_MS", "20").via(&proxy);
    t.write("udo.yml", &large());
    let old = facts(&moto, "dev-web");
    proxy.set(Faults::every_write_twice());
    t.run(RELEASE).ok();
    assert!(
        proxy.stats()["lost_replies"].as_u64().unwrap() > 5,
        "{}",
        proxy.stats()
    );
    proxy.set(Faults::lost_writes(0.3, 5));
    t.run(&["asg", "rollback", "dev.web", "--yes"]).ok();
    proxy.clear();
    assert_eq!(healthy_targets(&moto, &tg), old.in_service);
    let back = facts(&moto, "dev-web");
    assert_eq!(back.tag("udo:active"), Some("true"));
    assert!(back.suspended.is_empty());
    let v1 = facts(&moto, "dev-web-v1");
    assert_eq!(v1.in_service.len(), 4);
    assert_eq!(v1.suspended, DISABLED_PROCESSES);
    assert_eq!(v1.tag("udo:release-state"), Some("disabled"));
}
