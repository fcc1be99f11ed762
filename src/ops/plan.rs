//! `udo plan` and `udo apply`: the engine's plan over many roles at once (`engine::plan`: one
//! survey per profile and region, each cluster network surveyed as `cluster create` does),
//! shown grouped by cluster, and for `apply` run: networks first, then every role's steps
//! (concurrently, with the batch bound), exactly the steps shown. `asg create`, `asg updatelc`,
//! `lc create` and `cluster create` take their steps from the same plan, so `plan` can never
//! disagree with them on what "matches udo.yml" means.

use crate::config::Role;
use crate::context::Ctx;
use crate::documents;
use crate::engine::batch::{Batch, Summary};
use crate::engine::plan::{self as engine_plan, Plan};
use crate::engine::{execute, survey};
use crate::error::{Error, Result};
use crate::launch::LaunchSpec;
use crate::model::plan::RolePlan;
use crate::model::step::{self, LEGEND, Part, Step};
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

fn step_json(s: &Step) -> documents::PlanStep {
    documents::PlanStep {
        kind: s.kind().word(),
        sign: s.kind().sign(),
        part: s.part().word(),
        line: s.line(),
        details: s.details().to_vec(),
        hazard: s.hazard().map(|h| h.describe()),
    }
}

/// Launch lines (the launch part, the group's switch, and the configurations it leaves).
fn is_launch(s: &Step) -> bool {
    matches!(s.part(), Part::Launch | Part::Cleanup) || matches!(s, Step::SwitchLaunch { .. })
}

fn role_json(p: &RolePlan) -> documents::PlanRole {
    let lines = |f: &dyn Fn(&Step) -> bool| -> Vec<String> {
        p.steps.iter().filter(|s| f(s)).map(Step::line).collect()
    };
    documents::PlanRole {
        role: p.role.target(),
        group: p.group.clone(),
        exists: p.exists,
        differs: p.differs(),
        steps: p.steps.iter().map(step_json).collect(),
        refused: p.blocked.as_ref().map(|b| b.line.clone()),
        launch: lines(&is_launch),
        launch_details: p.steps.iter().flat_map(|s| s.details().to_vec()).collect(),
        group_changes: lines(&|s| s.part() == Part::Group && !is_launch(s)),
        schedules: p
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Schedule(c) => Some(change_json(c)),
                _ => None,
            })
            .collect(),
        policies: p
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Policy(c) => Some(change_json(c)),
                _ => None,
            })
            .collect(),
        outdated: p.outdated,
        destructive: step::hazard(&p.steps).is_some(),
        groups: p
            .groups
            .iter()
            .map(|(n, g, st)| documents::PlanGroup {
                group: g.clone(),
                release: *n,
                state: st.as_str(),
            })
            .collect(),
        notes: p.notes.clone(),
    }
}

