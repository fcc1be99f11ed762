//! `udo plan` and `udo apply`: the desired/actual/plan path of every command, run over many
//! roles at once.
//!
//! `plan` reads everything in scope with batched calls first (one DescribeAutoScalingGroups
//! for all groups, one read of the templates' `$Latest` versions, one DescribeSubnets for all
//! CIDRs, one DescribeTargetGroups for all names, one DescribeScheduledActions and one
//! DescribePolicies for all groups that need them), then diffs each role with the same
//! functions `asg updatelc` uses. It never writes. `apply` shows the same plan, asks once when
//! anything in it is destructive, creates missing cluster networks, then converges each role
//! that differs (concurrently, with `asg`'s bound) exactly as `asg create` / `asg updatelc`
//! would, so the two commands can never disagree on what "matches udo.yml" means.

use crate::aws::asg::{self, Group};
use crate::aws::ec2::{self, Subnet, filter};
use crate::aws::{Clients, elb, scaling as aws_scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::launch::{LaunchKind, LaunchSpec, user_data_diff};
use crate::ops::asg::change::{self, LaunchStep};
use crate::ops::asg::scaling::{self, ScalingChanges};
use crate::ops::asg::{self as asg_ops, CONCURRENCY};
use crate::ops::{cluster, lc};
use crate::plan as gate;
use crate::schedule::{Action, Change, Item, Policy};
use crate::target::{self, Many};
use futures_util::StreamExt as _;
use serde_json::json;

/// What udo.yml would change for one role.
struct RolePlan<'a> {
    role: &'a Role,
    exists: bool,
    /// Network pieces this role needs that are missing (subnet CIDRs).
    missing_subnets: Vec<String>,
    /// Launch template / configuration steps, then their field and user-data differences.
    launch: Vec<String>,
    launch_details: Vec<String>,
    /// Group creation, sizes, subnets, health check, balancers, tags.
    group: Vec<String>,
    scaling: ScalingChanges,
    outdated: usize,
    /// Detaching a balancer or deleting an action or policy.
    destructive: bool,
    want_launch: LaunchSpec,
}

impl RolePlan<'_> {
    fn differs(&self) -> bool {
        !self.missing_subnets.is_empty()
            || !self.launch.is_empty()
            || !self.group.is_empty()
            || !self.scaling.is_empty()
    }
}

/// The roles in scope: every role (no scope), a cluster's (`CLUSTER`), or a target.
fn scope_roles<'a>(ctx: &'a Ctx, scope: Option<&str>) -> Result<Vec<&'a Role>> {
    match scope {
        None => Ok(ctx.config.clusters.iter().flat_map(|c| &c.roles).collect()),
        Some(s) if s.contains('.') => target::resolve(&ctx.config, s, Many::Allowed),
        Some(s) => Ok(target::find_cluster(&ctx.config, s)?.roles.iter().collect()),
    }
}

/// Everything that needs no AWS: the roles, their regions and launch specs (exit 2 first).
fn prepare<'a>(ctx: &'a Ctx, scope: Option<&str>) -> Result<Vec<(&'a Role, LaunchSpec)>> {
    let roles = scope_roles(ctx, scope)?;
    roles
        .into_iter()
        .map(|r| {
            ctx.region_of(r)?;
            Ok((r, lc::desired(ctx, r)?))
        })
        .collect()
}

/// Reads what the roles' plans need, region by region, in batched calls, and diffs each role.
async fn read<'a>(
    ctx: &Ctx,
    roles: Vec<(&'a Role, LaunchSpec)>,
    surveyed: &[Surveyed],
) -> Result<Vec<RolePlan<'a>>> {
    // One batch of reads per profile and region (clusters may live in different accounts).
    let key_of = |r: &Role| -> Result<(Option<String>, String)> {
        Ok((
            ctx.profile_in(&r.settings).map(str::to_string),
            ctx.region_of(r)?,
        ))
    };
    let mut keys: Vec<(Option<String>, String)> = Vec::new();
    for (r, _) in &roles {
        let key = key_of(r)?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let mut plans = Vec::new();
    for key in keys {
        let here: Vec<(&Role, LaunchSpec)> = roles
            .iter()
            .filter(|(r, _)| key_of(r).ok().as_ref() == Some(&key))
            .cloned()
            .collect();
        // Every role's `account_id` is checked (one STS call per profile, then reused).
        let mut clients = None;
        for (r, _) in &here {
            clients = Some(ctx.clients_for(r).await?);
        }
        let Some(c) = clients else { continue };
        plans.extend(read_region(&c, here, surveyed).await?);
    }
    // udo.yml's order, whatever the regions
    plans.sort_by_key(|p| {
        roles
            .iter()
            .position(|(r, _)| std::ptr::eq(*r, p.role))
            .unwrap_or(usize::MAX)
    });
    Ok(plans)
}

