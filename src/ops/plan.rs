//! `udo plan` and `udo apply`: the engine's plan over many roles at once, shown, and applied.
//!
//! `plan` reads everything in scope with batched calls first (one DescribeAutoScalingGroups
//! for all groups, one read of the templates' `$Latest` versions, one DescribeSubnets for all
//! CIDRs, one DescribeTargetGroups for all names, one DescribeScheduledActions and one
//! DescribePolicies for all groups that need them), then diffs each role with the same
//! functions `asg updatelc` uses. It never writes. `apply` shows the same plan, asks once when
//! anything in it is destructive, creates missing cluster networks, then converges each role
//! that differs (concurrently, with `asg`'s bound) exactly as `asg create` / `asg updatelc`
//! would, so the two commands can never disagree on what "matches udo.yml" means.

use crate::config::Role;
use crate::context::Ctx;
use crate::documents;
use crate::engine::batch::{Batch, Summary};
use crate::engine::plan::{Network, RolePlan, differs, networks, read};
use crate::engine::{converge, network, survey};
use crate::error::{Error, Result};
use crate::launch::LaunchSpec;
use crate::plan as gate;
use crate::schedule::{Change, Item};
use crate::target::{self, Many};

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
            Ok((r, survey::desired(ctx, r)?))
        })
        .collect()
}

fn change_json<T: Item>(c: &Change<T>) -> documents::PlanChange {
    documents::PlanChange {
        change: c.kind(),
        name: c.name().to_string(),
        fields: match c {
            Change::Update { fields, .. } => fields.clone(),
            _ => Vec::new(),
        },
    }
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
        let role = |p: &RolePlan| documents::PlanRole {
            role: p.role.target(),
            group: p.role.group_name(),
            exists: p.exists,
            differs: p.differs(),
            launch: p.launch.clone(),
            launch_details: p.launch_details.clone(),
            group_changes: p.group.clone(),
            schedules: p.scaling.actions.iter().map(change_json).collect(),
            policies: p.scaling.policies.iter().map(change_json).collect(),
            outdated: p.outdated,
            destructive: p.destructive,
        };
        ctx.out.print_json(&documents::Plan {
            differences: differs(plans, nets),
            clusters: clusters
                .iter()
                .map(|cl| documents::PlanCluster {
                    cluster: cl.to_string(),
                    network: net_of(cl).cloned().unwrap_or_default(),
                    missing_subnets: network(cl),
                    roles: plans
                        .iter()
                        .filter(|p| p.role.cluster == *cl)
                        .map(role)
                        .collect(),
                })
                .collect(),
        });
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
    } else if line.starts_with("detach") || line.starts_with("delete") {
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

/// `udo apply [SCOPE]`: the changes `plan` shows, in dependency order. Returns the roles a
/// `--rollout` would then roll out (every role that changed or runs outdated instances); the
/// dispatcher runs `asg rollout` on them, so this command does not reach into another.
pub async fn apply(ctx: &Ctx, scope: Option<&str>) -> Result<Vec<String>> {
    let roles = prepare(ctx, scope)?;
    let (nets, surveyed) = networks(ctx, &roles).await?;
    let plans = read(ctx, roles, &surveyed).await?;
    apply_plans(ctx, &plans, &nets).await?;
    Ok(plans
        .iter()
        .filter(|p| p.differs() || p.outdated > 0)
        .map(|p| p.role.target())
        .collect())
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
        network::create(ctx, cl).await?;
    }
    // 2. launch settings, groups, schedules and policies: each role as `asg updatelc` (or
    // `asg create` for a missing group) does it, roles concurrently.
    let jobs: Vec<&RolePlan> = plans.iter().filter(|p| p.differs()).collect();
    let roles = jobs.iter().map(|p| p.role).collect();
    Batch::new(ctx, "apply", roles, true)
        .with_summary(Summary {
            done: |n, _| {
                format!(
                    "Applied: {n} role{} changed.",
                    if n == 1 { "" } else { "s" }
                )
            },
            partial: |ok, n, failed| {
                format!(
                    "{ok} of {n} roles applied; failed: {failed} (re-run `udo apply` to finish)"
                )
            },
        })
        .run_with(jobs, |role, prefix, p| {
            converge::converge(ctx, role, prefix, p.want_launch.clone(), p.exists, true)
        })
        .await
}