/// The plan as text, grouped by cluster, with the legend under it; or as JSON.
fn show(ctx: &Ctx, plan: &Plan, hint: bool) {
    let mut clusters: Vec<&str> = Vec::new();
    for p in &plan.roles {
        if !clusters.contains(&p.role.cluster.as_str()) {
            clusters.push(&p.role.cluster);
        }
    }
    let net_of = |cluster: &str| plan.networks.iter().find(|n| n.cluster == cluster);
    let missing = |cluster: &str| -> Vec<String> {
        let mut cidrs: Vec<String> = Vec::new();
        for p in plan.roles.iter().filter(|p| p.role.cluster == cluster) {
            for c in &p.missing_subnets {
                if !cidrs.contains(c) {
                    cidrs.push(c.clone());
                }
            }
        }
        cidrs
    };
    if ctx.out.json() {
        ctx.out.print_json(&documents::Plan {
            differences: plan.differs(),
            clusters: clusters
                .iter()
                .map(|cl| documents::PlanCluster {
                    cluster: cl.to_string(),
                    network: net_of(cl)
                        .map(|n| n.steps.iter().map(Step::line).collect())
                        .unwrap_or_default(),
                    network_steps: net_of(cl)
                        .map(|n| n.steps.iter().map(step_json).collect())
                        .unwrap_or_default(),
                    missing_subnets: missing(cl),
                    roles: plan
                        .roles
                        .iter()
                        .filter(|p| p.role.cluster == *cl)
                        .map(role_json)
                        .collect(),
                })
                .collect(),
        });
        return;
    }
    let mut out = String::new();
    for cl in &clusters {
        out.push_str(&format!("Cluster {cl}:\n"));
        if let Some(n) = net_of(cl).filter(|n| !n.steps.is_empty()) {
            out.push_str(&format!(
                "  network (`udo cluster create {cl}` makes it):\n"
            ));
            out.push_str(&step::render(&n.steps, "    "));
            for note in &n.notes {
                out.push_str(&format!("        {note}\n"));
            }
        }
        for p in plan.roles.iter().filter(|p| p.role.cluster == *cl) {
            let target = p.role.target();
            if let Some(b) = &p.blocked {
                out.push_str(&format!("  {target} (group {}):\n", p.group));
                out.push_str(&format!("    {}\n", b.line));
            } else if !p.differs() && p.notes.is_empty() {
                out.push_str(&format!("  {target}: matches udo.yml\n"));
            } else if !p.differs() {
                out.push_str(&format!(
                    "  {target} (group {}): matches udo.yml\n",
                    p.group
                ));
            } else {
                out.push_str(&format!("  {target} (group {}):\n", p.group));
                out.push_str(&step::render(&p.steps, "    "));
            }
            for note in &p.notes {
                out.push_str(&format!("    note: {note}\n"));
            }
            if p.outdated > 0 {
                out.push_str(&format!(
                    "    {} instance(s) run an outdated launch version (replaced only by a rollout)\n",
                    p.outdated
                ));
            }
        }
    }
    let roles = &plan.roles;
    let differing = roles.iter().filter(|p| p.differs()).count();
    let creating = roles.iter().filter(|p| !p.exists).count();
    let networks = plan.networks.iter().filter(|n| !n.steps.is_empty()).count();
    if !plan.differs() {
        out.push_str(&format!(
            "No differences: AWS matches udo.yml for {} role{}.\n",
            roles.len(),
            if roles.len() == 1 { "" } else { "s" }
        ));
    } else {
        out.push_str(&format!("{LEGEND}\n"));
        out.push_str(&format!(
            "Plan: {differing} of {} role{} differ from udo.yml ({creating} group{} to create){}.{}\n",
            roles.len(),
            if roles.len() == 1 { "" } else { "s" },
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

/// `udo plan [SCOPE] [--exit-code]`: read-only.
pub async fn plan(ctx: &Ctx, scope: Option<&str>, exit_code: bool) -> Result<()> {
    let roles = prepare(ctx, scope)?;
    let plan = engine_plan::plan(ctx, roles, true).await?;
    show(ctx, &plan, true);
    if exit_code && plan.differs() {
        return Err(Error::Differences(
            "udo.yml and AWS differ (exit status 3)".into(),
        ));
    }
    Ok(())
}

/// `udo apply [SCOPE]`: the steps `plan` shows, in dependency order, asked about once for the
/// whole plan. Returns the roles a `--rollout` would then roll out (every role that changed or
/// runs outdated instances); the dispatcher runs `asg rollout` on them, so this command does
/// not reach into another.
pub async fn apply(ctx: &Ctx, scope: Option<&str>) -> Result<Vec<String>> {
    let roles = prepare(ctx, scope)?;
    let plan = engine_plan::plan(ctx, roles, true).await?;
    let rollout: Vec<String> = plan
        .roles
        .iter()
        .filter(|p| p.differs() || p.outdated > 0)
        .map(|p| p.role.target())
        .collect();
    run(ctx, plan).await?;
    Ok(rollout)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

async fn run(ctx: &Ctx, plan: Plan<'_>) -> Result<()> {
    if !plan.differs() {
        println!(
            "Nothing to change: AWS matches udo.yml for {}.",
            plural(plan.roles.len(), "role", "roles")
        );
        return Ok(());
    }
    show(ctx, &plan, false);
    if ctx.global.dry_run {
        println!("Dry run: nothing was changed.");
        return Ok(());
    }
    let all: Vec<Step> = plan.steps().cloned().collect();
    gate::ask_if_hazard(
        ctx,
        &all,
        "Some of these changes remove things. Apply them?",
    )?;
    let Plan { networks, roles } = plan;
    // 1. networks, cluster by cluster; the subnets they make are the roles' subnets
    let mut created: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let changed_networks = networks.iter().filter(|n| !n.steps.is_empty()).count();
    for n in networks {
        let cluster = n.cluster.clone();
        let subnets = execute::network(ctx, n).await?;
        created.push((cluster, subnets));
    }
    // 2. each role's launch settings, group, schedules and policies, roles concurrently; the
    // summary counts every step of the plan (they all ran when no role failed)
    let (c, ch, d) = step::count(&all);
    let mut over = Vec::new();
    if changed_networks > 0 {
        over.push(plural(
            changed_networks,
            "cluster network",
            "cluster networks",
        ));
    }
    let jobs: Vec<&RolePlan> = roles.iter().filter(|p| p.differs()).collect();
    if !jobs.is_empty() {
        over.push(plural(jobs.len(), "role", "roles"));
    }
    let summary = format!(
        "Applied: {c} created, {ch} changed, {d} deleted ({}).",
        over.join(", ")
    );
    let created = &created;
    Batch::new(ctx, summary, jobs.iter().map(|p| p.role).collect(), true)
        .with_summary(Summary {
            done: |_, summary| summary.to_string(),
            partial: |ok, n, failed| {
                format!(
                    "{ok} of {n} roles applied; failed: {failed} (re-run `udo apply` to finish)"
                )
            },
        })
        .run_with(jobs, |role, prefix, p| async move {
            let made: &[(String, String)] = created
                .iter()
                .find(|(c, _)| *c == role.cluster)
                .map(|(_, s)| s.as_slice())
                .unwrap_or_default();
            let c = ctx.clients_for(role).await?;
            execute::role(ctx, &c, p, &p.steps, &prefix, made).await
        })
        .await
}
