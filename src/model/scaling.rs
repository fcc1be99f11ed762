//! A group's scheduled actions and scaling policies against udo.yml: read only when there is
//! something to compare, diffed by `schedule`, applied after the group itself.
//!
//! A group whose udo.yml role has no `schedule` (or `scaling_policies`) is read only when it
//! carries the marker tag udo sets when it first creates one (`udo:schedule`,
//! `udo:policies`): that keeps `asg updatelc` of a role without schedules at its call budget,
//! and still lets udo prune every `udo-…` action once udo.yml drops the whole list.

use crate::config::Role;
use crate::model::live::Group;
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
