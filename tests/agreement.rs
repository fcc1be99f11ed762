//! One engine for every change: over the scenarios the suite builds (a fresh cluster, a
//! matching one, each kind of udo.yml edit, a group the old tool made, leftovers of an
//! interrupted run), the steps `udo plan` shows for a role are exactly the steps `apply` (or
//! `asg updatelc`, `asg create`, `lc create`, for their parts) then runs, as `-v` traces them
//! (`step: + create launch template dev-web`); every command's `--dry-run` shows a subset of
//! plan's lines, line for line; and a `plan` afterwards is clean. The plans users read for a few
//! representative changes are also kept as reviewed text in tests/golden/plan/ (refresh with
//! `UDO_BLESS=1`, then review the diff).

mod support;
use std::collections::BTreeMap;
use support::{Moto, Outcome, Test};

const BASE: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
packages: [base]
tags: {team: core}
clusters:
  dev:
    subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]
    roles:
      web:
        scale_policy: {min_size: 1, max_size: 3, desired: 1}
        schedule:
          - {name: night, recurrence: '0 20 * * *', desired: 0, min_size: 0}
      worker:
        launch: configuration
        scale_policy: {min_size: 0, max_size: 2, desired: 0}
";

/// What `plan -o json` shows: the network steps of every cluster, and each role's steps, as
/// `SIGN LINE`.
struct Planned {
    network: Vec<String>,
    roles: BTreeMap<String, Vec<(String, String)>>,
}

