//! Scheduled scaling actions and target tracking policies from udo.yml: checked before any AWS
//! call (cron, time zone, metric, sizes), and diffed against what a group has.
//!
//! Pure: `aws/scaling.rs` reads and writes these types, `ops/` decides what to show and apply.
//! udo owns every action and policy whose name starts with `udo-` and leaves the others alone,
//! so a name alone says whether udo may change or delete it.

use crate::config::Role;

/// The prefix of every action and policy udo creates.
pub const PREFIX: &str = "udo-";

/// One scheduled action, as udo.yml asks for it or as a group has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The name in AWS (`udo-NAME` for udo's own).
    pub name: String,
    /// Cron recurrence; `None` for one-time actions (never udo's).
    pub recurrence: Option<String>,
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub desired: Option<i32>,
    /// `None` means UTC.
    pub time_zone: Option<String>,
}

/// One scaling policy, as udo.yml asks for it or as a group has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    /// `TargetTrackingScaling` for udo's; whatever AWS says for others.
    pub kind: String,
    /// udo.yml's metric name (`cpu`, …), or AWS's metric type when udo has no name for it.
    pub metric: String,
    pub target: Option<f64>,
    pub warmup: Option<i32>,
    pub disable_scale_in: bool,
    /// What other policy types do (step adjustments, alarms), for display only.
    pub summary: String,
}

pub const TARGET_TRACKING: &str = "TargetTrackingScaling";

/// udo.yml's metric names and AWS's predefined metric types.
const METRICS: &[(&str, &str)] = &[
    ("cpu", "ASGAverageCPUUtilization"),
    ("alb_requests", "ALBRequestCountPerTarget"),
    ("network_in", "ASGAverageNetworkIn"),
    ("network_out", "ASGAverageNetworkOut"),
];

/// AWS's predefined metric type for udo.yml's metric name.
pub fn aws_metric(metric: &str) -> Option<&'static str> {
    METRICS.iter().find(|(m, _)| *m == metric).map(|(_, a)| *a)
}

/// udo.yml's name for an AWS predefined metric type (the type itself when udo has none).
pub fn config_metric(aws: &str) -> String {
    METRICS
        .iter()
        .find(|(_, a)| *a == aws)
        .map_or_else(|| aws.to_string(), |(m, _)| m.to_string())
}

pub fn is_udo(name: &str) -> bool {
    name.starts_with(PREFIX)
}

// ---------------------------------------------------------------- desired

/// The scheduled actions udo.yml asks for, named `udo-NAME`.
pub fn desired_actions(role: &Role) -> Vec<Action> {
    role.settings
        .named("schedule")
        .iter()
        .map(|e| Action {
            name: format!("{PREFIX}{}", e.str("name").unwrap_or_default()),
            recurrence: e.str("recurrence").map(normalize_cron),
            min: e.int("min_size").map(|n| n as i32),
            max: e.int("max_size").map(|n| n as i32),
            desired: e.int("desired").map(|n| n as i32),
            time_zone: e.str("time_zone").map(String::from),
        })
        .collect()
}

/// The target tracking policies udo.yml asks for, named `udo-NAME`.
pub fn desired_policies(role: &Role) -> Vec<Policy> {
    role.settings
        .named("scaling_policies")
        .iter()
        .map(|e| Policy {
            name: format!("{PREFIX}{}", e.str("name").unwrap_or_default()),
            kind: TARGET_TRACKING.into(),
            metric: e.str("metric").unwrap_or_default().to_string(),
            target: e.str("target").and_then(|t| t.parse().ok()),
            warmup: e.int("warmup").map(|n| n as i32),
            disable_scale_in: e.bool("disable_scale_in").unwrap_or(false),
            summary: String::new(),
        })
        .collect()
}

/// Cron fields separated by single spaces, as AWS stores them.
pub fn normalize_cron(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------- diff

/// Something with a name that udo compares field by field.
pub trait Item: Clone {
    fn name(&self) -> &str;
    /// Human lines for the fields that differ from `want` (`field: live -> want`).
    fn differences(&self, want: &Self) -> Vec<String>;
    /// A one-line description.
    fn describe(&self) -> String;
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "(none)".to_string(), ToString::to_string)
}

impl Item for Action {
    fn name(&self) -> &str {
        &self.name
    }

    fn differences(&self, want: &Action) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |field: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{field}: {a} -> {b}"));
            }
        };
        cmp(
            "recurrence",
            opt(&self.recurrence.as_deref().map(normalize_cron)),
            opt(&want.recurrence),
        );
        cmp("min size", opt(&self.min), opt(&want.min));
        cmp("max size", opt(&self.max), opt(&want.max));
        cmp("desired", opt(&self.desired), opt(&want.desired));
        cmp("time zone", zone(&self.time_zone), zone(&want.time_zone));
        out
    }

    fn describe(&self) -> String {
        let mut sizes = Vec::new();
        for (k, v) in [
            ("min", self.min),
            ("max", self.max),
            ("desired", self.desired),
        ] {
            if let Some(v) = v {
                sizes.push(format!("{k} {v}"));
            }
        }
        format!(
            "{} at `{}` {} ({})",
            self.name,
            self.recurrence.as_deref().unwrap_or("once"),
            zone(&self.time_zone),
            sizes.join(", ")
        )
    }
}

