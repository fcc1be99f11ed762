//! Outdated instances and `udo asg rollout` against moto_server: what each instance was
//! launched from, the udo-driven rolling replacement (surge, health, terminate, restore), its
//! resumption after a kill, its rollback when a batch never becomes healthy, and `--native`
//! through the harness's instance refresh stand-in.

mod support;
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
        scale_policy: {min_size: 2, max_size: 4, desired: 4}
      worker:
        launch: configuration
        public: false
        scale_policy: {min_size: 1, max_size: 2, desired: 2}
";

fn setup() -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(YML).env("UDO_POLL_MS", "20");
    t.run(&["cluster", "create", "dev"]).ok();
    (moto, t)
}

fn count(out: &Outcome, op: &str) -> usize {
    out.ops().iter().filter(|o| *o == op).count()
}

/// The instances of `asg instances -o json` as (id, launch, outdated).
fn instances(t: &Test, target: &str) -> Vec<(String, String, bool)> {
    let j = t
        .run(&["asg", "instances", target, "-o", "json"])
        .ok()
        .json();
    j["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["launch"].as_str().unwrap().to_string(),
                i["outdated"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn status_outdated(t: &Test, group: &str) -> i64 {
    let j = t.run(&["status", "-o", "json"]).ok().json();
    j["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group)
        .unwrap()["outdated"]
        .as_i64()
        .unwrap()
}

#[test]
fn updatelc_marks_running_instances_outdated_end_to_end() {
    let (_m, t) = setup();
    t.run(&["asg", "create", "dev.web"]).ok();
    assert!(
        instances(&t, "dev.web")
            .iter()
            .all(|(_, l, o)| l == "dev-web v1" && !o)
    );
    assert_eq!(status_outdated(&t, "dev-web"), 0);

    t.write(
        "udo.yml",
        &YML.replace("instance_type: t3.small", "instance_type: t3.large"),
    );
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let after = instances(&t, "dev.web");
    assert_eq!(after.len(), 4);
    assert!(
        after.iter().all(|(_, l, o)| l == "dev-web v1" && *o),
        "{after:?}"
    );
    t.run(&["asg", "instances", "dev.web"])
        .ok()
        .stdout_has("dev-web v1 (outdated)")
        .stdout_has("4 instance(s) run an outdated launch version");
    let st = t.run(&["-v", "status"]);
    st.ok();
    assert!(st.calls().len() <= 3, "{:?}", st.calls());
    assert_eq!(status_outdated(&t, "dev-web"), 4);
    // a new instance runs the new version and is not outdated
    t.run(&["asg", "scale", "dev.web", "5", "--yes"]).ok();
    let five = instances(&t, "dev.web");
    let fresh: Vec<_> = five.iter().filter(|(_, _, o)| !o).collect();
    assert_eq!(fresh.len(), 1, "{five:?}");
    assert_eq!(fresh[0].1, "dev-web v2");
    assert_eq!(status_outdated(&t, "dev-web"), 4);
}

#[test]
fn moving_between_configuration_and_template_outdates_the_other_kind() {
    let (_m, t) = setup();
    t.run(&["asg", "create", "dev.worker"]).ok();
    assert!(
        instances(&t, "dev.worker")
            .iter()
            .all(|(_, l, o)| l == "dev-worker" && !o)
    );
    // udo.yml no longer says `launch: configuration`: the group moves to a template
    t.write(
        "udo.yml",
        &YML.replace("        launch: configuration\n", ""),
    );
    t.run(&["asg", "updatelc", "dev.worker"])
        .ok()
        .stdout_has("Changed ASgroup dev-worker launch from dev-worker to dev-worker v1");
    let moved = instances(&t, "dev.worker");
    assert!(
        moved.iter().all(|(_, l, o)| l == "dev-worker" && *o),
        "{moved:?}"
    );
    assert_eq!(status_outdated(&t, "dev-worker"), 2);

    // and the other way round: one instance launched from the template, then back to the
    // configuration: the template's instance is outdated, the configuration's are not
    t.run(&["asg", "scale", "dev.worker", "3", "--yes"]).ok();
    t.write(
        "udo.yml",
        &YML.replace("max_size: 2, desired: 2", "max_size: 3, desired: 2"),
    );
    t.run(&["asg", "updatelc", "dev.worker"])
        .ok()
        .stdout_has("launch from dev-worker v1 to dev-worker");
    let back = instances(&t, "dev.worker");
    let outdated: Vec<&String> = back.iter().filter(|i| i.2).map(|i| &i.1).collect();
    assert_eq!(outdated, vec!["dev-worker v1"], "{back:?}");
    assert_eq!(
        back.iter().filter(|i| !i.2 && i.1 == "dev-worker").count(),
        2
    );
}

// ---------------------------------------------------------------- helpers for rollouts

/// Creates dev.web (4 instances on v1) and moves its launch to v2 (t3.large): four outdated.
fn outdated_group(t: &Test) -> Vec<String> {
    t.run(&["asg", "create", "dev.web"]).ok();
    t.write("udo.yml", &large());
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let old: Vec<String> = instances(t, "dev.web")
        .into_iter()
        .filter(|(_, _, o)| *o)
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(old.len(), 4);
    old
}

fn large() -> String {
    YML.replace("instance_type: t3.small", "instance_type: t3.large")
}

/// (desired, min, max) of a group.
fn sizes(t: &Test, target: &str) -> (i64, i64, i64) {
    let j = t.run(&["asg", "scale", target, "-o", "json"]).ok().json();
    (
        j["desired"].as_i64().unwrap(),
        j["min"].as_i64().unwrap(),
        j["max"].as_i64().unwrap(),
    )
}

fn suspended(t: &Test, target: &str) -> Vec<String> {
    let j = t
        .run(&["asg", "policies", target, "-o", "json"])
        .ok()
        .json();
    j["suspended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

fn group_xml(moto: &Moto, group: &str) -> String {
    moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeAutoScalingGroups"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupNames.member.1", group),
        ],
    )
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
    xml.split("<instanceType>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_string()
}

/// A target group in the cluster's VPC, attached to dev.web through udo.yml; returns udo.yml.
fn with_target_group(moto: &Moto, t: &Test, yml: &str) -> String {
    let vpc = t
        .run(&["cluster", "status", "dev", "-o", "json"])
        .ok()
        .json()["vpc"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    moto.call(
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
    yml.replace(
        "        scale_policy: {min_size: 2, max_size: 4, desired: 4}\n",
        "        scale_policy: {min_size: 2, max_size: 4, desired: 4}\n        target_groups: [dev-tg]\n",
    )
}

// ---------------------------------------------------------------- rollout

#[test]
fn rollout_replaces_every_outdated_instance_without_losing_capacity() {
    let (moto, t) = setup();
    let old = outdated_group(&t);

    let dry = t.run(&[
        "-v",
        "--dry-run",
        "asg",
        "rollout",
        "dev.web",
        "--batch",
        "2",
    ]);
    dry.ok()
        .stdout_has("batch 1/2: launch 2 new instance(s) on dev-web v2")
        .stdout_has("batch 2/2")
        .stdout_has("restore dev-web to desired 4, min 2, max 4")
        .stdout_has("Dry run");
    assert!(dry.writes().is_empty(), "{:?}", dry.ops());
    // destructive: no terminal and no --yes is a refusal, with nothing changed
    let refused = t.run(&["-v", "asg", "rollout", "dev.web", "--batch", "2"]);
    refused.status(1).stderr_has("--yes");
    assert!(refused.writes().is_empty(), "{:?}", refused.ops());

    // Watch the group from the side while the rollout runs: InService never drops below 4.
    let done = std::sync::atomic::AtomicBool::new(false);
    let (out, lows) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut lows = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let xml = group_xml(&moto, "dev-web");
                lows.push(
                    xml.matches("<LifecycleState>InService</LifecycleState>")
                        .count(),
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            lows
        });
        let out = t.run(&["-v", "asg", "rollout", "dev.web", "--batch", "2", "--yes"]);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (out, watcher.join().unwrap())
    });
    out.ok()
        .stdout_has("Started rollout of ASgroup dev-web: 4 instance(s) to replace, 2 at a time")
        .stdout_has("Suspended AZRebalance, ScheduledActions, AlarmNotification of ASgroup dev-web")
        .stdout_has("batch 1/2: raised desired capacity 4 -> 6 (max 4 -> 6)")
        .stdout_has("batch 2/2: new instances ready; terminated")
        .stdout_has("Restored ASgroup dev-web to desired 4, min 2, max 4")
        .stdout_has("Resumed AZRebalance, ScheduledActions, AlarmNotification of ASgroup dev-web")
        .stdout_has("Finished rollout of ASgroup dev-web: 4 instance(s) replaced");
    assert!(!lows.is_empty());
    assert!(
        lows.iter().all(|n| *n >= 4),
        "InService dropped below 4: {lows:?}"
    );

    let now = instances(&t, "dev.web");
    assert_eq!(now.len(), 4, "{now:?}");
    for (id, launch, outdated) in &now {
        assert!(!old.contains(id), "{id} was not replaced");
        assert_eq!(launch, "dev-web v2");
        assert!(!outdated);
        assert_eq!(instance_type(&moto, id), "t3.large");
    }
    assert_eq!(sizes(&t, "dev.web"), (4, 2, 4));
    assert!(suspended(&t, "dev.web").is_empty());
    assert!(!group_xml(&moto, "dev-web").contains("udo:rollout"));
    assert_eq!(status_outdated(&t, "dev-web"), 0);

    // A poll makes at most two read calls: the group, and (with balancers) one health call.
    let polls = count(&out, "DescribeAutoScalingGroups");
    let reads = out.ops().len() - out.writes().len();
    assert!(
        reads <= 2 * polls,
        "{reads} reads over {polls} polls: {:?}",
        out.ops()
    );
    assert_eq!(count(&out, "DescribeInstances"), 1, "{:?}", out.ops());
    assert_eq!(count(&out, "TerminateInstanceInAutoScalingGroup"), 4);

    // Nothing left to do: no write.
    let again = t.run(&["-v", "asg", "rollout", "dev.web", "--yes"]);
    again.ok().stdout_has("nothing to roll out");
    assert!(again.writes().is_empty(), "{:?}", again.ops());
}

#[test]
fn a_rollout_left_by_an_older_udo_is_finished_with_the_processes_its_tag_names() {
    let (moto, t) = setup();
    let old = outdated_group(&t);
    // Older udo versions kept the suspended processes in the state tag itself.
    t.run(&["asg", "suspend", "dev.web", "AZRebalance"]).ok();
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateOrUpdateTags"),
            ("Version", "2011-01-01"),
            ("Tags.member.1.ResourceId", "dev-web"),
            ("Tags.member.1.ResourceType", "auto-scaling-group"),
            ("Tags.member.1.Key", "udo:rollout"),
            (
                "Tags.member.1.Value",
                "min=2 max=4 desired=4 batch=2 suspended=AZRebalance",
            ),
            ("Tags.member.1.PropagateAtLaunch", "false"),
        ],
    );
    t.run(&["asg", "rollout", "dev.web", "--yes"])
        .ok()
        .stdout_has("finish the interrupted rollout of dev-web: 4 old instance(s) left")
        .stdout_has("Resumed AZRebalance of ASgroup dev-web");
    assert!(suspended(&t, "dev.web").is_empty());
    assert!(!group_xml(&moto, "dev-web").contains("udo:rollout"));
    let now = instances(&t, "dev.web");
    assert!(
        now.iter().all(|(id, _, o)| !old.contains(id) && !o),
        "{now:?}"
    );
}

#[test]
fn a_rollout_killed_after_its_first_batch_is_finished_by_a_rerun() {
    let (moto, t) = setup();
    let yml = with_target_group(&moto, &t, &large());
    t.write("udo.yml", &yml.replace("t3.large", "t3.small"));
    t.run(&["asg", "create", "dev.web"]).ok();
    t.write("udo.yml", &yml);
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let old: Vec<String> = instances(&t, "dev.web").into_iter().map(|i| i.0).collect();
    // the first batch becomes healthy; the second does not (yet), so udo waits in batch 2
    moto.control(
        "unhealthy",
        serde_json::json!({"group": "dev-web", "skip": 2}),
    );

    let mut child = t.spawn(&["asg", "rollout", "dev.web", "--batch", "2", "--yes"]);
    let stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("batch 2/2: raised desired capacity") {
            break;
        }
    }
    assert!(
        seen.iter()
            .any(|l| l.contains("batch 1/2: new instances ready; terminated")),
        "{seen:?}"
    );
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();

    // What the kill left: surged sizes, processes suspended, the state tag on the group.
    assert_eq!(sizes(&t, "dev.web").0, 6);
    // alarm scaling too: target tracking must not move desired while the rollout surges
    let mut held = suspended(&t, "dev.web");
    held.sort();
    assert_eq!(
        held,
        vec!["AZRebalance", "AlarmNotification", "ScheduledActions"]
    );
    assert!(group_xml(&moto, "dev-web").contains("udo:rollout"));
    let still_old = instances(&t, "dev.web")
        .iter()
        .filter(|(id, _, _)| old.contains(id))
        .count();
    assert_eq!(still_old, 2);

    // The fix lands; a re-run finishes the job.
    moto.control(
        "unhealthy",
        serde_json::json!({"group": "dev-web", "healthy": true}),
    );
    let out = t.run(&["-v", "asg", "rollout", "dev.web", "--yes"]);
    out.ok()
        .stdout_has("finish the interrupted rollout of dev-web: 2 old instance(s) left")
        .stdout_has("Resumed rollout of ASgroup dev-web")
        // it counts on from the batch it was in, not from 1 again
        .stdout_has("Rollout of dev-web: batch 2/2: new instances ready; terminated")
        .stdout_lacks("batch 1/")
        .stdout_has("Restored ASgroup dev-web to desired 4, min 2, max 4");
    let now = instances(&t, "dev.web");
    assert_eq!(now.len(), 4);
    assert!(
        now.iter()
            .all(|(id, l, o)| !old.contains(id) && l == "dev-web v2" && !o),
        "{now:?}"
    );
    assert_eq!(sizes(&t, "dev.web"), (4, 2, 4));
    assert!(suspended(&t, "dev.web").is_empty());
    assert!(!group_xml(&moto, "dev-web").contains("udo:rollout"));
    let polls = count(&out, "DescribeAutoScalingGroups");
    let reads = out.ops().len() - out.writes().len();
    assert!(
        reads <= 2 * polls,
        "{reads} reads over {polls} polls: {:?}",
        out.ops()
    );
}

