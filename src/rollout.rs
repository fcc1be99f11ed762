//! Rolling replacement of a group's instances, as pure logic: given what AWS says now, what
//! next? `udo asg rollout` (src/ops/asg/rollout.rs) polls the group, builds a [`View`], asks
//! [`next`] and carries the answer out, so every decision is unit-tested here without a server.
//!
//! The rollout never lets the group serve with fewer instances than it had: it surges first
//! (raises desired by one batch), waits until the new instances are InService and healthy in
//! every load balancer, and only then terminates as many old instances as the new ones cover.
//! What is needed to resume (the sizes to restore, the batch) lives in a `udo:rollout` tag on
//! the group itself ([`Saved`]), and the processes udo suspended in the record beside it
//! (`engine::suspend`), never in a local file, so a re-run after a kill at any point reads the
//! same state and carries on.

use crate::model::op_step::{OpStep, Sizes};
use crate::model::step::Step as PlanStep;
use std::fmt;
use std::str::FromStr;

/// The group tag holding an unfinished rollout's [`Saved`] state.
pub const TAG: &str = "udo:rollout";

/// The instance tag `--all` puts on the instances it replaces (value: the rollout's id), so a
/// re-run still knows which of the up-to-date instances are old.
pub const INSTANCE_TAG: &str = "udo:rollout";

/// The processes suspended for a rollout's duration, so AWS neither moves instances between
/// zones nor resizes the group underneath it: scheduled actions and alarm scaling (target
/// tracking and step policies) would move desired capacity while the rollout surges, and the
/// sizes restored at the end would undo what they did.
pub const SUSPEND: [&str; 3] = ["AZRebalance", "ScheduledActions", "AlarmNotification"];

/// How many instances to replace at a time: `N` or `P%` of the group's desired capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    Count(usize),
    Percent(u32),
}

impl Default for BatchSize {
    /// One instance or 25%, whichever is larger.
    fn default() -> BatchSize {
        BatchSize::Percent(25)
    }
}

impl FromStr for BatchSize {
    type Err = String;

    fn from_str(s: &str) -> Result<BatchSize, String> {
        let bad = || {
            format!(
                "`{s}` is not a batch size: give a number of instances (2) or a percentage of the group (25%)"
            )
        };
        if let Some(p) = s.strip_suffix('%') {
            match p.trim().parse::<u32>() {
                Ok(p) if (1..=100).contains(&p) => Ok(BatchSize::Percent(p)),
                _ => Err(bad()),
            }
        } else {
            match s.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(BatchSize::Count(n)),
                _ => Err(bad()),
            }
        }
    }
}

impl fmt::Display for BatchSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchSize::Count(n) => write!(f, "{n}"),
            BatchSize::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl BatchSize {
    /// Instances per batch for a group serving `capacity` instances (at least 1).
    pub fn resolve(self, capacity: i32) -> usize {
        match self {
            BatchSize::Count(n) => n.max(1),
            BatchSize::Percent(p) => (capacity.max(0) as usize * p as usize / 100).max(1),
        }
    }

    /// AWS instance refresh's minimum healthy percentage for this batch size.
    pub fn min_healthy_percentage(self, capacity: i32) -> i32 {
        match self {
            BatchSize::Percent(p) => 100 - p as i32,
            BatchSize::Count(n) if capacity <= 0 => 100 - 100.min(n as i32 * 100),
            BatchSize::Count(n) => {
                let cap = capacity as usize;
                let pct = (n.min(cap) * 100).div_ceil(cap);
                100 - pct as i32
            }
        }
    }
}

/// An unfinished rollout, as kept in the group's `udo:rollout` tag: the sizes to restore, the
/// batch size, the processes udo suspended (and must resume), the rollout's id (the instances
/// the group had when it began carry it in their `udo:rollout` tag, written before the group's:
/// `--all` replaces exactly those, and a failed batch never terminates one of them), and how
/// many instances it set out to replace (so a resumed rollout counts its batches right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub min: i32,
    pub max: i32,
    pub desired: i32,
    pub batch: usize,
    pub suspended: Vec<String>,
    /// `--all`: the rollout's id (replace every instance tagged with it).
    pub all: Option<String>,
    /// The rollout's id (the same as `all` for `--all`).
    pub id: Option<String>,
    /// How many instances the rollout set out to replace.
    pub count: Option<usize>,
}

