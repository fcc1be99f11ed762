//! Launch settings a 2026 fleet needs (issue 16), against moto_server: IMDSv2 and encrypted
//! gp3 root volumes by default, `metadata`, `root_volume` and `volumes`, read back from the
//! template versions AWS stores (DescribeLaunchTemplateVersions), not from moto's instances.

mod support;
use support::{Moto, Test};

const BASE: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a]
ami: ami-12c6146b
instance_type: t3.small
clusters:
  dev:
    subnets_cidr: [10.20.1.0/24]
    roles:
      web:
        scale_policy: {min_size: 0, max_size: 2, desired: 0}
      old:
        launch: configuration
        scale_policy: {min_size: 0, max_size: 2, desired: 0}
";

/// The `$Latest` version of a template as AWS describes it (EC2 query XML).
fn latest(moto: &Moto, name: &str) -> String {
    moto.call(
        "ec2",
        &[
            ("Action", "DescribeLaunchTemplateVersions"),
            ("Version", "2016-11-15"),
            ("LaunchTemplateName", name),
            ("LaunchTemplateVersion.1", "$Latest"),
        ],
    )
}

/// The text of every `<tag>…</tag>` in `xml`, in order.
fn all<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next())
        .collect()
}

/// One block device mapping of a described template: (device, its `<ebs>` XML).
fn mappings(xml: &str) -> Vec<(String, String)> {
    let Some(set) = all(xml, "blockDeviceMappingSet").into_iter().next() else {
        return Vec::new();
    };
    set.split("<item>")
        .skip(1)
        .map(|item| {
            (
                all(item, "deviceName").first().unwrap_or(&"").to_string(),
                all(item, "ebs").first().unwrap_or(&"").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_fresh_group_requires_imdsv2_and_encrypts_a_gp3_root_volume() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(BASE);
    t.run(&["cluster", "create", "dev"]).ok();
    let out = t.run(&["-v", "asg", "create", "dev.web"]);
    out.ok().stdout_has("Created ASgroup dev-web");
    // the root device's name comes from the AMI: one DescribeImages, as a mapping is written
    assert_eq!(
        out.ops().iter().filter(|o| *o == "DescribeImages").count(),
        1,
        "{:?}",
        out.ops()
    );
    let xml = latest(&moto, "dev-web");
    assert_eq!(all(&xml, "httpTokens"), vec!["required"], "{xml}");
    assert_eq!(all(&xml, "httpPutResponseHopLimit"), vec!["1"]);
    assert_eq!(all(&xml, "instanceMetadataTags"), vec!["disabled"]);
    let m = mappings(&xml);
    assert_eq!(m.len(), 1, "{m:?}");
    // ami-12c6146b's root device in moto's image list
    assert_eq!(m[0].0, "/dev/sda1");
    assert!(m[0].1.contains("<encrypted>true</encrypted>"), "{m:?}");
    assert!(m[0].1.contains("<volumeType>gp3</volumeType>"), "{m:?}");
    // the AMI's size: none is written
    assert!(!m[0].1.contains("volumeSize"), "{m:?}");

    // a launch configuration takes the same defaults
    t.run(&["asg", "create", "dev.old"]).ok();
    let lc = moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeLaunchConfigurations"),
            ("Version", "2011-01-01"),
            ("LaunchConfigurationNames.member.1", "dev-old"),
        ],
    );
    assert!(lc.contains("<HttpTokens>required</HttpTokens>"), "{lc}");
    assert!(lc.contains("<Encrypted>true</Encrypted>"), "{lc}");
    assert!(lc.contains("<VolumeType>gp3</VolumeType>"), "{lc}");

    let show = t.run(&["lc", "show", "dev.web"]);
    show.ok()
        .stdout_has("instance metadata     IMDSv2 required, hop limit 1, tags off")
        .stdout_has("root volume           gp3, the AMI's size, encrypted")
        .stdout_has("in sync");
    t.run(&["plan", "dev"])
        .ok()
        .stdout_has("No differences: AWS matches udo.yml");
}

#[test]
fn metadata_and_volumes_from_udo_yml_are_written_and_changed_like_any_field() {
    let moto = Moto::start();
    let yaml = BASE.replace(
        "      web:\n",
        "      web:\n        metadata: {hop_limit: 2, instance_tags: true}\n        root_volume: {size: 30, type: gp3, iops: 4000, throughput: 250, kms_key: alias/ebs}\n        volumes:\n          - {device: /dev/sdf, size: 100, type: io2, iops: 5000}\n          - {device: /dev/sdg, size: 500, type: st1, encrypted: false, delete_on_termination: false}\n",
    );
    let t = Test::with_moto(&moto).config(&yaml);
    t.run(&["lc", "create", "dev.web"]).ok();
    let xml = latest(&moto, "dev-web");
    assert_eq!(all(&xml, "httpTokens"), vec!["required"]);
    assert_eq!(all(&xml, "httpPutResponseHopLimit"), vec!["2"]);
    assert_eq!(all(&xml, "instanceMetadataTags"), vec!["enabled"]);
    let m = mappings(&xml);
    let devices: Vec<&str> = m.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(devices, vec!["/dev/sda1", "/dev/sdf", "/dev/sdg"]);
    for want in [
        "<volumeSize>30</volumeSize>",
        "<iops>4000</iops>",
        "<throughput>250</throughput>",
        "<kmsKeyId>alias/ebs</kmsKeyId>",
        "<encrypted>true</encrypted>",
    ] {
        assert!(m[0].1.contains(want), "root lacks {want}: {}", m[0].1);
    }
    assert!(
        m[1].1.contains("<volumeType>io2</volumeType>") && m[1].1.contains("<iops>5000</iops>")
    );
    assert!(
        m[1].1
            .contains("<deleteOnTermination>true</deleteOnTermination>")
    );
    assert!(
        m[2].1.contains("<encrypted>false</encrypted>"),
        "{}",
        m[2].1
    );
    assert!(
        m[2].1
            .contains("<deleteOnTermination>false</deleteOnTermination>")
    );
    t.run(&["lc", "show", "dev.web"]).ok().stdout_has("in sync");

    // tokens optional: validate warns (and still passes), the change is a new version
    let optional = yaml.replace("{hop_limit: 2,", "{tokens: optional, hop_limit: 2,");
    t.write("udo.yml", &optional);
    t.run(&["validate"])
        .ok()
        .stderr_has("warning: `dev.web` allows IMDSv1 (`metadata.tokens: optional`)")
        .stderr_has("udo.yml:11:28");
    let j = t.run(&["validate", "-o", "json"]).ok().json();
    assert_eq!(j["valid"], true);
    assert_eq!(j["warnings"][0]["line"], 11, "{j}");
    let show = t.run(&["lc", "show", "dev.web"]);
    show.ok().stdout_has(
        "instance metadata: IMDSv2 required, hop limit 2, tags on -> IMDSv2 optional (IMDSv1 allowed), hop limit 2, tags on",
    );
    // a volume's size changes and one goes: the diff names them
    let resized = optional
        .replace("size: 100, type: io2", "size: 200, type: io2")
        .replace(
            "          - {device: /dev/sdg, size: 500, type: st1, encrypted: false, delete_on_termination: false}\n",
            "",
        );
    t.write("udo.yml", &resized);
    let out = t.run(&["-v", "lc", "create", "dev.web"]);
    out.ok()
        .stdout_has("volumes: /dev/sdf: io2, 100 GiB, 5000 IOPS, encrypted, deleted on termination; /dev/sdg: st1, 500 GiB, not encrypted, kept after termination -> /dev/sdf: io2, 200 GiB, 5000 IOPS, encrypted, deleted on termination")
        .stdout_has("Created launch template dev-web version 2");
    let xml = latest(&moto, "dev-web");
    assert_eq!(all(&xml, "httpTokens"), vec!["optional"]);
    let m = mappings(&xml);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m[1].1.contains("<volumeSize>200</volumeSize>"));
    t.run(&["lc", "show", "dev.web"]).ok().stdout_has("in sync");
}

