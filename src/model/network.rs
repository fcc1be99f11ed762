//! A cluster's network as udo.yml describes it (VPC, subnets, internet access), what udo's
//! tags found of it, and the steps that make what is missing. Pure: the engine reads and writes.

use crate::config::diag::Diagnostic;
use crate::config::schema::{Cidr, parse_cidr};
use crate::config::{Cluster, Config, Role};
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::model::live::{self, Subnet, Vpc};

/// What udo.yml says a cluster's network is.
pub struct NetworkSpec {
    pub app: String,
    pub vpc_cidr: String,
    /// (CIDR, availability zone) for each subnet, in order.
    pub subnets: Vec<(String, Option<String>)>,
    pub public: bool,
}

pub fn app_of(config: &Config, cluster: &Cluster) -> Result<String> {
    cluster
        .settings
        .str("app_name")
        .or_else(|| cluster.roles.first().map(Role::app_name))
        .map(String::from)
        .ok_or_else(|| {
            config
                .error(vec![
                    Diagnostic::at(
                        cluster.span,
                        format!("cluster `{}` has no `app_name`", cluster.name),
                    )
                    .help("set `app_name` at the top of udo.yml"),
                ])
                .into()
        })
}

/// Every subnet CIDR of the cluster: its own and its roles', first occurrence first.
pub fn cluster_cidrs(cluster: &Cluster) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let all = cluster.settings.list("subnets_cidr").into_iter().chain(
        cluster
            .roles
            .iter()
            .flat_map(|r| r.settings.list("subnets_cidr")),
    );
    for c in all {
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    out
}

pub fn network_spec(config: &Config, cluster: &Cluster) -> Result<NetworkSpec> {
    let app = app_of(config, cluster)?;
    let cidrs = cluster_cidrs(cluster);
    let located = |msg: String, help: &str| -> Error {
        config
            .error(vec![
                Diagnostic::at(cluster.span, msg).help(help.to_string()),
            ])
            .into()
    };
    if cidrs.is_empty() {
        return Err(located(
            format!("cluster `{}` has no `subnets_cidr`", cluster.name),
            "list the subnets' CIDR blocks under the cluster, e.g. `subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]`",
        ));
    }
    let parsed: Vec<Cidr> = cidrs.iter().filter_map(|c| parse_cidr(c).ok()).collect();
    let vpc = match cluster.settings.leaf("vpc_cidr") {
        Some(leaf) => {
            let vpc = parse_cidr(&leaf.text).map_err(|e| Error::usage(e, "fix vpc_cidr"))?;
            if let Some(outside) = parsed.iter().find(|c| !vpc.contains(c)) {
                return Err(config
                    .error(vec![
                        Diagnostic::at(
                            leaf.origin.span,
                            format!(
                                "subnet {outside} of cluster `{}` is outside its vpc_cidr {vpc}",
                                cluster.name
                            ),
                        )
                        .help("widen vpc_cidr or fix subnets_cidr"),
                    ])
                    .into());
            }
            vpc
        }
        None => {
            let wide = parsed[0].widen(16);
            if let Some(outside) = parsed.iter().find(|c| !wide.contains(c)) {
                return Err(located(
                    format!(
                        "cluster `{}` has no vpc_cidr, and its subnets {} and {outside} are not in one /16",
                        cluster.name, parsed[0]
                    ),
                    "set `vpc_cidr:` under the cluster to a block holding all of its subnets",
                ));
            }
            wide
        }
    };
    let zones = cluster.settings.list("availability_zones");
    let subnets = cidrs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.clone(),
                (!zones.is_empty()).then(|| zones[i % zones.len()].to_string()),
            )
        })
        .collect();
    let public = cluster
        .roles
        .iter()
        .any(|r| r.settings.bool("public").unwrap_or(true))
        || (cluster.roles.is_empty() && cluster.settings.bool("public").unwrap_or(true));
    Ok(NetworkSpec {
        app,
        vpc_cidr: vpc.to_string(),
        subnets,
        public,
    })
}

pub fn tags(app: &str, cluster: &str, name: String) -> Vec<(String, String)> {
    vec![
        ("Name".into(), name),
        ("udo:app".into(), app.into()),
        ("udo:cluster".into(), cluster.into()),
    ]
}