impl Saved {
    /// The tag value: `min=2 max=4 desired=4 batch=1`. The processes the rollout suspends are
    /// recorded beside it, as every suspension is (`crate::engine::suspend`); rollouts of older
    /// udo versions wrote them here as `suspended=…`, which [`Saved::parse`] still reads.
    pub fn to_tag(&self) -> String {
        let mut s = format!(
            "min={} max={} desired={} batch={}",
            self.min, self.max, self.desired, self.batch,
        );
        match (&self.all, &self.id) {
            (Some(id), _) => s.push_str(&format!(" all={id}")),
            (None, Some(id)) => s.push_str(&format!(" id={id}")),
            (None, None) => {}
        }
        if let Some(n) = self.count {
            s.push_str(&format!(" count={n}"));
        }
        s
    }

    /// Reads a tag value back; `None` when it is not one udo wrote.
    pub fn parse(value: &str) -> Option<Saved> {
        let mut saved = Saved {
            min: -1,
            max: -1,
            desired: -1,
            batch: 0,
            suspended: Vec::new(),
            all: None,
            id: None,
            count: None,
        };
        for part in value.split_whitespace() {
            let (k, v) = part.split_once('=')?;
            match k {
                "min" => saved.min = v.parse().ok()?,
                "max" => saved.max = v.parse().ok()?,
                "desired" => saved.desired = v.parse().ok()?,
                "batch" => saved.batch = v.parse().ok()?,
                "suspended" => {
                    saved.suspended = v
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(String::from)
                        .collect()
                }
                "all" => {
                    saved.all = Some(v.to_string());
                    saved.id = Some(v.to_string());
                }
                "id" => saved.id = Some(v.to_string()),
                "count" => saved.count = Some(v.parse().ok()?),
                _ => {}
            }
        }
        (saved.min >= 0 && saved.max >= 0 && saved.desired >= 0 && saved.batch > 0).then_some(saved)
    }
}

/// One instance as the rollout sees it.
#[derive(Debug, Clone)]
pub struct Inst {
    pub id: String,
    /// The autoscaling lifecycle state (`Pending`, `InService`, `Terminating`, …).
    pub lifecycle: String,
    /// To be replaced: outdated, or marked by `--all`.
    pub old: bool,
    /// Healthy in every target group and classic load balancer of the group (true when it has
    /// none).
    pub healthy: bool,
}

impl Inst {
    /// On its way out of the group: no longer counted at all.
    fn leaving(&self) -> bool {
        ["Terminat", "Detach", "Standby", "EnteringStandby"]
            .iter()
            .any(|p| self.lifecycle.starts_with(p))
    }

    fn ready(&self) -> bool {
        self.lifecycle == "InService" && self.healthy
    }
}

/// What AWS says about the group now.
#[derive(Debug, Clone)]
pub struct View {
    pub min: i32,
    pub max: i32,
    pub desired: i32,
    pub instances: Vec<Inst>,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to do until AWS moves (instances launching, becoming healthy, leaving).
    Wait(String),
    /// Start a batch: raise desired (and max, when needed) so new instances launch first.
    Surge { desired: i32, max: Option<i32> },
    /// The new instances cover these old ones: terminate them, decrementing desired.
    Terminate(Vec<String>),
    /// Every old instance is gone: put back the sizes the group had.
    Restore,
    /// Every old instance is gone and the sizes are back.
    Done,
}