#[test]
fn an_existing_group_on_a_template_without_these_settings_moves_there_through_plan_and_apply() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(BASE);
    t.run(&["cluster", "create", "dev"]).ok();
    // What an older udo (or another tool) made: a template with no metadata options and no
    // block device mapping, and a group on its version 1.
    moto.call(
        "ec2",
        &[
            ("Action", "CreateLaunchTemplate"),
            ("Version", "2016-11-15"),
            ("LaunchTemplateName", "dev-web"),
            ("LaunchTemplateData.ImageId", "ami-12c6146b"),
            ("LaunchTemplateData.InstanceType", "t3.small"),
        ],
    );
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateAutoScalingGroup"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "dev-web"),
            ("LaunchTemplate.LaunchTemplateName", "dev-web"),
            ("LaunchTemplate.Version", "1"),
            ("MinSize", "0"),
            ("MaxSize", "2"),
            ("DesiredCapacity", "0"),
            ("AvailabilityZones.member.1", "us-east-1a"),
        ],
    );
    let plan = t.run(&["plan", "dev.web", "--exit-code"]);
    plan.status(3)
        .stdout_has("create version 2 of launch template dev-web")
        .stdout_has(
            "instance metadata: not set: IMDSv1 allowed -> IMDSv2 required, hop limit 1, tags off",
        )
        .stdout_has(
            "root volume: (the AMI's: not encrypted by udo) -> gp3, the AMI's size, encrypted",
        );
    let j = t.run(&["plan", "dev.web", "-o", "json"]).ok().json();
    let details = j["clusters"][0]["roles"][0]["launch_details"].to_string();
    assert!(details.contains("instance metadata: not set"), "{details}");
    t.run(&["apply", "dev.web", "--yes"])
        .ok()
        .stdout_has("Created launch template dev-web version 2")
        .stdout_has("Changed ASgroup dev-web launch from dev-web v1 to dev-web v2");
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);
    let xml = latest(&moto, "dev-web");
    assert_eq!(all(&xml, "versionNumber"), vec!["2"]);
    assert_eq!(all(&xml, "httpTokens"), vec!["required"], "{xml}");
    let m = mappings(&xml);
    assert_eq!(m.len(), 1);
    assert!(m[0].1.contains("<encrypted>true</encrypted>"));
}

