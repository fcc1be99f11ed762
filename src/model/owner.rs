//! Ownership: udo changes or deletes a group, launch template or launch configuration it found
//! by name only when it is this app's. Names are per cluster and role (`dev-webapp`), so two
//! applications in one account can have the same ones; the `udo:app` tag says whose it is.
//!
//! One rule, in one place (pure, here; reading a group and tagging a template are
//! `engine::owner`'s), used wherever such a resource is found by name:
//! - tagged with this app: ours;
//! - tagged with another app: refused (exit 1), naming the owner, before any write;
//! - untagged: the old tool's (which tagged nothing); udo takes it over as it always has, and
//!   its first write tags it (`asg updatelc` sets the group's tags, a new template version
//!   carries them, `engine::owner::tag_template` tags the template itself).
//!
//! Launch configurations cannot carry tags in AWS; udo writes `export UDO_APP=…` into every
//! user-data script it makes, so a configuration's app is read from its user data.

use crate::config::Role;
use crate::failure::Refusal;
use crate::model::live::Group;

/// Whose a resource found by name is, when it is not another app's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Tagged `udo:app` with this app.
    Ours,
    /// No `udo:app` tag: made by the old tool (or by hand); taken over and tagged.
    Untagged,
}

/// The app a resource's tags name, if any.
pub fn app_of(tags: &[(String, String)]) -> Option<&str> {
    tags.iter()
        .find(|(k, _)| k == "udo:app")
        .map(|(_, v)| v.as_str())
}

/// The ownership rule: `kind name` (e.g. `autoscaling group dev-web`) with these tags, for app
/// `app`. Another app's resource is a refusal naming that app; nothing is written.
pub fn check(
    kind: &'static str,
    name: &str,
    owner_app: Option<&str>,
    app: &str,
) -> Result<Owner, Refusal> {
    match owner_app {
        Some(a) if a == app => Ok(Owner::Ours),
        None | Some("") => Ok(Owner::Untagged),
        Some(other) => Err(Refusal::Foreign {
            kind,
            name: name.to_string(),
            owner: other.to_string(),
            app: app.to_string(),
        }),
    }
}

/// [`check`] for a group already read.
pub fn check_group(role: &Role, g: &Group) -> Result<Owner, Refusal> {
    check(
        "autoscaling group",
        &g.name,
        app_of(&g.tags),
        role.app_name(),
    )
}

/// [`check`] for a launch template, from the `udo:app` tag its version carries for instances
/// (every version udo makes has it, and it comes with the version udo reads anyway).
pub fn check_template(
    role: &Role,
    name: &str,
    tags: &[(String, String)],
) -> Result<Owner, Refusal> {
    check("launch template", name, app_of(tags), role.app_name())
}

/// The `udo:rollout` tag of a group, when a rollout of it is in progress (or was interrupted).
pub fn rollout_tag(g: &Group) -> Option<&str> {
    g.tags
        .iter()
        .find(|(k, _)| k == crate::rollout::TAG)
        .map(|(_, v)| v.as_str())
}

/// Refuses to change a group while a rollout of it is in progress: its sizes are the rollout's
/// surge, its processes suspended by it, and "fixing" them would undo the rollout's work. The
/// rollout itself finishes (or resumes) with `udo asg rollout TARGET`.
pub fn not_rolling_out(role: &Role, g: &Group) -> Result<(), Refusal> {
    match rollout_tag(g) {
        None => Ok(()),
        Some(saved) => Err(Refusal::RollingOut {
            group: g.name.clone(),
            saved: saved.to_string(),
            target: role.target(),
        }),
    }
}

/// The app a launch configuration's user data names (`export UDO_APP=…`, written by udo).
pub fn config_app(user_data: &str) -> Option<&str> {
    user_data.lines().find_map(|l| {
        let v = l.trim().strip_prefix("export UDO_APP=")?;
        Some(v.trim_matches('\''))
    })
}

/// [`check`] for a launch configuration, from its user data.
pub fn check_config(role: &Role, name: &str, user_data: &str) -> Result<Owner, Refusal> {
    check(
        "launch configuration",
        name,
        config_app(user_data),
        role.app_name(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_apps_resource_is_refused_and_an_untagged_one_taken_over() {
        assert_eq!(
            check("autoscaling group", "dev-web", Some("shop"), "shop").unwrap(),
            Owner::Ours
        );
        assert_eq!(
            check("autoscaling group", "dev-web", None, "shop").unwrap(),
            Owner::Untagged
        );
        let e = check("autoscaling group", "dev-web", Some("blog"), "shop")
            .unwrap_err()
            .to_string();
        assert!(e.contains("belongs to application `blog`"), "{e}");
        assert!(e.contains("nothing was changed"), "{e}");
    }

    #[test]
    fn a_configuration_names_its_app_in_its_user_data() {
        let ud = "#!/bin/bash\nexport UDO_APP=blog\nexport UDO_CLUSTER=dev\n";
        assert_eq!(config_app(ud), Some("blog"));
        assert_eq!(config_app("#!/bin/bash\necho hi\n"), None);
    }
}