impl Planned {
    /// The role's step lines, of the given parts (all when empty).
    fn of(&self, role: &str, parts: &[&str]) -> Vec<String> {
        self.roles
            .get(role)
            .map(|steps| {
                steps
                    .iter()
                    .filter(|(part, _)| parts.is_empty() || parts.contains(&part.as_str()))
                    .map(|(_, l)| l.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.network.is_empty() && self.roles.values().all(Vec::is_empty)
    }
}

fn signed(step: &serde_json::Value) -> String {
    format!(
        "{} {}",
        step["sign"].as_str().unwrap(),
        step["line"].as_str().unwrap()
    )
}

fn planned(t: &Test) -> Planned {
    let j = t.run(&["plan", "-o", "json"]).ok().json();
    let mut p = Planned {
        network: Vec::new(),
        roles: BTreeMap::new(),
    };
    for cl in j["clusters"].as_array().unwrap() {
        for s in cl["network_steps"].as_array().unwrap() {
            p.network.push(signed(s));
        }
        for r in cl["roles"].as_array().unwrap() {
            let steps = r["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["part"].as_str().unwrap().to_string(), signed(s)))
                .collect();
            p.roles
                .insert(r["role"].as_str().unwrap().to_string(), steps);
        }
    }
    p
}

/// The steps a `-v` run traced, by role (`[dev.web] step: …`); `""` for unprefixed ones (the
/// network, or the one role of a single-role command).
fn executed(out: &Outcome) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.stderr.lines() {
        let (who, rest) = match line.strip_prefix('[') {
            Some(r) => match r.split_once("] ") {
                Some((who, rest)) => (who.to_string(), rest),
                None => continue,
            },
            None => (String::new(), line),
        };
        if let Some(step) = rest.strip_prefix("step: ") {
            by.entry(who).or_default().push(step.to_string());
        }
    }
    by
}

/// The step lines a single-role command's plan shows (`  + …` under its title).
fn shown(out: &Outcome) -> Vec<String> {
    out.stdout
        .lines()
        .filter(|l| l.len() > 4 && l.starts_with("  ") && matches!(&l[2..4], "+ " | "~ " | "- "))
        .map(|l| l[2..].to_string())
        .collect()
}

/// `apply` runs exactly the steps `plan` shows, networks and every role, and leaves a clean plan.
fn apply_agrees(t: &Test) -> Planned {
    let p = planned(t);
    let out = t.run(&["-v", "apply", "--yes"]);
    out.ok();
    let ran = executed(&out);
    assert_eq!(
        ran.get("").cloned().unwrap_or_default(),
        p.network,
        "network steps run vs planned\n{}",
        out.stderr
    );
    for role in p.roles.keys() {
        assert_eq!(
            ran.get(role).cloned().unwrap_or_default(),
            p.of(role, &[]),
            "{role}: steps run vs planned\n{}",
            out.stderr
        );
    }
    assert!(
        ran.keys().all(|k| k.is_empty() || p.roles.contains_key(k)),
        "{ran:?}"
    );
    if p.is_empty() {
        assert!(out.writes().is_empty(), "{:?}", out.ops());
    }
    t.run(&["plan", "--exit-code"])
        .ok()
        .stdout_has("No differences");
    p
}

/// A single-role command: its dry run shows a subset of plan's lines for the role (those of
/// `parts`), in plan's order; run, it makes exactly those steps.
fn command_agrees(t: &Test, args: &[&str], role: &str, parts: &[&str]) -> Vec<String> {
    let p = planned(t);
    let want = p.of(role, parts);
    let mut dry_args = vec!["--dry-run"];
    dry_args.extend_from_slice(args);
    let dry = t.run(&dry_args);
    dry.ok();
    assert_eq!(shown(&dry), want, "`udo {}` --dry-run", args.join(" "));
    let mut run_args = vec!["-v", "--yes"];
    run_args.extend_from_slice(args);
    let out = t.run(&run_args);
    out.ok();
    assert_eq!(
        executed(&out).get("").cloned().unwrap_or_default(),
        want,
        "`udo {}` ran\n{}",
        args.join(" "),
        out.stderr
    );
    want
}

fn fresh() -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(BASE);
    (moto, t)
}

/// The plan as a user reads it, ids replaced so it is the same on every run.
fn plan_text(t: &Test) -> String {
    let out = t.run(&["plan"]);
    let mut text = out.stdout.clone();
    for prefix in ["vpc-", "subnet-", "igw-", "rtb-", "lt-"] {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(prefix) {
            out.push_str(&rest[..i + prefix.len()]);
            rest = &rest[i + prefix.len()..];
            let n = rest
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(rest.len());
            if n >= 8 {
                out.push('…');
                rest = &rest[n..];
            }
        }
        out.push_str(rest);
        text = out;
    }
    // what the cloud-init script's own edits move: its size and the diff's line numbers
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("@@ ") {
                format!("{}@@ … @@", &l[..l.len() - l.trim_start().len()])
            } else if l.trim_start().starts_with("user data: ") {
                format!(
                    "{}user data: … bytes -> … bytes",
                    &l[..l.len() - l.trim_start().len()]
                )
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

fn matches_golden(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/plan")
        .join(format!("{name}.txt"));
    if std::env::var_os("UDO_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UDO_BLESS=1 writes it)", path.display()));
    assert_eq!(
        text,
        golden,
        "the plan for {name} changed; review it and update {} (UDO_BLESS=1)",
        path.display()
    );
}

#[test]
fn fresh_then_matching_then_every_kind_of_edit_agrees_with_apply() {
    let (_m, t) = fresh();
    // fresh: the network, launch settings, groups and schedules
    matches_golden("fresh-network", &plan_text(&t));
    // cluster create's dry run: the network part of the plan, line for line
    let dry = t.run(&["--dry-run", "cluster", "create", "dev"]);
    assert_eq!(shown(dry.ok()), planned(&t).network);
    let p = apply_agrees(&t);
    assert!(
        p.network
            .iter()
            .any(|l| l == "+ create VPC 10.20.0.0/16 for cluster dev")
    );
    assert!(
        p.of("dev.worker", &[])
            .contains(&"+ create launch configuration dev-worker".to_string())
    );
    // matching: nothing planned, nothing run, no write
    assert!(apply_agrees(&t).is_empty());

    // every kind of edit at once: launch (instance type, user data), sizes, tags, a subnet,
    // schedules changed and added, a policy, a new role
    let edited = BASE
        .replace("tags: {team: core}", "tags: {team: core, cost: web}")
        .replace(
            "subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]",
            "subnets_cidr: [10.20.1.0/24, 10.20.2.0/24, 10.20.3.0/24]",
        )
        .replace(
            "        scale_policy: {min_size: 1, max_size: 3, desired: 1}\n        schedule:\n          - {name: night, recurrence: '0 20 * * *', desired: 0, min_size: 0}\n",
            "        instance_type: t3.large
        packages: [web]
        scale_policy: {min_size: 1, max_size: 5, desired: 1}
        health_check: {grace_period: 60}
        schedule:
          - {name: night, recurrence: '0 21 * * *', desired: 0, min_size: 0}
          - {name: morning, recurrence: '0 7 * * MON-FRI', desired: 1}
        scaling_policies:
          - {name: cpu, metric: cpu, target: 60}
",
        )
        + "      api:\n        scale_policy: {min_size: 0, max_size: 1, desired: 0}\n";
    t.write("udo.yml", &edited);
    matches_golden("every-edit", &plan_text(&t));
    let p = apply_agrees(&t);
    let web = p.of("dev.web", &[]);
    for line in [
        "+ create version 2 of launch template dev-web",
        "~ switch dev-web to it (from dev-web v1)",
        "~ change max size 3 -> 5",
        "~ tag cost=web",
        "+ add scheduled action udo-morning at `0 7 * * MON-FRI` UTC (desired 1)",
    ] {
        assert!(web.contains(&line.to_string()), "{line} not in {web:?}");
    }
    assert!(
        web.iter()
            .any(|l| l.starts_with("~ change subnets ") && l.ends_with(",10.20.3.0/24")),
        "the new subnet's CIDR stands for it in the plan: {web:?}"
    );
    assert!(
        p.network
            .iter()
            .any(|l| l.starts_with("+ create subnet 10.20.3.0/24"))
    );
}

#[test]
fn lowering_max_size_cuts_capacity_and_asks_in_every_command() {
    let (_m, t) = fresh();
    t.run(&["apply", "--yes"]).ok();
    t.run(&["asg", "scale", "dev.web", "2"]).ok();
    t.write(
        "udo.yml",
        &BASE.replace(
            "scale_policy: {min_size: 1, max_size: 3, desired: 1}",
            "scale_policy: {min_size: 1, max_size: 1, desired: 1}",
        ),
    );
    matches_golden("group-sizes", &plan_text(&t));
    let p = planned(&t);
    assert_eq!(
        p.of("dev.web", &[]),
        vec![
            "~ change max size 3 -> 1",
            "~ change desired capacity 2 -> 1 (to fit the new bounds)",
        ]
    );
    // no terminal, no --yes: refused, nothing written, by apply and by updatelc alike
    for args in [
        &["-v", "apply"][..],
        &["-v", "asg", "updatelc", "dev.web"][..],
    ] {
        let refused = t.run(args);
        refused.status(1).stderr_has("--yes");
        assert!(refused.writes().is_empty(), "{args:?}: {:?}", refused.ops());
    }
    // on a terminal updatelc asks
    t.run_tty(&["asg", "updatelc", "dev.web"], "n\n")
        .stdout_has("Apply these changes? [y/N]");
    command_agrees(&t, &["asg", "updatelc", "dev.web"], "dev.web", &[]);
    t.run(&["plan", "--exit-code"]).ok();
}

#[test]
fn schedules_changed_and_deleted_agree_with_updatelc() {
    let (_m, t) = fresh();
    t.run(&["apply", "--yes"]).ok();
    t.write(
        "udo.yml",
        &BASE.replace(
            "          - {name: night, recurrence: '0 20 * * *', desired: 0, min_size: 0}\n",
            "          - {name: night, recurrence: '0 20 * * *', desired: 1, min_size: 0}\n          - {name: weekend, recurrence: '0 0 * * SAT', time_zone: Europe/Berlin, desired: 0, min_size: 0}\n",
        ),
    );
    matches_golden("schedules", &plan_text(&t));
    let ran = command_agrees(&t, &["asg", "updatelc", "dev.web"], "dev.web", &[]);
    assert_eq!(ran.len(), 2, "{ran:?}");
    t.run(&["plan", "--exit-code"]).ok();
    // dropping one is destructive: refused without --yes, then agreed
    t.write("udo.yml", BASE);
    t.run(&["asg", "updatelc", "dev.web"])
        .status(1)
        .stderr_has("--yes");
    let ran = command_agrees(&t, &["asg", "updatelc", "dev.web"], "dev.web", &[]);
    assert!(ran.contains(&"- delete scheduled action udo-weekend".to_string()));
    t.run(&["plan", "--exit-code"]).ok();
}

#[test]
fn lc_create_then_asg_create_run_their_parts_of_the_plan() {
    let (_m, t) = fresh();
    t.run(&["cluster", "create", "dev"]).ok();
    // lc create: the launch part, nothing else
    let launch = command_agrees(&t, &["lc", "create", "dev.web"], "dev.web", &["launch"]);
    assert_eq!(launch, vec!["+ create launch template dev-web"]);
    // asg create: the rest of the role (group and schedule)
    let rest = command_agrees(&t, &["asg", "create", "dev.web"], "dev.web", &[]);
    assert_eq!(
        rest[0],
        "+ create autoscaling group dev-web (min 1, max 3, desired 1)"
    );
    // a new template version: lc create makes it, updatelc switches the group
    t.write(
        "udo.yml",
        &BASE.replace("packages: [base]", "packages: [base, extra]"),
    );
    command_agrees(&t, &["lc", "create", "dev.web"], "dev.web", &["launch"]);
    let switch = command_agrees(&t, &["asg", "updatelc", "dev.web"], "dev.web", &[]);
    assert_eq!(
        switch,
        vec!["~ switch dev-web from dev-web v1 to dev-web v2"]
    );
    t.run(&["plan", "dev.web", "--exit-code"]).ok();
}

/// What the old tool left: launch configuration `dev-webapp` and group `dev-webapp` on it, no
/// udo tags and no subnet list.
fn old_tool_group(moto: &Moto) {
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateLaunchConfiguration"),
            ("Version", "2011-01-01"),
            ("LaunchConfigurationName", "dev-webapp"),
            ("ImageId", "ami-12c6146b"),
            ("InstanceType", "t3.small"),
        ],
    );
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateAutoScalingGroup"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "dev-webapp"),
            ("LaunchConfigurationName", "dev-webapp"),
            ("MinSize", "0"),
            ("MaxSize", "1"),
            ("DesiredCapacity", "0"),
            ("AvailabilityZones.member.1", "us-east-1a"),
        ],
    );
}

