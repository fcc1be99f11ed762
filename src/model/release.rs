//! A role's groups: the group `CLUSTER-ROLE` and its blue/green releases `CLUSTER-ROLE-vN`, and
//! which one of them is active.
//!
//! Every command that acts on "the role's group" acts on the active one, so this is the one
//! place that decides which group that is. Everything is read from the groups' tags (nothing is
//! kept in a local file), so any machine, and a re-run after an interruption, sees the same:
//!
//! - [`ACTIVE_TAG`] (`udo:active`): `true` on the active group, `false` on the others. A role
//!   that never had a release has no such tag anywhere; its `CLUSTER-ROLE` is active, so every
//!   group made before releases existed works as before.
//! - [`STATE_TAG`] (`udo:release-state`): what a group that is not active is doing:
//!   `releasing` (a release being brought up, not yet switched to) or `disabled` (kept for a
//!   rollback: out of traffic, processes suspended, instances running). A group tagged
//!   `udo:active=false` without `disabled` is one a switch has not finished disabling.
//! - [`DISABLED_AT_TAG`] (`udo:disabled-at`): when it was disabled (RFC 3339, UTC), for
//!   `rollout.scale_down_after`.
//!
//! The base group counts as release 0; `CLUSTER-ROLE-vN` is release N (N ≥ 1, counting up).

// Used by the release commands as they land (issue 18); remove once every command reads here.
#![allow(dead_code)]

use crate::model::live::Group;

/// `true` on the active group of a role that has releases, `false` on its other groups.
pub const ACTIVE_TAG: &str = "udo:active";
/// `releasing` or `disabled` on a group that is not active (see the module docs).
pub const STATE_TAG: &str = "udo:release-state";
/// When a group was disabled, RFC 3339 in UTC.
pub const DISABLED_AT_TAG: &str = "udo:disabled-at";

/// [`STATE_TAG`]'s value on a release being brought up.
pub const RELEASING: &str = "releasing";
/// [`STATE_TAG`]'s value on a group kept for a rollback.
pub const DISABLED: &str = "disabled";

/// The release number of group `name` of the role whose base group is `base`: 0 for the base
/// itself, N for `BASE-vN`, `None` for any other name (another role's group, say
/// `dev-web-v2x` or `dev-web-admin`).
pub fn release_of(base: &str, name: &str) -> Option<u32> {
    if name == base {
        return Some(0);
    }
    let n = name.strip_prefix(base)?.strip_prefix("-v")?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

/// The name of release `n` of the role whose base group is `base` (`n == 0` is the base).
pub fn release_name(base: &str, n: u32) -> String {
    if n == 0 {
        base.to_string()
    } else {
        format!("{base}-v{n}")
    }
}

/// A group's release label as users type it after `--to`: `v0` for the base, `vN` otherwise.
pub fn label(n: u32) -> String {
    format!("v{n}")
}

/// What one group of a role is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupState {
    /// The group every command acts on.
    Active,
    /// A release being brought up (or one an interrupted release left).
    Releasing,
    /// Switched away from, but not yet fully disabled (an interrupted switch).
    Disabling,
    /// Kept for a rollback: out of traffic, processes suspended.
    Disabled,
}

impl GroupState {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Active => "active",
            GroupState::Releasing => "releasing",
            GroupState::Disabling => "disabling",
            GroupState::Disabled => "disabled",
        }
    }
}

fn tag<'a>(g: &'a Group, key: &str) -> Option<&'a str> {
    g.tags
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Whether the group carries any release tag: then the role may have other groups, which a
/// read by name alone would miss.
pub fn has_release_tags(g: &Group) -> bool {
    tag(g, ACTIVE_TAG).is_some() || tag(g, STATE_TAG).is_some()
}

/// One role's groups, oldest release first, and which of them is active.
#[derive(Debug, Clone, Default)]
pub struct RoleGroups {
    /// The base group's name, `CLUSTER-ROLE`.
    pub base: String,
    /// (release number, group), ascending by release number.
    pub groups: Vec<(u32, Group)>,
    /// Index into `groups` of the active one; `None` when the role has no group (or, after
    /// someone deleted groups by hand, none that can be active).
    pub active: Option<usize>,
}

impl RoleGroups {
    /// Sorts `found` (any groups, in any order, duplicates allowed) into the role's groups and
    /// picks the active one:
    /// - the groups tagged `udo:active=true` that are not `releasing`; of several (a switch
    ///   interrupted between its two tag writes), the newest release;
    /// - else the base group, when it exists and is not `releasing`;
    /// - else none.
    ///
    /// Groups whose names are not the role's (see [`release_of`]) are ignored.
    pub fn pick(base: &str, found: impl IntoIterator<Item = Group>) -> RoleGroups {
        let mut groups: Vec<(u32, Group)> = Vec::new();
        for g in found {
            if let Some(n) = release_of(base, &g.name)
                && !groups.iter().any(|(m, _)| *m == n)
            {
                groups.push((n, g));
            }
        }
        groups.sort_by_key(|(n, _)| *n);
        let releasing = |g: &Group| tag(g, STATE_TAG) == Some(RELEASING);
        let active = groups
            .iter()
            .rposition(|(_, g)| tag(g, ACTIVE_TAG) == Some("true") && !releasing(g))
            .or_else(|| {
                groups.iter().position(|(n, g)| {
                    *n == 0 && tag(g, ACTIVE_TAG) != Some("false") && !releasing(g)
                })
            });
        RoleGroups {
            base: base.to_string(),
            groups,
            active,
        }
    }