#[test]
fn a_batch_that_never_becomes_healthy_is_rolled_back() {
    let (moto, t) = setup();
    let yml = with_target_group(&moto, &t, &large());
    t.write("udo.yml", &yml.replace("t3.large", "t3.small"));
    t.run(&["asg", "create", "dev.web"]).ok();
    t.write("udo.yml", &yml);
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let old: Vec<String> = instances(&t, "dev.web").into_iter().map(|i| i.0).collect();
    moto.control("unhealthy", serde_json::json!({"group": "dev-web"}));

    let out = t.run(&[
        "-v",
        "asg",
        "rollout",
        "dev.web",
        "--batch",
        "2",
        "--timeout",
        "2",
        "--yes",
    ]);
    out.status(1)
        .stderr_has("rollout of dev-web stopped: batch 1 did not become ready within 2s")
        .stderr_has("unhealthy: Target.FailedHealthChecks in arn:")
        .stderr_has("4 old instance(s) keep running")
        .stdout_has("(launched by the failed batch)")
        .stdout_has("Restored ASgroup dev-web to desired 4, min 2, max 4");
    assert_eq!(count(&out, "TerminateInstanceInAutoScalingGroup"), 2);
    let now: Vec<String> = instances(&t, "dev.web").into_iter().map(|i| i.0).collect();
    assert_eq!(now.len(), 4);
    assert!(now.iter().all(|id| old.contains(id)), "{now:?} vs {old:?}");
    assert_eq!(sizes(&t, "dev.web"), (4, 2, 4));
    assert!(suspended(&t, "dev.web").is_empty());
    assert!(!group_xml(&moto, "dev-web").contains("udo:rollout"));
    // one health call at most per poll
    let polls = count(&out, "DescribeAutoScalingGroups");
    assert!(
        count(&out, "DescribeTargetHealth") <= polls,
        "{:?}",
        out.ops()
    );
}