async fn read_region<'a>(
    c: &Clients,
    roles: Vec<(&'a Role, LaunchSpec)>,
    surveyed: &[Surveyed],
) -> Result<Vec<RolePlan<'a>>> {
    let names: Vec<String> = roles.iter().map(|(r, _)| r.group_name()).collect();
    let groups = asg::groups(c, &names).await?;
    let group_of = |r: &Role| groups.iter().find(|g| g.name == r.group_name());

    let templates: Vec<String> = roles
        .iter()
        .filter(|(r, _)| LaunchKind::of(r) == LaunchKind::Template)
        .map(|(r, _)| r.group_name())
        .collect();
    let latest = ec2::latest_versions(c, &templates).await?;

    // The subnets of networks udo makes came with the cluster's survey; read only the others.
    let survey_of = |r: &Role| surveyed.iter().find(|(c, _)| *c == r.cluster);
    let mut cidrs: Vec<&str> = Vec::new();
    for (r, _) in &roles {
        if r.settings.list("subnets").is_empty() && survey_of(r).is_none() {
            for cidr in r.settings.list("subnets_cidr") {
                if !cidrs.contains(&cidr) {
                    cidrs.push(cidr);
                }
            }
        }
    }
    let mut subnets: Vec<Subnet> = if cidrs.is_empty() {
        Vec::new()
    } else {
        ec2::subnets(c, vec![filter("cidr-block", &cidrs)]).await?
    };
    for (cluster, found) in surveyed {
        if roles.iter().any(|(r, _)| r.cluster == *cluster) {
            subnets.extend(found.iter().cloned());
        }
    }

    let mut tg_names: Vec<String> = Vec::new();
    for (r, _) in &roles {
        for t in r.settings.list("target_groups") {
            if !tg_names.iter().any(|n| n == t) {
                tg_names.push(t.to_string());
            }
        }
    }
    let tg_arns = if tg_names.is_empty() {
        Vec::new()
    } else {
        elb::target_group_arns(c, &tg_names).await?
    };

    let (mut read_actions, mut read_policies) = (Vec::new(), Vec::new());
    for (r, _) in &roles {
        if let Some(g) = group_of(r) {
            let (a, p) = scaling::needs_read(r, Some(g));
            if a {
                read_actions.push(g.name.clone());
            }
            if p {
                read_policies.push(g.name.clone());
            }
        }
    }
    let actions = aws_scaling::actions(c, &read_actions).await?;
    let policies = aws_scaling::policies(c, &read_policies).await?;

    let mut out = Vec::new();
    for (role, want_launch) in roles {
        let g = group_of(role);
        let live = match LaunchKind::of(role) {
            LaunchKind::Template => {
                latest
                    .iter()
                    .find(|(n, _)| *n == role.group_name())
                    .map(|(n, v)| lc::Live {
                        name: n.clone(),
                        version: v.number,
                        spec: v.spec.clone(),
                        template_id: Some(v.template_id.clone()),
                        versions: Vec::new(),
                        is_default: v.is_default,
                    })
            }
            LaunchKind::Configuration => lc::live(c, role, g).await?,
        };
        let tgs: Vec<String> = role
            .settings
            .list("target_groups")
            .iter()
            .filter_map(|t| {
                tg_names
                    .iter()
                    .position(|n| n == t)
                    .and_then(|i| tg_arns.get(i).cloned())
            })
            .collect();
        let live_actions: Vec<Action> = actions
            .iter()
            .filter(|(gn, _)| *gn == role.group_name())
            .map(|(_, a)| a.clone())
            .collect();
        let live_policies: Vec<Policy> = policies
            .iter()
            .filter(|(gn, _)| *gn == role.group_name())
            .map(|(_, p)| p.clone())
            .collect();
        out.push(diff_role(
            role,
            want_launch,
            g,
            live.as_ref(),
            &subnets,
            tgs,
            &live_actions,
            &live_policies,
        ));
    }
    Ok(out)
}