    /// The active group, the one every command acts on.
    pub fn active(&self) -> Option<&Group> {
        self.active.map(|i| &self.groups[i].1)
    }

    /// The active group's release number.
    pub fn active_release(&self) -> Option<u32> {
        self.active.map(|i| self.groups[i].0)
    }

    /// Whether the role has more than one group, or its group carries release tags.
    pub fn has_releases(&self) -> bool {
        self.groups.len() > 1 || self.groups.iter().any(|(_, g)| has_release_tags(g))
    }

    /// What group `i` (an index into `groups`) is doing.
    pub fn state(&self, i: usize) -> GroupState {
        let g = &self.groups[i].1;
        if Some(i) == self.active {
            GroupState::Active
        } else if tag(g, STATE_TAG) == Some(RELEASING) {
            GroupState::Releasing
        } else if tag(g, STATE_TAG) == Some(DISABLED) {
            GroupState::Disabled
        } else {
            GroupState::Disabling
        }
    }

    /// Each group with its release number and state, oldest first.
    pub fn each(&self) -> impl Iterator<Item = (u32, &Group, GroupState)> {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, (n, g))| (*n, g, self.state(i)))
    }

    /// The number the next release gets: one past the highest the role has.
    pub fn next_release(&self) -> u32 {
        self.groups.last().map_or(1, |(n, _)| n + 1)
    }

    /// When group `g` was disabled, as its tag says (RFC 3339), if it says.
    pub fn disabled_at(g: &Group) -> Option<&str> {
        tag(g, DISABLED_AT_TAG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, tags: &[(&str, &str)]) -> Group {
        Group {
            name: name.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Group::default()
        }
    }

    #[test]
    fn release_numbers_from_names() {
        assert_eq!(release_of("dev-web", "dev-web"), Some(0));
        assert_eq!(release_of("dev-web", "dev-web-v1"), Some(1));
        assert_eq!(release_of("dev-web", "dev-web-v12"), Some(12));
        for other in [
            "dev-web-v",
            "dev-web-v0",
            "dev-web-v01",
            "dev-web-v2x",
            "dev-web-admin",
            "dev-webv2",
            "dev-we",
            "qa-web-v1",
        ] {
            assert_eq!(release_of("dev-web", other), None, "{other}");
        }
        assert_eq!(release_name("dev-web", 0), "dev-web");
        assert_eq!(release_name("dev-web", 3), "dev-web-v3");
        assert_eq!(release_of("dev-web", &release_name("dev-web", 7)), Some(7));
        assert_eq!(label(2), "v2");
    }

    #[test]
    fn an_untagged_base_group_is_active_alone() {
        let r = RoleGroups::pick("dev-web", [group("dev-web", &[]), group("dev-webapp", &[])]);
        assert_eq!(r.groups.len(), 1);
        assert_eq!(r.active().unwrap().name, "dev-web");
        assert!(!r.has_releases());
        assert_eq!(r.next_release(), 1);
        assert_eq!(r.state(0), GroupState::Active);
    }

    #[test]
    fn no_group_means_no_active_one() {
        let r = RoleGroups::pick("dev-web", []);
        assert!(r.active().is_none());
        assert_eq!(r.next_release(), 1);
    }

    #[test]
    fn the_active_tag_picks_the_group_and_states_follow_the_tags() {
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web-v2", &[(ACTIVE_TAG, "true")]),
                group("dev-web", &[(ACTIVE_TAG, "false"), (STATE_TAG, DISABLED)]),
                group("dev-web-v1", &[(ACTIVE_TAG, "false")]),
                group(
                    "dev-web-v3",
                    &[(ACTIVE_TAG, "false"), (STATE_TAG, RELEASING)],
                ),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web-v2");
        assert_eq!(r.active_release(), Some(2));
        let states: Vec<(u32, GroupState)> = r.each().map(|(n, _, s)| (n, s)).collect();
        assert_eq!(
            states,
            vec![
                (0, GroupState::Disabled),
                (1, GroupState::Disabling),
                (2, GroupState::Active),
                (3, GroupState::Releasing),
            ]
        );
        assert!(r.has_releases());
        assert_eq!(r.next_release(), 4);
    }

    #[test]
    fn a_release_being_brought_up_is_never_active() {
        // Killed after creating the release, before the base was tagged: the base stays active.
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web", &[]),
                group(
                    "dev-web-v1",
                    &[(ACTIVE_TAG, "false"), (STATE_TAG, RELEASING)],
                ),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web");
        assert!(r.has_releases());
        // Even tagged active, a group still `releasing` is not (the switch writes both at once).
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web", &[(ACTIVE_TAG, "true")]),
                group(
                    "dev-web-v1",
                    &[(ACTIVE_TAG, "true"), (STATE_TAG, RELEASING)],
                ),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web");
    }

    #[test]
    fn two_active_tags_mean_the_newest_release() {
        // A switch interrupted between tagging the new group active and the old one not.
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web", &[(ACTIVE_TAG, "true")]),
                group("dev-web-v1", &[(ACTIVE_TAG, "true")]),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web-v1");
        assert_eq!(r.state(0), GroupState::Disabling);
    }

    #[test]
    fn a_base_switched_away_from_is_not_active_even_when_alone() {
        // Every release deleted by hand: no group is active, rather than a disabled one.
        let r = RoleGroups::pick(
            "dev-web",
            [group(
                "dev-web",
                &[(ACTIVE_TAG, "false"), (STATE_TAG, DISABLED)],
            )],
        );
        assert!(r.active().is_none());
    }
}