#[test]
fn bad_batch_sizes_and_native_on_configurations_exit_2_without_aws() {
    let t = Test::new().config(YML);
    for bad in ["0", "150%", "two"] {
        t.run(&["asg", "rollout", "dev.web", "--batch", bad])
            .status(2)
            .stderr_has("is not a batch size");
    }
    t.run(&["asg", "rollout", "dev.worker", "--native"])
        .status(2)
        .stderr_has("needs a launch template");
    t.run(&["asg", "rollout", "dev.nope"]).status(2);
    assert!(!t.aws_was_touched());
}

// ---------------------------------------------------------------- --native

/// Reads the child's stdout until a line contains `needle`; returns the lines read.
fn read_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    needle: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains(needle) {
            return seen;
        }
    }
    panic!("udo ended without printing {needle:?}: {seen:?}");
}

#[test]
fn native_hands_the_rollout_to_instance_refresh_and_follows_it() {
    let (moto, t) = setup();
    let old = outdated_group(&t);
    let dry = t.run(&[
        "-v",
        "--dry-run",
        "asg",
        "rollout",
        "dev.web",
        "--native",
        "--batch",
        "2",
    ]);
    dry.ok()
        .stdout_has("start an AWS instance refresh of dev-web: minimum healthy 50%, skipping instances that already match");
    assert!(dry.writes().is_empty(), "{:?}", dry.ops());

    let mut child = t.spawn(&[
        "-v",
        "asg",
        "rollout",
        "dev.web",
        "--native",
        "--batch",
        "2",
        "--yes",
        "--timeout",
        "60",
    ]);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    read_until(&mut lines, "Started instance refresh");
    read_until(&mut lines, "Instance refresh of dev-web: Pending 0%");
    // what udo asked AWS for
    let asked = moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeInstanceRefreshes"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "dev-web"),
        ],
    );
    assert!(
        asked.contains("<MinHealthyPercentage>50</MinHealthyPercentage>"),
        "{asked}"
    );
    assert!(
        asked.contains("<SkipMatching>true</SkipMatching>"),
        "{asked}"
    );
    // a second run while it is under way follows the same refresh instead of starting another
    t.run(&[
        "asg",
        "rollout",
        "dev.web",
        "--native",
        "--yes",
        "--timeout",
        "1",
    ])
    .status(1)
    .stdout_has("already running")
    .stderr_has("made no progress for 1s");

    moto.control(
        "instance_refresh",
        serde_json::json!({"group": "dev-web", "status": "InProgress", "percentage": 50}),
    );
    read_until(&mut lines, "Instance refresh of dev-web: InProgress 50%");
    moto.control(
        "instance_refresh",
        serde_json::json!({"group": "dev-web", "status": "Successful"}),
    );
    read_until(&mut lines, "Finished instance refresh");
    assert!(child.wait().unwrap().success());

    let now = instances(&t, "dev.web");
    assert_eq!(now.len(), 4);
    assert!(
        now.iter()
            .all(|(id, l, o)| !old.contains(id) && l == "dev-web v2" && !o),
        "{now:?}"
    );
}