/// What a cluster's udo tags found, sorted into the network in use and the copies a retried
/// create (its reply lost, so AWS made two) or an interrupted run left.
pub struct Found {
    pub vpc: Option<Vpc>,
    pub subnets: Vec<Subnet>,
    /// The gateway attached to the cluster's VPC.
    pub gateway: Option<live::Gateway>,
    /// A detached gateway of the cluster, attached instead of creating one.
    pub spare_gateway: Option<String>,
    pub route_table: Option<live::RouteTable>,
    pub extra: Vec<Extra>,
}

/// A copy udo made that nothing uses, removed after the network is complete.
#[derive(Clone, Debug)]
pub enum Extra {
    Vpc(String),
    Gateway(String),
    RouteTable(String),
}

impl Extra {
    pub fn describe(&self) -> String {
        match self {
            Extra::Vpc(id) => {
                format!("delete VPC {id}, an empty copy left by an interrupted or retried create")
            }
            Extra::Gateway(id) => format!(
                "delete internet gateway {id}, a detached copy left by an interrupted or retried create"
            ),
            Extra::RouteTable(id) => format!(
                "delete route table {id}, an unused copy left by an interrupted or retried create"
            ),
        }
    }
}

impl Found {
    pub fn sort(
        cluster: &str,
        mut vpcs: Vec<Vpc>,
        subnets: Vec<Subnet>,
        gateways: Vec<live::Gateway>,
        route_tables: Vec<live::RouteTable>,
    ) -> Result<Found> {
        let count = |v: &Vpc| subnets.iter().filter(|s| s.vpc_id == v.id).count();
        // The VPC in use is the one with subnets; empty copies go. Two with subnets is a
        // mess udo cannot sort out alone.
        vpcs.sort_by_key(|v| std::cmp::Reverse(count(v)));
        if vpcs.len() > 1 && count(&vpcs[1]) > 0 {
            return Err(Failure::SeveralVpcsWithSubnets {
                cluster: cluster.to_string(),
                ids: vpcs.iter().map(|v| v.id.clone()).collect(),
            }
            .into());
        }
        let mut extra: Vec<Extra> = vpcs
            .iter()
            .skip(1)
            .map(|v| Extra::Vpc(v.id.clone()))
            .collect();
        let vpc = vpcs.into_iter().next();
        let vpc_id = vpc.as_ref().map(|v| v.id.clone()).unwrap_or_default();
        let gateway = gateways
            .iter()
            .find(|g| g.attached_to.contains(&vpc_id))
            .cloned();
        let mut detached = gateways.iter().filter(|g| g.attached_to.is_empty());
        let spare_gateway = match gateway {
            Some(_) => None,
            None => detached.next().map(|g| g.id.clone()),
        };
        extra.extend(detached.map(|g| Extra::Gateway(g.id.clone())));
        let mut tables: Vec<live::RouteTable> = route_tables
            .into_iter()
            .filter(|rt| rt.vpc_id == vpc_id)
            .collect();
        tables.sort_by_key(|rt| std::cmp::Reverse((rt.associations.len(), rt.default_route)));
        let mut tables = tables.into_iter();
        let route_table = tables.next();
        for rt in tables {
            if rt.associations.is_empty() {
                extra.push(Extra::RouteTable(rt.id));
            }
        }
        let subnets = subnets.into_iter().filter(|s| s.vpc_id == vpc_id).collect();
        Ok(Found {
            vpc,
            subnets,
            gateway,
            spare_gateway,
            route_table,
            extra,
        })
    }
}

/// One change to a cluster's network. Planning and applying share this list, so what
/// `--dry-run` shows is exactly what runs.
#[derive(Clone, Debug)]
pub enum NetStep {
    CreateVpc,
    CreateSubnet {
        index: usize,
    },
    MapPublic {
        cidr: String,
    },
    CreateGateway,
    CreateRouteTable,
    AddDefaultRoute,
    /// The default route goes elsewhere (`was`: its target and state).
    ReplaceDefaultRoute {
        was: String,
    },
    Associate {
        cidr: String,
    },
}

impl NetStep {
    pub fn describe(&self, name: &str, spec: &NetworkSpec) -> String {
        match self {
            NetStep::CreateVpc => format!("create VPC {} for cluster {name}", spec.vpc_cidr),
            NetStep::CreateSubnet { index } => {
                let (cidr, az) = &spec.subnets[*index];
                format!(
                    "create subnet {cidr}{}",
                    az.as_deref()
                        .map(|z| format!(" in {z}"))
                        .unwrap_or_default()
                )
            }
            NetStep::MapPublic { cidr } => {
                format!("give instances in subnet {cidr} public addresses")
            }
            NetStep::CreateGateway => "create and attach an internet gateway".into(),
            NetStep::CreateRouteTable => "create a route table for the cluster".into(),
            NetStep::AddDefaultRoute => "add a default route to the internet gateway".into(),
            NetStep::ReplaceDefaultRoute { was } => format!(
                "replace the default route (now {was}) with one to the cluster's internet gateway"
            ),
            NetStep::Associate { cidr } => {
                format!("route subnet {cidr} through the internet gateway")
            }
        }
    }
}

