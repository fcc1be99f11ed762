//! Typed steps: everything udo changes, one value per change. A step knows its kind (create,
//! change, delete, and so its sign), which part of a role's plan it belongs to, what it can take
//! away (serving capacity, connectivity, data, a scaling rule), and renders its own line and
//! details. Every command shows, asks about and runs these same values, so `plan` and the
//! commands that change things cannot disagree. Pure.

use crate::launch::InstanceMix;
use crate::model::drain::HookChange;
use crate::model::live::{Balancer, DrainHook, GroupLaunch, GroupUpdate};
use crate::model::network::{Extra, NetStep};
use crate::model::op_step::OpStep;
use crate::schedule::{Action, Change, Policy};

/// What a step does to the thing it names; decides its sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Create,
    Change,
    Delete,
}

impl Kind {
    pub fn sign(self) -> &'static str {
        match self {
            Kind::Create => "+",
            Kind::Change => "~",
            Kind::Delete => "-",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Change => "change",
            Kind::Delete => "delete",
        }
    }
}

/// The one-line legend printed under every plan.
pub const LEGEND: &str = "(+ create, ~ change, - delete)";

/// What a step can take away. Any of these makes a plan ask on a terminal and refuse without
/// `--yes` elsewhere, in every command that would run it. (No engine step removes connectivity
/// or deletes what udo.yml describes: the network steps only add, and remove nothing but unused
/// copies; those are the destroy commands' steps, `model::op_step`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hazard {
    /// Fewer instances serving: desired capacity lowered, a balancer detached, instances
    /// terminated.
    ReducesCapacity,
    /// A scheduled action or scaling policy deleted: the group stops scaling that way.
    RemovesScalingRule,
    /// A group deleted with its instances (an older blue/green release).
    DeletesGroup,
    /// A route table, internet gateway, subnet or VPC deleted.
    RemovesConnectivity,
    /// A role's group or its own launch settings deleted (`asg destroy`, `lc destroy`).
    Deletes,
    /// The group's minimum or maximum size, which udo.yml sets, moved by hand (`asg scale N`
    /// beyond the group's bounds).
    OverridesBounds,
    /// A deployment stopped midway: its instances keep whatever revision they had got to.
    StopsDeployment,
}

impl Hazard {
    pub fn describe(self) -> &'static str {
        match self {
            Hazard::ReducesCapacity => "reduces serving capacity",
            Hazard::RemovesScalingRule => "removes a scaling rule",
            Hazard::DeletesGroup => "deletes a group and its instances",
            Hazard::RemovesConnectivity => "removes connectivity",
            Hazard::Deletes => "deletes what udo.yml describes",
            Hazard::OverridesBounds => "moves the group's size bounds away from udo.yml's",
            Hazard::StopsDeployment => "stops a deployment midway",
        }
    }
}

/// The part of a plan a step belongs to: each command applies some parts (`lc create` the
/// launch part, `cluster create` the network, `asg updatelc` launch, group, scaling and
/// cleanup, `apply` all of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Network,
    Launch,
    Group,
    Scaling,
    /// Launch configurations nothing uses once the group has switched.
    Cleanup,
    /// A group's running instances (`asg rollout`).
    Instances,
    /// A role's CodeDeploy deployment group and deployments (`deploy`).
    Deployment,
}

impl Part {
    pub fn word(self) -> &'static str {
        match self {
            Part::Network => "network",
            Part::Launch => "launch",
            Part::Group => "group",
            Part::Scaling => "scaling",
            Part::Cleanup => "cleanup",
            Part::Instances => "instances",
            Part::Deployment => "deployment",
        }
    }
}

/// One setting of a group that differs from udo.yml.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Min(i32, i32),
    /// `why`: the cause, when it looks like `asg scale N` raised the maximum.
    Max {
        from: i32,
        to: i32,
        why: Option<String>,
    },
    /// Desired capacity only moves when the new bounds demand it.
    Desired(i32, i32),
    /// Subnet ids (a CIDR stands for a subnet the network part of the same plan creates).
    Subnets(Vec<String>, Vec<String>),
    HealthCheckType(String, String),
    GracePeriod(i32, i32),
    /// The group's mix of instance types and spot (a mixed instances policy), if any.
    Mix(Option<InstanceMix>, Option<InstanceMix>),
    CapacityRebalance(bool, bool),
    TerminationPolicies(Vec<String>, Vec<String>),
    /// Seconds; 0 for none.
    MaxInstanceLifetime(i32, i32),
    /// (min, max) healthy percentage.
    Maintenance(Option<(i32, i32)>, Option<(i32, i32)>),
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(",")
    }
}