#[test]
fn a_failed_instance_refresh_exits_1_with_its_reason() {
    let (moto, t) = setup();
    outdated_group(&t);
    let mut child = t.spawn(&[
        "asg",
        "rollout",
        "dev.web",
        "--native",
        "--yes",
        "--timeout",
        "60",
    ]);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    read_until(&mut lines, "Instance refresh of dev-web: Pending 0%");
    moto.control(
        "instance_refresh",
        serde_json::json!({"group": "dev-web", "status": "Failed", "reason": "instances failed health checks"}),
    );
    read_until(&mut lines, "ended Failed");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    // an ended refresh is not followed again: a re-run starts a new one (default batch: 75%)
    let mut again = t.spawn(&[
        "asg",
        "rollout",
        "dev.web",
        "--native",
        "--yes",
        "--timeout",
        "60",
    ]);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(again.stdout.take().unwrap()));
    let started = read_until(&mut lines, "Instance refresh of dev-web: Pending 0%");
    assert!(
        started
            .iter()
            .any(|l| l.contains("Started instance refresh") && l.contains("minimum healthy 75%")),
        "{started:?}"
    );
    moto.control(
        "instance_refresh",
        serde_json::json!({"group": "dev-web", "status": "Cancelled"}),
    );
    read_until(&mut lines, "ended Cancelled");
    assert_eq!(again.wait().unwrap().code(), Some(1));
}