/// What is missing of the network udo.yml describes, in the order it must be made.
pub fn network_steps(
    spec: &NetworkSpec,
    vpc: Option<&Vpc>,
    subnets: &[Subnet],
    gateway: Option<&live::Gateway>,
    route_table: Option<&live::RouteTable>,
) -> Vec<NetStep> {
    let have = |cidr: &str| subnets.iter().find(|s| s.cidr == cidr);
    let mut steps = Vec::new();
    if vpc.is_none() {
        steps.push(NetStep::CreateVpc);
    }
    for (index, (cidr, _)) in spec.subnets.iter().enumerate() {
        if have(cidr).is_none() {
            steps.push(NetStep::CreateSubnet { index });
        }
    }
    if !spec.public {
        return steps;
    }
    for (cidr, _) in &spec.subnets {
        if !have(cidr).is_some_and(|s| s.map_public) {
            steps.push(NetStep::MapPublic { cidr: cidr.clone() });
        }
    }
    if gateway.is_none() {
        steps.push(NetStep::CreateGateway);
    }
    if route_table.is_none() {
        steps.push(NetStep::CreateRouteTable);
    }
    match route_table {
        Some(rt) if rt.default_route => {
            // Internet access needs the route to go to the gateway attached to the VPC and be
            // active: one to a replaced (deleted) gateway is a `blackhole`.
            let good = match (&rt.default_target, gateway) {
                (Some((target, state)), Some(g)) => *target == g.id && state == "active",
                _ => false,
            };
            if !good {
                steps.push(NetStep::ReplaceDefaultRoute {
                    was: rt
                        .default_target
                        .as_ref()
                        .map(|(t, s)| format!("{t}, {s}"))
                        .unwrap_or_default(),
                });
            }
        }
        _ => steps.push(NetStep::AddDefaultRoute),
    }
    for (cidr, _) in &spec.subnets {
        let associated = match (have(cidr), route_table) {
            (Some(s), Some(rt)) => rt.associations.iter().any(|(_, sid)| *sid == s.id),
            _ => false,
        };
        if !associated {
            steps.push(NetStep::Associate { cidr: cidr.clone() });
        }
    }
    steps
}

/// Ids known so far: found at the start, or made by earlier steps.
pub struct NetState {
    pub vpc: Option<String>,
    /// (CIDR, subnet id)
    pub subnets: Vec<(String, String)>,
    pub gateway: Option<String>,
    /// A detached gateway of the cluster to attach rather than create another.
    pub spare_gateway: Option<String>,
    pub route_table: Option<String>,
}

impl NetState {
    pub fn subnet(&self, cidr: &str) -> Result<String> {
        self.subnets
            .iter()
            .find(|(c, _)| c == cidr)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| {
                Failure::SubnetMissing {
                    cidr: cidr.to_string(),
                }
                .into()
            })
    }
}

pub fn known(id: &Option<String>, what: &str) -> Result<String> {
    id.clone().ok_or_else(|| {
        Failure::NetworkPartMissing {
            what: what.to_string(),
        }
        .into()
    })
}

