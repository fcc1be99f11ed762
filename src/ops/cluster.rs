//! `udo cluster …`: each cluster's own VPC, subnets and, for public clusters, internet access.
//! Only resources carrying udo's tags for the cluster are ever changed or removed.

use crate::aws::ec2::{self, Subnet, Vpc, filter};
use crate::aws::{Clients, asg};
use crate::config::{Cluster, Role};
use crate::context::Ctx;
use crate::documents;
use crate::engine::network;
use crate::error::Result;
use crate::failure::Failure;
use crate::model::network::app_of;
use crate::model::op_step::OpStep;
use crate::model::release::RoleGroups;
use crate::model::step::Step;
use crate::output::table;
use crate::plan;
use crate::target;

/// The cluster, its app name and clients for its region; udo.yml problems come first.
async fn open<'a>(ctx: &'a Ctx, name: &str) -> Result<(&'a Cluster, String, Clients)> {
    let cluster = target::find_cluster(&ctx.config, name)?;
    let app = app_of(&ctx.config, cluster)?;
    let region = ctx.region_in(&cluster.settings)?;
    let what = format!("cluster `{name}`");
    let c = ctx.clients_with(&cluster.settings, &region, &what).await?;
    Ok((cluster, app, c))
}

/// The cluster's udo VPC, if it exists. Two would be a mess udo did not make: say so.
async fn find_vpc(c: &Clients, app: &str, cluster: &str) -> Result<Option<Vpc>> {
    let mut vpcs = ec2::vpcs(c, app, Some(cluster)).await?;
    if vpcs.len() > 1 {
        return Err(Failure::SeveralVpcs {
            cluster: cluster.to_string(),
            app: app.to_string(),
            ids: vpcs.iter().map(|v| v.id.clone()).collect(),
        }
        .into());
    }
    Ok(vpcs.pop())
}

pub async fn create(ctx: &Ctx, name: &str) -> Result<()> {
    network::create(ctx, name).await
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
        return Err(crate::failure::Failure::GroupsRemain {
            cluster: name.to_string(),
            groups: groups.iter().map(|g| g.name.clone()).collect(),
        }
        .into());
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
                    format!("{} in {} ({what})", n.id, n.subnet_id)
                })
                .collect();
            return Err(Failure::InterfacesInUse {
                cluster: name.to_string(),
                nics: lines,
            }
            .into());
        }
    }
    let (ours, foreign): (Vec<&Subnet>, Vec<&Subnet>) =
        subnets.iter().partition(|s| s.cluster() == Some(name));
    let keep_vpc = |v: &Vpc| foreign.iter().any(|s| s.vpc_id == v.id);

    let mut steps = Vec::new();
    let mut notes = Vec::new();
    for rt in &route_tables {
        steps.push(Step::Op(OpStep::DeleteRouteTable {
            id: rt.id.clone(),
            associations: rt.associations.len(),
        }));
    }
    for g in &gateways {
        steps.push(Step::Op(OpStep::DeleteGateway {
            id: g.id.clone(),
            attached: !g.attached_to.is_empty(),
        }));
    }
    for s in &ours {
        steps.push(Step::Op(OpStep::DeleteSubnet {
            id: s.id.clone(),
            cidr: s.cidr.clone(),
        }));
    }
    for v in &vpcs {
        if keep_vpc(v) {
            for s in foreign.iter().filter(|s| s.vpc_id == v.id) {
                notes.push(format!(
                    "subnet {} ({}) was not created by udo: kept, and so is the VPC",
                    s.id, s.cidr
                ));
            }
        } else {
            steps.push(Step::Op(OpStep::DeleteVpc {
                id: v.id.clone(),
                cidr: v.cidr.clone(),
            }));
        }
    }
    if !plan::gate_steps(
        ctx,
        &format!("Destroy the network of cluster {name}:"),
        &steps,
        &notes,
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
            .filter_map(|cl| app_of(&ctx.config, cl).ok())
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
        items.push(documents::ClusterItem {
            cluster: cl.name.clone(),
            description: cl.description.clone(),
            vpc: vpc.map(vpc_doc),
            subnets: n_subnets,
            roles,
            groups_existing: existing,
        });
    }
    if ctx.out.json() {
        ctx.out
            .print_json(&documents::ClusterList { clusters: items });
    } else {
        print!(
            "{}",
            table(&["CLUSTER", "VPC", "SUBNETS", "ROLES", "GROUPS"], &rows)
        );
    }
    Ok(())
}

fn vpc_doc(v: &Vpc) -> documents::Vpc {
    documents::Vpc {
        id: v.id.clone(),
        cidr: v.cidr.clone(),
        state: v.state.clone(),
    }
}

pub async fn status(ctx: &Ctx, name: &str) -> Result<()> {
    let (cluster, app, c) = open(ctx, name).await?;
    let vpc = find_vpc(&c, &app, name).await?;
    let subnets = match &vpc {
        Some(v) => ec2::subnets(&c, vec![filter("vpc-id", &[&v.id])]).await?,
        None => Vec::new(),
    };
    let list: Vec<&Role> = cluster.roles.iter().collect();
    let groups = if list.is_empty() {
        Vec::new()
    } else {
        super::status::role_groups(&c, &list).await?
    };
    let roles: Vec<(&Role, &RoleGroups)> = list.iter().copied().zip(groups.iter()).collect();
    if ctx.out.json() {
        ctx.out.print_json(&documents::ClusterStatus {
            cluster: name.to_string(),
            vpc: vpc.as_ref().map(vpc_doc),
            subnets: subnets
                .iter()
                .map(|s| documents::Subnet {
                    id: s.id.clone(),
                    cidr: s.cidr.clone(),
                    zone: s.az.clone(),
                    free_addresses: s.free_addresses,
                })
                .collect(),
            roles: roles
                .iter()
                .map(|(r, g)| super::status::group_json(r, g))
                .collect(),
        });
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
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (r, rg) in &roles {
        if rg.groups.is_empty() {
            rows.push(vec![
                r.name.clone(),
                r.group_name(),
                "not created".into(),
                "-".into(),
            ]);
        }
        for (_, g, st) in rg.each() {
            rows.push(vec![
                r.name.clone(),
                // a role with blue/green releases: every group, each marked with its state
                if rg.has_releases() {
                    format!("{} ({})", g.name, st.as_str())
                } else {
                    g.name.clone()
                },
                format!("{}/{}/{}", g.desired, g.min, g.max),
                g.instances.len().to_string(),
            ]);
        }
    }
    if !rows.is_empty() {
        println!();
        print!(
            "{}",
            table(&["ROLE", "GROUP", "DESIRED/MIN/MAX", "INSTANCES"], &rows)
        );
    }
    Ok(())
}