#[test]
fn ctrl_c_resumes_the_processes_and_a_rerun_finishes() {
    let (moto, t) = setup();
    let yml = with_target_group(&moto, &t, &large());
    t.write("udo.yml", &yml.replace("t3.large", "t3.small"));
    t.run(&["asg", "create", "dev.web"]).ok();
    t.write("udo.yml", &yml);
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    moto.control("unhealthy", serde_json::json!({"group": "dev-web"}));
    let mut child = t.spawn(&["asg", "rollout", "dev.web", "--batch", "2", "--yes"]);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    read_until(&mut lines, "batch 1/2: raised desired capacity 4 -> 6");
    // Ctrl-C, as a terminal sends it (the shell's own `kill`, so no extra package is needed)
    let sent = std::process::Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    read_until(
        &mut lines,
        "Resumed AZRebalance, ScheduledActions, AlarmNotification of ASgroup dev-web",
    );
    assert_eq!(child.wait().unwrap().code(), Some(1));
    // processes resumed at once; the state stays on the group for the re-run
    assert!(suspended(&t, "dev.web").is_empty());
    assert!(group_xml(&moto, "dev-web").contains("udo:rollout"));
    assert_eq!(sizes(&t, "dev.web").0, 6);

    moto.control(
        "unhealthy",
        serde_json::json!({"group": "dev-web", "healthy": true}),
    );
    t.run(&["asg", "rollout", "dev.web", "--yes"])
        .ok()
        .stdout_has("Suspended AZRebalance, ScheduledActions, AlarmNotification of ASgroup dev-web")
        .stdout_has("Finished rollout of ASgroup dev-web: 4 instance(s) replaced");
    assert_eq!(sizes(&t, "dev.web"), (4, 2, 4));
    assert!(suspended(&t, "dev.web").is_empty());
    assert!(
        instances(&t, "dev.web")
            .iter()
            .all(|(_, l, o)| l == "dev-web v2" && !o)
    );
}

