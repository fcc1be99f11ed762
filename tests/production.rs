//! Production safety (issue 15): udo acts only on what is its application's, never cuts
//! connectivity or capacity by surprise. Each test sets up, with out-of-band AWS calls, what a
//! shared production account holds: another application's resources with the same names, a VPC
//! with the same CIDR that is not udo's, a replaced gateway, a subnet routed elsewhere, a
//! database's network interface, a rollout left by a killed run.

mod support;
use support::{Moto, Outcome, Test};

const APP: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
deploy:
  application: Shop
  github: {repo: acme/shop}
  service_role: arn:aws:iam::123456789012:role/codedeploy
clusters:
  dev:
    subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]
    roles:
      web:
        scale_policy: {min_size: 1, max_size: 3, desired: 1}
      worker:
        launch: configuration
        scale_policy: {min_size: 1, max_size: 2, desired: 1}
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

fn ec2(moto: &Moto, params: &[(&str, &str)]) -> String {
    let mut p = vec![("Version", "2016-11-15")];
    p.extend_from_slice(params);
    moto.call("ec2", &p)
}

fn autoscaling(moto: &Moto, params: &[(&str, &str)]) -> String {
    let mut p = vec![("Version", "2011-01-01")];
    p.extend_from_slice(params);
    moto.call("autoscaling", &p)
}

/// The group as moto describes it (the document only, without headers or request id).
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

/// Another application's group named `name` (tagged `udo:app=blog`), from its own template.
fn foreign_group(moto: &Moto, name: &str, app: Option<&str>) {
    let mut lt = vec![
        ("Action", "CreateLaunchTemplate"),
        ("LaunchTemplateName", name),
        ("LaunchTemplateData.ImageId", "ami-12c6146b"),
        ("LaunchTemplateData.InstanceType", "t3.nano"),
    ];
    if let Some(a) = app {
        lt.extend([
            (
                "LaunchTemplateData.TagSpecification.1.ResourceType",
                "instance",
            ),
            ("LaunchTemplateData.TagSpecification.1.Tag.1.Key", "udo:app"),
            ("LaunchTemplateData.TagSpecification.1.Tag.1.Value", a),
            ("TagSpecification.1.ResourceType", "launch-template"),
            ("TagSpecification.1.Tag.1.Key", "udo:app"),
            ("TagSpecification.1.Tag.1.Value", a),
        ]);
    }
    ec2(moto, &lt);
    let mut g = vec![
        ("Action", "CreateAutoScalingGroup"),
        ("AutoScalingGroupName", name),
        ("LaunchTemplate.LaunchTemplateName", name),
        ("LaunchTemplate.Version", "1"),
        ("MinSize", "0"),
        ("MaxSize", "5"),
        ("DesiredCapacity", "0"),
        ("AvailabilityZones.member.1", "us-east-1a"),
    ];
    if let Some(a) = app {
        g.extend([("Tags.member.1.Key", "udo:app"), ("Tags.member.1.Value", a)]);
    }
    autoscaling(moto, &g);
}

fn no_writes(out: &Outcome) {
    assert!(out.writes().is_empty(), "{:?}", out.ops());
}