#[test]
fn bad_volume_and_metadata_values_stop_before_any_call() {
    let t = Test::new();
    let cases = [
        (
            "        root_volume: {type: gp2, iops: 3000}\n",
            "`root_volume.iops` is set, but gp2 volumes take no provisioned IOPS",
            "11:",
        ),
        (
            "        root_volume: {type: io1, size: 10, iops: 1000}\n",
            "`root_volume.iops` 1000 is more than io1 allows for 10 GiB",
            "11:",
        ),
        (
            "        volumes:\n          - {device: /dev/sdf, size: 100, type: gp2, throughput: 300}\n",
            "`volumes[/dev/sdf].throughput` is set, but only gp3 volumes take a throughput",
            "12:",
        ),
        (
            "        volumes:\n          - {device: /dev/sdf, size: 70000}\n",
            "`volumes[/dev/sdf].size` 70000 GiB is outside what gp3 volumes allow (1–65536 GiB)",
            "12:",
        ),
        (
            "        volumes:\n          - {device: /dev/sdf, size: 20, type: st1}\n",
            "`volumes[/dev/sdf].size` 20 GiB is outside what st1 volumes allow (125–16384 GiB)",
            "12:",
        ),
        (
            "        volumes:\n          - {device: /dev/sdf}\n",
            "`volumes[/dev/sdf]` of `dev.web` has no `size`",
            "12:",
        ),
        (
            "        volumes:\n          - {size: 10}\n",
            "an entry of `volumes` has no `device`",
            "12:",
        ),
        (
            "        metadata: {hop_limit: 65}\n",
            "bad value for `metadata.hop_limit`: 65 is out of range",
            "11:",
        ),
        (
            "        metadata: {tokens: maybe}\n",
            "bad value for `metadata.tokens`: `maybe` is not one of required, optional",
            "11:",
        ),
    ];
    for (extra, message, at) in cases {
        let yaml = BASE.replace("      web:\n", &format!("      web:\n{extra}"));
        t.write("udo.yml", &yaml);
        for args in [&["validate"][..], &["lc", "create", "dev.web"], &["plan"]] {
            let out = t.run(args);
            out.status(2)
                .stderr_has(message)
                .stderr_has(&format!("udo.yml:{at}"));
        }
    }
    let lc_key = BASE.replace(
        "        launch: configuration\n",
        "        launch: configuration\n        root_volume: {kms_key: alias/ebs}\n",
    );
    t.write("udo.yml", &lc_key);
    t.run(&["validate"])
        .status(2)
        .stderr_has("`root_volume.kms_key` needs a launch template");
    assert!(!t.aws_was_touched(), "no AWS call for bad values");
}

