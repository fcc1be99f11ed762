//! Reading a role's groups (its base group and blue/green releases) and picking the active one;
//! the decision itself is `model::release`.
//!
//! Cost: a role that never had a release is read exactly as before, with one
//! DescribeAutoScalingGroups by name. Only when the base group is missing, or carries release
//! tags, does a second call ask for the groups tagged with the app, cluster and role (a filter,
//! never a listing of the account).

use crate::aws::Clients;
use crate::aws::asg::{self, Group};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::model::release::{self, RoleGroups};

/// The role's active group, the one every command that acts on "the role's group" acts on.
/// `None`: the role has no group at all; groups of which none is active are
/// `Refusal::NoActiveGroup`. Whose it is is not checked here (reading another app's group
/// is harmless); `engine::owner::group` is this with the ownership check, for changes.
pub async fn active(c: &Clients, role: &Role) -> Result<Option<Group>> {
    active_of(role, &self::role(c, role).await?)
}

/// [`active`] from groups already read.
pub fn active_of(role: &Role, groups: &RoleGroups) -> Result<Option<Group>> {
    match groups.active() {
        Some(g) => Ok(Some(g.clone())),
        None if groups.groups.is_empty() => Ok(None),
        None => Err(no_active(role, groups)),
    }
}

/// The role's active group, which must exist: [`active`], its absence the missing-group error.
pub async fn require(c: &Clients, role: &Role) -> Result<Group> {
    active(c, role)
        .await?
        .ok_or_else(|| super::survey::missing(role))
}

/// The error for a role whose groups exist with none of them active.
pub fn no_active(role: &Role, groups: &RoleGroups) -> Error {
    crate::model::plan::no_active(role, groups).into()
}

/// Whether the base group read by name is all a role has (no second read needed).
fn base_is_enough(base: Option<&Group>) -> bool {
    base.is_some_and(|g| !release::has_release_tags(g))
}

/// The role's groups and which is active.
pub async fn role(c: &Clients, role: &Role) -> Result<RoleGroups> {
    let base = role.group_name();
    let found = asg::groups(c, std::slice::from_ref(&base)).await?;
    if base_is_enough(found.first()) {
        return Ok(RoleGroups::pick(&base, found));
    }
    let tagged = asg::groups_tagged(c, &role_tags(role)).await?;
    Ok(RoleGroups::pick(&base, found.into_iter().chain(tagged)))
}

/// The groups of many roles in one (profile, region), in the roles' order: one call by name
/// for every base group, and one call per app for the releases, only when a role needs it.
pub async fn roles(c: &Clients, roles: &[&Role]) -> Result<Vec<RoleGroups>> {
    let mut names: Vec<String> = roles.iter().map(|r| r.group_name()).collect();
    names.sort();
    names.dedup();
    let found = asg::groups(c, &names).await?;
    let base_of = |r: &Role| found.iter().find(|g| g.name == r.group_name());
    let mut apps: Vec<&str> = Vec::new();
    for r in roles {
        if !base_is_enough(base_of(r)) && !apps.contains(&r.app_name()) {
            apps.push(r.app_name());
        }
    }
    let mut tagged: Vec<Group> = Vec::new();
    for app in apps {
        tagged.extend(asg::groups_tagged(c, &[("udo:app", app)]).await?);
    }
    Ok(roles
        .iter()
        .map(|r| {
            let mine = tagged.iter().filter(|g| {
                g.tag("udo:cluster") == Some(r.cluster.as_str())
                    && g.tag("udo:role") == Some(r.name.as_str())
                    && g.tag("udo:app") == Some(r.app_name())
            });
            RoleGroups::pick(&r.group_name(), base_of(r).into_iter().chain(mine).cloned())
        })
        .collect())
}

/// The udo tags every group of the role carries (see `launch::role_tags`).
fn role_tags(role: &Role) -> [(&str, &str); 3] {
    [
        ("udo:app", role.app_name()),
        ("udo:cluster", role.cluster.as_str()),
        ("udo:role", role.name.as_str()),
    ]
}