#[test]
fn another_applications_group_and_template_are_refused_naming_the_owner() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    foreign_group(&moto, "dev-web", Some("blog"));
    let before = group_xml(&moto, "dev-web");

    for args in [
        &["-v", "asg", "updatelc", "dev.web"][..],
        &["-v", "asg", "create", "dev.web"],
        &["-v", "asg", "scale", "dev.web", "2"],
        &["-v", "asg", "destroy", "dev.web", "--yes"],
        &["-v", "asg", "rollout", "dev.web", "--all", "--yes"],
        &["-v", "lc", "create", "dev.web"],
        &["-v", "lc", "destroy", "dev.web", "--yes"],
        &["-v", "apply", "dev.web", "--yes"],
        // a deployment group for it would deploy shop onto blog's instances
        &["-v", "deploy", "setup", "dev.web"],
    ] {
        let out = t.run(args);
        out.status(1)
            .stderr_has("dev-web belongs to application `blog`")
            .stderr_has("nothing was changed");
        no_writes(&out);
    }
    assert_eq!(group_xml(&moto, "dev-web"), before, "the group was changed");
    // plan says so instead of proposing changes to it
    t.run(&["plan", "dev.web"])
        .stdout_has("refused: autoscaling group dev-web belongs to application `blog`");
    let j = t.run(&["plan", "dev.web", "-o", "json"]).ok().json();
    let refused = j["clusters"][0]["roles"][0]["refused"]
        .as_str()
        .unwrap_or_default();
    assert!(refused.contains("belongs to application `blog`"), "{j}");
    assert_eq!(j["clusters"][0]["roles"][0]["steps"], serde_json::json!([]));
    // reading it is fine
    t.run(&["asg", "scale", "dev.web"])
        .ok()
        .stdout_has("desired 0");
    // its template alone (no group of that name) is refused as well
    autoscaling(
        &moto,
        &[
            ("Action", "DeleteAutoScalingGroup"),
            ("AutoScalingGroupName", "dev-web"),
            ("ForceDelete", "true"),
        ],
    );
    t.run(&["plan", "dev.web"])
        .stdout_has("refused: launch template dev-web belongs to application `blog`");
    let out = t.run(&["-v", "asg", "create", "dev.web"]);
    out.status(1)
        .stderr_has("launch template dev-web belongs to application `blog`");
    no_writes(&out);
}

#[test]
fn another_applications_launch_configuration_is_refused() {
    use base64::Engine as _;
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    let user_data = base64::engine::general_purpose::STANDARD
        .encode("#!/bin/bash\nexport UDO_APP=blog\nexport UDO_CLUSTER=dev\n");
    autoscaling(
        &moto,
        &[
            ("Action", "CreateLaunchConfiguration"),
            ("LaunchConfigurationName", "dev-worker"),
            ("ImageId", "ami-12c6146b"),
            ("InstanceType", "t3.nano"),
            ("UserData", &user_data),
        ],
    );
    for args in [
        &["-v", "lc", "create", "dev.worker"][..],
        &["-v", "lc", "destroy", "dev.worker", "--yes"],
    ] {
        let out = t.run(args);
        out.status(1)
            .stderr_has("launch configuration dev-worker belongs to application `blog`");
        no_writes(&out);
    }
}

#[test]
fn an_untagged_group_and_template_are_taken_over_and_tagged_on_the_first_write() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    foreign_group(&moto, "dev-web", None); // the old tool's: no udo tags at all
    let out = t.run(&["asg", "updatelc", "dev.web"]);
    out.ok()
        .stdout_has("Tagged launch template dev-web as udo's (udo:app=shop)")
        .stdout_has("Created launch template dev-web version 2")
        .stdout_has("udo:app=shop");
    let g = group_xml(&moto, "dev-web");
    assert!(g.contains("<Key>udo:app</Key>"), "{g}");
    let lt = ec2(
        &moto,
        &[
            ("Action", "DescribeLaunchTemplates"),
            ("LaunchTemplateName.1", "dev-web"),
        ],
    );
    let id = values(&lt, "launchTemplateId").remove(0);
    let tags = ec2(
        &moto,
        &[
            ("Action", "DescribeTags"),
            ("Filter.1.Name", "resource-id"),
            ("Filter.1.Value.1", &id),
            ("Filter.2.Name", "key"),
            ("Filter.2.Value.1", "udo:app"),
        ],
    );
    assert!(tags.contains("<value>shop</value>"), "{tags}");
    // from now on it is udo's: a second run has nothing to do
    t.run(&["asg", "updatelc", "dev.web"])
        .ok()
        .stdout_has("nothing to do");
}