/// The group as AWS describes it (Auto Scaling query XML).
fn group(moto: &Moto, name: &str) -> String {
    moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeAutoScalingGroups"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupNames.member.1", name),
        ],
    )
}

const MIXED: &str = "        instance_types: [m6i.large, m5.large, m5a.large]
        spot: {on_demand_base: 1, on_demand_percent: 25, max_price: 0.12}
        scale_policy: {min_size: 0, max_size: 6, desired: 4}
";

#[test]
fn a_mixed_spot_group_survives_updatelc_and_scale_with_its_policy_and_plans_clean() {
    let moto = Moto::start();
    let yaml = BASE.replace(
        "      web:\n        scale_policy: {min_size: 0, max_size: 2, desired: 0}\n",
        &format!("      web:\n{MIXED}"),
    );
    let t = Test::with_moto(&moto).config(&yaml);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    let xml = group(&moto, "dev-web");
    let policy = all(&xml, "MixedInstancesPolicy");
    assert_eq!(policy.len(), 1, "{xml}");
    assert_eq!(
        all(policy[0], "InstanceType"),
        vec!["m6i.large", "m5.large", "m5a.large"]
    );
    assert_eq!(all(policy[0], "OnDemandBaseCapacity"), vec!["1"]);
    assert_eq!(
        all(policy[0], "OnDemandPercentageAboveBaseCapacity"),
        vec!["25"]
    );
    assert_eq!(all(policy[0], "SpotMaxPrice"), vec!["0.12"]);
    assert_eq!(
        all(policy[0], "SpotAllocationStrategy"),
        vec!["price-capacity-optimized"]
    );
    assert_eq!(
        all(&xml, "CapacityRebalance"),
        vec!["true"],
        "spot: on by default"
    );
    // the template is the primary type, on demand: a policy cannot use a spot template
    let lt = latest(&moto, "dev-web");
    assert_eq!(all(&lt, "instanceType"), vec!["m6i.large"]);
    assert!(!lt.contains("instanceMarketOptions"), "{lt}");

    // 4 instances: the base and 25% of the rest (rounded up) on demand, the rest spot
    let j = t
        .run(&["asg", "instances", "dev.web", "-o", "json"])
        .ok()
        .json();
    let inst = j["instances"].as_array().unwrap();
    assert_eq!(inst.len(), 4, "{j}");
    let spot: Vec<&str> = inst
        .iter()
        .filter(|i| i["spot"] == true)
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(spot, vec!["m6i.large", "m5.large"], "{j}");
    t.run(&["asg", "instances", "dev.web"])
        .ok()
        .stdout_has("m5.large (spot)");
    t.run(&["status"])
        .ok()
        .stdout_has("m6i.large x3 (1 spot), m5.large x1 (1 spot)");
    let st = t.run(&["status", "-o", "json"]).ok().json();
    assert_eq!(st["groups"][0]["spot"], 2);
    assert!(
        st["groups"][0]["mix"]
            .as_str()
            .unwrap()
            .starts_with("m6i.large, m5.large, m5a.large; 1 on demand, then 25% on demand, spot price-capacity-optimized at most 0.12"),
        "{st}"
    );
    t.run(&["lc", "show", "dev.web"]).ok().stdout_has(
        "group instances: m6i.large, m5.large, m5a.large; 1 on demand, then 25% on demand",
    );
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);

    // a new template version goes into the policy; a size change keeps it
    t.write(
        "udo.yml",
        &yaml.replace("ami: ami-12c6146b", "ami: ami-12c6146b\npackages: [extra]"),
    );
    t.run(&["asg", "updatelc", "dev.web"])
        .ok()
        .stdout_has("Changed ASgroup dev-web launch from dev-web v1 to dev-web v2");
    t.run(&["asg", "scale", "dev.web", "5"]).ok();
    let xml = group(&moto, "dev-web");
    let policy = all(&xml, "MixedInstancesPolicy");
    assert_eq!(policy.len(), 1, "the policy survives: {xml}");
    assert_eq!(all(policy[0], "Version"), vec!["2"]);
    assert_eq!(all(policy[0], "InstanceType").len(), 3);
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);
    let j = t
        .run(&["asg", "instances", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["launch"], "dev-web v2");
    assert_eq!(j["instances"].as_array().unwrap().len(), 5);
    // the outdated marking and a rollout work on the mixed group
    assert_eq!(
        j["instances"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["outdated"] == true)
            .count(),
        4
    );
    t.run(&["asg", "rollout", "dev.web", "--yes", "--batch", "3"])
        .ok();
    let j = t
        .run(&["asg", "instances", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert!(
        j["instances"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["outdated"] == false),
        "{j}"
    );

    // back to one on-demand type: a normal change in plan and apply
    let single = yaml
        .replace(
            "        instance_types: [m6i.large, m5.large, m5a.large]\n        spot: {on_demand_base: 1, on_demand_percent: 25, max_price: 0.12}\n",
            "",
        )
        .replace("ami: ami-12c6146b", "ami: ami-12c6146b\npackages: [extra]");
    t.write("udo.yml", &single);
    t.run(&["plan", "dev.web"]).status(0).stdout_has(
        "instances m6i.large, m5.large, m5a.large; 1 on demand, then 25% on demand, spot price-capacity-optimized at most 0.12 -> (one type, on demand)",
    ).stdout_has("capacity rebalance true -> false");
    t.run(&["apply", "dev.web", "--yes"]).ok();
    let xml = group(&moto, "dev-web");
    assert!(all(&xml, "MixedInstancesPolicy").is_empty(), "{xml}");
    assert_eq!(all(&xml, "CapacityRebalance"), vec!["false"]);
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);
}

#[test]
fn the_legacy_spot_price_keeps_working_for_both_launch_kinds() {
    let moto = Moto::start();
    let yaml = BASE
        .replace("      web:\n", "      web:\n        spot_price: 0.05\n")
        .replace(
            "        launch: configuration\n",
            "        launch: configuration\n        spot_price: 0.04\n",
        )
        .replace("max_size: 2, desired: 0}", "max_size: 2, desired: 1}");
    let t = Test::with_moto(&moto).config(&yaml);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.*", "--yes"]).ok();
    // a template role: all spot at most that price, through the group's policy
    let xml = group(&moto, "dev-web");
    let policy = all(&xml, "MixedInstancesPolicy");
    assert_eq!(policy.len(), 1, "{xml}");
    assert_eq!(all(policy[0], "InstanceType"), vec!["t3.small"]);
    assert_eq!(all(policy[0], "OnDemandBaseCapacity"), vec!["0"]);
    assert_eq!(
        all(policy[0], "OnDemandPercentageAboveBaseCapacity"),
        vec!["0"]
    );
    assert_eq!(all(policy[0], "SpotMaxPrice"), vec!["0.05"]);
    let j = t
        .run(&["asg", "instances", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["instances"][0]["spot"], true, "{j}");
    // a configuration role: the configuration's spot price, as before
    let lc = moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeLaunchConfigurations"),
            ("Version", "2011-01-01"),
            ("LaunchConfigurationNames.member.1", "dev-old"),
        ],
    );
    assert_eq!(all(&lc, "SpotPrice"), vec!["0.04"], "{lc}");
    t.run(&["plan", "--exit-code"]).status(0);
}

