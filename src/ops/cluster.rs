//! `udo cluster …`: each cluster's own VPC, subnets and, for public clusters, internet access.
//! Only resources carrying udo's tags for the cluster are ever changed or removed.

use crate::aws::ec2::{self, Subnet, Vpc, filter};
use crate::aws::{Clients, asg};
use crate::config::diag::Diagnostic;
use crate::config::schema::{Cidr, parse_cidr};
use crate::config::{Cluster, Role};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::table;
use crate::plan::{self, Plan, Risk};
use crate::target;
use serde_json::json;

/// What udo.yml says a cluster's network is.
struct NetworkSpec {
    app: String,
    vpc_cidr: String,
    /// (CIDR, availability zone) for each subnet, in order.
    subnets: Vec<(String, Option<String>)>,
    public: bool,
}

fn app_of(ctx: &Ctx, cluster: &Cluster) -> Result<String> {
    cluster
        .settings
        .str("app_name")
        .or_else(|| cluster.roles.first().map(Role::app_name))
        .map(String::from)
        .ok_or_else(|| {
            ctx.config
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
fn cluster_cidrs(cluster: &Cluster) -> Vec<String> {
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

fn network_spec(ctx: &Ctx, cluster: &Cluster) -> Result<NetworkSpec> {
    let app = app_of(ctx, cluster)?;
    let cidrs = cluster_cidrs(cluster);
    let located = |msg: String, help: &str| -> Error {
        ctx.config
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
                return Err(ctx
                    .config
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

fn tags(app: &str, cluster: &str, name: String) -> Vec<(String, String)> {
    vec![
        ("Name".into(), name),
        ("udo:app".into(), app.into()),
        ("udo:cluster".into(), cluster.into()),
    ]
}

/// The cluster, its app name and clients for its region; udo.yml problems come first.
async fn open<'a>(ctx: &'a Ctx, name: &str) -> Result<(&'a Cluster, String, Clients)> {
    let cluster = target::find_cluster(&ctx.config, name)?;
    let app = app_of(ctx, cluster)?;
    let region = ctx.region_in(&cluster.settings)?;
    let what = format!("cluster `{name}`");
    let c = ctx.clients_with(&cluster.settings, &region, &what).await?;
    Ok((cluster, app, c))
}

/// The cluster's udo VPC, if it exists. Two would be a mess udo did not make: say so.
async fn find_vpc(c: &Clients, app: &str, cluster: &str) -> Result<Option<Vpc>> {
    let mut vpcs = ec2::vpcs(c, app, Some(cluster)).await?;
    if vpcs.len() > 1 {
        let ids: Vec<&str> = vpcs.iter().map(|v| v.id.as_str()).collect();
        return Err(Error::Failed(format!(
            "several VPCs are tagged as cluster `{cluster}` of `{app}` ({}); remove the extra tags or VPCs by hand",
            ids.join(", ")
        )));
    }
    Ok(vpcs.pop())
}

/// The cluster's network as udo's tags find it (at most 4 reads), and the clients that read it.
async fn survey(ctx: &Ctx, name: &str) -> Result<(Clients, NetworkSpec, Found)> {
    let cluster = target::find_cluster(&ctx.config, name)?;
    let spec = network_spec(ctx, cluster)?;
    let region = ctx.region_in(&cluster.settings)?;
    let what = format!("cluster `{name}`");
    let c = ctx.clients_with(&cluster.settings, &region, &what).await?;
    let vpcs = ec2::vpcs(&c, &spec.app, Some(name)).await?;
    let vpc_ids: Vec<&str> = vpcs.iter().map(|v| v.id.as_str()).collect();
    let (all_subnets, gateways, route_tables) = if vpcs.is_empty() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        (
            ec2::subnets(&c, vec![filter("vpc-id", &vpc_ids)]).await?,
            ec2::gateways_tagged(&c, &spec.app, name).await?,
            ec2::route_tables(&c, &vpc_ids, &spec.app, name).await?,
        )
    };
    let found = Found::sort(name, vpcs, all_subnets, gateways, route_tables)?;
    Ok((c, spec, found))
}

/// What `cluster create NAME` would change, as its plan lines, and the subnets of the network in
/// use (for `udo plan`); `None` when the cluster's network is not udo's to make (no
/// `subnets_cidr`: the roles name existing subnets).
pub async fn pending(ctx: &Ctx, name: &str) -> Result<Option<(Vec<String>, Vec<Subnet>)>> {
    let cluster = target::find_cluster(&ctx.config, name)?;
    if cluster_cidrs(cluster).is_empty() {
        return Ok(None);
    }
    let (_, spec, found) = survey(ctx, name).await?;
    let steps = network_steps(
        &spec,
        found.vpc.as_ref(),
        &found.subnets,
        found.gateway.as_ref(),
        found.route_table.as_ref(),
    );
    let mut lines: Vec<String> = steps.iter().map(|s| s.describe(name, &spec)).collect();
    lines.extend(found.extra.iter().map(Extra::describe));
    Ok(Some((lines, found.subnets)))
}

pub async fn create(ctx: &Ctx, name: &str) -> Result<()> {
    let (c, spec, found) = survey(ctx, name).await?;
    let Found {
        vpc,
        subnets,
        gateway,
        spare_gateway,
        route_table,
        extra,
    } = found;
    if let Some(v) = &vpc
        && v.cidr != spec.vpc_cidr
    {
        ctx.out.info(&format!(
            "note: VPC {} of cluster {name} is {}, udo.yml says {}; a VPC's CIDR cannot change, so it is left as it is",
            v.id, v.cidr, spec.vpc_cidr
        ));
    }
    let steps = network_steps(
        &spec,
        vpc.as_ref(),
        &subnets,
        gateway.as_ref(),
        route_table.as_ref(),
    );
    let mut plan = Plan::default();
    for step in &steps {
        plan.step(step.describe(name, &spec));
    }
    for x in &extra {
        plan.step(x.describe());
    }
    for extra in subnets
        .iter()
        .filter(|s| !spec.subnets.iter().any(|(c, _)| *c == s.cidr))
    {
        plan.detail(format!(
            "subnet {} ({}) is not in udo.yml; left as it is",
            extra.id, extra.cidr
        ));
    }
    if plan.is_empty() {
        println!(
            "Cluster {name} is up to date: VPC {} with {} subnet{}; nothing to do.",
            vpc.as_ref().map(|v| v.id.as_str()).unwrap_or("?"),
            subnets.len(),
            if subnets.len() == 1 { "" } else { "s" }
        );
        return Ok(());
    }
    if !plan::gate(
        ctx,
        &format!("Cluster {name} network:"),
        &plan,
        Risk::Additive,
    )? {
        return Ok(());
    }
    let mut state = NetState {
        vpc: vpc.map(|v| v.id),
        subnets: subnets.into_iter().map(|s| (s.cidr, s.id)).collect(),
        gateway: gateway.map(|g| g.id),
        spare_gateway,
        route_table: route_table.map(|r| r.id),
    };
    for step in steps {
        apply_step(ctx, &c, name, &spec, &mut state, step).await?;
    }
    for x in extra {
        x.remove(ctx, &c).await?;
    }
    Ok(())
}

/// What a cluster's udo tags found, sorted into the network in use and the copies a retried
/// create (its reply lost, so AWS made two) or an interrupted run left.
struct Found {
    vpc: Option<Vpc>,
    subnets: Vec<Subnet>,
    /// The gateway attached to the cluster's VPC.
    gateway: Option<ec2::Gateway>,
    /// A detached gateway of the cluster, attached instead of creating one.
    spare_gateway: Option<String>,
    route_table: Option<ec2::RouteTable>,
    extra: Vec<Extra>,
}

/// A copy udo made that nothing uses, removed after the network is complete.
enum Extra {
    Vpc(String),
    Gateway(String),
    RouteTable(String),
}

impl Extra {
    fn describe(&self) -> String {
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

    async fn remove(self, ctx: &Ctx, c: &Clients) -> Result<()> {
        let what = match self {
            Extra::Vpc(id) => {
                ec2::delete_vpc(c, &id).await?;
                format!("VPC {id}")
            }
            Extra::Gateway(id) => {
                ec2::delete_gateway(c, &id).await?;
                format!("internet gateway {id}")
            }
            Extra::RouteTable(id) => {
                ec2::delete_route_table(c, &id).await?;
                format!("route table {id}")
            }
        };
        ctx.events.emit("", format!("Deleted unused copy: {what}"));
        Ok(())
    }
}

impl Found {
    fn sort(
        cluster: &str,
        mut vpcs: Vec<Vpc>,
        subnets: Vec<Subnet>,
        gateways: Vec<ec2::Gateway>,
        route_tables: Vec<ec2::RouteTable>,
    ) -> Result<Found> {
        let count = |v: &Vpc| subnets.iter().filter(|s| s.vpc_id == v.id).count();
        // The VPC in use is the one with subnets; empty copies go. Two with subnets is a
        // mess udo cannot sort out alone.
        vpcs.sort_by_key(|v| std::cmp::Reverse(count(v)));
        if vpcs.len() > 1 && count(&vpcs[1]) > 0 {
            let ids: Vec<&str> = vpcs.iter().map(|v| v.id.as_str()).collect();
            return Err(Error::Failed(format!(
                "several VPCs with subnets are tagged as cluster `{cluster}` ({}); remove the extra tags or VPCs by hand",
                ids.join(", ")
            )));
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
        let mut tables: Vec<ec2::RouteTable> = route_tables
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
enum NetStep {
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
    fn describe(&self, name: &str, spec: &NetworkSpec) -> String {
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
fn network_steps(
    spec: &NetworkSpec,
    vpc: Option<&Vpc>,
    subnets: &[Subnet],
    gateway: Option<&ec2::Gateway>,
    route_table: Option<&ec2::RouteTable>,
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
struct NetState {
    vpc: Option<String>,
    /// (CIDR, subnet id)
    subnets: Vec<(String, String)>,
    gateway: Option<String>,
    /// A detached gateway of the cluster to attach rather than create another.
    spare_gateway: Option<String>,
    route_table: Option<String>,
}

impl NetState {
    fn subnet(&self, cidr: &str) -> Result<String> {
        self.subnets
            .iter()
            .find(|(c, _)| c == cidr)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| Error::Failed(format!("subnet {cidr} is missing")))
    }
}

fn known(id: &Option<String>, what: &str) -> Result<String> {
    id.clone()
        .ok_or_else(|| Error::Failed(format!("the cluster's {what} is missing")))
}

async fn apply_step(
    ctx: &Ctx,
    c: &Clients,
    name: &str,
    spec: &NetworkSpec,
    state: &mut NetState,
    step: NetStep,
) -> Result<()> {
    let ev = &ctx.events;
    match step {
        NetStep::CreateVpc => {
            let id = ec2::create_vpc(c, &spec.vpc_cidr, &tags(&spec.app, name, name.to_string()))
                .await?;
            ev.emit(
                "",
                format!("Created VPC {id} ({}) for cluster {name}", spec.vpc_cidr),
            );
            // CreateVpc has no client token: when its first reply was lost, the SDK's retry
            // made a second VPC. Any other VPC tagged for the cluster is such a copy (there was
            // none before this step): remove it now, while it is certainly empty.
            for copy in ec2::vpcs(c, &spec.app, Some(name))
                .await?
                .into_iter()
                .filter(|v| v.id != id)
            {
                ec2::delete_vpc(c, &copy.id).await?;
                ev.emit(
                    "",
                    format!("Deleted VPC {}, a copy made by a retried create", copy.id),
                );
            }
            state.vpc = Some(id);
        }
        NetStep::CreateSubnet { index } => {
            let (cidr, az) = &spec.subnets[index];
            let label = format!(
                "{name}-{}",
                az.clone().unwrap_or_else(|| (index + 1).to_string())
            );
            let vpc = known(&state.vpc, "VPC")?;
            let id =
                ec2::create_subnet(c, &vpc, cidr, az.as_deref(), &tags(&spec.app, name, label))
                    .await?;
            ev.emit(
                "",
                format!(
                    "Created subnet {id} ({cidr}{}) in cluster {name}",
                    az.as_deref().map(|z| format!(", {z}")).unwrap_or_default()
                ),
            );
            state.subnets.push((cidr.clone(), id));
        }
        NetStep::MapPublic { cidr } => {
            let id = state.subnet(&cidr)?;
            ec2::map_public_ips(c, &id).await?;
            ev.emit(
                "",
                format!("Turned on public addresses in subnet {id} ({cidr})"),
            );
        }
        NetStep::CreateGateway => {
            let vpc = known(&state.vpc, "VPC")?;
            // An interrupted run may have created the gateway but not attached it: reuse it.
            let id = match state.spare_gateway.take() {
                Some(id) => id,
                None => {
                    let id =
                        ec2::create_gateway(c, &tags(&spec.app, name, name.to_string())).await?;
                    ev.emit(
                        "",
                        format!("Created internet gateway {id} for cluster {name}"),
                    );
                    // No client token here either: a retried create leaves a detached copy.
                    for copy in ec2::gateways_tagged(c, &spec.app, name)
                        .await?
                        .into_iter()
                        .filter(|g| g.id != id && g.attached_to.is_empty())
                    {
                        ec2::delete_gateway(c, &copy.id).await?;
                        ev.emit(
                            "",
                            format!(
                                "Deleted internet gateway {}, a copy made by a retried create",
                                copy.id
                            ),
                        );
                    }
                    id
                }
            };
            ec2::attach_gateway(c, &id, &vpc).await?;
            ev.emit("", format!("Attached internet gateway {id} to VPC {vpc}"));
            state.gateway = Some(id);
        }
        NetStep::CreateRouteTable => {
            let vpc = known(&state.vpc, "VPC")?;
            let id =
                ec2::create_route_table(c, &vpc, &tags(&spec.app, name, format!("{name}-public")))
                    .await?;
            ev.emit("", format!("Created route table {id} for cluster {name}"));
            state.route_table = Some(id);
        }
        NetStep::AddDefaultRoute => {
            let rt = known(&state.route_table, "route table")?;
            let igw = known(&state.gateway, "internet gateway")?;
            ec2::create_default_route(c, &rt, &igw).await?;
            ev.emit(
                "",
                format!("Added default route 0.0.0.0/0 via {igw} to {rt}"),
            );
        }
        NetStep::ReplaceDefaultRoute { was } => {
            let rt = known(&state.route_table, "route table")?;
            let igw = known(&state.gateway, "internet gateway")?;
            ec2::replace_default_route(c, &rt, &igw).await?;
            ev.emit(
                "",
                format!("Replaced default route 0.0.0.0/0 of {rt} ({was}) with one via {igw}"),
            );
        }
        NetStep::Associate { cidr } => {
            let rt = known(&state.route_table, "route table")?;
            let id = state.subnet(&cidr)?;
            match ec2::associate(c, &rt, &id).await? {
                ec2::Associated::Done => {
                    ev.emit("", format!("Routed subnet {id} ({cidr}) through {rt}"));
                }
                // Tied to a copy of the cluster's route table (udo's tags): move it over.
                ec2::Associated::Elsewhere(other, assoc, tags)
                    if super::owner::app_of(&tags) == Some(spec.app.as_str())
                        && tags.iter().any(|(k, v)| k == "udo:cluster" && v == name) =>
                {
                    ec2::reassociate(c, &assoc, &rt).await?;
                    ev.emit(
                        "",
                        format!("Moved subnet {id} ({cidr}) from route table {other} to {rt}"),
                    );
                }
                // Someone routed it through their own table (a NAT, a firewall): that may be
                // deliberate, so udo says so and leaves it.
                ec2::Associated::Elsewhere(other, _, _) => {
                    return Err(Error::Failed(format!(
                        "subnet {id} ({cidr}) of cluster {name} is associated with route table {other}, which udo did not make, so it does not go through the cluster's internet gateway; udo does not move it (its routes may be deliberate): disassociate it from {other} (or delete that table) and re-run `udo cluster create {name}`"
                    )));
                }
            }
        }
    }
    Ok(())
}

pub async fn destroy(ctx: &Ctx, name: &str) -> Result<()> {
    let (cluster, app, c) = open(ctx, name).await?;
    let mut groups = asg::groups_tagged(&c, &[("udo:app", &app), ("udo:cluster", name)]).await?;
    // Groups the old tool made carry no udo tags: look up the roles' group names too.
    let names: Vec<String> = cluster.roles.iter().map(Role::group_name).collect();
    if !names.is_empty() {
        for g in asg::groups(&c, &names).await? {
            if !groups.iter().any(|have| have.name == g.name) {
                groups.push(g);
            }
        }
    }
    if !groups.is_empty() {
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        return Err(Error::Failed(format!(
            "cluster {name} still has autoscaling groups: {}; destroy them first (`udo asg destroy '{name}.*'`); nothing was changed",
            names.join(", ")
        )));
    }
    // Everything by udo's tags, not by attachment: a run stopped half-way (or a retried call)
    // can leave a detached gateway, a route table without associations, or a second VPC.
    let vpcs = ec2::vpcs(&c, &app, Some(name)).await?;
    let gateways: Vec<ec2::Gateway> = ec2::gateways_tagged(&c, &app, name).await?;
    if vpcs.is_empty() && gateways.is_empty() {
        println!("Cluster {name} has no udo-created VPC; nothing to destroy.");
        return Ok(());
    }
    let vpc_ids: Vec<&str> = vpcs.iter().map(|v| v.id.as_str()).collect();
    let (subnets, route_tables) = if vpc_ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            ec2::subnets(&c, vec![filter("vpc-id", &vpc_ids)]).await?,
            ec2::route_tables(&c, &vpc_ids, &app, name).await?,
        )
    };
    // Anything else with an address in the network (a database, a load balancer, an instance
    // launched by hand) would make the subnet deletes fail after internet access is gone:
    // look first, and refuse before any write.
    if !vpc_ids.is_empty() {
        let nics = ec2::network_interfaces(&c, &vpc_ids).await?;
        if !nics.is_empty() {
            let lines: Vec<String> = nics
                .iter()
                .map(|n| {
                    let mut what = if n.description.is_empty() {
                        "no description".to_string()
                    } else {
                        format!("\"{}\"", n.description)
                    };
                    if let Some(i) = &n.instance {
                        what.push_str(&format!(", attached to {i}"));
                    }
                    if let Some(r) = &n.requester {
                        what.push_str(&format!(", made by {r}"));
                    }
                    format!("\n  {} in {} ({what})", n.id, n.subnet_id)
                })
                .collect();
            return Err(Error::Failed(format!(
                "cluster {name}'s VPC still has {} network interface{} udo did not make (a database, load balancer or hand-launched instance would lose its network); remove them first; nothing was changed:{}",
                nics.len(),
                if nics.len() == 1 { "" } else { "s" },
                lines.concat()
            )));
        }
    }
    let (ours, foreign): (Vec<&Subnet>, Vec<&Subnet>) =
        subnets.iter().partition(|s| s.cluster() == Some(name));
    let keep_vpc = |v: &Vpc| foreign.iter().any(|s| s.vpc_id == v.id);

    let mut plan = Plan::default();
    for rt in &route_tables {
        plan.step(format!(
            "delete route table {} ({} subnet associations)",
            rt.id,
            rt.associations.len()
        ));
    }
    for g in &gateways {
        if g.attached_to.is_empty() {
            plan.step(format!("delete internet gateway {} (detached)", g.id));
        } else {
            plan.step(format!("detach and delete internet gateway {}", g.id));
        }
    }
    for s in &ours {
        plan.step(format!("delete subnet {} ({})", s.id, s.cidr));
    }
    for v in &vpcs {
        if keep_vpc(v) {
            for s in foreign.iter().filter(|s| s.vpc_id == v.id) {
                plan.detail(format!(
                    "subnet {} ({}) was not created by udo: kept, and so is the VPC",
                    s.id, s.cidr
                ));
            }
        } else {
            plan.step(format!("delete VPC {} ({})", v.id, v.cidr));
        }
    }
    if !plan::gate(
        ctx,
        &format!("Destroy the network of cluster {name}:"),
        &plan,
        Risk::Destructive,
    )? {
        return Ok(());
    }
    let ev = &ctx.events;
    for rt in route_tables {
        for (assoc, subnet) in &rt.associations {
            ec2::disassociate(&c, assoc).await?;
            ev.emit(
                "",
                format!("Detached subnet {subnet} from route table {}", rt.id),
            );
        }
        ec2::delete_route_table(&c, &rt.id).await?;
        ev.emit("", format!("Deleted route table {}", rt.id));
    }
    for g in gateways {
        for vpc in &g.attached_to {
            ec2::detach_gateway(&c, &g.id, vpc).await?;
        }
        ec2::delete_gateway(&c, &g.id).await?;
        ev.emit("", format!("Deleted internet gateway {}", g.id));
    }
    for s in ours {
        ec2::delete_subnet(&c, &s.id).await?;
        ev.emit("", format!("Deleted subnet {} ({})", s.id, s.cidr));
    }
    for v in vpcs.iter().filter(|v| !keep_vpc(v)) {
        ec2::delete_vpc(&c, &v.id).await?;
        ev.emit("", format!("Deleted VPC {} of cluster {name}", v.id));
    }
    Ok(())
}

pub async fn list(ctx: &Ctx) -> Result<()> {
    let cfg = &ctx.config;
    let region = ctx.region_in(&cfg.top)?;
    let c = ctx.clients_with(&cfg.top, &region, "udo.yml").await?;
    let apps: Vec<String> = {
        let mut a: Vec<String> = cfg
            .clusters
            .iter()
            .filter_map(|cl| app_of(ctx, cl).ok())
            .collect();
        a.sort();
        a.dedup();
        a
    };
    let mut vpcs = Vec::new();
    for app in &apps {
        vpcs.extend(ec2::vpcs(&c, app, None).await?);
    }
    let ids: Vec<&str> = vpcs.iter().map(|v| v.id.as_str()).collect();
    let subnets = if ids.is_empty() {
        Vec::new()
    } else {
        ec2::subnets(&c, vec![filter("vpc-id", &ids)]).await?
    };
    let names: Vec<String> = cfg
        .clusters
        .iter()
        .flat_map(|cl| cl.roles.iter().map(Role::group_name))
        .collect();
    let groups = if names.is_empty() {
        Vec::new()
    } else {
        asg::groups(&c, &names).await?
    };

    let mut rows = Vec::new();
    let mut items = Vec::new();
    for cl in &cfg.clusters {
        let vpc = vpcs.iter().find(|v| v.cluster() == Some(cl.name.as_str()));
        let n_subnets = vpc.map_or(0, |v| subnets.iter().filter(|s| s.vpc_id == v.id).count());
        let roles: Vec<String> = cl.roles.iter().map(|r| r.name.clone()).collect();
        let existing = cl
            .roles
            .iter()
            .filter(|r| groups.iter().any(|g| g.name == r.group_name()))
            .count();
        rows.push(vec![
            cl.name.clone(),
            vpc.map_or("not created".into(), |v| format!("{} ({})", v.id, v.state)),
            n_subnets.to_string(),
            if roles.is_empty() {
                "-".into()
            } else {
                roles.join(",")
            },
            format!("{existing}/{}", roles.len()),
        ]);
        items.push(json!({
            "cluster": cl.name,
            "description": cl.description,
            "vpc": vpc.map(|v| json!({"id": v.id, "cidr": v.cidr, "state": v.state})),
            "subnets": n_subnets,
            "roles": roles,
            "groups_existing": existing,
        }));
    }
    if ctx.out.json() {
        ctx.out.print_json(&json!({ "clusters": items }));
    } else {
        print!(
            "{}",
            table(&["CLUSTER", "VPC", "SUBNETS", "ROLES", "GROUPS"], &rows)
        );
    }
    Ok(())
}

pub async fn status(ctx: &Ctx, name: &str) -> Result<()> {
    let (cluster, app, c) = open(ctx, name).await?;
    let vpc = find_vpc(&c, &app, name).await?;
    let subnets = match &vpc {
        Some(v) => ec2::subnets(&c, vec![filter("vpc-id", &[&v.id])]).await?,
        None => Vec::new(),
    };
    let names: Vec<String> = cluster.roles.iter().map(Role::group_name).collect();
    let mut groups = if names.is_empty() {
        Vec::new()
    } else {
        asg::groups(&c, &names).await?
    };
    super::status::use_launch_tags(&c, &mut groups).await?;
    let roles: Vec<(&Role, Option<&asg::Group>)> = cluster
        .roles
        .iter()
        .map(|r| (r, groups.iter().find(|g| g.name == r.group_name())))
        .collect();
    if ctx.out.json() {
        ctx.out.print_json(&json!({
            "cluster": name,
            "vpc": vpc.as_ref().map(|v| json!({"id": v.id, "cidr": v.cidr, "state": v.state})),
            "subnets": subnets.iter().map(|s| json!({"id": s.id, "cidr": s.cidr, "zone": s.az, "free_addresses": s.free_addresses})).collect::<Vec<_>>(),
            "roles": roles.iter().map(|(r, g)| super::status::group_json(r, *g)).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    match &vpc {
        Some(v) => println!("Cluster {name}: VPC {} ({}, {})", v.id, v.cidr, v.state),
        None => println!("Cluster {name}: VPC not created (run `udo cluster create {name}`)"),
    }
    if !subnets.is_empty() {
        let rows: Vec<Vec<String>> = subnets
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.cidr.clone(),
                    s.az.clone(),
                    s.free_addresses.to_string(),
                ]
            })
            .collect();
        println!();
        print!("{}", table(&["SUBNET", "CIDR", "ZONE", "FREE"], &rows));
    }
    let rows: Vec<Vec<String>> = roles
        .iter()
        .map(|(r, g)| match g {
            Some(g) => vec![
                r.name.clone(),
                g.name.clone(),
                format!("{}/{}/{}", g.desired, g.min, g.max),
                g.instances.len().to_string(),
            ],
            None => vec![
                r.name.clone(),
                r.group_name(),
                "not created".into(),
                "-".into(),
            ],
        })
        .collect();
    if !rows.is_empty() {
        println!();
        print!(
            "{}",
            table(&["ROLE", "GROUP", "DESIRED/MIN/MAX", "INSTANCES"], &rows)
        );
    }
    Ok(())
}

/// Subnet ids for a role's group: `subnets` as given, else `subnets_cidr` looked up in one
/// call filtered by the CIDRs and udo's tags for the role's app and cluster: only the cluster's
/// own network, never another VPC that happens to have the same CIDR.
pub async fn resolve_subnets(c: &Clients, role: &Role) -> Result<Vec<String>> {
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
    if cidrs.is_empty() {
        return Ok(Vec::new());
    }
    let mut filters = ec2::udo_filters(role.app_name(), Some(&role.cluster));
    filters.push(filter("cidr-block", &cidrs));
    let found = ec2::subnets(c, filters).await?;
    pick_subnets(role, &found)
}

/// The role's subnet ids among `found` (subnets looked up by its CIDRs, possibly with
/// others'): `subnets` as given, else one per `subnets_cidr`, preferring the cluster's udo VPC.
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
            && super::owner::app_of(&s.tags) == Some(role.app_name())
    };
    let Some(udo_vpc) = found.iter().find(ours).map(|s| s.vpc_id.clone()) else {
        return Err(Error::Failed(format!(
            "cluster {} has no udo network with the subnets {} ({}'s subnets_cidr): no subnet of them is tagged as cluster `{}` of `{}`, and udo never places a group in another network's subnets; run `udo cluster create {}` first (or name subnet ids in `subnets`); nothing was changed",
            role.cluster,
            cidrs.join(", "),
            role.target(),
            role.cluster,
            role.app_name(),
            role.cluster
        )));
    };
    let mut out = Vec::new();
    for cidr in &cidrs {
        match found
            .iter()
            .find(|s| s.cidr == *cidr && s.vpc_id == udo_vpc && ours(s))
        {
            Some(s) => out.push(s.id.clone()),
            None => {
                return Err(Error::Failed(format!(
                    "no subnet with CIDR {cidr} (subnets_cidr of {}) exists in VPC {udo_vpc} of cluster {}; run `udo cluster create {}` or fix udo.yml; nothing was changed",
                    role.target(),
                    role.cluster,
                    role.cluster
                )));
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

    fn gateway(id: &str, attached: &[&str]) -> ec2::Gateway {
        ec2::Gateway {
            id: id.into(),
            attached_to: attached.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn table(id: &str, vpc: &str, associations: usize) -> ec2::RouteTable {
        ec2::RouteTable {
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
