//! `drain`: a termination lifecycle hook (`udo-drain`) that holds an instance AWS is about to
//! terminate until its cloud-init unit has run the drain command and completed the action (or
//! the heartbeat runs out). This module decides what the hook needs; pure.

use crate::config::Role;
use crate::model::live::{DrainHook, Group};

/// The hook's name on every group udo drains.
pub const HOOK: &str = "udo-drain";
/// The tag udo puts on a group it gave the hook, so a group whose udo.yml dropped `drain` is
/// still read (and its hook removed) without reading every group's hooks.
pub const TAG: &str = "udo:drain";
/// Seconds an instance may drain when `drain.timeout` is not set.
pub const DEFAULT_TIMEOUT: i64 = 300;

/// udo.yml's `drain`, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drain {
    pub timeout: i64,
    pub command: String,
}

impl Drain {
    pub fn desired(role: &Role) -> Option<Drain> {
        let s = &role.settings;
        Some(Drain {
            command: s.str("drain.command")?.to_string(),
            timeout: s.int("drain.timeout").unwrap_or(DEFAULT_TIMEOUT),
        })
    }
}

pub(crate) fn marker_tags(role: &Role) -> Vec<(String, String)> {
    match Drain::desired(role) {
        Some(_) => vec![(TAG.to_string(), "managed".to_string())],
        None => Vec::new(),
    }
}

/// Whether the group's hooks must be read: udo.yml drains it, or udo once did.
pub(crate) fn needs_read(role: &Role, g: Option<&Group>) -> bool {
    Drain::desired(role).is_some() || g.is_some_and(|g| g.tags.iter().any(|(k, _)| k == TAG))
}

/// What the hook needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookChange {
    /// Create it, or set its heartbeat (and default result) again.
    Put {
        heartbeat: i64,
    },
    Delete,
}

impl HookChange {
    /// The plan's line for it.
    pub fn describe(&self, live: Option<&DrainHook>) -> String {
        match (self, live) {
            (HookChange::Put { heartbeat }, None) => format!(
                "create lifecycle hook {HOOK} (on termination: heartbeat {heartbeat}s, then CONTINUE)"
            ),
            (HookChange::Put { heartbeat }, Some(l)) => format!(
                "change lifecycle hook {HOOK} heartbeat {}s -> {heartbeat}s, default result {} -> CONTINUE",
                l.heartbeat, l.default_result
            ),
            (HookChange::Delete, _) => format!("delete lifecycle hook {HOOK}"),
        }
    }
}

/// The change that makes the live hook what udo.yml says; `None` when it already is.
pub fn hook_change(want: Option<&Drain>, live: Option<&DrainHook>) -> Option<HookChange> {
    match (want, live) {
        (None, None) => None,
        (None, Some(_)) => Some(HookChange::Delete),
        (Some(w), Some(l))
            if i64::from(l.heartbeat) == w.timeout
                && l.default_result == "CONTINUE"
                && l.transition == "autoscaling:EC2_INSTANCE_TERMINATING" =>
        {
            None
        }
        (Some(w), _) => Some(HookChange::Put {
            heartbeat: w.timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_follows_udo_yml() {
        let want = Drain {
            timeout: 120,
            command: "true".into(),
        };
        let live = DrainHook {
            heartbeat: 120,
            default_result: "CONTINUE".into(),
            transition: "autoscaling:EC2_INSTANCE_TERMINATING".into(),
        };
        assert_eq!(hook_change(Some(&want), Some(&live)), None);
        assert_eq!(hook_change(None, None), None);
        assert_eq!(hook_change(None, Some(&live)), Some(HookChange::Delete));
        let longer = Drain {
            timeout: 600,
            ..want.clone()
        };
        let c = hook_change(Some(&longer), Some(&live)).unwrap();
        assert_eq!(
            c.describe(Some(&live)),
            "change lifecycle hook udo-drain heartbeat 120s -> 600s, default result CONTINUE -> CONTINUE"
        );
        assert_eq!(
            hook_change(Some(&want), None).unwrap().describe(None),
            "create lifecycle hook udo-drain (on termination: heartbeat 120s, then CONTINUE)"
        );
    }
}
