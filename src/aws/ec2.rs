//! EC2: cluster networks (VPC, subnets, internet gateway, route table) and launch templates.
//! Every lookup is filtered by name, id or udo's tags; nothing lists a whole account.

use super::idempotent::{already_done, client_token};
use super::{Clients, error, error_code};
use crate::error::Result;
use crate::launch::{LaunchSpec, Metadata, Volume, normalize_price};
use crate::model::live::tag;
/// udo's records of what EC2 has, defined with the pure model (`model::live`).
pub use crate::model::live::{Gateway, Instance, RouteTable, Subnet, Vpc};
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, InstanceType, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateHttpTokensState,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMarketOptionsRequest, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateInstanceMetadataTagsState,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, LaunchTemplatePlacementRequest,
    LaunchTemplateSpotMarketOptionsRequest, LaunchTemplateTagSpecificationRequest, MarketType,
    RequestLaunchTemplateData, ResourceType, ResponseLaunchTemplateData, Tag, TagSpecification,
    Tenancy, VolumeType,
};
use base64::Engine as _;

pub fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

fn tag_spec(kind: ResourceType, tags: &[(String, String)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

fn tags_of(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- networks

fn gateway_of(g: &aws_sdk_ec2::types::InternetGateway) -> Gateway {
    Gateway {
        id: g.internet_gateway_id().unwrap_or_default().to_string(),
        attached_to: g
            .attachments()
            .iter()
            .filter_map(|a| a.vpc_id().map(String::from))
            .collect(),
    }
}

/// Filters that pick the resources udo created for one cluster of one app.
pub fn udo_filters(app: &str, cluster: Option<&str>) -> Vec<Filter> {
    let mut f = vec![filter("tag:udo:app", &[app])];
    if let Some(c) = cluster {
        f.push(filter("tag:udo:cluster", &[c]));
    }
    f
}

/// The app's udo-created VPCs (one cluster's when `cluster` is given).
pub async fn vpcs(c: &Clients, app: &str, cluster: Option<&str>) -> Result<Vec<Vpc>> {
    let out = c
        .ec2
        .describe_vpcs()
        .set_filters(Some(udo_filters(app, cluster)))
        .send()
        .await
        .map_err(|e| error("looking up cluster VPCs", e))?;
    Ok(out
        .vpcs()
        .iter()
        .map(|v| Vpc {
            id: v.vpc_id().unwrap_or_default().to_string(),
            cidr: v.cidr_block().unwrap_or_default().to_string(),
            state: v
                .state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            tags: tags_of(v.tags()),
        })
        .collect())
}

fn subnet_of(s: &aws_sdk_ec2::types::Subnet) -> Subnet {
    Subnet {
        id: s.subnet_id().unwrap_or_default().to_string(),
        cidr: s.cidr_block().unwrap_or_default().to_string(),
        az: s.availability_zone().unwrap_or_default().to_string(),
        vpc_id: s.vpc_id().unwrap_or_default().to_string(),
        free_addresses: s.available_ip_address_count().unwrap_or_default(),
        map_public: s.map_public_ip_on_launch().unwrap_or_default(),
        tags: tags_of(s.tags()),
    }
}

/// Subnets matching the filters, all pages.
pub async fn subnets(c: &Clients, filters: Vec<Filter>) -> Result<Vec<Subnet>> {
    let mut out = Vec::new();
    let mut pages = c
        .ec2
        .describe_subnets()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("looking up subnets", e))?;
        out.extend(page.subnets().iter().map(subnet_of));
    }
    Ok(out)
}

/// Every gateway udo made for a cluster, attached or not, found by udo's tags.
pub async fn gateways_tagged(c: &Clients, app: &str, cluster: &str) -> Result<Vec<Gateway>> {
    let out = c
        .ec2
        .describe_internet_gateways()
        .set_filters(Some(udo_filters(app, Some(cluster))))
        .send()
        .await
        .map_err(|e| error("looking up internet gateways", e))?;
    Ok(out.internet_gateways().iter().map(gateway_of).collect())
}

/// The route tables udo made for the cluster (tagged) in the given VPCs: normally one, more
/// only if an interrupted or retried create left a copy.
pub async fn route_tables(
    c: &Clients,
    vpc_ids: &[&str],
    app: &str,
    cluster: &str,
) -> Result<Vec<RouteTable>> {
    let mut filters = udo_filters(app, Some(cluster));
    filters.push(filter("vpc-id", vpc_ids));
    let out = c
        .ec2
        .describe_route_tables()
        .set_filters(Some(filters))
        .send()
        .await
        .map_err(|e| error("looking up the route table", e))?;
    Ok(out
        .route_tables()
        .iter()
        .map(|rt| RouteTable {
            id: rt.route_table_id().unwrap_or_default().to_string(),
            vpc_id: rt.vpc_id().unwrap_or_default().to_string(),
            default_route: rt
                .routes()
                .iter()
                .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0")),
            default_target: rt
                .routes()
                .iter()
                .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                .map(|r| {
                    let target = r
                        .gateway_id()
                        .or(r.nat_gateway_id())
                        .or(r.network_interface_id())
                        .or(r.instance_id())
                        .or(r.transit_gateway_id())
                        .or(r.vpc_peering_connection_id())
                        .unwrap_or_default();
                    (
                        target.to_string(),
                        r.state()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_else(|| "active".into()),
                    )
                }),
            associations: rt
                .associations()
                .iter()
                .filter_map(|a| {
                    Some((
                        a.route_table_association_id()?.to_string(),
                        a.subnet_id()?.to_string(),
                    ))
                })
                .collect(),
        })
        .collect())
}

/// A network interface in a VPC: anything that has an address there (an instance, a database,
/// a load balancer, a Lambda function …).
#[derive(Debug, Clone)]
pub struct NetworkInterface {
    pub id: String,
    pub description: String,
    pub subnet_id: String,
    /// The instance it is attached to, if any.
    pub instance: Option<String>,
    /// What made it (`amazon-rds`, `amazon-elb`, … for AWS-managed ones), if AWS says.
    pub requester: Option<String>,
}

/// Every network interface in the given VPCs, all pages (one call for a small account).
pub async fn network_interfaces(c: &Clients, vpc_ids: &[&str]) -> Result<Vec<NetworkInterface>> {
    let mut out = Vec::new();
    let mut pages = c
        .ec2
        .describe_network_interfaces()
        .filters(filter("vpc-id", vpc_ids))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("looking up network interfaces in the VPC", e))?;
        out.extend(page.network_interfaces().iter().map(|n| {
            NetworkInterface {
                id: n.network_interface_id().unwrap_or_default().to_string(),
                description: n.description().unwrap_or_default().to_string(),
                subnet_id: n.subnet_id().unwrap_or_default().to_string(),
                instance: n
                    .attachment()
                    .and_then(|a| a.instance_id())
                    .map(String::from),
                requester: n.requester_id().map(String::from),
            }
        }));
    }
    Ok(out)
}