impl Field {
    /// The change as the change event says it (`max size 3 -> 5`).
    pub fn describe(&self) -> String {
        match self {
            Field::Min(a, b) => format!("min size {a} -> {b}"),
            Field::Max { from, to, .. } => format!("max size {from} -> {to}"),
            Field::Desired(a, b) => format!("desired capacity {a} -> {b} (to fit the new bounds)"),
            Field::Subnets(a, b) => format!("subnets {} -> {}", list(a), list(b)),
            Field::HealthCheckType(a, b) => format!("health check type {a} -> {b}"),
            Field::GracePeriod(a, b) => format!("health check grace period {a}s -> {b}s"),
            Field::Mix(a, b) => format!(
                "instances {} -> {}",
                InstanceMix::describe_opt(a),
                InstanceMix::describe_opt(b)
            ),
            Field::CapacityRebalance(a, b) => format!("capacity rebalance {a} -> {b}"),
            Field::TerminationPolicies(a, b) => {
                format!("termination policies {} -> {}", a.join(", "), b.join(", "))
            }
            Field::MaxInstanceLifetime(a, b) => {
                let show = |s: i32| {
                    if s == 0 {
                        "none".to_string()
                    } else {
                        format!("{s}s")
                    }
                };
                format!("max instance lifetime {} -> {}", show(*a), show(*b))
            }
            Field::Maintenance(a, b) => {
                let show = |m: &Option<(i32, i32)>| match m {
                    Some((lo, hi)) => format!("{lo}%-{hi}% healthy"),
                    None => "none".to_string(),
                };
                format!("instance maintenance {} -> {}", show(a), show(b))
            }
        }
    }

    /// Adds this field to one UpdateAutoScalingGroup call.
    pub fn apply(&self, u: &mut GroupUpdate) {
        match self {
            Field::Min(_, b) => u.min = Some(*b),
            Field::Max { to, .. } => u.max = Some(*to),
            Field::Desired(_, b) => u.desired = Some(*b),
            Field::Subnets(_, b) => u.subnets = Some(b.clone()),
            Field::HealthCheckType(_, b) => u.health_check_type = Some(b.clone()),
            Field::GracePeriod(_, b) => u.grace_period = Some(*b),
            Field::Mix(_, b) => u.mix = Some(b.clone()),
            Field::CapacityRebalance(_, b) => u.capacity_rebalance = Some(*b),
            Field::TerminationPolicies(_, b) => u.termination_policies = Some(b.clone()),
            Field::MaxInstanceLifetime(_, b) => u.max_instance_lifetime = Some(*b),
            Field::Maintenance(_, b) => u.maintenance = Some(*b),
        }
    }
}

/// One change udo makes.
#[derive(Clone, Debug)]
pub enum Step {
    /// A piece of a cluster's network; `line` is its description.
    Network {
        step: NetStep,
        line: String,
    },
    /// A copy of a network piece a retried or interrupted create left, which nothing uses.
    RemoveCopy {
        extra: Extra,
    },
    /// A launch template without udo's tags (the old tool's), tagged as the app's on udo's
    /// first write to it.
    TagTemplate {
        name: String,
        template_id: String,
        app: String,
    },
    CreateTemplate {
        name: String,
    },
    /// `diff`: the field and user-data differences the new version carries.
    NewTemplateVersion {
        name: String,
        version: i64,
        diff: Vec<String>,
    },
    /// The latest version matches udo.yml but is not the default (a run stopped in between).
    MakeDefault {
        name: String,
        version: i64,
    },
    CreateLaunchConfiguration {
        name: String,
        diff: Vec<String>,
    },
    CreateGroup {
        name: String,
        min: i32,
        max: i32,
        desired: i32,
    },
    /// `to`: `None` for the launch settings the step before creates.
    SwitchLaunch {
        group: String,
        from: GroupLaunch,
        to: Option<GroupLaunch>,
    },
    UpdateGroup {
        field: Field,
    },
    Attach {
        kind: Balancer,
        name: String,
    },
    Detach {
        kind: Balancer,
        name: String,
    },
    Tag {
        key: String,
        value: String,
    },
    Schedule(Change<Action>),
    Policy(Change<Policy>),
    /// A launch configuration of the role that nothing uses once the group has switched.
    DeleteLaunchConfiguration {
        name: String,
    },
    /// The group's `udo-drain` termination lifecycle hook; `live`: the hook AWS has now.
    DrainHook {
        change: HookChange,
        live: Option<DrainHook>,
    },
    /// A step of a blue/green release or rollback (`model::release`).
    Release(crate::model::release::Action),
    /// A step of a command that acts on what exists (destroy, scale, rollout, deploy).
    Op(OpStep),
}

