//! `udo lc …`: launch templates, launch configurations and their cloud-init scripts.

use crate::aws::asg::{self, GroupLaunch};
use crate::aws::ec2;
use crate::cloudinit;
use crate::config::Role;
use crate::context::Ctx;
use crate::documents;
use crate::engine::execute;
use crate::engine::survey::{desired, existing_names, live};
use crate::error::Result;
use crate::launch::{self, LaunchKind, user_data_diff};
use crate::model::op_step::OpStep;
use crate::model::plan::launch_part;
use crate::model::step::Step;
use crate::output::table;
use crate::plan;
use crate::target;

/// Prints the user data exactly as udo would send it. Needs no credentials and no network.
pub fn cloudinit(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let region = ctx.region_of(role)?;
    print!("{}", cloudinit::render(role, &region));
    Ok(())
}

/// `lc create`: the launch part of the role's plan (`model::plan::launch_part`), shown, then
/// run. A launch configuration cannot change in place: its replacement comes with the group's
/// `asg updatelc`, which switches the group to it.
pub async fn create(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let want = desired(ctx, role)?;
    let c = ctx.clients_for(role).await?;
    let kind = LaunchKind::of(role);
    let current = live(&c, role, None).await?;
    let want = want.with_root_device_of(current.as_ref().map(|l| &l.spec));
    let steps = launch_part(role, &want, current.as_ref());
    match (&current, steps.first()) {
        (Some(l), None) => {
            println!(
                "{} {} (version {}) matches udo.yml; nothing to do.",
                cap(kind.noun()),
                l.name,
                l.version
            );
            return Ok(());
        }
        (Some(l), Some(Step::CreateLaunchConfiguration { name: next, diff })) => {
            println!("Launch configuration {} differs from udo.yml:", l.name);
            for line in diff {
                println!("    {line}");
            }
            println!(
                "Launch configurations cannot be changed in place; `udo asg updatelc {}` creates {next} and switches the group to it.",
                role.target(),
            );
            return Ok(());
        }
        _ => {}
    }
    if !plan::gate_steps(ctx, &format!("{}:", role.target()), &steps, &[])? {
        return Ok(());
    }
    execute::launch(ctx, &c, role, &want, &steps, "").await?;
    if steps
        .iter()
        .any(|s| matches!(s, Step::NewTemplateVersion { .. }))
    {
        ctx.out.info(&format!(
            "note: the group keeps its current version until `udo asg updatelc {}`",
            role.target()
        ));
    }
    Ok(())
}

pub async fn destroy(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let kind = LaunchKind::of(role);
    // every group of the role: a blue/green release kept for a rollback launches from it too
    let groups = crate::engine::groups::role(&c, role).await?;
    let names = existing_names(&c, role).await?;
    if names.is_empty() {
        println!("No {} {name} exists; nothing to delete.", kind.noun());
        return Ok(());
    }
    for (_, g) in &groups.groups {
        let used = match &g.launch {
            GroupLaunch::Template { name: n, .. } => names.contains(n),
            GroupLaunch::Configuration(n) => names.contains(n),
            GroupLaunch::Other => false,
        };
        if used {
            return Err(crate::failure::Failure::LaunchInUse {
                group: g.name.clone(),
                noun: kind.noun(),
                launch: g.launch.describe(),
                target: role.target(),
            }
            .into());
        }
    }
    let steps: Vec<Step> = names
        .iter()
        .map(|n| {
            Step::Op(OpStep::DeleteLaunch {
                kind,
                name: n.clone(),
            })
        })
        .collect();
    if !plan::gate_steps(ctx, &format!("{}:", role.target()), &steps, &[])? {
        return Ok(());
    }
    for n in &names {
        let deleted = match kind {
            LaunchKind::Template => ec2::delete_template(&c, n).await?,
            LaunchKind::Configuration => asg::delete_launch_config(&c, n).await?,
        };
        if deleted {
            ctx.events.emit("", format!("Deleted {} {n}", kind.noun()));
        }
    }
    Ok(())
}