/// The role's subnet ids among `found` (subnets looked up by its CIDRs, possibly with
/// others'): `subnets` as given, else one per `subnets_cidr`, only from the cluster's udo VPC.
pub fn pick_subnets(role: &Role, found: &[Subnet]) -> Result<Vec<String>> {
    let ids: Vec<String> = role
        .settings
        .list("subnets")
        .into_iter()
        .map(String::from)
        .collect();
    if !ids.is_empty() {
        return Ok(ids);
    }
    let cidrs = role.settings.list("subnets_cidr");
    // Only the cluster's own network, found by udo's tags (app and cluster): a CIDR such as
    // 10.0.1.0/24 exists in many VPCs, and another application's is never a place to launch.
    let ours = |s: &&Subnet| {
        s.cluster() == Some(role.cluster.as_str())
            && crate::model::owner::app_of(&s.tags) == Some(role.app_name())
    };
    let Some(udo_vpc) = found.iter().find(ours).map(|s| s.vpc_id.clone()) else {
        return Err(Failure::NoUdoNetwork {
            cluster: role.cluster.clone(),
            cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
            target: role.target(),
            app: role.app_name().to_string(),
        }
        .into());
    };
    let mut out = Vec::new();
    for cidr in &cidrs {
        match found
            .iter()
            .find(|s| s.cidr == *cidr && s.vpc_id == udo_vpc && ours(s))
        {
            Some(s) => out.push(s.id.clone()),
            None => {
                return Err(Failure::NoSubnetInVpc {
                    cidr: cidr.to_string(),
                    target: role.target(),
                    vpc: udo_vpc,
                    cluster: role.cluster.clone(),
                }
                .into());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc(id: &str) -> Vpc {
        Vpc {
            id: id.into(),
            cidr: "10.20.0.0/16".into(),
            state: "available".into(),
            tags: vec![],
        }
    }

    fn subnet(id: &str, vpc: &str) -> Subnet {
        Subnet {
            id: id.into(),
            cidr: format!("10.20.{}.0/24", id.len()),
            az: "us-east-1a".into(),
            vpc_id: vpc.into(),
            free_addresses: 250,
            map_public: true,
            tags: vec![("udo:cluster".into(), "dev".into())],
        }
    }

    fn gateway(id: &str, attached: &[&str]) -> live::Gateway {
        live::Gateway {
            id: id.into(),
            attached_to: attached.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn table(id: &str, vpc: &str, associations: usize) -> live::RouteTable {
        live::RouteTable {
            id: id.into(),
            vpc_id: vpc.into(),
            default_route: associations > 0,
            default_target: None,
            associations: (0..associations)
                .map(|i| (format!("rtbassoc-{i}"), format!("subnet-{i}")))
                .collect(),
        }
    }

    fn extras(f: &Found) -> Vec<String> {
        f.extra.iter().map(Extra::describe).collect()
    }

    #[test]
    fn copies_from_retried_creates_are_told_apart_from_the_network_in_use() {
        let f = with_copies();
        assert_eq!(f.vpc.unwrap().id, "vpc-used");
        assert_eq!(f.subnets.len(), 1);
        assert_eq!(f.gateway.unwrap().id, "igw-used");
        assert_eq!(f.spare_gateway, None);
        assert_eq!(f.route_table.unwrap().id, "rtb-used");
        let e = extras(&clean_network());
        assert!(e.is_empty(), "{e:?}");
        let e = extras(&with_copies());
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].contains("VPC vpc-copy"));
        assert!(e[1].contains("gateway igw-copy"));
        assert!(e[2].contains("route table rtb-copy"));
    }

    /// A network with a copy of the VPC, the gateway and the route table beside the one in use.
    fn with_copies() -> Found {
        Found::sort(
            "dev",
            vec![vpc("vpc-copy"), vpc("vpc-used")],
            vec![subnet("subnet-a", "vpc-used")],
            vec![gateway("igw-copy", &[]), gateway("igw-used", &["vpc-used"])],
            vec![
                table("rtb-copy", "vpc-used", 0),
                table("rtb-used", "vpc-used", 1),
            ],
        )
        .unwrap()
    }

    /// A network without copies.
    fn clean_network() -> Found {
        Found::sort(
            "dev",
            vec![vpc("vpc-used")],
            vec![subnet("subnet-a", "vpc-used")],
            vec![gateway("igw-used", &["vpc-used"])],
            vec![table("rtb-used", "vpc-used", 1)],
        )
        .unwrap()
    }

    #[test]
    fn a_detached_gateway_is_attached_again_rather_than_made_anew() {
        let f = Found::sort(
            "dev",
            vec![vpc("vpc-used")],
            vec![],
            vec![gateway("igw-1", &[]), gateway("igw-2", &[])],
            vec![],
        )
        .unwrap();
        assert!(f.gateway.is_none());
        assert_eq!(f.spare_gateway.as_deref(), Some("igw-1"));
        assert_eq!(extras(&f).len(), 1, "the second detached one is a copy");
    }

    #[test]
    fn two_vpcs_with_subnets_are_not_guessed_at() {
        let err = Found::sort(
            "dev",
            vec![vpc("vpc-1"), vpc("vpc-2")],
            vec![subnet("subnet-a", "vpc-1"), subnet("subnet-b", "vpc-2")],
            vec![],
            vec![],
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("vpc-1"), "{err}");
    }
}
