//! `udo plan` and `udo apply` against moto_server: a matching cluster is clean (exit 0 with
//! `--exit-code`), every kind of difference is shown (exit 3) without a single write, `apply`
//! converges so a second `plan` is clean, and the read budget holds over 20 roles.

mod support;
use support::{Moto, Test};

const BASE: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
tags: {team: core}
clusters:
  dev:
    subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]
    roles:
      web:
        scale_policy: {min_size: 1, max_size: 3, desired: 1}
      worker:
        scale_policy: {min_size: 1, max_size: 2, desired: 1}
";

fn matching() -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(BASE);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.*"]).ok();
    (moto, t)
}

#[test]
fn plan_on_a_matching_cluster_is_clean_and_reads_only() {
    let (_m, t) = matching();
    let out = t.run(&["-v", "plan", "--exit-code"]);
    out.ok()
        .stdout_has("Cluster dev:")
        .stdout_has("dev.web: matches udo.yml")
        .stdout_has("No differences: AWS matches udo.yml for 2 roles.");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
    assert!(out.calls().len() <= 8, "{:?}", out.calls());
    let j = t.run(&["plan", "dev", "-o", "json"]).ok().json();
    assert_eq!(j["differences"], false);
    assert_eq!(j["clusters"][0]["cluster"], "dev");
    assert_eq!(j["clusters"][0]["roles"][1]["role"], "dev.worker");
    assert_eq!(j["clusters"][0]["roles"][1]["differs"], false);
    let again = t.run(&["-v", "apply", "--yes"]);
    again.ok().stdout_has("Nothing to change");
    assert!(again.writes().is_empty(), "{:?}", again.ops());
}