#[test]
fn bad_mix_values_stop_before_any_call() {
    let t = Test::new();
    for (extra, message) in [
        (
            "        spot: {on_demand_percent: 120}\n",
            "bad value for `spot.on_demand_percent`: 120 is out of range",
        ),
        (
            "        spot: {allocation: cheapest}\n",
            "`cheapest` is not one of price-capacity-optimized, capacity-optimized, lowest-price",
        ),
        (
            "        spot: {max_price: free}\n",
            "bad value for `spot.max_price`",
        ),
        (
            "        instance_types: m5.large\n",
            "`instance_types` must be a list",
        ),
    ] {
        let yaml = BASE.replace("      web:\n", &format!("      web:\n{extra}"));
        t.write("udo.yml", &yaml);
        for args in [&["validate"][..], &["asg", "create", "dev.web"], &["apply"]] {
            t.run(args)
                .status(2)
                .stderr_has(message)
                .stderr_has("udo.yml:11:");
        }
    }
    let lc = BASE.replace(
        "        launch: configuration\n",
        "        launch: configuration\n        instance_types: [m5.large, m6i.large]\n        spot: {on_demand_percent: 0}\n",
    );
    t.write("udo.yml", &lc);
    t.run(&["validate"])
        .status(2)
        .stderr_has("`instance_types` of `dev.old` needs a launch template")
        .stderr_has("`spot` of `dev.old` needs a launch template");
    assert!(!t.aws_was_touched());
}

