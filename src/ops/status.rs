//! `udo status`: one table over every role's group, from one batched group call per region
//! (and one instance call for what each instance was launched from).

use crate::aws::asg::{self, Group};
use crate::config::Role;
use crate::context::Ctx;
use crate::documents;
use crate::engine::survey::use_launch_tags;
use crate::error::Result;
use crate::output::table;
use crate::target;

/// One role's group as JSON: the shape shared by `udo status` and `udo cluster status`.
pub fn group_json(r: &Role, g: Option<&Group>) -> documents::GroupState {
    documents::GroupState {
        cluster: r.cluster.clone(),
        role: r.name.clone(),
        group: r.group_name(),
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
    }
}

/// Prints every role's group (or one cluster's) from one batched call per region.
pub async fn status(ctx: &Ctx, cluster_name: Option<&str>) -> Result<()> {
    let clusters: Vec<&crate::config::Cluster> = match cluster_name {
        Some(n) => vec![target::find_cluster(&ctx.config, n)?],
        None => ctx.config.clusters.iter().collect(),
    };
    let roles: Vec<&Role> = clusters.iter().flat_map(|c| c.roles.iter()).collect();
    // One batched DescribeAutoScalingGroups per region (and profile): everything status shows
    // is in it.
    let mut groups: Vec<Group> = Vec::new();
    for (c, list) in ctx.by_place(&roles).await? {
        let names: Vec<String> = list.iter().map(|r| r.group_name()).collect();
        let mut found = asg::groups(&c, &names).await?;
        use_launch_tags(&c, &mut found).await?;
        groups.extend(found);
    }
    let find = |r: &Role| groups.iter().find(|g| g.name == r.group_name());
    if ctx.out.json() {
        ctx.out.print_json(&documents::Status {
            groups: roles.iter().map(|r| group_json(r, find(r))).collect(),
        });
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
                g.mix_summary(),
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
                    "TYPES",
                    "SUSPENDED"
                ],
                &rows
            )
        );
    }
    Ok(())
}