#[test]
fn plan_shows_every_kind_of_difference_and_apply_converges() {
    let (_m, t) = matching();
    let edited = BASE
        .replace("tags: {team: core}", "tags: {team: core, cost: web}")
        .replace(
            "subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]",
            "subnets_cidr: [10.20.1.0/24, 10.20.2.0/24, 10.20.3.0/24]",
        )
        .replace(
            "        scale_policy: {min_size: 1, max_size: 3, desired: 1}\n",
            "        instance_type: t3.large
        scale_policy: {min_size: 1, max_size: 5, desired: 1}
        schedule:
          - {name: web-night, recurrence: '0 20 * * *', time_zone: Europe/Berlin, desired: 0, min_size: 0}
        scaling_policies:
          - {name: web-cpu, metric: cpu, target: 60}
",
        )
        + "      api:\n        scale_policy: {min_size: 0, max_size: 1, desired: 0}\n";
    t.write("udo.yml", &edited);
    let out = t.run(&["-v", "plan", "--exit-code"]);
    out.status(3)
        .stdout_has("network (`udo cluster create dev` makes it):")
        .stdout_has("+ create subnet 10.20.3.0/24 in")
        .stdout_has("dev.web (group dev-web):")
        .stdout_has("create version 2 of launch template dev-web")
        .stdout_has("instance type: t3.small -> t3.large")
        .stdout_has("change max size 3 -> 5")
        .stdout_has("tag cost=web")
        .stdout_has("+ add scheduled action udo-web-night at `0 20 * * *` Europe/Berlin")
        .stdout_has("+ add scaling policy udo-web-cpu: keep cpu at 60")
        .stdout_has("dev.api (group dev-api):")
        .stdout_has("create launch template dev-api")
        .stdout_has("create autoscaling group dev-api (min 0, max 1, desired 0)")
        .stdout_has(
            "Plan: 3 of 3 roles differ from udo.yml (1 group to create), and 1 cluster network.",
        )
        .stderr_has("udo.yml and AWS differ");
    assert!(out.writes().is_empty(), "plan wrote: {:?}", out.ops());
    // 8, and since issue 18 one DescribeAutoScalingGroups more, filtered by the app's udo tags:
    // dev-api's group is missing, and a blue/green release of it would be the role's group
    assert!(out.calls().len() <= 9, "{:?}", out.calls());
    assert_eq!(
        out.ops()
            .iter()
            .filter(|o| *o == "DescribeAutoScalingGroups")
            .count(),
        2
    );

    let j = t.run(&["plan", "-o", "json"]).ok().json();
    assert_eq!(j["differences"], true);
    let dev = &j["clusters"][0];
    assert_eq!(dev["missing_subnets"][0], "10.20.3.0/24");
    let web = &dev["roles"][0];
    assert_eq!(web["schedules"][0]["change"], "add");
    assert_eq!(web["schedules"][0]["name"], "udo-web-night");
    assert_eq!(web["policies"][0]["name"], "udo-web-cpu");
    assert_eq!(dev["roles"][2]["exists"], false);

    // dry run: the plan, no writes
    let dry = t.run(&["-v", "apply", "--dry-run"]);
    dry.ok().stdout_has("Dry run: nothing was changed.");
    assert!(dry.writes().is_empty(), "{:?}", dry.ops());

    let applied = t.run(&["-v", "apply"]);
    applied
        .ok()
        .stdout_has("Created subnet")
        .stdout_has("Created launch template dev-web version 2")
        .stdout_has("Created ASgroup dev-api")
        .stdout_has("Created scheduled action udo-web-night")
        .stdout_has("Created scaling policy udo-web-cpu");
    // network before groups: the new subnet exists before any group changes
    let ops = applied.ops();
    let subnet = ops.iter().position(|o| o == "CreateSubnet").unwrap();
    let group = ops
        .iter()
        .position(|o| o == "UpdateAutoScalingGroup" || o == "CreateAutoScalingGroup")
        .unwrap();
    assert!(subnet < group, "{ops:?}");

    let clean = t.run(&["-v", "plan", "--exit-code"]);
    clean.ok().stdout_has("No differences");
    assert!(clean.writes().is_empty());

    // dropping the schedule is destructive: apply asks once, refuses without a terminal
    t.write(
        "udo.yml",
        &edited.replace(
            "        schedule:\n          - {name: web-night, recurrence: '0 20 * * *', time_zone: Europe/Berlin, desired: 0, min_size: 0}\n",
            "",
        ),
    );
    t.run(&["plan", "--exit-code"])
        .status(3)
        .stdout_has("- delete scheduled action udo-web-night");
    let refused = t.run(&["-v", "apply"]);
    refused.status(1).stderr_has("--yes");
    assert!(refused.writes().is_empty(), "{:?}", refused.ops());
    // on a terminal it asks once, for the whole plan
    let asked = t.run_tty(&["apply"], "y\n");
    asked
        .ok()
        .stdout_has("Some of these changes remove things. Apply them? [y/N]")
        .stdout_has("Deleted scheduled action udo-web-night");
    assert_eq!(asked.stdout.matches("[y/N]").count(), 1, "{}", asked.stdout);
    t.run(&["plan", "--exit-code"]).ok();
}

#[test]
fn plan_over_twenty_matching_roles_takes_at_most_eight_calls() {
    let moto = Moto::start();
    let mut yaml = BASE.split("    roles:\n").next().unwrap().to_string();
    yaml.push_str("    scale_policy: {min_size: 0, max_size: 1, desired: 0}\n    roles:\n");
    for i in 0..20 {
        yaml.push_str(&format!("      r{i}:\n"));
    }
    let t = Test::with_moto(&moto).config(&yaml);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.*"]).ok();
    let out = t.run(&["-v", "plan", "--exit-code"]);
    out.ok()
        .stdout_has("No differences: AWS matches udo.yml for 20 roles.");
    assert!(
        out.calls().len() <= 8,
        "plan over 20 roles took {} calls: {:?}",
        out.calls().len(),
        out.calls()
    );
    assert!(out.writes().is_empty());
    let apply = t.run(&["-v", "apply"]);
    apply.ok().stdout_has("Nothing to change");
    assert!(apply.writes().is_empty(), "{:?}", apply.ops());
}

#[test]
fn plan_of_a_new_cluster_and_apply_builds_it_all() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(BASE);
    let out = t.run(&["-v", "plan", "dev", "--exit-code"]);
    out.status(3)
        .stdout_has("+ create VPC 10.20.0.0/16 for cluster dev")
        .stdout_has("+ create subnet 10.20.1.0/24 in us-east-1a")
        .stdout_has("+ create subnet 10.20.2.0/24 in us-east-1b")
        .stdout_has("+ create and attach an internet gateway")
        .stdout_has("create autoscaling group dev-web");
    assert!(out.writes().is_empty());
    t.run(&["apply", "dev"])
        .ok()
        .stdout_has("Created VPC")
        .stdout_has("Created ASgroup dev-web")
        .stdout_has("Created ASgroup dev-worker");
    t.run(&["plan", "--exit-code"]).ok();
}

