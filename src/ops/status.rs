//! `udo status`: one table over every role's group (every group of a role with blue/green
//! releases, each marked active, releasing, disabling or disabled), from one batched group call
//! per region (and one instance call for what each instance was launched from).

use crate::aws::Clients;
use crate::aws::asg::Group;
use crate::config::Role;
use crate::context::Ctx;
use crate::documents;
use crate::engine::groups;
use crate::engine::survey::use_launch_tags;
use crate::error::Result;
use crate::model::release::{GroupState, RoleGroups};
use crate::output::table;
use crate::target;

/// One role's group as JSON: the shape shared by `udo status` and `udo cluster status`. The
/// role's active group fills the keys every role has had; `groups` lists all of its groups.
pub fn group_json(r: &Role, groups: &RoleGroups) -> documents::GroupState {
    let g = groups.active();
    documents::GroupState {
        cluster: r.cluster.clone(),
        role: r.name.clone(),
        group: g.map_or_else(|| r.group_name(), |g| g.name.clone()),
        exists: g.is_some(),
        desired: g.map(|g| g.desired),
        min: g.map(|g| g.min),
        max: g.map(|g| g.max),
        in_service: g.map(|g| g.in_service()),
        instances: g.map(|g| g.instances.len()),
        launch: g.map(|g| g.launch.describe()),
        outdated: g.map(|g| g.outdated().len()),
        suspended: g.map(|g| g.suspended.clone()).unwrap_or_default(),
        mix: g.and_then(|g| g.mix.as_ref().map(crate::launch::InstanceMix::describe)),
        spot: g.map(|g| g.instances.iter().filter(|i| i.spot).count()),
        types: g.map(Group::mix_summary),
        release: groups.active_release(),
        state: g.map(|_| GroupState::Active.as_str()),
        groups: groups
            .each()
            .map(|(n, g, st)| documents::ReleaseGroup {
                group: g.name.clone(),
                release: n,
                state: st.as_str(),
                desired: g.desired,
                min: g.min,
                max: g.max,
                in_service: g.in_service(),
                instances: g.instances.len(),
                launch: g.launch.describe(),
                suspended: g.suspended.clone(),
            })
            .collect(),
    }
}

/// Every group of each role, with what instances were launched from (one instance call).
pub async fn role_groups(c: &Clients, roles: &[&Role]) -> Result<Vec<RoleGroups>> {
    let mut found = groups::roles(c, roles).await?;
    let mut all: Vec<Group> = found
        .iter()
        .flat_map(|r| r.groups.iter().map(|(_, g)| g.clone()))
        .collect();
    use_launch_tags(c, &mut all).await?;
    for r in &mut found {
        for (_, g) in &mut r.groups {
            if let Some(done) = all.iter().find(|a| a.name == g.name) {
                *g = done.clone();
            }
        }
    }
    Ok(found)
}

/// Prints every role's group (or one cluster's) from one batched call per region.
pub async fn status(ctx: &Ctx, cluster_name: Option<&str>) -> Result<()> {
    let clusters: Vec<&crate::config::Cluster> = match cluster_name {
        Some(n) => vec![target::find_cluster(&ctx.config, n)?],
        None => ctx.config.clusters.iter().collect(),
    };
    let roles: Vec<&Role> = clusters.iter().flat_map(|c| c.roles.iter()).collect();
    // One batched DescribeAutoScalingGroups per region (and profile): everything status shows
    // is in it (and, for roles with blue/green releases, one more filtered by udo's tags).
    let mut found: Vec<(&Role, RoleGroups)> = Vec::new();
    for (c, list) in ctx.by_place(&roles).await? {
        let groups = role_groups(&c, &list).await?;
        found.extend(list.into_iter().zip(groups));
    }
    let none = RoleGroups::default();
    let find = |r: &Role| {
        found
            .iter()
            .find(|(f, _)| std::ptr::eq(*f, r))
            .map_or(&none, |(_, g)| g)
    };
    if ctx.out.json() {
        ctx.out.print_json(&documents::Status {
            groups: roles.iter().map(|r| group_json(r, find(r))).collect(),
        });
        return Ok(());
    }
    let row = |r: &Role, g: &Group, label: String| {
        vec![
            r.target(),
            label,
            "yes".into(),
            format!("{}/{}/{}", g.desired, g.min, g.max),
            g.in_service().to_string(),
            g.launch.describe(),
            g.outdated().len().to_string(),
            g.mix_summary(),
            if g.suspended.is_empty() {
                "-".into()
            } else {
                g.suspended.join(",")
            },
        ]
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in &roles {
        let rg = find(r);
        if rg.groups.is_empty() {
            rows.push(vec![
                r.target(),
                r.group_name(),
                "no".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
        } else if !rg.has_releases() {
            // a role that never had a release: one row, as always
            rows.extend(rg.active().map(|g| row(r, g, g.name.clone())));
        } else {
            // every group of the role, each marked with its state
            for (_, g, st) in rg.each() {
                rows.push(row(r, g, format!("{} ({})", g.name, st.as_str())));
            }
        }
    }
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
                    "TYPES",
                    "SUSPENDED"
                ],
                &rows
            )
        );
    }
    Ok(())
}