#[test]
fn termination_settings_map_to_the_group_and_change_like_any_setting() {
    let moto = Moto::start();
    let yaml = BASE.replace(
        "      web:\n",
        "      web:\n        termination_policies: [OldestLaunchTemplate, Default]\n        max_instance_lifetime: 604800\n        instance_maintenance: {min_healthy: 90, max_healthy: 150}\n",
    );
    let t = Test::with_moto(&moto).config(&yaml);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    let xml = group(&moto, "dev-web");
    let policies = all(&xml, "TerminationPolicies");
    assert_eq!(
        all(policies[0], "member"),
        vec!["OldestLaunchTemplate", "Default"],
        "{xml}"
    );
    assert_eq!(all(&xml, "MaxInstanceLifetime"), vec!["604800"]);
    assert_eq!(all(&xml, "MinHealthyPercentage"), vec!["90"]);
    assert_eq!(all(&xml, "MaxHealthyPercentage"), vec!["150"]);
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);

    // dropped from udo.yml: back to AWS's defaults
    let changed = BASE.replace(
        "      web:\n",
        "      web:\n        termination_policies: [NewestInstance]\n",
    );
    t.write("udo.yml", &changed);
    t.run(&["plan", "dev.web", "--exit-code"])
        .status(3)
        .stdout_has("~ change termination policies OldestLaunchTemplate, Default -> NewestInstance")
        .stdout_has("~ change max instance lifetime 604800s -> none")
        .stdout_has("~ change instance maintenance 90%-150% healthy -> none");
    t.run(&["asg", "updatelc", "dev.web"])
        .ok()
        .stdout_has("Changed ASgroup dev-web termination policies OldestLaunchTemplate, Default -> NewestInstance");
    let xml = group(&moto, "dev-web");
    assert_eq!(
        all(all(&xml, "TerminationPolicies")[0], "member"),
        vec!["NewestInstance"]
    );
    assert!(
        all(&xml, "MaxInstanceLifetime").iter().all(|v| *v == "0"),
        "{xml}"
    );
    assert!(all(&xml, "MinHealthyPercentage").is_empty(), "{xml}");
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);
}

