//! `udo cluster …` against moto_server: create what is missing, idempotently; destroy only
//! udo's own resources, and never while groups exist.

mod support;
use support::{Moto, Test};

pub const NET: &str = "\
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
        scale_policy: {min_size: 0, max_size: 2, desired: 0}
      worker:
        public: false
  prod:
    vpc_cidr: 10.30.0.0/16
    subnets_cidr: [10.30.1.0/24]
    roles:
      web:
  wide:
    subnets_cidr: [10.40.1.0/24, 10.41.1.0/24]
    roles:
      web:
";

#[test]
fn create_makes_the_network_then_changes_nothing() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    let out = t.run(&["-v", "cluster", "create", "dev"]);
    out.ok()
        .stdout_has("Created VPC vpc-")
        .stdout_has("(10.20.0.0/16) for cluster dev")
        .stdout_has("(10.20.1.0/24, us-east-1a)")
        .stdout_has("(10.20.2.0/24, us-east-1b)")
        .stdout_has("Created internet gateway")
        .stdout_has("Added default route 0.0.0.0/0");
    assert_eq!(out.ops().iter().filter(|o| *o == "CreateSubnet").count(), 2);

    let again = t.run(&["-v", "cluster", "create", "dev"]);
    again
        .ok()
        .stdout_has("Cluster dev is up to date")
        .stdout_has("nothing to do");
    assert!(
        again.writes().is_empty(),
        "second create must not write: {:?}",
        again.ops()
    );
    assert_eq!(again.calls().len(), 4, "{:?}", again.calls());

    let status = t
        .run(&["cluster", "status", "dev", "-o", "json"])
        .ok()
        .json();
    assert_eq!(status["vpc"]["cidr"], "10.20.0.0/16");
    assert_eq!(status["subnets"].as_array().unwrap().len(), 2);
    assert!(status["subnets"][0]["free_addresses"].as_i64().unwrap() > 0);
    assert_eq!(status["roles"][0]["exists"], false);
}

#[test]
fn dry_run_makes_no_mutating_call() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    let out = t.run(&["-v", "--dry-run", "cluster", "create", "prod"]);
    out.ok()
        .stdout_has("create VPC 10.30.0.0/16")
        .stdout_has("Dry run: nothing was changed");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
    t.run(&["cluster", "list"])
        .ok()
        .stdout_has("prod     not created");
}

#[test]
fn interrupted_create_is_finished_by_a_rerun() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    // A first run that only knew one subnet, as if interrupted after it.
    t.write(
        "udo.yml",
        &NET.replace(
            "subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]",
            "subnets_cidr: [10.20.1.0/24]",
        ),
    );
    t.run(&["cluster", "create", "dev"]).ok();
    t.write("udo.yml", NET);
    let out = t.run(&["-v", "cluster", "create", "dev"]);
    out.ok()
        .stdout_has("Created subnet")
        .stdout_has("(10.20.2.0/24, us-east-1b)")
        .stdout_lacks("Created VPC")
        .stdout_lacks("Created internet gateway");
    assert_eq!(
        out.ops()
            .iter()
            .filter(|o| o.starts_with("Create"))
            .cloned()
            .collect::<Vec<_>>(),
        vec!["CreateSubnet"]
    );
}

#[test]
fn list_shows_every_cluster() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    t.run(&["cluster", "create", "dev"]).ok();
    let out = t.run(&["-v", "cluster", "list", "-o", "json"]);
    let j = out.ok().json();
    assert_eq!(
        out.calls().len(),
        3,
        "one call each for VPCs, subnets and groups: {:?}",
        out.calls()
    );
    assert_eq!(j["clusters"][0]["cluster"], "dev");
    assert_eq!(j["clusters"][0]["subnets"], 2);
    assert_eq!(
        j["clusters"][0]["roles"],
        serde_json::json!(["web", "worker"])
    );
    assert!(j["clusters"][1]["vpc"].is_null());
    t.run(&["cluster", "list"])
        .ok()
        .stdout_has("CLUSTER")
        .stdout_has("dev      vpc-");
}

#[test]
fn vpc_cidr_must_be_derivable() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    let out = t.run(&["-v", "cluster", "create", "wide"]);
    out.status(2)
        .stderr_has("cluster `wide` has no vpc_cidr")
        .stderr_has("not in one /16")
        .stderr_has("udo.yml:19:3");
    assert!(out.calls().is_empty());
}

#[test]
fn destroy_removes_only_udo_resources_and_asks_first() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    t.run(&["cluster", "create", "dev"]).ok();
    // without a terminal and without --yes: refused, nothing changed
    let refused = t.run(&["-v", "cluster", "destroy", "dev"]);
    refused.status(1).stderr_has("--yes");
    assert!(refused.writes().is_empty(), "{:?}", refused.ops());
    let dry = t.run(&["-v", "--dry-run", "cluster", "destroy", "dev"]);
    dry.ok().stdout_has("delete VPC");
    assert!(dry.writes().is_empty());

    let out = t.run(&["cluster", "destroy", "dev", "--yes"]);
    out.ok()
        .stdout_has("Deleted route table")
        .stdout_has("Deleted internet gateway")
        .stdout_has("Deleted VPC");
    t.run(&["cluster", "destroy", "dev", "--yes"])
        .ok()
        .stdout_has("nothing to destroy");
    t.run(&["cluster", "list"])
        .ok()
        .stdout_has("dev      not created");
}

#[test]
fn destroy_is_refused_while_groups_exist() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    let out = t.run(&["-v", "cluster", "destroy", "dev", "--yes"]);
    out.status(1)
        .stderr_has("still has autoscaling groups: dev-web");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
}

#[test]
fn unknown_cluster_is_a_located_error_without_aws() {
    let t = Test::new().config(NET);
    t.run(&["cluster", "create", "dve"])
        .status(2)
        .stderr_has("did you mean `dev`?");
    assert!(!t.aws_was_touched());
}

#[test]
fn destroy_sees_groups_the_old_tool_made_without_tags() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(NET);
    t.run(&["cluster", "create", "dev"]).ok();
    // The old tool's group: named CLUSTER-ROLE, from a launch configuration, no udo tags.
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateLaunchConfiguration"),
            ("Version", "2011-01-01"),
            ("LaunchConfigurationName", "dev-web"),
            ("ImageId", "ami-12c6146b"),
            ("InstanceType", "t3.small"),
        ],
    );
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateAutoScalingGroup"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "dev-web"),
            ("LaunchConfigurationName", "dev-web"),
            ("MinSize", "0"),
            ("MaxSize", "0"),
            ("AvailabilityZones.member.1", "us-east-1a"),
        ],
    );
    let out = t.run(&["-v", "cluster", "destroy", "dev", "--yes"]);
    out.status(1)
        .stderr_has("still has autoscaling groups: dev-web");
    assert!(out.writes().is_empty(), "{:?}", out.ops());
}