pub async fn show(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let want = desired(ctx, role)?;
    let c = ctx.clients_for(role).await?;
    let kind = LaunchKind::of(role);
    // the role's active group (a blue/green release, or its base group)
    let group = crate::engine::groups::active(&c, role).await?;
    let current = live(&c, role, group.as_ref()).await?;
    let other_kind = other_kind_note(role, group.as_ref());
    let apply = apply_command(role, group.as_ref(), current.is_some());
    let diffs = current
        .as_ref()
        .map(|l| l.spec.diff(&want))
        .unwrap_or_default();
    let ud = current
        .as_ref()
        .map(|l| user_data_diff(&l.spec.user_data, &want.user_data))
        .unwrap_or_default();
    // The group's mix of instance types and spot (a mixed instances policy over the
    // template): shown with the template, applied to the group by `asg updatelc`.
    let want_mix = launch::InstanceMix::desired(role);
    let live_mix = group.as_ref().map(|g| g.mix.clone());
    let mix_differs = live_mix.as_ref().is_some_and(|m| *m != want_mix);
    let state = match &current {
        None => "missing",
        Some(_) if diffs.is_empty() => "in sync",
        Some(_) => "differs",
    };
    if ctx.out.json() {
        ctx.out.print_json(&documents::LcShow {
            target: role.target(),
            kind: match kind {
                LaunchKind::Template => "template",
                LaunchKind::Configuration => "configuration",
            },
            name: current
                .as_ref()
                .map_or(role.group_name(), |l| l.name.clone()),
            exists: current.is_some(),
            version: current.as_ref().map(|l| l.version),
            state,
            in_sync: current.is_some() && diffs.is_empty(),
            differences: diffs
                .iter()
                .map(|d| documents::FieldDifference {
                    field: d.field,
                    live: d.live.clone(),
                    desired: d.desired.clone(),
                })
                .collect(),
            user_data_diff: ud.clone(),
            group_launch: group.as_ref().map(|g| g.launch.describe()),
            note: other_kind.clone(),
            mix: documents::GroupMix {
                live: live_mix.as_ref().map(launch::InstanceMix::describe_opt),
                desired: launch::InstanceMix::describe_opt(&want_mix),
                differs: mix_differs,
            },
            apply: (state != "in sync" || other_kind.is_some())
                .then(|| format!("udo {apply} {}", role.target())),
        });
        return Ok(());
    }
    if let (None, Some(note)) = (&current, &other_kind) {
        println!("{note}");
        return Ok(());
    }
    let Some(l) = current else {
        // with a group, `asg updatelc` creates it and switches the group to it
        println!(
            "{} {} does not exist; `udo {apply} {}` creates it.",
            cap(kind.noun()),
            role.group_name(),
            role.target()
        );
        return Ok(());
    };
    let rows: Vec<Vec<String>> = l
        .spec
        .aligned(&want)
        .fields()
        .into_iter()
        .zip(want.fields())
        .map(|((field, live), (_, desired))| {
            let mark = if diffs.iter().any(|d| d.field == field) {
                "*"
            } else {
                ""
            };
            vec![
                field.to_string(),
                shorten(&live),
                shorten(&desired),
                mark.to_string(),
            ]
        })
        .collect();
    println!("{} {} version {}:", cap(kind.noun()), l.name, l.version);
    print!("{}", table(&["FIELD", "LIVE", "UDO.YML", ""], &rows));
    for d in diffs.iter().filter(|d| d.field != "user data") {
        println!("  {}: {} -> {}", d.field, d.live, d.desired);
    }
    if !ud.is_empty() {
        println!();
        print!("{ud}");
    }
    println!();
    if diffs.is_empty() {
        println!("in sync: {} matches udo.yml", l.name);
    } else {
        println!(
            "differs: {} from udo.yml (`udo {apply} {}` applies the change)",
            if diffs.len() == 1 {
                "1 field differs".to_string()
            } else {
                format!("{} fields differ", diffs.len())
            },
            role.target()
        );
    }
    if kind == LaunchKind::Template {
        match &live_mix {
            Some(live) if mix_differs => println!(
                "group instances differ: {} -> {} (`udo asg updatelc {}` applies it)",
                launch::InstanceMix::describe_opt(live),
                launch::InstanceMix::describe_opt(&want_mix),
                role.target()
            ),
            Some(live) => println!(
                "group instances: {}",
                launch::InstanceMix::describe_opt(live)
            ),
            None => println!(
                "group instances (when created): {}",
                launch::InstanceMix::describe_opt(&want_mix)
            ),
        }
    }
    if let Some(note) = other_kind {
        println!("{note}");
    }
    Ok(())
}

/// The command that brings the live launch settings to udo.yml's: `asg updatelc` whenever the
/// group exists (it makes the new template version or configuration and switches the group to
/// it; `lc create` alone leaves the group where it is), else `lc create`.
fn apply_command(role: &Role, group: Option<&asg::Group>, exists: bool) -> &'static str {
    match (LaunchKind::of(role), group, exists) {
        (_, Some(_), _) => "asg updatelc",
        (_, None, false) | (LaunchKind::Template, None, true) => "lc create",
        // a configuration cannot change: a new one comes with the group's updatelc
        (LaunchKind::Configuration, None, true) => "asg updatelc",
    }
}

