//! `udo asg …` and `udo status`: the autoscaling group lifecycle.
//!
//! Every per-role operation takes a `prefix` so `CLUSTER.*` batches can run roles concurrently
//! with their lines labelled; a single role runs with no prefix and its errors propagate as is.

use crate::aws::asg::{self, Balancer, Group, GroupLaunch, GroupSpec, GroupUpdate};
use crate::aws::{Clients, ec2, elb};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::launch::{self, LaunchKind, LaunchSpec, user_data_diff};
use crate::ops::{cluster, lc};
use crate::output::table;
use crate::plan::{self, Plan, Risk};
use crate::target::{self, Many};
use futures_util::StreamExt as _;
use serde_json::json;
use std::future::Future;
use std::time::{Duration, Instant};

/// How many roles of a batch run at once.
const CONCURRENCY: usize = 4;

/// The processes AWS lets you suspend and resume.
pub const PROCESSES: &[&str] = &[
    "Launch",
    "Terminate",
    "AddToLoadBalancer",
    "AlarmNotification",
    "AZRebalance",
    "HealthCheck",
    "InstanceRefresh",
    "ReplaceUnhealthy",
    "ScheduledActions",
];

fn missing(role: &Role) -> Error {
    Error::Failed(format!(
        "autoscaling group {} does not exist (create it with `udo asg create {}`)",
        role.group_name(),
        role.target()
    ))
}