/// UTC is AWS's default: an action without a zone and one in `UTC` are the same.
fn zone(z: &Option<String>) -> String {
    match z.as_deref() {
        None | Some("UTC") | Some("Etc/UTC") => "UTC".into(),
        Some(z) => z.to_string(),
    }
}

impl Item for Policy {
    fn name(&self) -> &str {
        &self.name
    }

    fn differences(&self, want: &Policy) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |field: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{field}: {a} -> {b}"));
            }
        };
        cmp("type", self.kind.clone(), want.kind.clone());
        cmp("metric", self.metric.clone(), want.metric.clone());
        cmp("target", opt(&self.target), opt(&want.target));
        cmp("warmup", opt(&self.warmup), opt(&want.warmup));
        cmp(
            "scale-in disabled",
            self.disable_scale_in.to_string(),
            want.disable_scale_in.to_string(),
        );
        out
    }

    fn describe(&self) -> String {
        if self.kind == TARGET_TRACKING {
            format!(
                "{}: keep {} at {}{}",
                self.name,
                self.metric,
                opt(&self.target),
                self.warmup
                    .map(|w| format!(", warmup {w}s"))
                    .unwrap_or_default()
            )
        } else {
            format!("{}: {} {}", self.name, self.kind, self.summary)
        }
    }
}

/// One change to a group's actions or policies.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    Add(T),
    Update { want: T, fields: Vec<String> },
    Delete(T),
}

impl<T: Item> Change<T> {
    pub fn describe(&self, noun: &str) -> String {
        match self {
            Change::Add(w) => format!("add {noun} {}", w.describe()),
            Change::Update { want, fields } => {
                format!("change {noun} {} ({})", want.name(), fields.join(", "))
            }
            Change::Delete(l) => format!("delete {noun} {}", l.name()),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Change::Add(_) => "add",
            Change::Update { .. } => "change",
            Change::Delete(_) => "delete",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Change::Add(w) | Change::Update { want: w, .. } | Change::Delete(w) => w.name(),
        }
    }

    /// The past-tense verb of the change event ("Created scheduled action …").
    pub fn done(&self) -> &'static str {
        match self {
            Change::Add(_) => "Created",
            Change::Update { .. } => "Changed",
            Change::Delete(_) => "Deleted",
        }
    }
}

/// What turns `live` into `want`: additions and changes in udo.yml's order, then deletions of
/// udo's own (`udo-…`) that udo.yml no longer lists. Others' are never touched.
pub fn diff<T: Item>(live: &[T], want: &[T]) -> Vec<Change<T>> {
    let mut out = Vec::new();
    for w in want {
        match live.iter().find(|l| l.name() == w.name()) {
            None => out.push(Change::Add(w.clone())),
            Some(l) => {
                let fields = l.differences(w);
                if !fields.is_empty() {
                    out.push(Change::Update {
                        want: w.clone(),
                        fields,
                    });
                }
            }
        }
    }
    for l in live {
        if is_udo(l.name()) && !want.iter().any(|w| w.name() == l.name()) {
            out.push(Change::Delete(l.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(name: &str, desired: i32) -> Action {
        Action {
            name: name.into(),
            recurrence: Some("0 20 * * *".into()),
            min: None,
            max: None,
            desired: Some(desired),
            time_zone: None,
        }
    }

    #[test]
    fn diff_adds_changes_and_prunes_only_udo_entries() {
        let live = vec![
            action("udo-night", 0),
            action("udo-old", 1),
            action("someone-elses", 3),
            action("udo-same", 2),
        ];
        let want = vec![
            action("udo-night", 1),
            action("udo-morning", 2),
            action("udo-same", 2),
        ];
        let d = diff(&live, &want);
        let kinds: Vec<(&str, &str)> = d.iter().map(|c| (c.kind(), c.name())).collect();
        assert_eq!(
            kinds,
            vec![
                ("change", "udo-night"),
                ("add", "udo-morning"),
                ("delete", "udo-old")
            ]
        );
        match &d[0] {
            Change::Update { fields, .. } => assert_eq!(fields, &vec!["desired: 0 -> 1"]),
            other => panic!("{other:?}"),
        }
        assert!(diff(&want, &want).is_empty());
    }

    #[test]
    fn utc_and_no_zone_are_the_same() {
        let mut a = action("udo-x", 1);
        let mut b = a.clone();
        b.time_zone = Some("UTC".into());
        assert!(a.differences(&b).is_empty());
        a.recurrence = Some("0  20 * * *".into());
        assert!(a.differences(&b).is_empty());
        b.time_zone = Some("Europe/Berlin".into());
        assert_eq!(a.differences(&b), vec!["time zone: UTC -> Europe/Berlin"]);
    }

    #[test]
    fn policies_compare_by_field() {
        let p = Policy {
            name: "udo-cpu".into(),
            kind: TARGET_TRACKING.into(),
            metric: "cpu".into(),
            target: Some(60.0),
            warmup: Some(300),
            disable_scale_in: false,
            summary: String::new(),
        };
        let mut q = p.clone();
        assert!(p.differences(&q).is_empty());
        q.target = Some(50.0);
        q.metric = "network_in".into();
        assert_eq!(
            p.differences(&q),
            vec!["metric: cpu -> network_in", "target: 60 -> 50"]
        );
        assert_eq!(aws_metric("cpu"), Some("ASGAverageCPUUtilization"));
        assert_eq!(config_metric("ALBRequestCountPerTarget"), "alb_requests");
        assert_eq!(config_metric("Custom"), "Custom");
    }
}