/// The next step of a rollout, from what AWS says now and what the rollout saved.
pub fn next(view: &View, saved: &Saved) -> Step {
    let live: Vec<&Inst> = view.instances.iter().filter(|i| !i.leaving()).collect();
    if view.desired != live.len() as i32 {
        return Step::Wait(format!(
            "the group to reach its desired capacity ({} of {} instances)",
            live.len(),
            view.desired
        ));
    }
    let mut old: Vec<&Inst> = live.iter().copied().filter(|i| i.old).collect();
    let fresh: Vec<&Inst> = live.iter().copied().filter(|i| !i.old).collect();
    let ready = fresh.iter().filter(|i| i.ready()).count();
    let pending = fresh.len() - ready;
    if pending > 0 {
        let in_service = fresh
            .iter()
            .filter(|i| !i.ready() && i.lifecycle == "InService")
            .count();
        return Step::Wait(format!(
            "{pending} new instance(s) to be InService and healthy ({in_service} InService but not yet healthy)"
        ));
    }
    if old.is_empty() {
        // Replaced instances held by the `udo-drain` hook are still finishing their work: the
        // rollout is not over until they are gone (or their heartbeat runs out).
        let draining = view
            .instances
            .iter()
            .filter(|i| i.lifecycle == "Terminating:Wait")
            .count();
        if draining > 0 {
            return Step::Wait(format!(
                "{draining} replaced instance(s) draining (lifecycle hook udo-drain)"
            ));
        }
        return if (view.min, view.max, view.desired) == (saved.min, saved.max, saved.desired) {
            Step::Done
        } else {
            Step::Restore
        };
    }
    // Terminate only what the ready new instances cover: the group never serves with fewer
    // than the capacity it had.
    let spare = (ready + old.len()) as i64 - i64::from(saved.desired);
    let n = (saved.batch as i64).min(old.len() as i64).min(spare.max(0)) as usize;
    if n > 0 {
        // instances not in service serve nothing: replace them first
        old.sort_by_key(|i| i.lifecycle == "InService");
        return Step::Terminate(old.iter().take(n).map(|i| i.id.clone()).collect());
    }
    let desired = view.desired + saved.batch.min(old.len()) as i32;
    Step::Surge {
        desired,
        max: (desired > view.max).then_some(desired),
    }
}

/// What a failed batch leaves to undo: the new instances that never became ready.
pub fn unfinished(view: &View) -> Vec<String> {
    view.instances
        .iter()
        .filter(|i| !i.leaving() && !i.old && !i.ready())
        .map(|i| i.id.clone())
        .collect()
}

/// The number of the batch a resumed rollout is in: `done` of the rollout's instances are
/// replaced already, and `surged` says whether the group is above the saved desired capacity
/// (a batch started and not yet finished). 0 before the first batch.
pub fn batch_in_progress(done: usize, batch: usize, surged: bool) -> usize {
    done / batch.max(1) + usize::from(surged)
}

/// The batches a rollout of `old` instances makes, in order (for plans and progress).
pub fn batches(old: usize, batch: usize) -> Vec<usize> {
    let batch = batch.max(1);
    (0..old.div_ceil(batch))
        .map(|b| batch.min(old - b * batch))
        .collect()
}

