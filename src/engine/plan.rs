//! Plan: for a set of roles, desired (from udo.yml) + survey (batched reads per profile and
//! region, and each cluster network's survey) → the typed steps of `model::plan`. Used for one
//! role (`asg updatelc dev.web`) and for the whole file (`plan`, `apply`) alike.

use crate::aws::Clients;
use crate::aws::ec2::Subnet;
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::launch::LaunchSpec;
use crate::model::network::{Found, NetState, NetworkSpec, network_steps};
use crate::model::plan::{RolePlan, plan_role};
use crate::model::step::Step;

use super::{network, survey};

/// What `cluster create` would change of one cluster's network.
pub struct NetworkPlan {
    pub cluster: String,
    pub clients: Clients,
    pub spec: NetworkSpec,
    /// The network's pieces found so far, completed by the steps as they run.
    pub state: NetState,
    /// `Step::Network` and `Step::RemoveCopy`, in the order they run.
    pub steps: Vec<Step>,
    /// Notes shown under the steps (a subnet not in udo.yml).
    pub notes: Vec<String>,
    /// Said on stderr (a VPC of another CIDR than udo.yml's, which cannot change).
    pub warnings: Vec<String>,
    /// The subnets of the network in use.
    pub subnets: Vec<Subnet>,
    pub vpc_id: Option<String>,
}

/// A cluster's network plan, or `None` when its network is not udo's to make (no
/// `subnets_cidr`: the roles name existing subnets).
pub async fn network(ctx: &Ctx, name: &str) -> Result<Option<NetworkPlan>> {
    let cluster = crate::target::find_cluster(&ctx.config, name)?;
    if crate::model::network::cluster_cidrs(cluster).is_empty() {
        return Ok(None);
    }
    let (clients, spec, found) = network::survey(ctx, name).await?;
    let Found {
        vpc,
        subnets,
        gateway,
        spare_gateway,
        route_table,
        extra,
    } = found;
    let mut steps: Vec<Step> = network_steps(
        &spec,
        vpc.as_ref(),
        &subnets,
        gateway.as_ref(),
        route_table.as_ref(),
    )
    .into_iter()
    .map(|step| Step::Network {
        line: step.describe(name, &spec),
        step,
    })
    .collect();
    steps.extend(extra.into_iter().map(|extra| Step::RemoveCopy { extra }));
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    if let Some(v) = &vpc
        && v.cidr != spec.vpc_cidr
    {
        warnings.push(format!(
            "VPC {} of cluster {name} is {}, udo.yml says {}; a VPC's CIDR cannot change, so it is left as it is",
            v.id, v.cidr, spec.vpc_cidr
        ));
    }
    for s in subnets
        .iter()
        .filter(|s| !spec.subnets.iter().any(|(c, _)| *c == s.cidr))
    {
        notes.push(format!(
            "subnet {} ({}) is not in udo.yml; left as it is",
            s.id, s.cidr
        ));
    }
    let state = NetState {
        vpc: vpc.as_ref().map(|v| v.id.clone()),
        subnets: subnets
            .iter()
            .map(|s| (s.cidr.clone(), s.id.clone()))
            .collect(),
        gateway: gateway.map(|g| g.id),
        spare_gateway,
        route_table: route_table.map(|r| r.id),
    };
    Ok(Some(NetworkPlan {
        cluster: name.to_string(),
        clients,
        spec,
        state,
        steps,
        notes,
        warnings,
        subnets,
        vpc_id: vpc.map(|v| v.id),
    }))
}

/// Everything udo.yml would change for the roles in scope.
pub struct Plan<'a> {
    /// The cluster networks udo makes, when the plan includes them (`plan`, `apply`).
    pub networks: Vec<NetworkPlan>,
    pub roles: Vec<RolePlan<'a>>,
}

impl Plan<'_> {
    /// Whether anything differs: a role, or a cluster's network.
    pub fn differs(&self) -> bool {
        self.roles.iter().any(RolePlan::differs)
            || self.networks.iter().any(|n| !n.steps.is_empty())
    }

    /// Every step, networks first.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.networks
            .iter()
            .flat_map(|n| &n.steps)
            .chain(self.roles.iter().flat_map(|r| &r.steps))
    }
}

/// Plans the roles. With `with_network`, each of their clusters' networks is surveyed (as
/// `cluster create` does) and planned too, and a subnet it lacks is one the plan makes;
/// without, a role's subnets must exist.
pub async fn plan<'a>(
    ctx: &Ctx,
    roles: Vec<(&'a Role, LaunchSpec)>,
    with_network: bool,
) -> Result<Plan<'a>> {
    let mut networks: Vec<NetworkPlan> = Vec::new();
    if with_network {
        let mut seen: Vec<&str> = Vec::new();
        for (r, _) in &roles {
            if seen.contains(&r.cluster.as_str()) {
                continue;
            }
            seen.push(&r.cluster);
            if let Some(n) = network(ctx, &r.cluster).await? {
                networks.push(n);
            }
        }
    }
    let surveyed: Vec<(String, Vec<Subnet>)> = networks
        .iter()
        .map(|n| (n.cluster.clone(), n.subnets.clone()))
        .collect();
    // One batch of reads per profile and region (clusters may live in different accounts).
    let list: Vec<&Role> = roles.iter().map(|(r, _)| *r).collect();
    let mut plans = Vec::new();
    for (c, place) in ctx.by_place(&list).await? {
        let here: Vec<(&Role, LaunchSpec)> = roles
            .iter()
            .filter(|(r, _)| place.iter().any(|p| std::ptr::eq(*p, *r)))
            .cloned()
            .collect();
        let found = survey::roles(&c, &here, &surveyed).await?;
        for ((role, want), s) in here.into_iter().zip(found) {
            let network = with_network && surveyed.iter().any(|(c, _)| *c == role.cluster);
            plans.push(plan_role(role, want, &s, network)?);
        }
    }
    // udo.yml's order, whatever the regions
    plans.sort_by_key(|p| {
        roles
            .iter()
            .position(|(r, _)| std::ptr::eq(*r, p.role))
            .unwrap_or(usize::MAX)
    });
    Ok(Plan {
        networks,
        roles: plans,
    })
}

/// One role's plan, without its cluster's network (`asg create`, `asg updatelc`). With
/// `need_group`, a missing group is the error (before anything else is looked at).
pub async fn role<'a>(
    ctx: &Ctx,
    role: &'a Role,
    want: LaunchSpec,
    need_group: bool,
) -> Result<RolePlan<'a>> {
    let c = ctx.clients_for(role).await?;
    let here = vec![(role, want)];
    let mut found = survey::roles(&c, &here, &[]).await?;
    let s = found.remove(0);
    // (a role whose groups exist with none active is the plan's refusal below)
    if need_group && s.group.is_none() && s.groups.groups.is_empty() {
        return Err(survey::missing(role));
    }
    let (role, want) = here.into_iter().next().expect("one role");
    let p = plan_role(role, want, &s, false)?;
    // another application's group, or a rollout in progress: nothing of it changes
    if let Some(e) = p.refusal() {
        return Err(e);
    }
    Ok(p)
}