/// Subnet CIDRs of the role with no subnet of its cluster's udo network.
fn missing_subnets(role: &Role, found: &[Subnet]) -> Vec<String> {
    if !role.settings.list("subnets").is_empty() {
        return Vec::new();
    }
    role.settings
        .list("subnets_cidr")
        .into_iter()
        .filter(|cidr| {
            !found
                .iter()
                .any(|s| s.cidr == *cidr && s.cluster() == Some(role.cluster.as_str()))
        })
        .map(String::from)
        .collect()
}

/// One role's plan from what was read: the same decisions `asg create`/`updatelc` take.
#[allow(clippy::too_many_arguments)]
fn diff_role<'a>(
    role: &'a Role,
    want_launch: LaunchSpec,
    g: Option<&Group>,
    live: Option<&lc::Live>,
    subnets: &[Subnet],
    target_groups: Vec<String>,
    live_actions: &[Action],
    live_policies: &[Policy],
) -> RolePlan<'a> {
    let name = role.group_name();
    let step = change::launch_step(role, &want_launch, live);
    let mut p = RolePlan {
        role,
        exists: g.is_some(),
        missing_subnets: missing_subnets(role, subnets),
        launch: Vec::new(),
        launch_details: Vec::new(),
        group: Vec::new(),
        scaling: scaling::changes(role, live_actions, live_policies),
        outdated: 0,
        destructive: false,
        want_launch,
    };
    let details = |p: &mut RolePlan| {
        if let Some(l) = live {
            for d in l.spec.diff(&p.want_launch) {
                p.launch_details
                    .push(format!("{}: {} -> {}", d.field, d.live, d.desired));
            }
            let ud = user_data_diff(&l.spec.user_data, &p.want_launch.user_data);
            p.launch_details
                .extend(ud.lines().map(|l| format!("  {l}")));
        }
    };
    let Some(g) = g else {
        if let Some(s) = step.describe(role) {
            p.launch.push(s);
            details(&mut p);
        }
        let (min, max, desired) = change::sizes(role);
        p.group.push(format!(
            "create autoscaling group {name} (min {min}, max {max}, desired {desired})"
        ));
        return p;
    };
    p.outdated = g.outdated().len();
    match &step {
        LaunchStep::Reuse(l) if change::same_launch(l, &g.launch) => {}
        LaunchStep::Reuse(l) => p.launch.push(format!(
            "switch {name} from {} to {}",
            g.launch.describe(),
            l.describe()
        )),
        s => {
            p.launch.push(s.describe(role).unwrap_or_default());
            p.launch.push(format!(
                "switch {name} to it (from {})",
                g.launch.describe()
            ));
            details(&mut p);
        }
    }
    // Without its subnets the group's subnets cannot be compared yet: the network comes first.
    let resolved = if p.missing_subnets.is_empty() {
        cluster::pick_subnets(role, subnets).unwrap_or_default()
    } else {
        Vec::new()
    };
    let want = change::group_spec(role, resolved, target_groups);
    let (_, lines) = change::group_changes(g, &want);
    p.group
        .extend(lines.into_iter().map(|l| format!("change {l}")));
    for (kind, add, remove) in change::balancer_changes(g, &want) {
        p.group.extend(
            add.iter()
                .map(|x| format!("attach {} {x}", kind.singular())),
        );
        p.destructive |= !remove.is_empty();
        p.group.extend(
            remove
                .iter()
                .map(|x| format!("detach {} {x}", kind.singular())),
        );
    }
    for (k, v) in change::tag_changes(g, &want.tags) {
        p.group.push(format!("tag {k}={v}"));
    }
    p.destructive |= p.scaling.destructive();
    p
}

fn change_json<T: Item>(c: &Change<T>) -> serde_json::Value {
    json!({
        "change": c.kind(),
        "name": c.name(),
        "fields": match c {
            Change::Update { fields, .. } => fields.clone(),
            _ => Vec::new(),
        },
    })
}