/// What a rollout of `old` will do, one typed step each (the rest of an interrupted one when
/// `resumed`): the processes it suspends, each batch in order, and the sizes it restores.
pub fn plan(
    group: &str,
    launch: &str,
    old: &[String],
    saved: &Saved,
    resumed: bool,
    balanced: bool,
) -> Vec<PlanStep> {
    let sizes = Sizes {
        desired: saved.desired,
        min: saved.min,
        max: saved.max,
    };
    if resumed {
        return vec![PlanStep::Op(OpStep::FinishRollout {
            group: group.to_string(),
            old: old.len(),
            sizes,
        })];
    }
    let mut steps = Vec::new();
    if !saved.suspended.is_empty() {
        steps.push(PlanStep::Op(OpStep::SuspendForRollout {
            group: group.to_string(),
            processes: saved.suspended.clone(),
        }));
    }
    let counts = batches(old.len(), saved.batch);
    let total = counts.len();
    let mut rest = old.iter();
    for (n, size) in counts.iter().enumerate() {
        steps.push(PlanStep::Op(OpStep::RolloutBatch {
            number: n + 1,
            total,
            size: *size,
            launch: launch.to_string(),
            balanced,
            terminate: rest.by_ref().take(*size).cloned().collect(),
        }));
    }
    steps.push(PlanStep::Op(OpStep::RestoreSizes {
        group: group.to_string(),
        sizes,
    }));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(desired: i32, batch: usize) -> Saved {
        Saved {
            min: 2,
            max: 4,
            desired,
            batch,
            suspended: vec!["AZRebalance".into()],
            all: None,
            id: None,
            count: None,
        }
    }

    fn inst(id: &str, lifecycle: &str, old: bool, healthy: bool) -> Inst {
        Inst {
            id: id.into(),
            lifecycle: lifecycle.into(),
            old,
            healthy,
        }
    }

    fn view(desired: i32, max: i32, instances: Vec<Inst>) -> View {
        View {
            min: 2,
            max,
            desired,
            instances,
        }
    }

    #[test]
    fn batch_sizes_parse_and_resolve() {
        assert_eq!("2".parse(), Ok(BatchSize::Count(2)));
        assert_eq!("25%".parse(), Ok(BatchSize::Percent(25)));
        for bad in ["0", "-1", "0%", "101%", "x", "", "2.5"] {
            assert!(bad.parse::<BatchSize>().is_err(), "{bad}");
        }
        // one instance or 25%, whichever is larger
        assert_eq!(BatchSize::default().resolve(2), 1);
        assert_eq!(BatchSize::default().resolve(4), 1);
        assert_eq!(BatchSize::default().resolve(12), 3);
        assert_eq!(BatchSize::Count(2).resolve(4), 2);
        assert_eq!(BatchSize::default().min_healthy_percentage(4), 75);
        assert_eq!(BatchSize::Count(2).min_healthy_percentage(4), 50);
        assert_eq!(BatchSize::Count(1).min_healthy_percentage(3), 66);
        assert_eq!(BatchSize::Count(9).min_healthy_percentage(4), 0);
    }

    #[test]
    fn saved_state_round_trips_through_the_tag() {
        let mut s = saved(4, 2);
        assert_eq!(s.to_tag(), "min=2 max=4 desired=4 batch=2");
        // an older udo's tag kept the suspended processes in it
        assert_eq!(
            Saved::parse("min=2 max=4 desired=4 batch=2 suspended=AZRebalance"),
            Some(s.clone())
        );
        s.suspended.clear();
        assert_eq!(Saved::parse(&s.to_tag()), Some(s.clone()));
        s.all = Some("1733000000".into());
        s.id = s.all.clone();
        s.count = Some(3);
        assert_eq!(
            s.to_tag(),
            "min=2 max=4 desired=4 batch=2 all=1733000000 count=3"
        );
        assert_eq!(Saved::parse(&s.to_tag()), Some(s.clone()));
        s.all = None;
        assert_eq!(
            s.to_tag(),
            "min=2 max=4 desired=4 batch=2 id=1733000000 count=3"
        );
        assert_eq!(Saved::parse(&s.to_tag()), Some(s));
        assert_eq!(Saved::parse("hello"), None);
        assert_eq!(Saved::parse("min=1 max=2"), None);
    }

    #[test]
    fn a_full_rollout_surges_waits_terminates_and_restores() {
        let s = saved(4, 2);
        let old = |id| inst(id, "InService", true, true);
        // four old instances: raise desired by a batch, above max
        let v = view(4, 4, vec![old("a"), old("b"), old("c"), old("d")]);
        assert_eq!(
            next(&v, &s),
            Step::Surge {
                desired: 6,
                max: Some(6)
            }
        );
        // AWS has not launched them yet
        assert!(matches!(
            next(&view(6, 6, v.instances.clone()), &s),
            Step::Wait(_)
        ));
        // launched, not yet healthy
        let mut is = v.instances.clone();
        is.push(inst("e", "Pending", false, false));
        is.push(inst("f", "InService", false, false));
        assert!(matches!(next(&view(6, 6, is.clone()), &s), Step::Wait(w) if w.contains("2 new")));
        // ready: the two new ones cover two old ones
        is[4] = inst("e", "InService", false, true);
        is[5] = inst("f", "InService", false, true);
        assert_eq!(
            next(&view(6, 6, is.clone()), &s),
            Step::Terminate(vec!["a".into(), "b".into()])
        );
        // terminating old ones no longer count; next batch
        is[0].lifecycle = "Terminating".into();
        is[1].lifecycle = "Terminating:Wait".into();
        assert_eq!(
            next(&view(4, 6, is.clone()), &s),
            Step::Surge {
                desired: 6,
                max: None
            }
        );
        // all replaced: restore the sizes, then done
        let done = vec![
            inst("e", "InService", false, true),
            inst("f", "InService", false, true),
            inst("g", "InService", false, true),
            inst("h", "InService", false, true),
        ];
        assert_eq!(next(&view(4, 6, done.clone()), &s), Step::Restore);
        assert_eq!(next(&view(4, 4, done.clone()), &s), Step::Done);
        // a replaced instance still draining: wait for it before finishing
        let mut draining = done;
        draining.push(inst("d", "Terminating:Wait", true, true));
        assert!(
            matches!(next(&view(4, 4, draining), &s), Step::Wait(w) if w.contains("1 replaced instance(s) draining")),
        );
    }

    #[test]
    fn never_below_the_capacity_it_had() {
        // a re-run after a kill right after the surge, with one new instance ready so far
        let s = saved(4, 2);
        let mut is: Vec<Inst> = ["a", "b", "c", "d"]
            .iter()
            .map(|id| inst(id, "InService", true, true))
            .collect();
        is.push(inst("e", "InService", false, true));
        is.push(inst("f", "InService", false, false));
        assert!(matches!(next(&view(6, 6, is.clone()), &s), Step::Wait(_)));
        // a batch bigger than what is left, and an old instance out of service goes first
        is[5].healthy = true;
        is[3].lifecycle = "Pending".into();
        let s3 = saved(4, 3);
        assert_eq!(
            next(&view(6, 6, is.clone()), &s3),
            Step::Terminate(vec!["d".into(), "a".into()])
        );
        // the last old instance: a batch of one
        let last = vec![
            inst("a", "InService", true, true),
            inst("e", "InService", false, true),
            inst("f", "InService", false, true),
            inst("g", "InService", false, true),
        ];
        assert_eq!(
            next(&view(4, 4, last), &s),
            Step::Surge {
                desired: 5,
                max: Some(5)
            }
        );
    }

    #[test]
    fn unfinished_instances_are_the_new_ones_not_ready() {
        let v = view(
            6,
            6,
            vec![
                inst("a", "InService", true, true),
                inst("e", "InService", false, false),
                inst("f", "Pending", false, false),
                inst("g", "InService", false, true),
                inst("h", "Terminating", false, false),
            ],
        );
        assert_eq!(unfinished(&v), vec!["e", "f"]);
    }

    #[test]
    fn the_plan_lists_every_batch_and_the_restore() {
        let old: Vec<String> = ["i-1", "i-2", "i-3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s = saved(3, 2);
        let lines = |steps: Vec<PlanStep>| steps.iter().map(PlanStep::line).collect::<Vec<_>>();
        assert_eq!(
            lines(plan("dev-web", "dev-web v2", &old, &s, false, true)),
            vec![
                "suspend AZRebalance of dev-web until the rollout ends",
                "batch 1/2: launch 2 new instance(s) on dev-web v2, wait until InService and healthy, then terminate i-1, i-2",
                "batch 2/2: launch 1 new instance(s) on dev-web v2, wait until InService and healthy, then terminate i-3",
                "restore dev-web to desired 3, min 2, max 4",
            ]
        );
        assert_eq!(
            lines(plan("dev-web", "dev-web v2", &old[..1], &s, true, false)),
            vec![
                "finish the interrupted rollout of dev-web: 1 old instance(s) left, then restore desired 3, min 2, max 4"
            ]
        );
    }

    #[test]
    fn batches_in_order() {
        assert_eq!(batches(4, 2), vec![2, 2]);
        assert_eq!(batches(5, 2), vec![2, 2, 1]);
        assert_eq!(batches(1, 3), vec![1]);
        assert!(batches(0, 1).is_empty());
    }
}
