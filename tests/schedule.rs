//! `schedule:` and `scaling_policies:` in udo.yml: validated before any AWS call, applied by
//! `asg create` and `asg updatelc` as `udo-NAME`, pruned when dropped, foreign ones left alone,
//! and shown by `asg policies`.

mod support;
use support::{Moto, Test};

const BASE: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
clusters:
  qa:
    subnets_cidr: [10.30.1.0/24]
    roles:
      web:
        scale_policy: {min_size: 1, max_size: 4, desired: 1}
";

fn with_role_keys(keys: &str) -> String {
    let mut s = BASE.to_string();
    for line in keys.lines() {
        s.push_str("        ");
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// A config error: exit 2, the message and its `udo.yml:LINE:COL`, and no AWS call at all.
fn rejected(keys: &str, message: &str, at: &str) {
    let t = Test::new().config(&with_role_keys(keys));
    t.run(&["asg", "create", "qa.web"])
        .status(2)
        .stderr_has(message)
        .stderr_has(at);
    t.run(&["validate"]).status(2).stderr_has(message);
    assert!(!t.aws_was_touched(), "a bad udo.yml reached AWS");
}

#[test]
fn bad_schedules_and_policies_stop_before_aws() {
    rejected(
        "schedule:\n  - {name: night, recurrence: '0 25 * * *', desired: 0}",
        "the hour field `25` has 25, out of range 0-23",
        "udo.yml:13:",
    );
    rejected(
        "schedule:\n  - {name: night, recurrence: '0 20 * *', desired: 0}",
        "needs 5 fields",
        "udo.yml:13:",
    );
    rejected(
        "schedule:\n  - name: night\n    recurrence: '0 20 * * *'\n    time_zone: Europe/Berlni\n    desired: 0",
        "did you mean Europe/Berlin?",
        "udo.yml:15:",
    );
    rejected(
        "schedule:\n  - name: night\n    recurrence: '0 20 * * *'",
        "schedule entry `night` of `qa.web` sets no size",
        "udo.yml:13:",
    );
    rejected(
        "schedule:\n  - {recurrence: '0 20 * * *', desired: 0}",
        "has no `name`",
        "udo.yml:13:",
    );
    rejected(
        "scaling_policies:\n  - {name: cpu, metric: memory, target: 60}",
        "`memory` is not one of cpu, alb_requests, network_in, network_out",
        "udo.yml:13:",
    );
    rejected(
        "scaling_policies:\n  - name: reqs\n    metric: alb_requests\n    target: 1000",
        "tracks alb_requests, but `qa.web` has no target group",
        "udo.yml:14:",
    );
    rejected(
        "scaling_policies:\n  - {name: cpu, metric: cpu}",
        "has no `target`",
        "udo.yml:13:",
    );
    rejected(
        "scaling_policies:\n  - {name: cpu, metric: cpu, target: 60, warmpu: 300}",
        "did you mean `warmup`?",
        "udo.yml:13:",
    );
}

const SCHEDULED: &str = "\
schedule:
  - name: night
    recurrence: '0 20 * * MON-FRI'
    time_zone: Europe/Berlin
    min_size: 0
    desired: 0
  - name: morning
    recurrence: '0 7 * * MON-FRI'
    time_zone: Europe/Berlin
    min_size: 1
    desired: 2
scaling_policies:
  - {name: cpu, metric: cpu, target: 60, warmup: 300}";

#[test]
fn schedules_and_policies_are_created_changed_pruned_and_foreign_ones_kept() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(&with_role_keys(SCHEDULED));
    t.run(&["cluster", "create", "qa"]).ok();

    let created = t.run(&["-v", "asg", "create", "qa.web"]);
    created
        .ok()
        .stdout_has(
            "add scheduled action udo-night at `0 20 * * MON-FRI` Europe/Berlin (min 0, desired 0)",
        )
        .stdout_has("Created scheduled action udo-night")
        .stdout_has("Created scheduled action udo-morning")
        .stdout_has("Created scaling policy udo-cpu: keep cpu at 60, warmup 300s");
    let ops = created.ops();
    assert_eq!(
        ops.iter()
            .filter(|o| *o == "PutScheduledUpdateGroupAction")
            .count(),
        2,
        "{ops:?}"
    );
    assert_eq!(ops.iter().filter(|o| *o == "PutScalingPolicy").count(), 1);

    // Someone adds their own action by hand: udo must never touch it.
    moto.call(
        "autoscaling",
        &[
            ("Action", "PutScheduledUpdateGroupAction"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "qa-web"),
            ("ScheduledActionName", "ops-weekend"),
            ("Recurrence", "0 0 * * SAT"),
            ("DesiredCapacity", "1"),
        ],
    );

    let j = t
        .run(&["asg", "policies", "qa.web", "-o", "json"])
        .ok()
        .json();
    let actions = j["scheduled_actions"].as_array().unwrap();
    assert_eq!(actions.len(), 3, "{j}");
    let find = |name: &str| {
        actions
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing in {j}"))
    };
    assert_eq!(find("udo-night")["from_udo_yml"], true);
    assert_eq!(find("udo-night")["time_zone"], "Europe/Berlin");
    assert_eq!(find("udo-morning")["desired"], 2);
    assert_eq!(find("ops-weekend")["from_udo_yml"], false);
    assert_eq!(j["policies"][0]["name"], "udo-cpu");
    assert_eq!(j["policies"][0]["metric"], "cpu");
    assert_eq!(j["policies"][0]["target"], 60.0);
    t.run(&["asg", "policies", "qa.web"])
        .ok()
        .stdout_has("ops-weekend")
        .stdout_has("not from udo.yml")
        .stdout_has("udo-night");

    // Nothing changed: updatelc writes nothing.
    let same = t.run(&["-v", "asg", "updatelc", "qa.web"]);
    same.ok().stdout_has("matches udo.yml; nothing to do");
    assert!(same.writes().is_empty(), "{:?}", same.ops());

    // Change one, drop one, change the policy's target.
    let edited = SCHEDULED
        .replace(
            "  - name: morning\n    recurrence: '0 7 * * MON-FRI'\n    time_zone: Europe/Berlin\n    min_size: 1\n    desired: 2\n",
            "",
        )
        .replace("desired: 0", "desired: 1")
        .replace("target: 60", "target: 45");
    t.write("udo.yml", &with_role_keys(&edited));
    // Deleting an action is destructive: refused without a terminal or --yes.
    let refused = t.run(&["asg", "updatelc", "qa.web"]);
    refused.status(1).stderr_has("--yes");
    assert!(refused.writes().is_empty());
    let dry = t.run(&["-v", "asg", "updatelc", "qa.web", "--dry-run"]);
    dry.ok()
        .stdout_has("change scheduled action udo-night (desired: 0 -> 1)")
        .stdout_has("delete scheduled action udo-morning")
        .stdout_has("change scaling policy udo-cpu (target: 60 -> 45)")
        .stdout_lacks("ops-weekend");
    assert!(dry.writes().is_empty());
    let applied = t.run(&["-v", "asg", "updatelc", "qa.web", "--yes"]);
    applied
        .ok()
        .stdout_has("Changed scheduled action udo-night")
        .stdout_has("Deleted scheduled action udo-morning of ASgroup qa-web")
        .stdout_has("Changed scaling policy udo-cpu: keep cpu at 45");
    assert_eq!(
        applied
            .ops()
            .iter()
            .filter(|o| *o == "DeleteScheduledAction")
            .count(),
        1,
        "{:?}",
        applied.ops()
    );
    let j = t
        .run(&["asg", "policies", "qa.web", "-o", "json"])
        .ok()
        .json();
    let names: Vec<&str> = j["scheduled_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"udo-night") && names.contains(&"ops-weekend"),
        "{names:?}"
    );
    assert!(!names.contains(&"udo-morning"), "{names:?}");
    assert_eq!(j["policies"][0]["target"], 45.0);

    // Drop every schedule and policy: udo's are pruned (the marker tags say where to look),
    // the hand-made one stays.
    t.write("udo.yml", &with_role_keys(""));
    let pruned = t.run(&["-v", "asg", "updatelc", "qa.web", "--yes"]);
    pruned
        .ok()
        .stdout_has("Deleted scheduled action udo-night")
        .stdout_has("Deleted scaling policy udo-cpu");
    let j = t
        .run(&["asg", "policies", "qa.web", "-o", "json"])
        .ok()
        .json();
    let actions = j["scheduled_actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{j}");
    assert_eq!(actions[0]["name"], "ops-weekend");
    assert!(j["policies"].as_array().unwrap().is_empty(), "{j}");
    let again = t.run(&["-v", "asg", "updatelc", "qa.web"]);
    again.ok();
    assert!(again.writes().is_empty(), "{:?}", again.ops());
}

#[test]
fn a_cluster_schedule_applies_to_every_role_and_plan_sees_it_clean() {
    let moto = Moto::start();
    let yaml = BASE.replace(
        "    roles:\n",
        "    schedule:\n      - {name: night, recurrence: '0 20 * * *', time_zone: America/New_York, desired: 0, min_size: 0}\n    roles:\n",
    ) + "      api:\n        scale_policy: {min_size: 1, max_size: 2, desired: 1}\n        schedule:\n          - {name: night, desired: 1, min_size: 1}\n";
    let t = Test::with_moto(&moto).config(&yaml);
    t.run(&["cluster", "create", "qa"]).ok();
    t.run(&["asg", "create", "qa.*"]).ok();
    // the same name in two groups; the role's entry overrides the cluster's key by key
    let web = t
        .run(&["asg", "policies", "qa.web", "-o", "json"])
        .ok()
        .json();
    let api = t
        .run(&["asg", "policies", "qa.api", "-o", "json"])
        .ok()
        .json();
    assert_eq!(web["scheduled_actions"][0]["name"], "udo-night");
    assert_eq!(web["scheduled_actions"][0]["desired"], 0);
    assert_eq!(api["scheduled_actions"][0]["name"], "udo-night");
    assert_eq!(api["scheduled_actions"][0]["desired"], 1);
    assert_eq!(api["scheduled_actions"][0]["recurrence"], "0 20 * * *");
    assert_eq!(api["scheduled_actions"][0]["time_zone"], "America/New_York");
    let plan = t.run(&["-v", "plan", "qa", "--exit-code"]);
    plan.ok().stdout_has("No differences");
    assert!(plan.writes().is_empty());
    // one batched read of both groups' actions
    assert_eq!(
        plan.ops()
            .iter()
            .filter(|o| *o == "DescribeScheduledActions")
            .count(),
        1
    );
}

/// The text between `<TAG>` and `</TAG>` in a moto XML reply.
fn xml_value(xml: &str, tag: &str) -> String {
    xml.split(&format!("<{tag}>"))
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        .to_string()
}

#[test]
fn an_alb_requests_policy_counts_the_target_group_behind_its_load_balancer() {
    let moto = Moto::start();
    let yaml = BASE.replace(
        "subnets_cidr: [10.30.1.0/24]",
        "subnets_cidr: [10.30.1.0/24, 10.30.2.0/24]",
    ) + "        target_groups: [web-tg]\n        scaling_policies:\n          - {name: reqs, metric: alb_requests, target: 1000}\n";
    let t = Test::with_moto(&moto).config(&yaml);
    t.run(&["cluster", "create", "qa"]).ok();
    let status = t
        .run(&["cluster", "status", "qa", "-o", "json"])
        .ok()
        .json();
    let vpc = status["vpc"]["id"].as_str().unwrap().to_string();
    let subnet = |i: usize| status["subnets"][i]["id"].as_str().unwrap().to_string();
    let (s1, s2) = (subnet(0), subnet(1));
    let lb = xml_value(
        &moto.call(
            "elasticloadbalancing",
            &[
                ("Action", "CreateLoadBalancer"),
                ("Version", "2015-12-01"),
                ("Name", "web-alb"),
                ("Type", "application"),
                ("Subnets.member.1", &s1),
                ("Subnets.member.2", &s2),
            ],
        ),
        "LoadBalancerArn",
    );
    let tg = xml_value(
        &moto.call(
            "elasticloadbalancing",
            &[
                ("Action", "CreateTargetGroup"),
                ("Version", "2015-12-01"),
                ("Name", "web-tg"),
                ("Protocol", "HTTP"),
                ("Port", "80"),
                ("VpcId", &vpc),
            ],
        ),
        "TargetGroupArn",
    );
    moto.call(
        "elasticloadbalancing",
        &[
            ("Action", "CreateListener"),
            ("Version", "2015-12-01"),
            ("LoadBalancerArn", &lb),
            ("Protocol", "HTTP"),
            ("Port", "80"),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", &tg),
        ],
    );

    t.run(&["asg", "create", "qa.web"])
        .ok()
        .stdout_has("Created scaling policy udo-reqs: keep alb_requests at 1000");
    let reply = moto.call(
        "autoscaling",
        &[
            ("Action", "DescribePolicies"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "qa-web"),
        ],
    );
    let label = xml_value(&reply, "ResourceLabel");
    let lb_part = lb.split(":loadbalancer/").nth(1).unwrap();
    let tg_part = tg.rsplit(':').next().unwrap();
    assert_eq!(label, format!("{lb_part}/{tg_part}"));
    assert_eq!(
        xml_value(&reply, "PredefinedMetricType"),
        "ALBRequestCountPerTarget"
    );
    t.run(&["plan", "qa", "--exit-code"]).ok();
}