#[test]
fn bad_scopes_stop_before_aws() {
    let t = Test::new().config(BASE);
    t.run(&["apply", "nope", "--rollout"])
        .status(2)
        .stderr_has("nope");
    t.run(&["plan", "nope"]).status(2).stderr_has("nope");
    t.run(&["plan", "dev.wbe"])
        .status(2)
        .stderr_has("did you mean `dev.web`?");
    assert!(!t.aws_was_touched());
}

#[test]
fn apply_rollout_replaces_the_instances_the_change_made_outdated() {
    let (_m, t) = matching();
    let t = t.env("UDO_POLL_MS", "100");
    t.run(&["asg", "scale", "dev.web", "2", "--yes"]).ok();
    t.write(
        "udo.yml",
        &BASE.replace(
            "        scale_policy: {min_size: 1, max_size: 3, desired: 1}\n",
            "        instance_type: t3.large\n        scale_policy: {min_size: 1, max_size: 3, desired: 1}\n",
        ),
    );
    let before = t
        .run(&["asg", "instances", "dev.web", "-o", "json"])
        .ok()
        .json();
    let old: Vec<String> = before["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(old.len(), 2, "{before}");
    t.run(&["apply", "--yes", "--rollout"])
        .ok()
        .stdout_has("create version 2 of launch template dev-web");
    let after = t
        .run(&["asg", "instances", "dev.web", "-o", "json"])
        .ok()
        .json();
    let now = after["instances"].as_array().unwrap();
    assert_eq!(now.len(), 2, "{after}");
    for i in now {
        assert!(
            !old.contains(&i["id"].as_str().unwrap().to_string()),
            "{after}"
        );
        assert_eq!(i["outdated"], false, "{after}");
    }
    t.run(&["plan", "--exit-code"]).ok();
}

/// The text between the first `<tag>` and `</tag>` of an AWS XML answer.
fn xml_value(body: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no {tag} in {body}"))
        + open.len();
    let end = body[start..].find(&format!("</{tag}>")).unwrap() + start;
    body[start..end].to_string()
}

#[test]
fn a_missing_gateway_is_a_network_difference_and_apply_restores_it() {
    let (moto, t) = matching();
    // Someone removed the cluster's internet gateway in the console.
    let igw = moto.call(
        "ec2",
        &[
            ("Action", "DescribeInternetGateways"),
            ("Version", "2016-11-15"),
            ("Filter.1.Name", "tag:udo:cluster"),
            ("Filter.1.Value.1", "dev"),
        ],
    );
    let igw_id = xml_value(&igw, "internetGatewayId");
    let vpc_id = xml_value(&igw, "vpcId");
    for action in ["DetachInternetGateway", "DeleteInternetGateway"] {
        let mut params = vec![
            ("Action", action),
            ("Version", "2016-11-15"),
            ("InternetGatewayId", igw_id.as_str()),
        ];
        if action.starts_with("Detach") {
            params.push(("VpcId", vpc_id.as_str()));
        }
        moto.call("ec2", &params);
    }
    let out = t.run(&["-v", "plan", "--exit-code"]);
    out.status(3)
        .stdout_has("network (`udo cluster create dev` makes it):")
        .stdout_has("internet gateway")
        .stdout_has("and 1 cluster network");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
    assert!(out.calls().len() <= 8, "{:?}", out.calls());
    let j = t.run(&["plan", "-o", "json"]).ok().json();
    assert_eq!(j["differences"], true);
    assert!(!j["clusters"][0]["network"].as_array().unwrap().is_empty());

    t.run(&["apply", "--yes"]).ok();
    let clean = t.run(&["plan", "--exit-code"]);
    clean.ok().stdout_lacks("network (");
    assert_eq!(
        t.run(&["plan", "-o", "json"]).ok().json()["clusters"][0]["network"],
        serde_json::json!([])
    );
}