impl Step {
    pub fn kind(&self) -> Kind {
        match self {
            Step::Network { step, .. } => match step {
                NetStep::MapPublic { .. } | NetStep::ReplaceDefaultRoute { .. } => Kind::Change,
                _ => Kind::Create,
            },
            Step::RemoveCopy { .. }
            | Step::Detach { .. }
            | Step::DeleteLaunchConfiguration { .. } => Kind::Delete,
            Step::CreateTemplate { .. }
            | Step::NewTemplateVersion { .. }
            | Step::CreateLaunchConfiguration { .. }
            | Step::CreateGroup { .. }
            | Step::Attach { .. } => Kind::Create,
            Step::MakeDefault { .. }
            | Step::TagTemplate { .. }
            | Step::SwitchLaunch { .. }
            | Step::UpdateGroup { .. }
            | Step::Tag { .. } => Kind::Change,
            Step::Schedule(c) => change_kind(c),
            Step::Policy(c) => change_kind(c),
            Step::DrainHook { change, live } => match (change, live) {
                (HookChange::Delete, _) => Kind::Delete,
                (_, None) => Kind::Create,
                _ => Kind::Change,
            },
            Step::Release(a) => a.kind(),
            Step::Op(op) => op.kind(),
        }
    }

    pub fn part(&self) -> Part {
        match self {
            Step::Network { .. } | Step::RemoveCopy { .. } => Part::Network,
            Step::CreateTemplate { .. }
            | Step::TagTemplate { .. }
            | Step::NewTemplateVersion { .. }
            | Step::MakeDefault { .. }
            | Step::CreateLaunchConfiguration { .. } => Part::Launch,
            Step::CreateGroup { .. }
            | Step::SwitchLaunch { .. }
            | Step::UpdateGroup { .. }
            | Step::Attach { .. }
            | Step::Detach { .. }
            | Step::Tag { .. }
            | Step::DrainHook { .. }
            | Step::Release(_) => Part::Group,
            Step::Schedule(_) | Step::Policy(_) => Part::Scaling,
            Step::DeleteLaunchConfiguration { .. } => Part::Cleanup,
            Step::Op(op) => op.part(),
        }
    }

    /// What the step can take away, if anything.
    pub fn hazard(&self) -> Option<Hazard> {
        match self {
            Step::UpdateGroup {
                field: Field::Desired(from, to),
                ..
            } if to < from => Some(Hazard::ReducesCapacity),
            Step::Detach { .. } => Some(Hazard::ReducesCapacity),
            Step::Schedule(Change::Delete(_)) | Step::Policy(Change::Delete(_)) => {
                Some(Hazard::RemovesScalingRule)
            }
            Step::Release(a) => a.hazard(),
            Step::Op(op) => op.hazard(),
            _ => None,
        }
    }