pub async fn create_vpc(c: &Clients, cidr: &str, tags: &[(String, String)]) -> Result<String> {
    let out = c
        .ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tag_spec(ResourceType::Vpc, tags))
        .send()
        .await
        .map_err(|e| error(format!("creating VPC {cidr}"), e))?;
    Ok(out
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn create_subnet(
    c: &Clients,
    vpc_id: &str,
    cidr: &str,
    az: Option<&str>,
    tags: &[(String, String)],
) -> Result<String> {
    let res = c
        .ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .set_availability_zone(az.map(String::from))
        .tag_specifications(tag_spec(ResourceType::Subnet, tags))
        .send()
        .await;
    let out = match res {
        Ok(out) => out,
        // A retry after a lost reply: the first request made it. Carry on with it when it is
        // the cluster's own (tagged), else the conflict is real.
        Err(e) if error_code(&e) == Some("InvalidSubnet.Conflict") => {
            let found = subnets(
                c,
                vec![filter("vpc-id", &[vpc_id]), filter("cidr-block", &[cidr])],
            )
            .await?;
            return match found
                .into_iter()
                .find(|s| s.cluster().is_some() && s.cluster() == tag(tags, "udo:cluster"))
            {
                Some(s) => Ok(s.id),
                None => Err(error(format!("creating subnet {cidr}"), e)),
            };
        }
        Err(e) => return Err(error(format!("creating subnet {cidr}"), e)),
    };
    Ok(out
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn map_public_ips(c: &Clients, subnet_id: &str) -> Result<()> {
    c.ec2
        .modify_subnet_attribute()
        .subnet_id(subnet_id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .map_err(|e| error(format!("turning on public addresses in {subnet_id}"), e))?;
    Ok(())
}

pub async fn create_gateway(c: &Clients, tags: &[(String, String)]) -> Result<String> {
    let out = c
        .ec2
        .create_internet_gateway()
        .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
        .send()
        .await
        .map_err(|e| error("creating the internet gateway", e))?;
    Ok(out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn attach_gateway(c: &Clients, igw: &str, vpc_id: &str) -> Result<()> {
    let res = c
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(vpc_id)
        .send()
        .await;
    match res {
        Ok(_) => {}
        // A retry whose first reply was lost: done if this gateway is attached to this VPC
        // (the same code also means "the VPC has another gateway", which is a real failure).
        Err(e) if error_code(&e) == Some("Resource.AlreadyAssociated") => {
            let out = c
                .ec2
                .describe_internet_gateways()
                .internet_gateway_ids(igw)
                .send()
                .await
                .map_err(|e| error("looking up the internet gateway", e))?;
            let attached = out
                .internet_gateways()
                .iter()
                .any(|g| gateway_of(g).attached_to.iter().any(|v| v == vpc_id));
            if !attached {
                return Err(error(format!("attaching {igw} to {vpc_id}"), e));
            }
        }
        Err(e) => return Err(error(format!("attaching {igw} to {vpc_id}"), e)),
    }
    Ok(())
}

pub async fn create_route_table(
    c: &Clients,
    vpc_id: &str,
    tags: &[(String, String)],
) -> Result<String> {
    let out = c
        .ec2
        .create_route_table()
        // A retried create (lost reply) gets the table the first try made, not a copy.
        .client_token(client_token())
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
        .send()
        .await
        .map_err(|e| error("creating the route table", e))?;
    Ok(out
        .route_table()
        .and_then(|r| r.route_table_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn create_default_route(c: &Clients, rt: &str, igw: &str) -> Result<()> {
    c.ec2
        .create_route()
        .route_table_id(rt)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(igw)
        .send()
        .await
        .map(drop)
        .or_else(|e| already_done(e, &["RouteAlreadyExists"], "adding the default route"))?;
    Ok(())
}

/// Points the route table's default route at `igw` (it exists, but at another target or a
/// gateway that is gone). Safe to repeat.
pub async fn replace_default_route(c: &Clients, rt: &str, igw: &str) -> Result<()> {
    c.ec2
        .replace_route()
        .route_table_id(rt)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(igw)
        .send()
        .await
        .map_err(|e| error(format!("replacing the default route of {rt}"), e))?;
    Ok(())
}

/// How associating a subnet with a route table ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Associated {
    /// Associated now, or already (a retry whose first reply was lost).
    Done,
    /// The subnet is tied to another route table: (its id, the association id, its tags).
    Elsewhere(String, String, Vec<(String, String)>),
}

/// Associates the subnet with the route table. AWS answers `Resource.AlreadyAssociated` both
/// when it already is (a retried call) and when the subnet is tied to another table, so then
/// udo reads which table it is.
pub async fn associate(c: &Clients, rt: &str, subnet_id: &str) -> Result<Associated> {
    let res = c
        .ec2
        .associate_route_table()
        .route_table_id(rt)
        .subnet_id(subnet_id)
        .send()
        .await;
    match res {
        Ok(_) => Ok(Associated::Done),
        Err(e) if error_code(&e) == Some("Resource.AlreadyAssociated") => {
            match association_of(c, subnet_id).await? {
                Some((table, _, _)) if table == rt => Ok(Associated::Done),
                Some((table, assoc, tags)) => Ok(Associated::Elsewhere(table, assoc, tags)),
                None => Err(error(format!("associating {subnet_id} with {rt}"), e)),
            }
        }
        Err(e) => Err(error(format!("associating {subnet_id} with {rt}"), e)),
    }
}

/// The route table a subnet is explicitly associated with: (table id, association id, tags).
pub async fn association_of(
    c: &Clients,
    subnet_id: &str,
) -> Result<Option<(String, String, Vec<(String, String)>)>> {
    let out = c
        .ec2
        .describe_route_tables()
        .filters(filter("association.subnet-id", &[subnet_id]))
        .send()
        .await
        .map_err(|e| error(format!("looking up the route table of {subnet_id}"), e))?;
    Ok(out.route_tables().iter().find_map(|t| {
        let assoc = t
            .associations()
            .iter()
            .find(|a| a.subnet_id() == Some(subnet_id))?;
        Some((
            t.route_table_id().unwrap_or_default().to_string(),
            assoc
                .route_table_association_id()
                .unwrap_or_default()
                .to_string(),
            tags_of(t.tags()),
        ))
    }))
}

/// Moves a subnet's association to another route table (ReplaceRouteTableAssociation).
pub async fn reassociate(c: &Clients, association: &str, rt: &str) -> Result<()> {
    c.ec2
        .replace_route_table_association()
        .association_id(association)
        .route_table_id(rt)
        .send()
        .await
        .map_err(|e| error(format!("moving association {association} to {rt}"), e))?;
    Ok(())
}

pub async fn disassociate(c: &Clients, association: &str) -> Result<()> {
    c.ec2
        .disassociate_route_table()
        .association_id(association)
        .send()
        .await
        .map(drop)
        .or_else(|e| {
            already_done(
                e,
                &["InvalidAssociationID.NotFound"],
                "detaching a subnet from the route table",
            )
        })?;
    Ok(())
}

pub async fn delete_route_table(c: &Clients, rt: &str) -> Result<()> {
    c.ec2
        .delete_route_table()
        .route_table_id(rt)
        .send()
        .await
        .map(drop)
        .or_else(|e| {
            already_done(
                e,
                &["InvalidRouteTableID.NotFound"],
                format!("deleting route table {rt}"),
            )
        })?;
    Ok(())
}

pub async fn detach_gateway(c: &Clients, igw: &str, vpc_id: &str) -> Result<()> {
    c.ec2
        .detach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(vpc_id)
        .send()
        .await
        .map(drop)
        .or_else(|e| {
            already_done(
                e,
                &["Gateway.NotAttached", "InvalidInternetGatewayID.NotFound"],
                format!("detaching {igw}"),
            )
        })?;
    Ok(())
}

pub async fn delete_gateway(c: &Clients, igw: &str) -> Result<()> {
    c.ec2
        .delete_internet_gateway()
        .internet_gateway_id(igw)
        .send()
        .await
        .map(drop)
        .or_else(|e| {
            already_done(
                e,
                &["InvalidInternetGatewayID.NotFound"],
                format!("deleting {igw}"),
            )
        })?;
    Ok(())
}

pub async fn delete_subnet(c: &Clients, id: &str) -> Result<()> {
    c.ec2
        .delete_subnet()
        .subnet_id(id)
        .send()
        .await
        .map(drop)
        .or_else(|e| {
            already_done(
                e,
                &["InvalidSubnetID.NotFound"],
                format!("deleting subnet {id}"),
            )
        })?;
    Ok(())
}

pub async fn delete_vpc(c: &Clients, id: &str) -> Result<()> {
    c.ec2
        .delete_vpc()
        .vpc_id(id)
        .send()
        .await
        .map(drop)
        .or_else(|e| already_done(e, &["InvalidVpcID.NotFound"], format!("deleting VPC {id}")))?;
    Ok(())
}

// ---------------------------------------------------------------- launch templates

#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub default_version: i64,
    pub latest_version: i64,
}

#[derive(Debug, Clone)]
pub struct TemplateVersion {
    pub template_id: String,
    pub number: i64,
    /// Whether this version is the template's default (what `$Default` launches).
    pub is_default: bool,
    pub spec: LaunchSpec,
}

fn not_found(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.contains("NotFound") || c.contains("NotFoundException"))
}

/// The app's udo-managed launch templates, found by tag.
pub async fn templates(c: &Clients, app: &str) -> Result<Vec<Template>> {
    let mut out = Vec::new();
    let mut pages = c
        .ec2
        .describe_launch_templates()
        .filters(filter("tag:udo:app", &[app]))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("listing udo's launch templates", e))?;
        out.extend(page.launch_templates().iter().map(|t| Template {
            id: t.launch_template_id().unwrap_or_default().to_string(),
            name: t.launch_template_name().unwrap_or_default().to_string(),
            default_version: t.default_version_number().unwrap_or_default(),
            latest_version: t.latest_version_number().unwrap_or_default(),
        }));
    }
    Ok(out)
}

/// One version of a template by name (`$Latest`, `$Default` or a number); `None` when the
/// template (or that version) does not exist.
pub async fn template_version(
    c: &Clients,
    name: &str,
    version: &str,
) -> Result<Option<TemplateVersion>> {
    let res = c
        .ec2
        .describe_launch_template_versions()
        .launch_template_name(name)
        .versions(version)
        .send()
        .await;
    let out = match res {
        Ok(out) => out,
        Err(e) if not_found(error_code(&e)) => return Ok(None),
        Err(e) => return Err(error(format!("reading launch template {name}"), e)),
    };
    Ok(out
        .launch_template_versions()
        .first()
        .map(|v| TemplateVersion {
            template_id: v.launch_template_id().unwrap_or_default().to_string(),
            number: v.version_number().unwrap_or_default(),
            is_default: v.default_version().unwrap_or(false),
            spec: v
                .launch_template_data()
                .map(spec_from_template)
                .unwrap_or_default(),
        }))
}

fn spec_from_template(d: &ResponseLaunchTemplateData) -> LaunchSpec {
    let nic = d.network_interfaces().first();
    let mut groups: Vec<String> = d.security_group_ids().to_vec();
    groups.extend(d.security_groups().iter().cloned());
    if let Some(n) = nic {
        groups.extend(n.groups().iter().cloned());
    }
    let user_data = d
        .user_data()
        .and_then(|u| base64::engine::general_purpose::STANDARD.decode(u).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let tags = d
        .tag_specifications()
        .iter()
        .find(|t| t.resource_type() == Some(&ResourceType::Instance))
        .map(|t| tags_of(t.tags()))
        .unwrap_or_default();
    LaunchSpec {
        image_id: d.image_id().map(String::from),
        instance_type: d.instance_type().map(|t| t.as_str().to_string()),
        key_name: d.key_name().map(String::from),
        iam_profile: d
            .iam_instance_profile()
            .and_then(|p| p.arn().or(p.name()))
            .map(String::from),
        security_groups: groups,
        user_data,
        tenancy: d
            .placement()
            .and_then(|p| p.tenancy())
            .map(|t| t.as_str().to_string()),
        spot_price: d
            .instance_market_options()
            .and_then(|m| m.spot_options())
            .and_then(|s| s.max_price())
            .map(normalize_price),
        public: nic
            .and_then(|n| n.associate_public_ip_address())
            .unwrap_or(false),
        tags,
        metadata: d.metadata_options().map(|m| Metadata {
            tokens_required: m.http_tokens() == Some(&LaunchTemplateHttpTokensState::Required),
            hop_limit: i64::from(m.http_put_response_hop_limit().unwrap_or(1)),
            instance_tags: m.instance_metadata_tags()
                == Some(&LaunchTemplateInstanceMetadataTagsState::Enabled),
        }),
        // The root mapping is told apart later (`LaunchSpec::aligned`): only the AMI knows
        // its device name.
        root_volume: None,
        volumes: d
            .block_device_mappings()
            .iter()
            .filter_map(|b| {
                let e = b.ebs()?;
                Some(Volume {
                    device: b.device_name().map(String::from),
                    size: e.volume_size().map(i64::from),
                    kind: e.volume_type().map(|t| t.as_str().to_string()),
                    iops: e.iops().map(i64::from),
                    throughput: e.throughput().map(i64::from),
                    encrypted: e.encrypted().unwrap_or(false),
                    kms_key: e.kms_key_id().map(String::from),
                    delete_on_termination: e.delete_on_termination(),
                })
            })
            .collect(),
    }
}

/// The AMIs' root device names already looked up, per (region, AMI): one DescribeImages per
/// distinct AMI per run, however many templates use it.
static ROOT_DEVICES: std::sync::Mutex<Vec<(String, String, String)>> =
    std::sync::Mutex::new(Vec::new());

/// The name of an AMI's root device (`/dev/xvda`, `/dev/sda1`), which a launch template's
/// root volume mapping must use. Asked only when a mapping is about to be written.
pub async fn root_device(c: &Clients, ami: &str) -> Result<String> {
    let region = c
        .ec2
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let cached = |cache: &Vec<(String, String, String)>| {
        cache
            .iter()
            .find(|(r, a, _)| *r == region && a == ami)
            .map(|(_, _, d)| d.clone())
    };
    if let Some(d) = cached(&ROOT_DEVICES.lock().expect("root devices")) {
        return Ok(d);
    }
    let res = c.ec2.describe_images().image_ids(ami).send().await;
    let context = || format!("looking up the root device of AMI {ami}");
    let out = match res {
        Ok(out) => out,
        Err(e) if error_code(&e).is_some_and(|c| c.starts_with("InvalidAMIID")) => {
            return Err(crate::failure::Failure::NoSuchAmi {
                ami: ami.to_string(),
                region: region.to_string(),
            }
            .into());
        }
        Err(e) => return Err(error(context(), e)),
    };
    let Some(device) = out
        .images()
        .first()
        .and_then(|i| i.root_device_name())
        .map(String::from)
    else {
        return Err(crate::failure::Failure::NoSuchAmi {
            ami: ami.to_string(),
            region: region.to_string(),
        }
        .into());
    };
    let mut cache = ROOT_DEVICES.lock().expect("root devices");
    if cached(&cache).is_none() {
        cache.push((region.clone(), ami.to_string(), device.clone()));
    }
    Ok(device)
}

/// The block device mappings to write: the root volume under the AMI's root device name
/// (looked up only when there is a mapping to write), then the extra volumes.
pub async fn mappings(c: &Clients, spec: &LaunchSpec) -> Result<Vec<(String, Volume)>> {
    let mut out = Vec::new();
    if let Some(root) = &spec.root_volume {
        let ami = spec.image_id.as_deref().unwrap_or_default();
        let device = match &root.device {
            // named by the live version for this AMI (`LaunchSpec::with_root_device_of`)
            Some(d) => d.clone(),
            None => root_device(c, ami).await?,
        };
        if let Some(v) = spec
            .volumes
            .iter()
            .find(|v| v.device.as_deref() == Some(device.as_str()))
        {
            return Err(crate::failure::Failure::RootDeviceInVolumes {
                device: v.device.clone().unwrap_or_default(),
                ami: ami.to_string(),
            }
            .into());
        }
        out.push((device, root.clone()));
    }
    for v in &spec.volumes {
        out.push((v.device.clone().unwrap_or_default(), v.clone()));
    }
    Ok(out)
}

fn template_data(spec: &LaunchSpec, mappings: &[(String, Volume)]) -> RequestLaunchTemplateData {
    let mut d = RequestLaunchTemplateData::builder()
        .set_image_id(spec.image_id.clone())
        .set_instance_type(spec.instance_type.as_deref().map(InstanceType::from))
        .set_key_name(spec.key_name.clone())
        .user_data(base64::engine::general_purpose::STANDARD.encode(&spec.user_data));
    if let Some(p) = &spec.iam_profile {
        let b = LaunchTemplateIamInstanceProfileSpecificationRequest::builder();
        d = d.iam_instance_profile(if p.starts_with("arn:") {
            b.arn(p).build()
        } else {
            b.name(p).build()
        });
    }
    if spec.public {
        d = d.network_interfaces(
            LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                .device_index(0)
                .associate_public_ip_address(true)
                .set_groups(Some(spec.security_groups.clone()).filter(|g| !g.is_empty()))
                .build(),
        );
    } else if !spec.security_groups.is_empty() {
        let (ids, names): (Vec<String>, Vec<String>) = spec
            .security_groups
            .iter()
            .cloned()
            .partition(|g| g.starts_with("sg-"));
        d = d
            .set_security_group_ids(Some(ids).filter(|v| !v.is_empty()))
            .set_security_groups(Some(names).filter(|v| !v.is_empty()));
    }
    if let Some(t) = &spec.tenancy {
        d = d.placement(
            LaunchTemplatePlacementRequest::builder()
                .tenancy(Tenancy::from(t.as_str()))
                .build(),
        );
    }
    if let Some(p) = &spec.spot_price {
        d = d.instance_market_options(
            LaunchTemplateInstanceMarketOptionsRequest::builder()
                .market_type(MarketType::Spot)
                .spot_options(
                    LaunchTemplateSpotMarketOptionsRequest::builder()
                        .max_price(p)
                        .build(),
                )
                .build(),
        );
    }
    if let Some(m) = &spec.metadata {
        d = d.metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
                .http_tokens(if m.tokens_required {
                    LaunchTemplateHttpTokensState::Required
                } else {
                    LaunchTemplateHttpTokensState::Optional
                })
                .http_put_response_hop_limit(m.hop_limit as i32)
                .instance_metadata_tags(if m.instance_tags {
                    LaunchTemplateInstanceMetadataTagsState::Enabled
                } else {
                    LaunchTemplateInstanceMetadataTagsState::Disabled
                })
                .build(),
        );
    }
    for (device, v) in mappings {
        d = d.block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(device)
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .encrypted(v.encrypted)
                        .set_volume_size(v.size.map(|s| s as i32))
                        .set_volume_type(v.kind.as_deref().map(VolumeType::from))
                        .set_iops(v.iops.map(|i| i as i32))
                        .set_throughput(v.throughput.map(|t| t as i32))
                        .set_kms_key_id(v.kms_key.clone())
                        .set_delete_on_termination(v.delete_on_termination)
                        .build(),
                )
                .build(),
        );
    }
    if !spec.tags.is_empty() {
        for kind in [ResourceType::Instance, ResourceType::Volume] {
            d = d.tag_specifications(
                LaunchTemplateTagSpecificationRequest::builder()
                    .resource_type(kind)
                    .set_tags(Some(
                        spec.tags
                            .iter()
                            .map(|(k, v)| Tag::builder().key(k).value(v).build())
                            .collect(),
                    ))
                    .build(),
            );
        }
    }
    d.build()
}

/// Creates the template with its first version; returns (template id, version 1).
pub async fn create_template(
    c: &Clients,
    name: &str,
    spec: &LaunchSpec,
    tags: &[(String, String)],
) -> Result<String> {
    let data = template_data(spec, &mappings(c, spec).await?);
    let res = c
        .ec2
        .create_launch_template()
        .client_token(client_token())
        .launch_template_name(name)
        .version_description("udo")
        .launch_template_data(data)
        .tag_specifications(tag_spec(ResourceType::LaunchTemplate, tags))
        .send()
        .await;
    let out = match res {
        Ok(out) => out,
        // Made by the first try of this call (its reply lost) or by an interrupted run: carry
        // on with it when it carries this role's udo tags.
        Err(e) if error_code(&e) == Some("InvalidLaunchTemplateName.AlreadyExistsException") => {
            return match template_by_name(c, name).await? {
                Some((id, have)) if tag(&have, "udo:app") == tag(tags, "udo:app") => Ok(id),
                _ => Err(error(format!("creating launch template {name}"), e)),
            };
        }
        Err(e) => return Err(error(format!("creating launch template {name}"), e)),
    };
    Ok(out
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap_or_default()
        .to_string())
}

/// A template's id and tags by exact name; `None` when it does not exist.
async fn template_by_name(
    c: &Clients,
    name: &str,
) -> Result<Option<(String, Vec<(String, String)>)>> {
    let res = c
        .ec2
        .describe_launch_templates()
        .launch_template_names(name)
        .send()
        .await;
    let out = match res {
        Ok(out) => out,
        Err(e) if not_found(error_code(&e)) => return Ok(None),
        Err(e) => return Err(error(format!("looking up launch template {name}"), e)),
    };
    Ok(out.launch_templates().first().map(|t| {
        (
            t.launch_template_id().unwrap_or_default().to_string(),
            tags_of(t.tags()),
        )
    }))
}

/// Adds a version and makes it the default; returns its number. The client token makes a
/// retry whose first reply was lost get the version the first try made, not a copy.
pub async fn create_template_version(c: &Clients, name: &str, spec: &LaunchSpec) -> Result<i64> {
    let data = template_data(spec, &mappings(c, spec).await?);
    let out = c
        .ec2
        .create_launch_template_version()
        .client_token(client_token())
        .launch_template_name(name)
        .version_description("udo")
        .launch_template_data(data)
        .send()
        .await
        .map_err(|e| {
            error(
                format!("creating a new version of launch template {name}"),
                e,
            )
        })?;
    let number = out
        .launch_template_version()
        .and_then(|v| v.version_number())
        .unwrap_or_default();
    set_default_version(c, name, number).await?;
    Ok(number)
}

/// Makes a version the template's default (safe to repeat).
pub async fn set_default_version(c: &Clients, name: &str, number: i64) -> Result<()> {
    c.ec2
        .modify_launch_template()
        .launch_template_name(name)
        .default_version(number.to_string())
        .send()
        .await
        .map_err(|e| error(format!("making version {number} of {name} the default"), e))?;
    Ok(())
}

/// Sets tags on an EC2 resource (safe to repeat: tags are set, not added).
pub async fn tag_resource(c: &Clients, id: &str, tags: &[(String, String)]) -> Result<()> {
    c.ec2
        .create_tags()
        .resources(id)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| error(format!("tagging {id}"), e))?;
    Ok(())
}

/// Deletes a template; `false` when it was already gone.
pub async fn delete_template(c: &Clients, name: &str) -> Result<bool> {
    match c
        .ec2
        .delete_launch_template()
        .launch_template_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if not_found(error_code(&e)) => Ok(false),
        Err(e) => Err(error(format!("deleting launch template {name}"), e)),
    }
}