#[test]
fn groups_go_only_into_the_clusters_own_subnets() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    // Another network with the very same CIDRs, not udo's (another application's).
    let vpc = ec2(
        &moto,
        &[("Action", "CreateVpc"), ("CidrBlock", "10.20.0.0/16")],
    );
    let vpc = values(&vpc, "vpcId").remove(0);
    let mut foreign = Vec::new();
    for cidr in ["10.20.1.0/24", "10.20.2.0/24"] {
        let s = ec2(
            &moto,
            &[
                ("Action", "CreateSubnet"),
                ("VpcId", &vpc),
                ("CidrBlock", cidr),
                ("TagSpecification.1.ResourceType", "subnet"),
                ("TagSpecification.1.Tag.1.Key", "udo:app"),
                ("TagSpecification.1.Tag.1.Value", "blog"),
                ("TagSpecification.1.Tag.2.Key", "udo:cluster"),
                ("TagSpecification.1.Tag.2.Value", "dev"),
            ],
        );
        foreign.push(values(&s, "subnetId").remove(0));
    }
    // No udo network yet: refused before any write, saying what to run.
    let out = t.run(&["-v", "asg", "create", "dev.web"]);
    out.status(1)
        .stderr_has("cluster dev has no udo network")
        .stderr_has("run `udo cluster create dev` first");
    no_writes(&out);

    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    let g = group_xml(&moto, "dev-web");
    let zone = values(&g, "VPCZoneIdentifier").remove(0);
    for id in &foreign {
        assert!(!zone.contains(id.as_str()), "placed in {id}: {zone}");
    }
    let ours = ec2(
        &moto,
        &[
            ("Action", "DescribeSubnets"),
            ("Filter.1.Name", "tag:udo:app"),
            ("Filter.1.Value.1", "shop"),
        ],
    );
    for id in zone.split(',') {
        assert!(ours.contains(id), "{id} is not one of shop's subnets");
    }
}

fn gateway_of(moto: &Moto) -> String {
    let igw = ec2(
        moto,
        &[
            ("Action", "DescribeInternetGateways"),
            ("Filter.1.Name", "tag:udo:app"),
            ("Filter.1.Value.1", "shop"),
        ],
    );
    values(&igw, "internetGatewayId").remove(0)
}

fn vpc_of(moto: &Moto) -> String {
    let v = ec2(
        moto,
        &[
            ("Action", "DescribeVpcs"),
            ("Filter.1.Name", "tag:udo:app"),
            ("Filter.1.Value.1", "shop"),
        ],
    );
    values(&v, "vpcId").remove(0)
}

fn route_tables(moto: &Moto) -> String {
    ec2(
        moto,
        &[
            ("Action", "DescribeRouteTables"),
            ("Filter.1.Name", "tag:udo:app"),
            ("Filter.1.Value.1", "shop"),
        ],
    )
}

#[test]
fn a_default_route_to_a_replaced_gateway_is_shown_and_repaired() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    let (old, vpc) = (gateway_of(&moto), vpc_of(&moto));
    // The gateway is replaced by hand: the route now points at one that is gone.
    ec2(
        &moto,
        &[
            ("Action", "DetachInternetGateway"),
            ("InternetGatewayId", &old),
            ("VpcId", &vpc),
        ],
    );
    ec2(
        &moto,
        &[
            ("Action", "DeleteInternetGateway"),
            ("InternetGatewayId", &old),
        ],
    );
    let rts = route_tables(&moto);
    assert!(rts.contains("<state>blackhole</state>"), "{rts}");

    let plan = t.run(&["plan", "dev", "--exit-code"]);
    plan.status(3)
        .stdout_has("replace the default route")
        .stdout_has("blackhole");
    let out = t.run(&["cluster", "create", "dev"]);
    out.ok().stdout_has("Replaced default route 0.0.0.0/0");
    let new = gateway_of(&moto);
    assert_ne!(new, old);
    let rts = route_tables(&moto);
    assert!(
        rts.contains(&format!("<gatewayId>{new}</gatewayId>")),
        "{rts}"
    );
    assert!(!rts.contains("blackhole"), "{rts}");
    t.run(&["cluster", "create", "dev"])
        .ok()
        .stdout_has("nothing to do");
}

