//! A group's scheduled actions and scaling policies against udo.yml: read only when there is
//! something to compare, diffed by `schedule`, applied after the group itself.
//!
//! A group whose udo.yml role has no `schedule` (or `scaling_policies`) is read only when it
//! carries the marker tag udo sets when it first creates one (`udo:schedule`,
//! `udo:policies`): that keeps `asg updatelc` of a role without schedules at its call budget,
//! and still lets udo prune every `udo-…` action once udo.yml drops the whole list.

use crate::aws::asg::Group;
use crate::aws::{Clients, scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::schedule::{self, Action, Change, Policy};

pub(crate) const SCHEDULE_TAG: &str = "udo:schedule";
pub(crate) const POLICIES_TAG: &str = "udo:policies";

/// What to change in a group's actions and policies.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScalingChanges {
    pub actions: Vec<Change<Action>>,
    pub policies: Vec<Change<Policy>>,
}

impl ScalingChanges {
    pub(crate) fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.policies.is_empty()
    }

    /// One human line per change.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.actions
            .iter()
            .map(|c| c.describe("scheduled action"))
            .chain(self.policies.iter().map(|c| c.describe("scaling policy")))
            .collect()
    }

    /// Deleting an action or policy is destructive: the group stops scaling that way.
    pub(crate) fn destructive(&self) -> bool {
        self.actions.iter().any(|c| matches!(c, Change::Delete(_)))
            || self.policies.iter().any(|c| matches!(c, Change::Delete(_)))
    }
}

/// Marker tags for the kinds udo.yml asks this role to have (added to the group's tags).
pub(crate) fn marker_tags(role: &Role) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !role.settings.named("schedule").is_empty() {
        out.push((SCHEDULE_TAG.to_string(), "managed".to_string()));
    }
    if !role.settings.named("scaling_policies").is_empty() {
        out.push((POLICIES_TAG.to_string(), "managed".to_string()));
    }
    out
}

/// Which kinds need reading for this group: (actions, policies).
pub(crate) fn needs_read(role: &Role, g: Option<&Group>) -> (bool, bool) {
    let tagged = |k: &str| g.is_some_and(|g| g.tags.iter().any(|(t, _)| t == k));
    (
        !role.settings.named("schedule").is_empty() || tagged(SCHEDULE_TAG),
        !role.settings.named("scaling_policies").is_empty() || tagged(POLICIES_TAG),
    )
}

/// The changes that turn the group's live actions and policies into udo.yml's.
pub(crate) fn changes(role: &Role, actions: &[Action], policies: &[Policy]) -> ScalingChanges {
    ScalingChanges {
        actions: schedule::diff(actions, &schedule::desired_actions(role)),
        policies: schedule::diff(policies, &schedule::desired_policies(role)),
    }
}

/// Reads what is needed of one group (0–2 calls) and diffs it. `None` for a group that does
/// not exist yet: everything udo.yml lists is to be added.
pub(crate) async fn read(c: &Clients, role: &Role, g: Option<&Group>) -> Result<ScalingChanges> {
    let Some(g) = g else {
        return Ok(changes(role, &[], &[]));
    };
    let (read_actions, read_policies) = needs_read(role, Some(g));
    let names = [g.name.clone()];
    let actions: Vec<Action> = if read_actions {
        scaling::actions(c, &names)
            .await?
            .into_iter()
            .map(|(_, a)| a)
            .collect()
    } else {
        Vec::new()
    };
    let policies: Vec<Policy> = if read_policies {
        scaling::policies(c, &names)
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    } else {
        Vec::new()
    };
    Ok(changes(role, &actions, &policies))
}

/// Applies the changes to group `name`: additions and changes first, deletions last, one
/// event each. `target_groups` are the role's target group ARNs (for `alb_requests`).
pub(crate) async fn apply(
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