#[test]
fn bad_termination_settings_stop_before_any_call() {
    let t = Test::new();
    for (extra, message) in [
        (
            "        max_instance_lifetime: 3600\n",
            "`max_instance_lifetime` 3600 is too short: AWS takes 0 (no limit) or 86400 (one day) to 31536000 seconds",
        ),
        (
            "        instance_maintenance: {min_healthy: 10, max_healthy: 150}\n",
            "`instance_maintenance`: max_healthy 150 is more than 100 above min_healthy 10",
        ),
        (
            "        instance_maintenance: {min_healthy: 90}\n",
            "`instance_maintenance` needs both `min_healthy` and `max_healthy`",
        ),
        (
            "        termination_policies: [Oldest]\n",
            "bad value for `termination_policies`: `Oldest` is not one of Default",
        ),
    ] {
        let yaml = BASE.replace("      web:\n", &format!("      web:\n{extra}"));
        t.write("udo.yml", &yaml);
        for args in [
            &["validate"][..],
            &["asg", "updatelc", "dev.web"],
            &["plan"],
        ] {
            t.run(args)
                .status(2)
                .stderr_has(message)
                .stderr_has("udo.yml:11:");
        }
    }
    assert!(!t.aws_was_touched());
}

const DRAIN: &str = "        drain:\n          timeout: 120\n          command: |\n            systemctl stop shop-web\n            /opt/shop/bin/flush-queue --wait\n";

#[test]
fn the_drain_unit_in_cloud_init_matches_the_reviewed_golden_file() {
    let yaml = "app_name: shop\nregion: us-east-1\nami: ami-12c6146b\ninstance_type: t3.small\npackages: [shop-web]\nclusters:\n  dev:\n    subnets_cidr: [10.20.1.0/24]\n    roles:\n      web:\n"
        .to_string()
        + DRAIN;
    let t = Test::new().config(&yaml);
    let out = t.run(&["lc", "cloudinit", "dev.web"]);
    out.ok();
    assert_eq!(
        out.stdout,
        include_str!("golden/dev.web.drain.cloudinit.sh"),
        "rendered user data changed; review and update tests/golden/"
    );
    // the unit's own script is valid bash, and reads metadata with an IMDSv2 token
    let unit = out
        .stdout
        .split("<<'UDO_DRAIN'\n")
        .nth(1)
        .and_then(|r| r.split("\nUDO_DRAIN\n").next())
        .unwrap();
    assert!(unit.contains("X-aws-ec2-metadata-token-ttl-seconds"));
    assert!(unit.contains("\"$imds/meta-data/$1\""));
    assert!(unit.contains("meta autoscaling/target-lifecycle-state"));
    let check = std::process::Command::new("bash")
        .args(["-n", "-c", unit])
        .status()
        .expect("bash");
    assert!(check.success());
    // without `drain`, no unit
    t.write("udo.yml", &yaml.replace(DRAIN, ""));
    t.run(&["lc", "cloudinit", "dev.web"])
        .ok()
        .stdout_lacks("udo-drain");
    assert!(!t.aws_was_touched());
}