#[test]
fn a_default_route_to_something_else_is_replaced_by_apply() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    // Someone pointed the default route at a network interface (a NAT instance, say).
    let subnet = values(&route_tables(&moto), "subnetId").remove(0);
    let eni = ec2(
        &moto,
        &[("Action", "CreateNetworkInterface"), ("SubnetId", &subnet)],
    );
    let eni = values(&eni, "networkInterfaceId").remove(0);
    let rt = values(&route_tables(&moto), "routeTableId").remove(0);
    ec2(
        &moto,
        &[
            ("Action", "ReplaceRoute"),
            ("RouteTableId", &rt),
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("NetworkInterfaceId", &eni),
        ],
    );
    t.run(&["plan", "dev"])
        .stdout_has(&format!("replace the default route (now {eni}, active)"));
    t.run(&["apply", "dev", "--yes"])
        .ok()
        .stdout_has("Replaced default route");
    let rts = route_tables(&moto);
    assert!(!rts.contains(&eni), "{rts}");
    assert!(
        rts.contains(&format!("<gatewayId>{}</gatewayId>", gateway_of(&moto))),
        "{rts}"
    );
    t.run(&["plan", "dev", "--exit-code"]).ok();
}

#[test]
fn a_subnet_tied_to_another_route_table_is_reported_not_taken() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    let vpc = vpc_of(&moto);
    let rts = route_tables(&moto);
    let assoc = values(&rts, "routeTableAssociationId");
    let subnets = values(&rts, "subnetId");
    // Move the first subnet to a route table of someone else's (say, through a NAT).
    let foreign = ec2(&moto, &[("Action", "CreateRouteTable"), ("VpcId", &vpc)]);
    let foreign = values(&foreign, "routeTableId").remove(0);
    ec2(
        &moto,
        &[
            ("Action", "DisassociateRouteTable"),
            ("AssociationId", &assoc[0]),
        ],
    );
    ec2(
        &moto,
        &[
            ("Action", "AssociateRouteTable"),
            ("RouteTableId", &foreign),
            ("SubnetId", &subnets[0]),
        ],
    );
    let out = t.run(&["cluster", "create", "dev"]);
    out.status(1)
        .stderr_has(&format!(
            "subnet {} (10.20.1.0/24) of cluster dev is associated with route table {foreign}, which udo did not make",
            subnets[0]
        ))
        .stdout_lacks("Routed subnet");
    // still where its owner put it
    let after = ec2(
        &moto,
        &[
            ("Action", "DescribeRouteTables"),
            ("RouteTableId.1", &foreign),
        ],
    );
    assert!(after.contains(&subnets[0]), "{after}");
}

#[test]
fn a_subnet_tied_to_a_copy_of_the_clusters_route_table_is_moved_back() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    let vpc = vpc_of(&moto);
    let rts = route_tables(&moto);
    let main = values(&rts, "routeTableId").remove(0);
    let assoc = values(&rts, "routeTableAssociationId");
    let subnets = values(&rts, "subnetId");
    let copy = ec2(
        &moto,
        &[
            ("Action", "CreateRouteTable"),
            ("VpcId", &vpc),
            ("TagSpecification.1.ResourceType", "route-table"),
            ("TagSpecification.1.Tag.1.Key", "udo:app"),
            ("TagSpecification.1.Tag.1.Value", "shop"),
            ("TagSpecification.1.Tag.2.Key", "udo:cluster"),
            ("TagSpecification.1.Tag.2.Value", "dev"),
        ],
    );
    let copy = values(&copy, "routeTableId").remove(0);
    ec2(
        &moto,
        &[
            ("Action", "DisassociateRouteTable"),
            ("AssociationId", &assoc[1]),
        ],
    );
    ec2(
        &moto,
        &[
            ("Action", "AssociateRouteTable"),
            ("RouteTableId", &copy),
            ("SubnetId", &subnets[1]),
        ],
    );
    t.run(&["cluster", "create", "dev"])
        .ok()
        .stdout_has(&format!(
            "Moved subnet {} (10.20.2.0/24) from route table {copy} to {main}",
            subnets[1]
        ));
    let after = ec2(
        &moto,
        &[("Action", "DescribeRouteTables"), ("RouteTableId.1", &main)],
    );
    for s in &subnets {
        assert!(
            after.contains(s.as_str()),
            "{s} not routed by {main}: {after}"
        );
    }
}

