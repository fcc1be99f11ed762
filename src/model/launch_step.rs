//! What to do about a role's launch settings, given what AWS has: reuse, make default, create
//! a template, a version, or a configuration. Pure.

use crate::config::Role;
use crate::launch::{LaunchKind, LaunchSpec};
use crate::model::live::{GroupLaunch, LaunchConfig};

/// The live launch settings of a role, whichever kind it uses.
pub struct Live {
    /// Template name or configuration name.
    pub name: String,
    /// Template version number, or configuration version (1 for `BASE`, N for `BASE-vN`).
    pub version: i64,
    pub spec: LaunchSpec,
    /// Template id (templates only).
    pub template_id: Option<String>,
    /// Templates: whether this (latest) version is the default. A run stopped between
    /// creating a version and making it the default leaves it false; the next run finishes.
    /// Always true for configurations.
    pub is_default: bool,
    /// Configurations only: every version of the role's configuration that exists, so an
    /// interrupted `asg updatelc` can be finished (reuse a copy it made, delete one it left).
    pub versions: Vec<(i64, LaunchConfig)>,
    /// Templates: the latest version carries no `udo:app` tag (the old tool's template, taken
    /// over): the template is tagged on udo's first write to it.
    pub untagged: bool,
}

impl Live {
    /// The highest configuration version that exists (the template's latest for templates).
    pub fn newest(&self) -> i64 {
        self.versions
            .iter()
            .map(|(v, _)| *v)
            .max()
            .unwrap_or(self.version)
    }
}

/// What to do about the launch settings: reuse what exists or make what is missing.
pub(crate) enum LaunchStep {
    Reuse(GroupLaunch),
    /// The latest template version matches udo.yml but is not the default (a run stopped
    /// between creating it and making it the default): make it the default, then use it.
    SetDefault(i64),
    CreateTemplate,
    NewTemplateVersion(i64),
    CreateConfig(String),
}

/// Decides the launch step from the newest live launch settings.
pub(crate) fn launch_step(role: &Role, want: &LaunchSpec, live: Option<&Live>) -> LaunchStep {
    let name = role.group_name();
    match (LaunchKind::of(role), live) {
        (LaunchKind::Template, None) => LaunchStep::CreateTemplate,
        (LaunchKind::Template, Some(l)) if l.spec.diff(want).is_empty() && !l.is_default => {
            LaunchStep::SetDefault(l.version)
        }
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

pub(crate) fn same_launch(a: &GroupLaunch, b: &GroupLaunch) -> bool {
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