const OLD: &str = "\
app_name: shop
region: us-east-1
ami: ami-12c6146b
instance_type: t3.small
availability_zones: [us-east-1a]
clusters:
  dev:
    subnets_cidr: [10.30.1.0/24]
    roles:
      webapp:
        scale_policy: {min_size: 0, max_size: 1, desired: 0}
";

#[test]
fn a_group_the_old_tool_made_is_taken_over_as_plan_says() {
    let moto = Moto::start();
    old_tool_group(&moto);
    let t = Test::with_moto(&moto).config(OLD);
    matches_golden("takeover", &plan_text(&t));
    let p = planned(&t);
    let lines = p.of("dev.webapp", &[]);
    assert!(
        lines.contains(&"- delete unused launch configuration dev-webapp".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"~ change subnets (none) -> 10.30.1.0/24".to_string()),
        "a group without subnets says (none): {lines:?}"
    );
    apply_agrees(&t);
    t.run(&["lc", "list"]).ok().stdout_lacks("configuration");
}

#[test]
fn leftovers_of_an_interrupted_run_are_in_the_plan_and_go() {
    let (moto, t) = fresh();
    t.run(&["apply", "--yes"]).ok();
    // the worker moves to a second configuration; an interrupted run left the first behind
    let edited = BASE.replace(
        "        launch: configuration\n",
        "        launch: configuration\n        instance_type: t3.micro\n",
    );
    t.write("udo.yml", &edited);
    command_agrees(&t, &["asg", "updatelc", "dev.worker"], "dev.worker", &[]);
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateLaunchConfiguration"),
            ("Version", "2011-01-01"),
            ("LaunchConfigurationName", "dev-worker"),
            ("ImageId", "ami-12c6146b"),
            ("InstanceType", "t3.small"),
        ],
    );
    // and a retried CreateVpc left an empty copy of the cluster's VPC
    let vpc = moto.call(
        "ec2",
        &[
            ("Action", "CreateVpc"),
            ("Version", "2016-11-15"),
            ("CidrBlock", "10.20.0.0/16"),
            ("TagSpecification.1.ResourceType", "vpc"),
            ("TagSpecification.1.Tag.1.Key", "udo:app"),
            ("TagSpecification.1.Tag.1.Value", "shop"),
            ("TagSpecification.1.Tag.2.Key", "udo:cluster"),
            ("TagSpecification.1.Tag.2.Value", "dev"),
        ],
    );
    assert!(vpc.contains("vpc-"), "{vpc}");
    // plan no longer says "matches" while updatelc would still write
    let out = t.run(&["plan", "--exit-code"]);
    out.status(3)
        .stdout_has("- delete unused launch configuration dev-worker\n")
        .stdout_has(", an empty copy left by an interrupted or retried create");
    let p = apply_agrees(&t);
    assert_eq!(
        p.of("dev.worker", &[]),
        vec!["- delete unused launch configuration dev-worker"]
    );
}