fn hooks(moto: &Moto, group: &str) -> String {
    moto.call(
        "autoscaling",
        &[
            ("Action", "DescribeLifecycleHooks"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", group),
        ],
    )
}

/// Waits (up to 20 s) until one of the group's instances is held by the hook; its id.
fn held(moto: &Moto, group: &str) -> String {
    for _ in 0..200 {
        let xml = self::group(moto, group);
        for item in xml.split("<member>").skip(1) {
            if item.contains("<LifecycleState>Terminating:Wait</LifecycleState>") {
                return all(item, "InstanceId")[0].to_string();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no instance of {group} ever waited in Terminating:Wait");
}

fn complete(moto: &Moto, group: &str, instance: &str) {
    moto.call(
        "autoscaling",
        &[
            ("Action", "CompleteLifecycleAction"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", group),
            ("LifecycleHookName", "udo-drain"),
            ("InstanceId", instance),
            ("LifecycleActionResult", "CONTINUE"),
        ],
    );
}

#[test]
fn drain_makes_the_hook_and_rollout_and_destroy_wait_for_draining_instances() {
    let moto = Moto::start();
    let yaml = BASE.replace(
        "      web:\n        scale_policy: {min_size: 0, max_size: 2, desired: 0}\n",
        &format!(
            "      web:\n        scale_policy: {{min_size: 1, max_size: 2, desired: 1}}\n{DRAIN}"
        ),
    );
    let t = Test::with_moto(&moto)
        .config(&yaml)
        .env("UDO_POLL_MS", "100");
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"])
        .ok()
        .stdout_has(
            "create lifecycle hook udo-drain (on termination: heartbeat 120s, then CONTINUE)",
        )
        .stdout_has("Put lifecycle hook udo-drain on ASgroup dev-web");
    let xml = hooks(&moto, "dev-web");
    assert_eq!(all(&xml, "LifecycleHookName"), vec!["udo-drain"], "{xml}");
    assert_eq!(all(&xml, "HeartbeatTimeout"), vec!["120"]);
    assert_eq!(all(&xml, "DefaultResult"), vec!["CONTINUE"]);
    assert_eq!(
        all(&xml, "LifecycleTransition"),
        vec!["autoscaling:EC2_INSTANCE_TERMINATING"]
    );
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);

    // a rollout: the replaced instance drains, and the rollout waits for it
    t.write(
        "udo.yml",
        &yaml.replace("ami: ami-12c6146b", "ami: ami-12c6146b\npackages: [extra]"),
    );
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let mut child = t.spawn(&["asg", "rollout", "dev.web", "--yes"]);
    let old = held(&moto, "dev-web");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the rollout waits while {old} drains"
    );
    let listed = t.run(&["asg", "instances", "dev.web"]);
    listed.ok().stdout_has("Terminating:Wait (draining)");
    complete(&moto, "dev-web", &old);
    let out = support::Outcome::of(&["asg", "rollout"], child);
    out.ok()
        .stderr_has("1 replaced instance(s) draining (lifecycle hook udo-drain)");
    let j = t
        .run(&["asg", "instances", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["instances"].as_array().unwrap().len(), 1, "{j}");
    assert_ne!(j["instances"][0]["id"], old.as_str());

    // a longer heartbeat is a change; removing drain removes the hook
    t.write("udo.yml", &yaml.replace("timeout: 120", "timeout: 600"));
    t.run(&["plan", "dev.web"])
        .ok()
        .stdout_has("change lifecycle hook udo-drain heartbeat 120s -> 600s");
    let no_drain = yaml.replace(DRAIN, "");
    t.write("udo.yml", &no_drain);
    t.run(&["plan", "dev.web"])
        .ok()
        .stdout_has("- delete lifecycle hook udo-drain");
    t.run(&["asg", "create", "dev.web"])
        .ok()
        .stdout_has("delete lifecycle hook udo-drain (to do)");
    t.run(&["apply", "dev.web", "--yes"])
        .ok()
        .stdout_has("Deleted lifecycle hook udo-drain of ASgroup dev-web");
    assert!(all(&hooks(&moto, "dev-web"), "LifecycleHookName").is_empty());
    t.run(&["plan", "dev.web", "--exit-code"]).status(0);

    // back with drain: destroy waits for the draining instance, within its timeout
    t.write("udo.yml", &yaml);
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let mut child = t.spawn(&["asg", "destroy", "dev.web", "--yes"]);
    let last = held(&moto, "dev-web");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "destroy waits while {last} drains"
    );
    complete(&moto, "dev-web", &last);
    let out = support::Outcome::of(&["asg", "destroy"], child);
    out.ok()
        .stdout_has("Deleted ASgroup dev-web")
        .stderr_has("1 of them draining (lifecycle hook udo-drain)");
    // the hook went with its group
    assert!(all(&hooks(&moto, "dev-web"), "LifecycleHookName").is_empty());
}

#[test]
fn bad_drain_values_stop_before_any_call() {
    let t = Test::new();
    for (extra, message) in [
        (
            "        drain: {timeout: 10, command: 'true'}\n",
            "bad value for `drain.timeout`: 10 is out of range",
        ),
        (
            "        drain: {timeout: 60}\n",
            "`drain` of `dev.web` has no `command`",
        ),
    ] {
        let yaml = BASE.replace("      web:\n", &format!("      web:\n{extra}"));
        t.write("udo.yml", &yaml);
        for args in [&["validate"][..], &["asg", "create", "dev.web"], &["plan"]] {
            t.run(args)
                .status(2)
                .stderr_has(message)
                .stderr_has("udo.yml:11:");
        }
    }
    assert!(!t.aws_was_touched());
}