/// The plan as text, grouped by cluster; or as JSON.
fn show(ctx: &Ctx, plans: &[RolePlan], nets: &[Network], hint: bool) {
    let mut clusters: Vec<&str> = Vec::new();
    for p in plans {
        if !clusters.contains(&p.role.cluster.as_str()) {
            clusters.push(&p.role.cluster);
        }
    }
    let network = |cluster: &str| -> Vec<String> {
        let mut cidrs: Vec<String> = Vec::new();
        for p in plans.iter().filter(|p| p.role.cluster == cluster) {
            for c in &p.missing_subnets {
                if !cidrs.contains(c) {
                    cidrs.push(c.clone());
                }
            }
        }
        cidrs
    };
    let net_of = |cluster: &str| nets.iter().find(|(c, _)| c == cluster).map(|(_, l)| l);
    if ctx.out.json() {
        ctx.out.print_json(&json!({
            "differences": differs(plans, nets),
            "clusters": clusters.iter().map(|cl| json!({
                "cluster": cl,
                "network": net_of(cl).cloned().unwrap_or_default(),
                "missing_subnets": network(cl),
                "roles": plans.iter().filter(|p| p.role.cluster == *cl).map(|p| json!({
                    "role": p.role.target(),
                    "group": p.role.group_name(),
                    "exists": p.exists,
                    "differs": p.differs(),
                    "launch": p.launch,
                    "launch_details": p.launch_details,
                    "group_changes": p.group,
                    "schedules": p.scaling.actions.iter().map(change_json).collect::<Vec<_>>(),
                    "policies": p.scaling.policies.iter().map(change_json).collect::<Vec<_>>(),
                    "outdated": p.outdated,
                    "destructive": p.destructive,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
        return;
    }
    let mut out = String::new();
    for cl in &clusters {
        out.push_str(&format!("Cluster {cl}:\n"));
        let missing = network(cl);
        if let Some(lines) = net_of(cl).filter(|l| !l.is_empty()) {
            out.push_str(&format!(
                "  network (`udo cluster create {cl}` makes it):\n"
            ));
            for l in lines {
                out.push_str(&format!("    {} {l}\n", step_sign(l)));
            }
        } else if !missing.is_empty() {
            out.push_str(&format!(
                "  network: subnet{} {} missing (`udo cluster create {cl}` makes the network)\n",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ));
        }
        for p in plans.iter().filter(|p| p.role.cluster == *cl) {
            let target = p.role.target();
            if !p.differs() {
                out.push_str(&format!("  {target}: matches udo.yml"));
            } else {
                out.push_str(&format!("  {target} (group {}):", p.role.group_name()));
                for l in &p.launch {
                    out.push_str(&format!("\n    {} {l}", step_sign(l)));
                }
                for d in &p.launch_details {
                    out.push_str(&format!("\n        {d}"));
                }
                for l in &p.group {
                    out.push_str(&format!("\n    {} {l}", step_sign(l)));
                }
                for c in &p.scaling.actions {
                    out.push_str(&format!(
                        "\n    {} {}",
                        sign(c),
                        c.describe("scheduled action")
                    ));
                }
                for c in &p.scaling.policies {
                    out.push_str(&format!(
                        "\n    {} {}",
                        sign(c),
                        c.describe("scaling policy")
                    ));
                }
            }
            if p.outdated > 0 {
                out.push_str(&format!(
                    "\n    {} instance(s) run an outdated launch version (replaced only by a rollout)",
                    p.outdated
                ));
            }
            out.push('\n');
        }
    }
    let differing = plans.iter().filter(|p| p.differs()).count();
    let creating = plans.iter().filter(|p| !p.exists).count();
    let networks = nets.iter().filter(|(_, l)| !l.is_empty()).count();
    if !differs(plans, nets) {
        out.push_str(&format!(
            "No differences: AWS matches udo.yml for {} role{}.\n",
            plans.len(),
            if plans.len() == 1 { "" } else { "s" }
        ));
    } else {
        out.push_str(&format!(
            "Plan: {differing} of {} role{} differ from udo.yml ({creating} group{} to create){}.{}\n",
            plans.len(),
            if plans.len() == 1 { "" } else { "s" },
            if creating == 1 { "" } else { "s" },
            match networks {
                0 => String::new(),
                1 => ", and 1 cluster network".into(),
                n => format!(", and {n} cluster networks"),
            },
            if hint {
                " `udo apply` makes these changes."
            } else {
                ""
            }
        ));
    }
    print!("{out}");
}

/// `+` for what is created or attached, `-` for what is detached, `~` for changes.
fn step_sign(line: &str) -> &'static str {
    if line.starts_with("create") || line.starts_with("attach") {
        "+"
    } else if line.starts_with("detach") {
        "-"
    } else {
        "~"
    }
}

fn sign<T>(c: &Change<T>) -> &'static str {
    match c {
        Change::Add(_) => "+",
        Change::Update { .. } => "~",
        Change::Delete(_) => "-",
    }
}

/// A cluster and what `cluster create` would change of its network (empty: nothing).
type Network = (String, Vec<String>);

/// A cluster whose network udo makes, and the subnets its survey found.
type Surveyed = (String, Vec<Subnet>);

/// The networks of the clusters in scope that udo makes (`subnets_cidr`), read as
/// `cluster create` reads them: VPC, subnets, gateway, route table, and leftover copies.
async fn networks(
    ctx: &Ctx,
    roles: &[(&Role, LaunchSpec)],
) -> Result<(Vec<Network>, Vec<Surveyed>)> {
    let mut nets: Vec<Network> = Vec::new();
    let mut surveyed: Vec<Surveyed> = Vec::new();
    for (r, _) in roles {
        let cl = &r.cluster;
        if nets.iter().any(|(c, _)| c == cl) {
            continue;
        }
        if let Some((lines, subnets)) = cluster::pending(ctx, cl).await? {
            nets.push((cl.clone(), lines));
            surveyed.push((cl.clone(), subnets));
        }
    }
    Ok((nets, surveyed))
}

/// Whether anything in scope differs from udo.yml: a role, or a cluster's network.
fn differs(plans: &[RolePlan], nets: &[Network]) -> bool {
    plans.iter().any(RolePlan::differs) || nets.iter().any(|(_, l)| !l.is_empty())
}

/// `udo plan [SCOPE] [--exit-code]`: read-only.
pub async fn plan(ctx: &Ctx, scope: Option<&str>, exit_code: bool) -> Result<()> {
    let roles = prepare(ctx, scope)?;
    let (nets, surveyed) = networks(ctx, &roles).await?;
    let plans = read(ctx, roles, &surveyed).await?;
    show(ctx, &plans, &nets, true);
    if exit_code && differs(&plans, &nets) {
        return Err(Error::Differences(
            "udo.yml and AWS differ (exit status 3)".into(),
        ));
    }
    Ok(())
}

/// `udo apply [SCOPE]`: the changes `plan` shows, in dependency order; with `--rollout`, then
/// a rollout (as `asg rollout` does it) of every role that changed or runs outdated instances.
pub async fn apply(ctx: &Ctx, scope: Option<&str>, rollout: bool) -> Result<()> {
    let roles = prepare(ctx, scope)?;
    let (nets, surveyed) = networks(ctx, &roles).await?;
    let plans = read(ctx, roles, &surveyed).await?;
    apply_plans(ctx, &plans, &nets).await?;
    if rollout && !ctx.global.dry_run {
        // One role after another, each asking as `asg rollout` does: a rollout replaces
        // running instances, so it never happens without its own confirmation (or `--yes`).
        for p in plans.iter().filter(|p| p.differs() || p.outdated > 0) {
            asg_ops::rollout(ctx, &p.role.target(), asg_ops::RolloutOptions::defaults()).await?;
        }
    }
    Ok(())
}

async fn apply_plans(ctx: &Ctx, plans: &[RolePlan<'_>], nets: &[Network]) -> Result<()> {
    if !differs(plans, nets) {
        println!(
            "Nothing to change: AWS matches udo.yml for {} role{}.",
            plans.len(),
            if plans.len() == 1 { "" } else { "s" }
        );
        return Ok(());
    }
    show(ctx, plans, nets, false);
    if ctx.global.dry_run {
        println!("Dry run: nothing was changed.");
        return Ok(());
    }
    if plans.iter().any(|p| p.destructive) {
        gate::confirm(ctx, "Some of these changes remove things. Apply them?")?;
    }
    // 1. networks, cluster by cluster
    let mut clusters: Vec<&str> = nets
        .iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(c, _)| c.as_str())
        .collect();
    for p in plans.iter().filter(|p| !p.missing_subnets.is_empty()) {
        if !clusters.contains(&p.role.cluster.as_str()) {
            clusters.push(&p.role.cluster);
        }
    }
    for cl in clusters {
        cluster::create(ctx, cl).await?;
    }
    // 2. launch settings, groups, schedules and policies: each role as `asg updatelc` (or
    // `asg create` for a missing group) does it, roles concurrently.
    let jobs: Vec<&RolePlan> = plans.iter().filter(|p| p.differs()).collect();
    let total = jobs.len();
    let results: Vec<(&Role, Result<()>)> = futures_util::stream::iter(jobs.into_iter().map(|p| {
        let fut = asg_ops::converge(
            ctx,
            p.role,
            format!("[{}] ", p.role.target()),
            p.want_launch.clone(),
            p.exists,
            true,
        );
        async move { (p.role, fut.await) }
    }))
    .buffer_unordered(CONCURRENCY)
    .collect()
    .await;
    let mut failed = Vec::new();
    for (role, res) in &results {
        if let Err(e) = res {
            for line in e.to_string().trim_end().lines() {
                eprintln!("[{}] {line}", role.target());
            }
            failed.push(role.target());
        }
    }
    if failed.is_empty() {
        println!(
            "Applied: {total} role{} changed.",
            if total == 1 { "" } else { "s" }
        );
        Ok(())
    } else {
        Err(Error::Partial(format!(
            "{} of {total} roles applied; failed: {} (re-run `udo apply` to finish)",
            total - failed.len(),
            failed.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::asg::GroupLaunch;
    use crate::config;

    fn role() -> config::Config {
        config::parse(
            std::path::Path::new("udo.yml"),
            "app_name: shop\nregion: us-east-1\nami: ami-1\ninstance_type: t3.small\nclusters:\n  dev:\n    subnets: [subnet-1]\n    roles:\n      web:\n        scale_policy: {min_size: 1, max_size: 3}\n        schedule:\n          - {name: night, recurrence: '0 20 * * *', desired: 0}\n"
                .into(),
        )
        .unwrap()
    }

    #[test]
    fn a_missing_group_is_created_with_its_launch_template_and_schedule() {
        let cfg = role();
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let p = diff_role(r, want, None, None, &[], vec![], &[], &[]);
        assert!(p.differs());
        assert_eq!(p.launch, vec!["create launch template dev-web"]);
        assert_eq!(
            p.group,
            vec!["create autoscaling group dev-web (min 1, max 3, desired 1)"]
        );
        assert_eq!(p.scaling.actions.len(), 1);
        assert!(!p.destructive);
    }

    #[test]
    fn a_matching_group_has_no_differences_and_counts_outdated_instances() {
        let cfg = role();
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let live = lc::Live {
            name: "dev-web".into(),
            version: 2,
            spec: want.clone(),
            template_id: Some("lt-1".into()),
            versions: Vec::new(),
            is_default: true,
        };
        let launch = |v: &str| GroupLaunch::Template {
            id: "lt-1".into(),
            name: "dev-web".into(),
            version: v.into(),
        };
        let mut tags = crate::launch::role_tags(r);
        tags.push(("udo:schedule".into(), "managed".into()));
        let g = Group {
            name: "dev-web".into(),
            min: 1,
            max: 3,
            desired: 1,
            launch: launch("2"),
            instances: vec![asg::GroupInstance {
                id: "i-1".into(),
                az: "us-east-1a".into(),
                lifecycle: "InService".into(),
                health: "Healthy".into(),
                launch: launch("1"),
                instance_type: "t3.small".into(),
                spot: false,
            }],
            subnets: vec!["subnet-1".into()],
            load_balancers: vec![],
            target_groups: vec![],
            health_check_type: "EC2".into(),
            grace_period: 0,
            tags,
            suspended: vec![],
            ..Default::default()
        };
        let night = crate::schedule::desired_actions(r);
        let p = diff_role(
            r,
            want.clone(),
            Some(&g),
            Some(&live),
            &[],
            vec![],
            &night,
            &[],
        );
        assert!(!p.differs(), "{:?} {:?} {:?}", p.launch, p.group, p.scaling);
        assert_eq!(p.outdated, 1);
        // an extra udo action is pruned, and that is destructive
        let mut extra = night.clone();
        extra.push(Action {
            name: "udo-old".into(),
            ..night[0].clone()
        });
        let p = diff_role(r, want, Some(&g), Some(&live), &[], vec![], &extra, &[]);
        assert!(p.differs() && p.destructive);
    }
}
