//! Execute: the writes of a plan, each safe to repeat, each one change event.

use crate::aws::asg::{self, GroupLaunch};
use crate::aws::{Clients, ec2, scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::launch::{self, LaunchSpec};
use crate::model::launch_step::LaunchStep;
use crate::model::scaling::ScalingChanges;
use crate::schedule::{self, Change};

pub async fn apply_launch(
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
        LaunchStep::SetDefault(v) => {
            ec2::set_default_version(c, &name, v).await?;
            ctx.events.emit(
                prefix,
                format!("Made version {v} of launch template {name} the default"),
            );
            GroupLaunch::Template {
                id: String::new(),
                name,
                version: v.to_string(),
            }
        }
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

/// Applies the changes to group `name`: additions and changes first, deletions last, one
/// event each. `target_groups` are the role's target group ARNs (for `alb_requests`).
pub async fn apply_scaling(
    ctx: &Ctx,
    c: &Clients,
    name: &str,
    ch: &ScalingChanges,
    target_groups: &[String],
    prefix: &str,
) -> Result<()> {
    for change in &ch.actions {
        match change {
            Change::Add(a) | Change::Update { want: a, .. } => {
                scaling::put_action(c, name, a).await?;
                let verb = change.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "{verb} scheduled action {} of ASgroup {name}",
                        schedule::Item::describe(a)
                    ),
                );
            }
            Change::Delete(_) => {}
        }
    }
    let mut label: Option<String> = None;
    for change in &ch.policies {
        match change {
            Change::Add(p) | Change::Update { want: p, .. } => {
                let resource_label = if p.metric == "alb_requests" {
                    if label.is_none() {
                        let tg = target_groups.first().ok_or_else(|| {
                            crate::error::Error::Failed(format!(
                                "scaling policy {} tracks alb_requests, but {name} has no target group",
                                p.name
                            ))
                        })?;
                        label = Some(scaling::alb_resource_label(c, tg).await?);
                    }
                    label.clone()
                } else {
                    None
                };
                scaling::put_policy(c, name, p, resource_label).await?;
                let verb = change.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "{verb} scaling policy {} of ASgroup {name}",
                        schedule::Item::describe(p)
                    ),
                );
            }
            Change::Delete(_) => {}
        }
    }
    for change in &ch.actions {
        if let Change::Delete(a) = change
            && scaling::delete_action(c, name, &a.name).await?
        {
            ctx.events.emit(
                prefix,
                format!("Deleted scheduled action {} of ASgroup {name}", a.name),
            );
        }
    }
    for change in &ch.policies {
        if let Change::Delete(p) = change
            && scaling::delete_policy(c, name, &p.name).await?
        {
            ctx.events.emit(
                prefix,
                format!("Deleted scaling policy {} of ASgroup {name}", p.name),
            );
        }
    }
    Ok(())
}