    /// The step's line, without its sign.
    pub fn line(&self) -> String {
        match self {
            Step::Network { line, .. } => line.clone(),
            Step::RemoveCopy { extra, .. } => extra.describe(),
            Step::CreateTemplate { name } => format!("create launch template {name}"),
            Step::TagTemplate { name, app, .. } => format!(
                "tag launch template {name} udo:app={app} (it has no udo tags: the old tool's)"
            ),
            Step::NewTemplateVersion { name, version, .. } => {
                format!("create version {version} of launch template {name}")
            }
            Step::MakeDefault { name, version } => format!(
                "make version {version} of launch template {name} the default (an earlier run stopped before it did)"
            ),
            Step::CreateLaunchConfiguration { name, .. } => {
                format!("create launch configuration {name}")
            }
            Step::CreateGroup {
                name,
                min,
                max,
                desired,
            } => {
                format!("create autoscaling group {name} (min {min}, max {max}, desired {desired})")
            }
            Step::SwitchLaunch {
                group,
                from,
                to: Some(to),
            } => format!(
                "switch {group} from {} to {}",
                from.describe(),
                to.describe()
            ),
            Step::SwitchLaunch {
                group,
                from,
                to: None,
            } => format!("switch {group} to it (from {})", from.describe()),
            Step::UpdateGroup { field, .. } => match field {
                Field::Max { why: Some(w), .. } => format!("change {} ({w})", field.describe()),
                _ => format!("change {}", field.describe()),
            },
            Step::Attach { kind, name, .. } => format!("attach {} {name}", kind.singular()),
            Step::Detach { kind, name, .. } => format!("detach {} {name}", kind.singular()),
            Step::Tag { key, value, .. } => format!("tag {key}={value}"),
            Step::Schedule(c) => c.describe("scheduled action"),
            Step::Policy(c) => c.describe("scaling policy"),
            Step::DeleteLaunchConfiguration { name } => {
                format!("delete unused launch configuration {name}")
            }
            Step::DrainHook { change, live } => change.describe(live.as_ref()),
            Step::Release(a) => a.line(),
            Step::Op(op) => op.line(),
        }
    }

    /// Lines shown under the step (a new launch version's differences).
    pub fn details(&self) -> &[String] {
        match self {
            Step::NewTemplateVersion { diff, .. }
            | Step::CreateLaunchConfiguration { diff, .. } => diff,
            _ => &[],
        }
    }

    /// `+ create launch template dev-web`: the sign and the line.
    pub fn signed(&self) -> String {
        format!("{} {}", self.kind().sign(), self.line())
    }
}

fn change_kind<T>(c: &Change<T>) -> Kind {
    match c {
        Change::Add(_) => Kind::Create,
        Change::Update { .. } => Kind::Change,
        Change::Delete(_) => Kind::Delete,
    }
}

/// The steps, each with its sign and details under it, every line starting with `indent`.
pub fn render(steps: &[Step], indent: &str) -> String {
    let mut out = String::new();
    for s in steps {
        out.push_str(&format!("{indent}{}\n", s.signed()));
        for d in s.details() {
            out.push_str(&format!("{indent}    {d}\n"));
        }
    }
    out
}

/// The first hazard among the steps: a plan with one asks before it runs.
pub fn hazard(steps: &[Step]) -> Option<Hazard> {
    steps.iter().find_map(Step::hazard)
}

/// How many steps of each kind: (created, changed, deleted).
pub fn count(steps: &[Step]) -> (usize, usize, usize) {
    let n = |k: Kind| steps.iter().filter(|s| s.kind() == k).count();
    (n(Kind::Create), n(Kind::Change), n(Kind::Delete))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_sign() {
        let steps = [
            Step::CreateTemplate {
                name: "dev-web".into(),
            },
            Step::UpdateGroup {
                field: Field::Max {
                    from: 3,
                    to: 5,
                    why: None,
                },
            },
            Step::DeleteLaunchConfiguration {
                name: "dev-web".into(),
            },
        ];
        assert_eq!(
            render(&steps, "  "),
            "  + create launch template dev-web\n  ~ change max size 3 -> 5\n  - delete unused launch configuration dev-web\n"
        );
        assert_eq!(count(&steps), (1, 1, 1));
    }

    #[test]
    fn capacity_cuts_and_detaching_are_hazards_raising_is_not() {
        let field = |f| Step::UpdateGroup { field: f };
        assert_eq!(
            field(Field::Desired(5, 3)).hazard(),
            Some(Hazard::ReducesCapacity)
        );
        assert_eq!(field(Field::Desired(1, 2)).hazard(), None);
        assert_eq!(field(Field::Min(2, 1)).hazard(), None);
        let detach = Step::Detach {
            kind: Balancer::TargetGroup,
            name: "arn:tg".into(),
        };
        assert_eq!(detach.hazard(), Some(Hazard::ReducesCapacity));
        assert_eq!(detach.kind(), Kind::Delete);
        let attach = Step::Attach {
            kind: Balancer::Classic,
            name: "lb".into(),
        };
        assert_eq!(hazard(&[attach]), None);
    }

    #[test]
    fn a_group_without_subnets_says_none() {
        assert_eq!(
            Field::Subnets(vec![], vec!["subnet-1".into()]).describe(),
            "subnets (none) -> subnet-1"
        );
    }
}