#[test]
fn all_replaces_up_to_date_instances_and_updatelc_rollout_rolls_out_a_change() {
    let (_m, t) = setup();
    t.run(&["asg", "create", "dev.web"]).ok();
    let before: Vec<String> = instances(&t, "dev.web").into_iter().map(|i| i.0).collect();
    t.run(&["asg", "rollout", "dev.web", "--yes"])
        .ok()
        .stdout_has("nothing to roll out");
    t.run(&[
        "asg", "rollout", "dev.web", "--all", "--batch", "50%", "--yes",
    ])
    .ok()
    .stdout_has("4 instance(s) to replace, 2 at a time")
    .stdout_has("Finished rollout of ASgroup dev-web: 4 instance(s) replaced");
    let after = instances(&t, "dev.web");
    assert_eq!(after.len(), 4);
    assert!(
        after
            .iter()
            .all(|(id, l, o)| !before.contains(id) && l == "dev-web v1" && !o)
    );

    t.write("udo.yml", &large());
    let out = t.run(&["asg", "updatelc", "dev.web", "--rollout", "--yes"]);
    out.ok()
        .stdout_has("Changed ASgroup dev-web launch from dev-web v1 to dev-web v2")
        .stdout_has("Finished rollout of ASgroup dev-web: 4 instance(s) replaced");
    assert!(
        instances(&t, "dev.web")
            .iter()
            .all(|(_, l, o)| l == "dev-web v2" && !o)
    );
    assert_eq!(sizes(&t, "dev.web"), (4, 2, 4));
}

