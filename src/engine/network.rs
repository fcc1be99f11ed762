//! A cluster's network: read as udo's tags find it, and made complete, step by step.

use crate::aws::Clients;
use crate::aws::ec2::{self, filter};
use crate::context::Ctx;
use crate::error::Result;
use crate::model::network::{
    Extra, Found, NetState, NetStep, NetworkSpec, known, network_spec, tags,
};
use crate::plan;
use crate::target;

/// The cluster's network as udo's tags find it (at most 4 reads), and the clients that read it.
pub async fn survey(ctx: &Ctx, name: &str) -> Result<(Clients, NetworkSpec, Found)> {
    let cluster = target::find_cluster(&ctx.config, name)?;
    let spec = network_spec(&ctx.config, cluster)?;
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

/// `cluster create`: the network part of the plan, shown, then run.
pub async fn create(ctx: &Ctx, name: &str) -> Result<()> {
    let cluster = target::find_cluster(&ctx.config, name)?;
    let Some(n) = super::plan::network(ctx, name).await? else {
        // no `subnets_cidr`: say so, located, as udo.yml's problem
        network_spec(&ctx.config, cluster)?;
        return Ok(());
    };
    for w in &n.warnings {
        ctx.out.info(&format!("note: {w}"));
    }
    if n.steps.is_empty() {
        println!(
            "Cluster {name} is up to date: VPC {} with {} subnet{}; nothing to do.",
            n.vpc_id.as_deref().unwrap_or("?"),
            n.subnets.len(),
            if n.subnets.len() == 1 { "" } else { "s" }
        );
        return Ok(());
    }
    if !plan::gate_steps(ctx, &format!("Cluster {name} network:"), &n.steps, &n.notes)? {
        return Ok(());
    }
    super::execute::network(ctx, n).await?;
    Ok(())
}

/// Removes a copy udo made that nothing uses.
pub async fn remove_extra(x: Extra, ctx: &Ctx, c: &Clients) -> Result<()> {
    let what = match x {
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

pub async fn apply_step(
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
                    return Err(crate::failure::Failure::ForeignRouteTable {
                        subnet: id.to_string(),
                        cidr: cidr.to_string(),
                        cluster: name.to_string(),
                        table: other.to_string(),
                    }
                    .into());
                }
            }
        }
    }
    Ok(())
}