// ---------------------------------------------------------------- instances

/// How many instance ids one DescribeInstances call takes.
const INSTANCE_BATCH: usize = 1000;

/// Addresses, launch times and tags of the given instances, in one call per 1000 (paginated).
pub async fn instances(c: &Clients, ids: &[String]) -> Result<Vec<Instance>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for chunk in ids.chunks(INSTANCE_BATCH) {
        let mut pages = c
            .ec2
            .describe_instances()
            .set_instance_ids(Some(chunk.to_vec()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| error("looking up instances", e))?;
            for r in page.reservations() {
                out.extend(r.instances().iter().map(|i| {
                    let tags = tags_of(i.tags());
                    let template = match (
                        tag(&tags, "aws:ec2launchtemplate:id"),
                        tag(&tags, "aws:ec2launchtemplate:version"),
                    ) {
                        (Some(id), Some(v)) => Some((id.to_string(), v.to_string())),
                        _ => None,
                    };
                    Instance {
                        id: i.instance_id().unwrap_or_default().to_string(),
                        private_ip: i.private_ip_address().map(String::from),
                        public_ip: i.public_ip_address().map(String::from),
                        launched: i.launch_time().map(|t| t.secs()),
                        template,
                        tags,
                        spot: i.instance_lifecycle()
                            == Some(&aws_sdk_ec2::types::InstanceLifecycleType::Spot),
                    }
                }));
            }
        }
    }
    Ok(out)
}

/// The `$Latest` version of each named template, in as few calls as AWS allows: by name for
/// one template; for several, one paginated DescribeLaunchTemplateVersions over every
/// template's `$Latest` in the region (the only batched form the API has), kept to `names`.
pub async fn latest_versions(
    c: &Clients,
    names: &[String],
) -> Result<Vec<(String, TemplateVersion)>> {
    if names.len() == 1 {
        return Ok(template_version(c, &names[0], "$Latest")
            .await?
            .map(|v| (names[0].clone(), v))
            .into_iter()
            .collect());
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut pages = c
        .ec2
        .describe_launch_template_versions()
        .versions("$Latest")
        .max_results(200)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("reading launch templates", e))?;
        for v in page.launch_template_versions() {
            let name = v.launch_template_name().unwrap_or_default();
            if names.iter().any(|n| n == name) {
                out.push((
                    name.to_string(),
                    TemplateVersion {
                        template_id: v.launch_template_id().unwrap_or_default().to_string(),
                        number: v.version_number().unwrap_or_default(),
                        is_default: v.default_version().unwrap_or(false),
                        spec: v
                            .launch_template_data()
                            .map(spec_from_template)
                            .unwrap_or_default(),
                    },
                ));
            }
        }
    }
    Ok(out)
}