#[test]
fn classic_load_balancer_health_gates_each_batch() {
    let (moto, t) = setup();
    moto.call(
        "elasticloadbalancing",
        &[
            ("Action", "CreateLoadBalancer"),
            ("Version", "2012-06-01"),
            ("LoadBalancerName", "dev-lb"),
            ("Listeners.member.1.Protocol", "HTTP"),
            ("Listeners.member.1.LoadBalancerPort", "80"),
            ("Listeners.member.1.InstancePort", "80"),
            ("AvailabilityZones.member.1", "us-east-1a"),
        ],
    );
    let both = with_target_group(&moto, &t, &large()).replace(
        "        target_groups: [dev-tg]\n",
        "        target_groups: [dev-tg]\n        elbs: [dev-lb]\n",
    );
    let classic_only = both.replace("        target_groups: [dev-tg]\n", "");
    t.write("udo.yml", &classic_only.replace("t3.large", "t3.small"));
    t.run(&["asg", "create", "dev.web"]).ok();
    t.write("udo.yml", &classic_only);
    t.run(&["asg", "updatelc", "dev.web"]).ok();

    // new instances out of service in the classic load balancer: rolled back
    moto.control("unhealthy", serde_json::json!({"group": "dev-web"}));
    let out = t.run(&[
        "-v",
        "asg",
        "rollout",
        "dev.web",
        "--batch",
        "1",
        "--timeout",
        "1",
        "--yes",
    ]);
    out.status(1)
        .stderr_has("did not become ready within 1s")
        .stderr_has("OutOfService in dev-lb");
    assert!(
        count(&out, "DescribeInstanceHealth") >= 1,
        "{:?}",
        out.ops()
    );
    let polls = count(&out, "DescribeAutoScalingGroups");
    let reads = out.ops().len() - out.writes().len();
    assert!(
        reads <= 2 * polls,
        "{reads} reads over {polls} polls: {:?}",
        out.ops()
    );
    assert_eq!(sizes(&t, "dev.web"), (4, 2, 4));
    assert_eq!(instances(&t, "dev.web").iter().filter(|i| i.2).count(), 4);

    // healthy in both a target group and the classic load balancer: each is asked in turn
    moto.control(
        "unhealthy",
        serde_json::json!({"group": "dev-web", "healthy": true}),
    );
    t.write("udo.yml", &both);
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let out = t.run(&["-v", "asg", "rollout", "dev.web", "--batch", "2", "--yes"]);
    out.ok()
        .stdout_has("wait until InService and healthy")
        .stdout_has("Finished rollout of ASgroup dev-web: 4 instance(s) replaced");
    assert!(
        count(&out, "DescribeInstanceHealth") >= 2,
        "{:?}",
        out.ops()
    );
    assert!(count(&out, "DescribeTargetHealth") >= 2, "{:?}", out.ops());
    let polls = count(&out, "DescribeAutoScalingGroups");
    let reads = out.ops().len() - out.writes().len();
    assert!(
        reads <= 2 * polls,
        "{reads} reads over {polls} polls: {:?}",
        out.ops()
    );
    assert!(
        instances(&t, "dev.web")
            .iter()
            .all(|(_, l, o)| l == "dev-web v2" && !o)
    );
}

#[test]
fn a_cluster_rollout_asks_once_and_only_when_something_is_outdated() {
    let (_m, t) = setup();
    t.run(&["asg", "create", "dev.*"]).ok();
    // nothing outdated: nothing to ask, with or without a terminal, exit 0
    t.run(&["-v", "asg", "rollout", "dev.*"])
        .ok()
        .stdout_has("[dev.web] Group dev-web: every instance runs dev-web v1; nothing to roll out.")
        .stdout_has("[dev.worker] Group dev-worker: every instance runs")
        .stdout_has("All 2 roles of dev.* succeeded");
    t.run_tty(&["asg", "rollout", "dev.*"], "")
        .ok()
        .stdout_lacks("[y/N]");

    // only dev.web is outdated: its steps, then the one question, then its rollout
    t.write(
        "udo.yml",
        &YML.replace(
            "      web:\n",
            "      web:\n        instance_type: t3.large\n",
        ),
    );
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let out = t.run_tty(&["asg", "rollout", "dev.*", "--batch", "2"], "y\n");
    out.ok()
        .stdout_has("[dev.web] dev.web:\n[dev.web]   ")
        .stdout_has("[dev.worker] Group dev-worker: every instance runs")
        .stdout_has("[dev.web] Finished rollout of ASgroup dev-web: 4 instance(s) replaced");
    assert_eq!(out.stdout.matches("[y/N]").count(), 1, "{}", out.stdout);
    let asked = out.stdout.find("Apply these changes? [y/N]").unwrap();
    assert!(out.stdout.find("[dev.web] dev.web:").unwrap() < asked);
    assert!(out.stdout.find("[dev.web] Started rollout").unwrap() > asked);
    assert!(
        instances(&t, "dev.web")
            .iter()
            .all(|(_, l, o)| l == "dev-web v2" && !o)
    );
}