#[test]
fn cluster_destroy_refuses_while_others_have_network_interfaces_in_the_vpc() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP);
    t.run(&["cluster", "create", "dev"]).ok();
    let rts = route_tables(&moto);
    let subnet = values(&rts, "subnetId").remove(0);
    let eni = ec2(
        &moto,
        &[
            ("Action", "CreateNetworkInterface"),
            ("SubnetId", &subnet),
            ("Description", "RDSNetworkInterface"),
        ],
    );
    let eni = values(&eni, "networkInterfaceId").remove(0);
    let out = t.run(&["-v", "cluster", "destroy", "dev", "--yes"]);
    out.status(1)
        .stderr_has("still has 1 network interface in use")
        .stderr_has(&format!("{eni} in {subnet} (\"RDSNetworkInterface\""))
        .stderr_has("nothing was changed");
    no_writes(&out);
    // internet access is intact
    assert_eq!(values(&route_tables(&moto), "subnetId").len(), 2);

    ec2(
        &moto,
        &[
            ("Action", "DeleteNetworkInterface"),
            ("NetworkInterfaceId", &eni),
        ],
    );
    t.run(&["cluster", "destroy", "dev", "--yes"]).ok();
}

#[test]
fn a_rollout_in_progress_is_left_to_the_rollout() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(APP).env("UDO_POLL_MS", "20");
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    // A rollout killed after its surge: the saved sizes in the tag, desired raised by one.
    autoscaling(
        &moto,
        &[
            ("Action", "CreateOrUpdateTags"),
            ("Tags.member.1.ResourceId", "dev-web"),
            ("Tags.member.1.ResourceType", "auto-scaling-group"),
            ("Tags.member.1.Key", "udo:rollout"),
            (
                "Tags.member.1.Value",
                "min=1 max=3 desired=1 batch=1 suspended=",
            ),
            ("Tags.member.1.PropagateAtLaunch", "false"),
        ],
    );
    autoscaling(
        &moto,
        &[
            ("Action", "UpdateAutoScalingGroup"),
            ("AutoScalingGroupName", "dev-web"),
            ("DesiredCapacity", "2"),
        ],
    );
    // udo.yml now says other sizes: nothing but the rollout may touch the group.
    t.write(
        "udo.yml",
        &APP.replace(
            "scale_policy: {min_size: 1, max_size: 3, desired: 1}",
            "scale_policy: {min_size: 1, max_size: 4, desired: 1}",
        ),
    );
    for args in [
        &["-v", "asg", "updatelc", "dev.web"][..],
        &["-v", "asg", "scale", "dev.web", "3"],
        &["-v", "asg", "create", "dev.web"],
        &["-v", "apply", "dev.web", "--yes"],
    ] {
        let out = t.run(args);
        out.status(1)
            .stderr_has("a rollout of dev-web is in progress")
            .stderr_has("`udo asg rollout dev.web` resumes the rollout");
        no_writes(&out);
    }
    let plan = t.run(&["plan", "dev.web"]);
    plan.stdout_has("rollout in progress")
        .stdout_lacks("max size 3 -> 4")
        .stdout_lacks("desired capacity");

    t.run(&["asg", "rollout", "dev.web", "--yes"])
        .ok()
        .stdout_has("Resumed rollout of ASgroup dev-web")
        .stdout_has("Restored ASgroup dev-web to desired 1, min 1, max 3");
    let g = group_xml(&moto, "dev-web");
    assert!(!g.contains("udo:rollout"), "{g}");
    // and then udo.yml applies again
    t.run(&["asg", "updatelc", "dev.web"])
        .ok()
        .stdout_has("max size 3 -> 4");
}