/// Runs `op` for each role: directly for one role, else concurrently with a bound, reporting
/// each failure and a summary; any failure makes the whole command fail.
async fn for_each<'a, F, Fut>(ctx: &'a Ctx, target_text: &str, op: F) -> Result<()>
where
    F: Fn(&'a Role, String) -> Fut,
    Fut: Future<Output = Result<()>> + 'a,
{
    let roles = target::resolve(&ctx.config, target_text, Many::Allowed)?;
    if !target_text.ends_with(".*") {
        return op(roles[0], String::new()).await;
    }
    let results: Vec<(&Role, Result<()>)> = futures_util::stream::iter(roles.iter().map(|r| {
        let fut = op(r, format!("[{}] ", r.name));
        async move { (*r, fut.await) }
    }))
    .buffer_unordered(CONCURRENCY)
    .collect()
    .await;
    let mut failed = Vec::new();
    for (role, res) in &results {
        if let Err(e) = res {
            let text = e.to_string();
            for line in text.trim_end().lines() {
                eprintln!("[{}] {line}", role.name);
            }
            failed.push(role.target());
        }
    }
    let ok = results.len() - failed.len();
    if failed.is_empty() {
        println!("All {} roles of {target_text} succeeded.", results.len());
        Ok(())
    } else {
        Err(Error::Partial(format!(
            "{ok} of {} roles succeeded; failed: {}",
            results.len(),
            failed.join(", ")
        )))
    }
}

/// Checks every role's launch settings (and region) before any AWS call, so a configuration
/// error stops the whole batch with exit 2 instead of failing one role midway.
fn precheck(ctx: &Ctx, target_text: &str) -> Result<()> {
    for role in target::resolve(&ctx.config, target_text, Many::Allowed)? {
        lc::desired(ctx, role)?;
    }
    Ok(())
}

/// One confirmation for a whole batch of destructive operations.
fn confirm_batch(ctx: &Ctx, target_text: &str, what: &str) -> Result<bool> {
    if !target_text.ends_with(".*") || ctx.global.dry_run {
        return Ok(false);
    }
    let roles = target::resolve(&ctx.config, target_text, Many::Allowed)?;
    let names: Vec<String> = roles.iter().map(|r| r.group_name()).collect();
    println!(
        "{what} {} group{}: {}",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    plan::confirm(ctx, "Proceed?")?;
    Ok(true)
}

fn sizes(role: &Role) -> (i32, i32, i32) {
    let s = &role.settings;
    let min = s.int("scale_policy.min_size").unwrap_or(1) as i32;
    let max = s
        .int("scale_policy.max_size")
        .unwrap_or(i64::from(min.max(1))) as i32;
    let desired = s.int("scale_policy.desired").unwrap_or(i64::from(min)) as i32;
    (min, max, desired)
}

/// The group udo.yml describes, with subnets and target groups resolved (one call each, only
/// when names or CIDRs need resolving).
async fn desired_group(c: &Clients, role: &Role) -> Result<GroupSpec> {
    let s = &role.settings;
    let (min, max, desired) = sizes(role);
    let tgs: Vec<String> = s
        .list("target_groups")
        .into_iter()
        .map(String::from)
        .collect();
    Ok(GroupSpec {
        name: role.group_name(),
        min,
        max,
        desired: Some(desired),
        launch: None,
        subnets: cluster::resolve_subnets(c, role).await?,
        zones: s
            .list("availability_zones")
            .into_iter()
            .map(String::from)
            .collect(),
        load_balancers: s.list("elbs").into_iter().map(String::from).collect(),
        target_groups: if tgs.is_empty() {
            tgs
        } else {
            elb::target_group_arns(c, &tgs).await?
        },
        health_check_type: s.str("health_check.type").map(String::from),
        grace_period: s.int("health_check.grace_period").map(|g| g as i32),
        tags: launch::role_tags(role),
    })
}

/// What to do about the launch settings: reuse what exists or make what is missing.
enum LaunchStep {
    Reuse(GroupLaunch),
    CreateTemplate,
    NewTemplateVersion(i64),
    CreateConfig(String),
}

impl LaunchStep {
    fn describe(&self, role: &Role) -> Option<String> {
        let name = role.group_name();
        match self {
            LaunchStep::Reuse(_) => None,
            LaunchStep::CreateTemplate => Some(format!("create launch template {name}")),
            LaunchStep::NewTemplateVersion(v) => {
                Some(format!("create version {v} of launch template {name}"))
            }
            LaunchStep::CreateConfig(n) => Some(format!("create launch configuration {n}")),
        }
    }
}

/// Decides the launch step from the newest live launch settings.
fn launch_step(role: &Role, want: &LaunchSpec, live: Option<&lc::Live>) -> LaunchStep {
    let name = role.group_name();
    match (LaunchKind::of(role), live) {
        (LaunchKind::Template, None) => LaunchStep::CreateTemplate,
        (LaunchKind::Template, Some(l)) if l.spec.diff(want).is_empty() => {
            LaunchStep::Reuse(GroupLaunch::Template {
                id: l.template_id.clone().unwrap_or_default(),
                name,
                version: l.version.to_string(),
            })
        }
        (LaunchKind::Template, Some(l)) => LaunchStep::NewTemplateVersion(l.version + 1),
        (LaunchKind::Configuration, None) => LaunchStep::CreateConfig(name),
        (LaunchKind::Configuration, Some(l)) if l.spec.diff(want).is_empty() => {
            LaunchStep::Reuse(GroupLaunch::Configuration(l.name.clone()))
        }
        (LaunchKind::Configuration, Some(l)) => {
            match l
                .versions
                .iter()
                .find(|(_, c)| c.spec.diff(want).is_empty())
            {
                // a copy made by an interrupted run: use it rather than make another
                Some((_, c)) => LaunchStep::Reuse(GroupLaunch::Configuration(c.name.clone())),
                None => LaunchStep::CreateConfig(format!("{name}-v{}", l.newest() + 1)),
            }
        }
    }
}

async fn apply_launch(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    want: &LaunchSpec,
    step: LaunchStep,
    prefix: &str,
) -> Result<GroupLaunch> {
    let name = role.group_name();
    Ok(match step {
        LaunchStep::Reuse(l) => l,
        LaunchStep::CreateTemplate => {
            let id = ec2::create_template(c, &name, want, &launch::role_tags(role)).await?;
            ctx.events.emit(
                prefix,
                format!("Created launch template {name} ({id}) version 1"),
            );
            GroupLaunch::Template {
                id,
                name,
                version: "1".into(),
            }
        }
        LaunchStep::NewTemplateVersion(_) => {
            let v = ec2::create_template_version(c, &name, want).await?;
            ctx.events.emit(
                prefix,
                format!("Created launch template {name} version {v}"),
            );
            GroupLaunch::Template {
                id: String::new(),
                name,
                version: v.to_string(),
            }
        }
        LaunchStep::CreateConfig(n) => {
            asg::create_launch_config(c, &n, want).await?;
            ctx.events
                .emit(prefix, format!("Created launch configuration {n}"));
            GroupLaunch::Configuration(n)
        }
    })
}

fn same_launch(a: &GroupLaunch, b: &GroupLaunch) -> bool {
    match (a, b) {
        (
            GroupLaunch::Template {
                name: n1,
                version: v1,
                ..
            },
            GroupLaunch::Template {
                name: n2,
                version: v2,
                ..
            },
        ) => n1 == n2 && v1 == v2,
        (GroupLaunch::Configuration(x), GroupLaunch::Configuration(y)) => x == y,
        _ => false,
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Group-level differences between the live group and udo.yml, as (description, kind).
fn group_changes(g: &Group, want: &GroupSpec) -> (GroupUpdate, Vec<String>) {
    let mut u = GroupUpdate::default();
    let mut lines = Vec::new();
    if g.min != want.min {
        lines.push(format!("min size {} -> {}", g.min, want.min));
        u.min = Some(want.min);
    }
    if g.max != want.max {
        lines.push(format!("max size {} -> {}", g.max, want.max));
        u.max = Some(want.max);
    }
    // Desired capacity belongs to `asg scale`; it only moves when the new bounds demand it.
    let clamped = g.desired.clamp(want.min, want.max.max(want.min));
    if clamped != g.desired {
        lines.push(format!(
            "desired capacity {} -> {clamped} (to fit the new bounds)",
            g.desired
        ));
        u.desired = Some(clamped);
    }
    if !want.subnets.is_empty() && sorted(&g.subnets) != sorted(&want.subnets) {
        lines.push(format!(
            "subnets {} -> {}",
            g.subnets.join(","),
            want.subnets.join(",")
        ));
        u.subnets = Some(want.subnets.clone());
    }
    if let Some(t) = &want.health_check_type
        && *t != g.health_check_type
    {
        lines.push(format!("health check type {} -> {t}", g.health_check_type));
        u.health_check_type = Some(t.clone());
    }
    if let Some(p) = want.grace_period
        && p != g.grace_period
    {
        lines.push(format!(
            "health check grace period {}s -> {p}s",
            g.grace_period
        ));
        u.grace_period = Some(p);
    }
    (u, lines)
}

fn set_diff(have: &[String], want: &[String]) -> (Vec<String>, Vec<String>) {
    let add = want.iter().filter(|w| !have.contains(w)).cloned().collect();
    let remove = have.iter().filter(|h| !want.contains(h)).cloned().collect();
    (add, remove)
}

/// Balancers to attach and detach, per kind.
fn balancer_changes(g: &Group, want: &GroupSpec) -> [(Balancer, Vec<String>, Vec<String>); 2] {
    let (lb_add, lb_remove) = set_diff(&g.load_balancers, &want.load_balancers);
    let (tg_add, tg_remove) = set_diff(&g.target_groups, &want.target_groups);
    [
        (Balancer::Classic, lb_add, lb_remove),
        (Balancer::TargetGroup, tg_add, tg_remove),
    ]
}

fn tag_changes(g: &Group, want: &[(String, String)]) -> Vec<(String, String)> {
    want.iter()
        .filter(|(k, v)| !g.tags.iter().any(|(gk, gv)| gk == k && gv == v))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------- create

pub async fn create(ctx: &Ctx, target_text: &str) -> Result<()> {
    precheck(ctx, target_text)?;
    for_each(ctx, target_text, |role, prefix| {
        create_one(ctx, role, prefix)
    })
    .await
}

async fn create_one(ctx: &Ctx, role: &Role, prefix: String) -> Result<()> {
    let want_launch = lc::desired(ctx, role)?;
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    if let Some(g) = asg::group(&c, &name).await? {
        let want = desired_group(&c, role).await?;
        let (_, mut lines) = group_changes(&g, &want);
        for (kind, add, remove) in balancer_changes(&g, &want) {
            lines.extend(
                add.iter()
                    .map(|x| format!("{} {x} to attach", kind.singular())),
            );
            lines.extend(
                remove
                    .iter()
                    .map(|x| format!("{} {x} to detach", kind.singular())),
            );
        }
        lines.extend(
            tag_changes(&g, &want.tags)
                .iter()
                .map(|(k, v)| format!("tag {k}={v} to set")),
        );
        if lines.is_empty() {
            println!("{prefix}Group {name} already exists and matches udo.yml; no change.");
        } else {
            println!(
                "{prefix}Group {name} already exists; no change made. It differs from udo.yml in:"
            );
            for l in lines {
                println!("{prefix}    {l}");
            }
            println!(
                "{prefix}`udo asg updatelc {}` applies these.",
                role.target()
            );
        }
        return Ok(());
    }
    let live = lc::live(&c, role, None).await?;
    let step = launch_step(role, &want_launch, live.as_ref());
    let (min, max, desired) = sizes(role);
    let mut plan = Plan::default();
    if let Some(s) = step.describe(role) {
        plan.step(s);
    }
    plan.step(format!(
        "create autoscaling group {name} (min {min}, max {max}, desired {desired})"
    ));
    if !plan::gate(
        ctx,
        &format!("{prefix}{}:", role.target()),
        &plan,
        Risk::Additive,
    )? {
        return Ok(());
    }
    let mut spec = desired_group(&c, role).await?;
    spec.launch = Some(apply_launch(ctx, &c, role, &want_launch, step, &prefix).await?);
    asg::create_group(&c, &spec).await?;
    ctx.events.emit(
        &prefix,
        format!(
            "Created ASgroup {name} (min {min}, max {max}, desired {desired}) from {}{}",
            spec.launch
                .as_ref()
                .map(GroupLaunch::describe)
                .unwrap_or_default(),
            if spec.subnets.is_empty() {
                String::new()
            } else {
                format!(" in subnets {}", spec.subnets.join(","))
            }
        ),
    );
    Ok(())
}

// ---------------------------------------------------------------- destroy / reload

pub async fn destroy(ctx: &Ctx, target_text: &str, timeout: u64) -> Result<()> {
    for role in target::resolve(&ctx.config, target_text, Many::Allowed)? {
        ctx.region_of(role)?;
    }
    let confirmed = confirm_batch(ctx, target_text, "Destroy")?;
    for_each(ctx, target_text, |role, prefix| {
        destroy_one(ctx, role, prefix, timeout, confirmed)
    })
    .await
}

pub async fn reload(ctx: &Ctx, target_text: &str, timeout: u64) -> Result<()> {
    precheck(ctx, target_text)?;
    let confirmed = confirm_batch(ctx, target_text, "Destroy and re-create")?;
    for_each(ctx, target_text, |role, prefix| async move {
        destroy_one(ctx, role, prefix.clone(), timeout, confirmed).await?;
        if ctx.global.dry_run {
            println!("{prefix}then: create it again from udo.yml");
            return Ok(());
        }
        create_one(ctx, role, prefix).await
    })
    .await
}

async fn destroy_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    timeout: u64,
    confirmed: bool,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let kind = LaunchKind::of(role);
    let group = asg::group(&c, &name).await?;
    let launch_names = lc::existing_names(&c, role).await?;
    let mut plan = Plan::default();
    if let Some(g) = &group {
        if g.min != 0 || g.max != 0 || g.desired != 0 || !g.instances.is_empty() {
            plan.step(format!(
                "set {name} sizes to 0 and wait for its {} instance(s) to terminate",
                g.instances.len()
            ));
        }
        plan.step(format!("delete autoscaling group {name}"));
    } else {
        println!("{prefix}Group {name} does not exist; nothing to delete there.");
    }
    for n in &launch_names {
        plan.step(format!("delete {} {n}", kind.noun()));
    }
    if plan.is_empty() {
        return Ok(());
    }
    let risk = if confirmed {
        Risk::Additive
    } else {
        Risk::Destructive
    };
    if !plan::gate(ctx, &format!("{prefix}{}:", role.target()), &plan, risk)? {
        return Ok(());
    }
    if let Some(g) = group {
        if g.min != 0 || g.max != 0 || g.desired != 0 {
            asg::update_group(
                &c,
                &name,
                &GroupUpdate {
                    min: Some(0),
                    max: Some(0),
                    desired: Some(0),
                    ..Default::default()
                },
            )
            .await?;
            ctx.events.emit(
                &prefix,
                format!(
                    "Changed ASgroup {name} sizes to 0 (was desired {}, min {}, max {})",
                    g.desired, g.min, g.max
                ),
            );
        }
        wait(
            ctx,
            &c,
            &name,
            &prefix,
            timeout,
            "instances to terminate",
            |g| match g {
                Some(g) if !g.instances.is_empty() => {
                    Some(format!("{} instance(s) still running", g.instances.len()))
                }
                _ => None,
            },
        )
        .await?;
        if asg::delete_group(&c, &name).await? {
            ctx.events.emit(&prefix, format!("Deleted ASgroup {name}"));
        }
        // AWS deletes groups asynchronously; a launch configuration cannot go while in use.
        wait(
            ctx,
            &c,
            &name,
            &prefix,
            timeout,
            "the group to be deleted",
            |g| g.map(|_| "deleting".to_string()),
        )
        .await?;
    }
    for n in &launch_names {
        let deleted = match kind {
            LaunchKind::Template => ec2::delete_template(&c, n).await?,
            LaunchKind::Configuration => asg::delete_launch_config(&c, n).await?,
        };
        if deleted {
            ctx.events
                .emit(&prefix, format!("Deleted {} {n}", kind.noun()));
        }
    }
    Ok(())
}

/// Polls the group with backoff until `pending` says nothing is pending, or the timeout passes.
async fn wait<F>(
    ctx: &Ctx,
    c: &Clients,
    name: &str,
    prefix: &str,
    timeout: u64,
    what: &str,
    pending: F,
) -> Result<()>
where
    F: Fn(Option<&Group>) -> Option<String>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    let mut shown = false;
    loop {
        let g = asg::group(c, name).await?;
        let Some(state) = pending(g.as_ref()) else {
            if shown {
                ctx.out.progress_done();
            }
            return Ok(());
        };
        let waited = start.elapsed().as_secs();
        if waited >= timeout {
            if shown {
                ctx.out.progress_done();
            }
            return Err(Error::Failed(format!(
                "timed out after {waited}s waiting for {what} in {name} ({state}); nothing else was changed; re-run the command to continue, or raise --timeout"
            )));
        }
        ctx.out.progress(&format!(
            "{prefix}waiting for {what} in {name}: {state} ({waited}s)"
        ));
        shown = true;
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}

// ---------------------------------------------------------------- updatelc

pub async fn updatelc(ctx: &Ctx, target_text: &str) -> Result<()> {
    precheck(ctx, target_text)?;
    for_each(ctx, target_text, |role, prefix| {
        updatelc_one(ctx, role, prefix)
    })
    .await
}

async fn updatelc_one(ctx: &Ctx, role: &Role, prefix: String) -> Result<()> {
    let want_launch = lc::desired(ctx, role)?;
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let g = asg::group(&c, &name).await?.ok_or_else(|| missing(role))?;
    let live = lc::live(&c, role, Some(&g)).await?;
    let step = launch_step(role, &want_launch, live.as_ref());
    let want = desired_group(&c, role).await?;
    let (mut update, group_lines) = group_changes(&g, &want);
    let balancers = balancer_changes(&g, &want);
    let tags = tag_changes(&g, &want.tags);

    let mut plan = Plan::default();
    let launch_changes = match (&step, &live) {
        (LaunchStep::Reuse(l), _) if same_launch(l, &g.launch) => false,
        (LaunchStep::Reuse(l), _) => {
            plan.step(format!(
                "switch {name} from {} to {}",
                g.launch.describe(),
                l.describe()
            ));
            true
        }
        (s, l) => {
            plan.step(s.describe(role).unwrap_or_default());
            plan.step(format!(
                "switch {name} to it (from {})",
                g.launch.describe()
            ));
            if let Some(l) = l {
                for d in l.spec.diff(&want_launch) {
                    plan.detail(format!("{}: {} -> {}", d.field, d.live, d.desired));
                }
                let ud = user_data_diff(&l.spec.user_data, &want_launch.user_data);
                plan.details.extend(ud.lines().map(|l| format!("  {l}")));
            }
            true
        }
    };
    for l in &group_lines {
        plan.step(format!("change {l}"));
    }
    for (kind, add, remove) in &balancers {
        plan.steps.extend(
            add.iter()
                .map(|x| format!("attach {} {x}", kind.singular())),
        );
        plan.steps.extend(
            remove
                .iter()
                .map(|x| format!("detach {} {x}", kind.singular())),
        );
    }
    for (k, v) in &tags {
        plan.step(format!("tag {k}={v}"));
    }
    // Configurations of this role that nothing will use: the one the group leaves (deleted
    // only after the switch) and any an interrupted earlier run left behind.
    let keep = match &step {
        LaunchStep::Reuse(GroupLaunch::Configuration(n)) | LaunchStep::CreateConfig(n) => {
            Some(n.clone())
        }
        _ => None,
    };
    let unused: Vec<String> = live
        .as_ref()
        .map(|l| {
            l.versions
                .iter()
                .filter(|(v, c)| *v > 0 && Some(&c.name) != keep.as_ref())
                .map(|(_, c)| c.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let unused: Vec<String> = if keep.is_some() { unused } else { Vec::new() };
    for n in &unused {
        plan.step(format!("delete unused launch configuration {n}"));
    }
    if plan.is_empty() {
        println!("{prefix}Group {name} matches udo.yml; nothing to do.");
        return Ok(());
    }
    if !plan::gate(
        ctx,
        &format!("{prefix}{}:", role.target()),
        &plan,
        Risk::Additive,
    )? {
        return Ok(());
    }
    let old_launch = g.launch.clone();
    if launch_changes {
        update.launch = Some(apply_launch(ctx, &c, role, &want_launch, step, &prefix).await?);
    }
    if !update.is_empty() {
        asg::update_group(&c, &name, &update).await?;
        if let Some(l) = &update.launch {
            ctx.events.emit(
                &prefix,
                format!(
                    "Changed ASgroup {name} launch from {} to {}",
                    old_launch.describe(),
                    l.describe()
                ),
            );
        }
        for l in &group_lines {
            ctx.events
                .emit(&prefix, format!("Changed ASgroup {name} {l}"));
        }
    }
    for (kind, add, remove) in &balancers {
        for (items, attach) in [(add, true), (remove, false)] {
            if items.is_empty() {
                continue;
            }
            asg::attach(&c, &name, *kind, items, attach).await?;
            let (verb, dir) = if attach {
                ("Attached", "to")
            } else {
                ("Detached", "from")
            };
            ctx.events.emit(
                &prefix,
                format!(
                    "{verb} {} {} {dir} ASgroup {name}",
                    kind.noun(),
                    items.join(", ")
                ),
            );
        }
    }
    if !tags.is_empty() {
        asg::set_tags(&c, &name, &tags).await?;
        ctx.events.emit(
            &prefix,
            format!(
                "Tagged ASgroup {name} with {}",
                tags.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    // Only after the group switched: the configurations it no longer uses.
    for n in &unused {
        if asg::delete_launch_config(&c, n).await? {
            ctx.events
                .emit(&prefix, format!("Deleted launch configuration {n}"));
        }
    }
    if launch_changes {
        ctx.out.info(&format!(
            "{prefix}note: running instances keep their old launch settings until replaced (`udo asg instances {}` marks them)",
            role.target()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- scale

pub async fn scale(
    ctx: &Ctx,
    target_text: &str,
    n: Option<u32>,
    wait_for: bool,
    timeout: u64,
) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    if let Some(n) = n
        && n > 10_000
    {
        return Err(Error::usage(
            format!("{n} instances is not a possible group size"),
            "use a number from 0 to 10000",
        ));
    }
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let g = asg::group(&c, &name).await?.ok_or_else(|| missing(role))?;
    let Some(n) = n.map(|n| n as i32) else {
        if ctx.out.json() {
            ctx.out.print_json(&json!({"group": name, "desired": g.desired, "min": g.min, "max": g.max, "in_service": g.in_service()}));
        } else {
            println!(
                "{name}: desired {}, min {}, max {}; {} InService",
                g.desired,
                g.min,
                g.max,
                g.in_service()
            );
        }
        return Ok(());
    };
    let mut update = GroupUpdate::default();
    let mut plan = Plan::default();
    if n < g.min {
        plan.step(format!(
            "lower the minimum size of {name} from {} to {n}",
            g.min
        ));
        update.min = Some(n);
    }
    if n > g.max {
        plan.step(format!(
            "raise the maximum size of {name} from {} to {n}",
            g.max
        ));
        update.max = Some(n);
    }
    if n != g.desired {
        plan.step(format!(
            "set the desired capacity of {name} from {} to {n}",
            g.desired
        ));
    }
    if plan.is_empty() {
        println!("{name} already has desired capacity {n}; nothing to do.");
    } else {
        let risk = if update.min.is_some() || update.max.is_some() {
            Risk::Destructive
        } else {
            Risk::Additive
        };
        if !plan::gate(ctx, &format!("{}:", role.target()), &plan, risk)? {
            return Ok(());
        }
        if update.min.is_some() || update.max.is_some() {
            update.desired = Some(n);
            asg::update_group(&c, &name, &update).await?;
            if let Some(m) = update.min {
                ctx.events.emit(
                    "",
                    format!("Changed ASgroup {name} minimum size from {} to {m}", g.min),
                );
            }
            if let Some(m) = update.max {
                ctx.events.emit(
                    "",
                    format!("Changed ASgroup {name} maximum size from {} to {m}", g.max),
                );
            }
        } else {
            asg::set_desired(&c, &name, n).await?;
        }
        if n != g.desired {
            ctx.events.emit(
                "",
                format!(
                    "Changed ASgroup {name} desired capacity from {} to {n}",
                    g.desired
                ),
            );
        }
    }
    if wait_for {
        wait(
            ctx,
            &c,
            &name,
            "",
            timeout,
            &format!("{n} InService instances"),
            |g| match g {
                Some(g) if g.in_service() as i32 != n || g.instances.len() as i32 != n => Some(
                    format!("{} of {} InService", g.in_service(), g.instances.len()),
                ),
                Some(_) => None,
                None => Some("group disappeared".into()),
            },
        )
        .await?;
        println!(
            "{name} has {n} InService instance{}.",
            if n == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- instances / randomip

struct Row {
    instance: asg::GroupInstance,
    ec2: Option<ec2::Instance>,
    outdated: bool,
}

/// The group and its instances with addresses: two calls.
async fn instance_rows(c: &Clients, role: &Role) -> Result<(Group, Vec<Row>)> {
    let g = asg::group(c, &role.group_name())
        .await?
        .ok_or_else(|| missing(role))?;
    let ids: Vec<String> = g.instances.iter().map(|i| i.id.clone()).collect();
    let found = ec2::instances(c, &ids).await?;
    let rows = g
        .instances
        .iter()
        .map(|i| Row {
            instance: i.clone(),
            ec2: found.iter().find(|f| f.id == i.id).cloned(),
            outdated: g.is_outdated(i),
        })
        .collect();
    Ok((g, rows))
}

fn age(launched: Option<i64>) -> String {
    let Some(t) = launched else { return "-".into() };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let s = (now - t).max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

pub async fn instances(ctx: &Ctx, target_text: &str) -> Result<()> {
    let batch = target_text.ends_with(".*");
    if ctx.out.json() {
        let roles = target::resolve(&ctx.config, target_text, Many::Allowed)?;
        let mut groups = Vec::new();
        for role in roles {
            let c = ctx.clients_for(role).await?;
            let (g, rows) = instance_rows(&c, role).await?;
            groups.push(json!({
                "group": g.name,
                "launch": g.launch.describe(),
                "instances": rows.iter().map(|r| json!({
                    "id": r.instance.id,
                    "zone": r.instance.az,
                    "lifecycle": r.instance.lifecycle,
                    "health": r.instance.health,
                    "launch": r.instance.launch.describe(),
                    "outdated": r.outdated,
                    "private_ip": r.ec2.as_ref().and_then(|e| e.private_ip.clone()),
                    "public_ip": r.ec2.as_ref().and_then(|e| e.public_ip.clone()),
                    "launched": r.ec2.as_ref().and_then(|e| e.launched),
                })).collect::<Vec<_>>(),
            }));
        }
        ctx.out.print_json(&if batch {
            json!({ "groups": groups })
        } else {
            groups.remove(0)
        });
        return Ok(());
    }
    for_each(ctx, target_text, |role, prefix| async move {
        let c = ctx.clients_for(role).await?;
        let (g, rows) = instance_rows(&c, role).await?;
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.instance.id.clone(),
                    r.instance.az.clone(),
                    r.instance.lifecycle.clone(),
                    r.instance.health.clone(),
                    format!(
                        "{}{}",
                        r.instance.launch.describe(),
                        if r.outdated { " (outdated)" } else { "" }
                    ),
                    r.ec2
                        .as_ref()
                        .and_then(|e| e.private_ip.clone())
                        .unwrap_or_else(|| "-".into()),
                    r.ec2
                        .as_ref()
                        .and_then(|e| e.public_ip.clone())
                        .unwrap_or_else(|| "-".into()),
                    age(r.ec2.as_ref().and_then(|e| e.launched)),
                ]
            })
            .collect();
        let text = table(
            &[
                "INSTANCE",
                "ZONE",
                "STATE",
                "HEALTH",
                "LAUNCH",
                "PRIVATE IP",
                "PUBLIC IP",
                "AGE",
            ],
            &table_rows,
        );
        let mut out = format!(
            "{prefix}{}: {} instance(s), launching from {}\n",
            g.name,
            rows.len(),
            g.launch.describe()
        );
        if !rows.is_empty() {
            for line in text.lines() {
                out.push_str(&format!("{prefix}{line}\n"));
            }
        }
        let outdated = rows.iter().filter(|r| r.outdated).count();
        if outdated > 0 {
            out.push_str(&format!(
                "{prefix}{outdated} instance(s) run an outdated launch version\n"
            ));
        }
        print!("{out}");
        Ok(())
    })
    .await
}

pub async fn randomip(ctx: &Ctx, target_text: &str, private: bool) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let c = ctx.clients_for(role).await?;
    let (g, rows) = instance_rows(&c, role).await?;
    let live: Vec<&Row> = rows
        .iter()
        .filter(|r| r.instance.lifecycle == "InService")
        .collect();
    if live.is_empty() {
        return Err(Error::Failed(format!(
            "group {} has no InService instance",
            g.name
        )));
    }
    let pick = live[fastrand::usize(..live.len())];
    let e = pick.ec2.as_ref();
    let ip = if private {
        e.and_then(|e| e.private_ip.clone())
    } else {
        match e.and_then(|e| e.public_ip.clone()) {
            Some(ip) => Some(ip),
            None => {
                ctx.out.info(&format!(
                    "note: {} has no public address; printing its private one",
                    pick.instance.id
                ));
                e.and_then(|e| e.private_ip.clone())
            }
        }
    };
    let ip = ip.ok_or_else(|| {
        Error::Failed(format!("instance {} has no address yet", pick.instance.id))
    })?;
    if ctx.out.json() {
        ctx.out
            .print_json(&json!({"group": g.name, "instance": pick.instance.id, "ip": ip}));
    } else {
        println!("{ip}");
    }
    Ok(())
}

// ---------------------------------------------------------------- policies / suspend / resume

pub async fn policies(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let c = ctx.clients_for(role).await?;
    let g = asg::group(&c, &role.group_name())
        .await?
        .ok_or_else(|| missing(role))?;
    let ps = asg::policies(&c, &g.name).await?;
    if ctx.out.json() {
        ctx.out.print_json(&json!({
            "group": g.name,
            "policies": ps.iter().map(|p| json!({"name": p.name, "type": p.kind, "adjustment": p.adjustment, "alarms": p.alarms})).collect::<Vec<_>>(),
            "suspended": g.suspended,
        }));
        return Ok(());
    }
    if ps.is_empty() {
        println!("{} has no scaling policies.", g.name);
    } else {
        let rows: Vec<Vec<String>> = ps
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.kind.clone(),
                    p.adjustment.clone(),
                    if p.alarms.is_empty() {
                        "-".into()
                    } else {
                        p.alarms.join(",")
                    },
                ]
            })
            .collect();
        print!(
            "{}",
            table(&["POLICY", "TYPE", "ADJUSTMENT", "ALARMS"], &rows)
        );
    }
    if !g.suspended.is_empty() {
        println!("Suspended processes: {}", g.suspended.join(", "));
    }
    Ok(())
}

fn check_processes(processes: &[String]) -> Result<()> {
    for p in processes {
        if !PROCESSES.contains(&p.as_str()) {
            let hint = crate::config::diag::suggest(p, PROCESSES.iter().copied())
                .map(|s| format!("did you mean {s}? "))
                .unwrap_or_default();
            return Err(Error::usage(
                format!("unknown scaling process `{p}`"),
                format!("{hint}processes: {}", PROCESSES.join(", ")),
            ));
        }
    }
    Ok(())
}

pub async fn suspend(
    ctx: &Ctx,
    target_text: &str,
    processes: &[String],
    resume: bool,
) -> Result<()> {
    check_processes(processes)?;
    let role = target::one(&ctx.config, target_text)?;
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let g = asg::group(&c, &name).await?.ok_or_else(|| missing(role))?;
    let what = if processes.is_empty() {
        "all processes".to_string()
    } else {
        processes.join(", ")
    };
    let verb = if resume { "resume" } else { "suspend" };
    let mut plan = Plan::default();
    plan.step(format!("{verb} {what} of {name}"));
    if !plan::gate(ctx, &format!("{}:", role.target()), &plan, Risk::Additive)? {
        return Ok(());
    }
    if resume {
        asg::resume(&c, &g.name, processes).await?;
        ctx.events
            .emit("", format!("Resumed {what} of ASgroup {name}"));
    } else {
        asg::suspend(&c, &g.name, processes).await?;
        ctx.events
            .emit("", format!("Suspended {what} of ASgroup {name}"));
    }
    Ok(())
}

// ---------------------------------------------------------------- status

pub async fn status(ctx: &Ctx, cluster_name: Option<&str>) -> Result<()> {
    let clusters: Vec<&crate::config::Cluster> = match cluster_name {
        Some(n) => vec![target::find_cluster(&ctx.config, n)?],
        None => ctx.config.clusters.iter().collect(),
    };
    let roles: Vec<&Role> = clusters.iter().flat_map(|c| c.roles.iter()).collect();
    // One batched DescribeAutoScalingGroups per region: everything status shows is in it.
    let mut by_region: Vec<(String, Vec<&Role>)> = Vec::new();
    for r in &roles {
        let region = ctx.region_of(r)?;
        match by_region.iter_mut().find(|(reg, _)| *reg == region) {
            Some((_, list)) => list.push(r),
            None => by_region.push((region, vec![r])),
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for (region, list) in &by_region {
        let c = ctx.aws().await.clients(region);
        let names: Vec<String> = list.iter().map(|r| r.group_name()).collect();
        groups.extend(asg::groups(&c, &names).await?);
    }
    let find = |r: &Role| groups.iter().find(|g| g.name == r.group_name());
    if ctx.out.json() {
        ctx.out.print_json(&json!({
            "groups": roles.iter().map(|r| {
                let g = find(r);
                json!({
                    "cluster": r.cluster,
                    "role": r.name,
                    "group": r.group_name(),
                    "exists": g.is_some(),
                    "desired": g.map(|g| g.desired),
                    "min": g.map(|g| g.min),
                    "max": g.map(|g| g.max),
                    "in_service": g.map(|g| g.in_service()),
                    "instances": g.map(|g| g.instances.len()),
                    "launch": g.map(|g| g.launch.describe()),
                    "outdated": g.map(|g| g.outdated().len()),
                    "suspended": g.map(|g| g.suspended.clone()).unwrap_or_default(),
                })
            }).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = roles
        .iter()
        .map(|r| match find(r) {
            Some(g) => vec![
                r.target(),
                g.name.clone(),
                "yes".into(),
                format!("{}/{}/{}", g.desired, g.min, g.max),
                g.in_service().to_string(),
                g.launch.describe(),
                g.outdated().len().to_string(),
                if g.suspended.is_empty() {
                    "-".into()
                } else {
                    g.suspended.join(",")
                },
            ],
            None => vec![
                r.target(),
                r.group_name(),
                "no".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ],
        })
        .collect();
    if rows.is_empty() {
        println!("No roles defined.");
    } else {
        print!(
            "{}",
            table(
                &[
                    "ROLE",
                    "GROUP",
                    "EXISTS",
                    "DESIRED/MIN/MAX",
                    "INSERVICE",
                    "LAUNCH",
                    "OUTDATED",
                    "SUSPENDED"
                ],
                &rows
            )
        );
    }
    Ok(())
}