/// When the group runs on the other kind of launch settings than udo.yml says (a group the old
/// tool made on launch configuration `dev-webapp`, with udo.yml on templates, the default):
/// say so, and what moves it or keeps it.
fn other_kind_note(role: &Role, group: Option<&asg::Group>) -> Option<String> {
    let name = role.group_name();
    let target = role.target();
    match (LaunchKind::of(role), &group?.launch) {
        (LaunchKind::Template, GroupLaunch::Configuration(n)) => Some(format!(
            "Group {name} runs on launch configuration {n}, not on a launch template: `udo asg updatelc {target}` moves it to launch template {name} (and then deletes the role's unused configurations); `launch: configuration` for the role keeps it as it is."
        )),
        (
            LaunchKind::Configuration,
            GroupLaunch::Template {
                name: t, version, ..
            },
        ) => Some(format!(
            "Group {name} runs on launch template {t} v{version}, not on a launch configuration: `udo asg updatelc {target}` moves it to launch configuration {name}; removing `launch: configuration` keeps it on the template."
        )),
        _ => None,
    }
}

pub async fn list(ctx: &Ctx) -> Result<()> {
    let cfg = &ctx.config;
    let roles: Vec<&Role> = cfg.clusters.iter().flat_map(|c| c.roles.iter()).collect();
    let Some(first) = roles.first() else {
        println!("udo.yml defines no roles.");
        return Ok(());
    };
    let c = ctx.clients_for(first).await?;
    let mut apps: Vec<&str> = roles.iter().map(|r| r.app_name()).collect();
    apps.sort();
    apps.dedup();
    let mut templates = Vec::new();
    for app in apps {
        templates.extend(ec2::templates(&c, app).await?);
    }
    // every group of every role (blue/green releases use the role's template too)
    let groups: Vec<asg::Group> = crate::engine::groups::roles(&c, &roles)
        .await?
        .into_iter()
        .flat_map(|r| r.groups.into_iter().map(|(_, g)| g))
        .collect();
    let mut lc_wanted: Vec<String> = Vec::new();
    for r in roles
        .iter()
        .filter(|r| LaunchKind::of(r) == LaunchKind::Configuration)
    {
        lc_wanted.extend(asg::lc_names(&r.group_name()));
    }
    let configs = if lc_wanted.is_empty() {
        Vec::new()
    } else {
        asg::launch_configs(&c, &lc_wanted).await?
    };

    let used_by = |kind: &str, name: &str| -> Vec<String> {
        groups
            .iter()
            .filter(|g| match (&g.launch, kind) {
                (GroupLaunch::Template { name: n, .. }, "template") => n == name,
                (GroupLaunch::Configuration(n), "configuration") => n == name,
                _ => false,
            })
            .map(|g| match &g.launch {
                GroupLaunch::Template { version, .. } => format!("{} (v{version})", g.name),
                _ => g.name.clone(),
            })
            .collect()
    };
    let mut items = Vec::new();
    for t in &templates {
        items.push(documents::LaunchItem {
            name: t.name.clone(),
            kind: "template",
            id: Some(t.id.clone()),
            version: None,
            default_version: Some(t.default_version),
            latest_version: Some(t.latest_version),
            used_by: used_by("template", &t.name),
        });
    }
    for l in &configs {
        // BASE is version 1, BASE-vN is version N (the old tool's naming).
        let version = roles
            .iter()
            .find_map(|r| asg::lc_version(&r.group_name(), &l.name));
        items.push(documents::LaunchItem {
            name: l.name.clone(),
            kind: "configuration",
            id: None,
            version: Some(version),
            default_version: None,
            latest_version: None,
            used_by: used_by("configuration", &l.name),
        });
    }
    if ctx.out.json() {
        ctx.out.print_json(&documents::LcList { launch: items });
        return Ok(());
    }
    if items.is_empty() {
        println!("No udo-managed launch templates or configurations exist yet.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let versions = match (i.default_version, i.latest_version) {
                (Some(d), Some(l)) => format!("default {d}, latest {l}"),
                _ => i.version.flatten().map_or("-".into(), |v| format!("v{v}")),
            };
            vec![
                i.name.clone(),
                i.kind.to_string(),
                versions,
                if i.used_by.is_empty() {
                    "-".into()
                } else {
                    i.used_by.join(", ")
                },
            ]
        })
        .collect();
    print!("{}", table(&["NAME", "KIND", "VERSIONS", "USED BY"], &rows));
    Ok(())
}

/// Keeps table cells readable; differing fields are printed in full under the table.
fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        format!("{}…", value.chars().take(MAX - 1).collect::<String>())
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
