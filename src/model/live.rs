//! What AWS has, as udo's own types: the records the survey fills (`aws/` reads them, one
//! call per kind) and the pure model decides from. Defined here, below `aws/`, so the model
//! needs nothing of the service layer; `aws::asg` and `aws::ec2` re-export them.

use crate::launch::{InstanceMix, LaunchSpec};

/// The value of tag `key` among `tags`.
pub fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------- Auto Scaling

/// What a group launches instances from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GroupLaunch {
    Template {
        id: String,
        name: String,
        version: String,
    },
    Configuration(String),
    #[default]
    Other,
}

impl GroupLaunch {
    pub fn describe(&self) -> String {
        match self {
            GroupLaunch::Template { name, version, .. } => format!("{name} v{version}"),
            GroupLaunch::Configuration(name) => name.clone(),
            GroupLaunch::Other => "(mixed instances policy)".into(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct GroupInstance {
    pub id: String,
    pub az: String,
    pub lifecycle: String,
    pub health: String,
    pub launch: GroupLaunch,
    /// The instance type it runs (a mixed group's instances differ).
    pub instance_type: String,
    /// A spot instance; known once EC2 was asked (`use_launch_tags`), else false.
    pub spot: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub name: String,
    pub min: i32,
    pub max: i32,
    pub desired: i32,
    pub launch: GroupLaunch,
    pub instances: Vec<GroupInstance>,
    pub subnets: Vec<String>,
    pub load_balancers: Vec<String>,
    pub target_groups: Vec<String>,
    pub health_check_type: String,
    pub grace_period: i32,
    pub tags: Vec<(String, String)>,
    pub suspended: Vec<String>,
    /// The mixed instances policy's types and distribution; `None` for a one-type group.
    /// `launch` is then the policy's launch template.
    pub mix: Option<InstanceMix>,
    pub capacity_rebalance: bool,
    pub termination_policies: Vec<String>,
    /// Seconds; 0 when unlimited.
    pub max_instance_lifetime: i32,
    /// (min healthy %, max healthy %) of the instance maintenance policy.
    pub maintenance: Option<(i32, i32)>,
    /// AWS is deleting the group (`Status: Delete in progress`): it still answers for a while.
    pub deleting: bool,
}

impl Group {
    /// The value of the group's tag `key`, if it has one.
    pub fn tag(&self, key: &str) -> Option<&str> {
        tag(&self.tags, key)
    }

    /// Instances held by a termination lifecycle hook (`Terminating:Wait`): draining.
    pub fn draining(&self) -> usize {
        self.instances
            .iter()
            .filter(|i| i.lifecycle == "Terminating:Wait")
            .count()
    }

    pub fn in_service(&self) -> usize {
        self.instances
            .iter()
            .filter(|i| i.lifecycle == "InService")
            .count()
    }

    /// Instances not launched from the group's current template version or configuration.
    pub fn outdated(&self) -> Vec<&GroupInstance> {
        self.instances
            .iter()
            .filter(|i| self.is_outdated(i))
            .collect()
    }

    /// Takes each instance's launch template and version from what EC2 says it was launched
    /// from (its `aws:ec2launchtemplate:*` tags, see [`Instance::template`]): the
    /// autoscaling API's per-instance version is not always what the instance runs (moto, for
    /// one, reports the template's default version for every instance). An instance EC2 did not
    /// return, or one without those tags, keeps what the autoscaling API says, so an instance
    /// launched from a configuration stays on its configuration.
    pub fn use_launch_tags(&mut self, found: &[Instance]) {
        let group_launch = self.launch.clone();
        for i in &mut self.instances {
            i.spot = found.iter().any(|e| e.id == i.id && e.spot);
            let Some((tid, version)) = found
                .iter()
                .find(|e| e.id == i.id)
                .and_then(|e| e.template.clone())
            else {
                continue;
            };
            let name = [&i.launch, &group_launch]
                .into_iter()
                .find_map(|l| match l {
                    GroupLaunch::Template { id, name, .. } if *id == tid && !name.is_empty() => {
                        Some(name.clone())
                    }
                    _ => None,
                })
                .or_else(|| match &i.launch {
                    GroupLaunch::Template { name, .. } if !name.is_empty() => Some(name.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| tid.clone());
            i.launch = GroupLaunch::Template {
                id: tid,
                name,
                version,
            };
        }
    }

    /// The instance types the group runs, with how many of each are spot:
    /// `m6i.large x3 (1 spot), m5.large x1 (1 spot)`; `-` with no instance.
    pub fn mix_summary(&self) -> String {
        let mut types: Vec<(&str, usize, usize)> = Vec::new();
        for i in &self.instances {
            match types.iter_mut().find(|(t, _, _)| *t == i.instance_type) {
                Some((_, n, spot)) => {
                    *n += 1;
                    *spot += usize::from(i.spot);
                }
                None => types.push((&i.instance_type, 1, usize::from(i.spot))),
            }
        }
        if types.is_empty() {
            return "-".into();
        }
        types
            .iter()
            .map(|(t, n, spot)| match spot {
                0 => format!("{t} x{n}"),
                k => format!("{t} x{n} ({k} spot)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn is_outdated(&self, i: &GroupInstance) -> bool {
        match (&self.launch, &i.launch) {
            (
                GroupLaunch::Template {
                    name: a,
                    version: va,
                    ..
                },
                GroupLaunch::Template {
                    name: b,
                    version: vb,
                    ..
                },
            ) => {
                // A group on `$Latest` or `$Default` (made by another tool) names no number to
                // compare with; udo itself always pins a number.
                a != b || (!va.starts_with('$') && va != vb)
            }
            (GroupLaunch::Configuration(a), GroupLaunch::Configuration(b)) => a != b,
            (GroupLaunch::Other, _) => false,
            _ => true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LaunchConfig {
    pub name: String,
    pub spec: LaunchSpec,
}

/// Everything udo sets on a group.
#[derive(Debug, Clone, Default)]
pub struct GroupSpec {
    pub name: String,
    pub min: i32,
    pub max: i32,
    pub desired: Option<i32>,
    pub launch: Option<GroupLaunch>,
    pub subnets: Vec<String>,
    pub zones: Vec<String>,
    pub load_balancers: Vec<String>,
    pub target_groups: Vec<String>,
    pub health_check_type: Option<String>,
    pub grace_period: Option<i32>,
    pub tags: Vec<(String, String)>,
    /// Tags of udo's own state (a blue/green release's), sent in the create call but not
    /// propagated to instances.
    pub state_tags: Vec<(String, String)>,
    /// A mixed instances policy over the launch template; `None`: the template alone.
    pub mix: Option<InstanceMix>,
    pub capacity_rebalance: bool,
    pub termination_policies: Vec<String>,
    /// Seconds; 0: no limit.
    pub max_instance_lifetime: i32,
    pub maintenance: Option<(i32, i32)>,
}

/// Changes what `UpdateAutoScalingGroup` can change, in one call. `None` leaves a value alone.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub desired: Option<i32>,
    pub launch: Option<GroupLaunch>,
    pub subnets: Option<Vec<String>>,
    pub health_check_type: Option<String>,
    pub grace_period: Option<i32>,
    /// The group's mix after the update: `Some(Some(mix))` sends the mixed instances policy
    /// (over `launch`), `Some(None)` sends `launch` alone, which replaces a policy.
    pub mix: Option<Option<InstanceMix>>,
    pub capacity_rebalance: Option<bool>,
    pub termination_policies: Option<Vec<String>>,
    pub max_instance_lifetime: Option<i32>,
    /// `Some(None)` clears the maintenance policy.
    pub maintenance: Option<Option<(i32, i32)>>,
}

impl GroupUpdate {
    /// Makes the launch part of the update whole: a mixed group gets a new launch version only
    /// through its policy (a bare launch template would replace the policy), and a policy is
    /// only sent with the template it runs over.
    pub fn settle_mix(&mut self, live: &GroupLaunch, want: &Option<InstanceMix>) {
        if self.launch.is_some() && want.is_some() {
            self.mix = Some(want.clone());
        }
        if self.mix.is_some() && self.launch.is_none() {
            self.launch = Some(live.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.mix.is_none()
            && self.capacity_rebalance.is_none()
            && self.termination_policies.is_none()
            && self.max_instance_lifetime.is_none()
            && self.maintenance.is_none()
            && self.min.is_none()
            && self.max.is_none()
            && self.desired.is_none()
            && self.launch.is_none()
            && self.subnets.is_none()
            && self.health_check_type.is_none()
            && self.grace_period.is_none()
    }
}

/// What a group sends traffic from: classic load balancers (by name) or target groups (by ARN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balancer {
    Classic,
    TargetGroup,
}

impl Balancer {
    pub fn noun(self) -> &'static str {
        match self {
            Balancer::Classic => "load balancers",
            Balancer::TargetGroup => "target groups",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Balancer::Classic => "load balancer",
            Balancer::TargetGroup => "target group",
        }
    }
}

/// The group's `udo-drain` lifecycle hook, as AWS has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainHook {
    pub heartbeat: i32,
    pub default_result: String,
    pub transition: String,
}

// ---------------------------------------------------------------- EC2

#[derive(Debug, Clone)]
pub struct Vpc {
    pub id: String,
    pub cidr: String,
    pub state: String,
    pub tags: Vec<(String, String)>,
}

impl Vpc {
    pub fn cluster(&self) -> Option<&str> {
        tag(&self.tags, "udo:cluster")
    }
}

#[derive(Debug, Clone)]
pub struct Subnet {
    pub id: String,
    pub cidr: String,
    pub az: String,
    pub vpc_id: String,
    pub free_addresses: i32,
    pub map_public: bool,
    pub tags: Vec<(String, String)>,
}

impl Subnet {
    pub fn cluster(&self) -> Option<&str> {
        tag(&self.tags, "udo:cluster")
    }
}

#[derive(Debug, Clone)]
pub struct Gateway {
    pub id: String,
    /// The VPCs it is attached to (none when a run stopped between create and attach, or
    /// between detach and delete).
    pub attached_to: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    /// There is a 0.0.0.0/0 route (to whatever target).
    pub default_route: bool,
    /// The 0.0.0.0/0 route's target (gateway, NAT, interface …) and state (`active`,
    /// `blackhole`): internet access needs it to be the VPC's attached gateway, and active.
    pub default_target: Option<(String, String)>,
    /// (association id, subnet id) pairs.
    pub associations: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    /// Seconds since the Unix epoch.
    pub launched: Option<i64>,
    /// The launch template (id, version number) EC2 launched it from, read from the
    /// `aws:ec2launchtemplate:id` / `aws:ec2launchtemplate:version` tags EC2 puts on every
    /// instance launched from a template; `None` for an instance launched otherwise.
    pub template: Option<(String, String)>,
    /// All of the instance's tags.
    pub tags: Vec<(String, String)>,
    /// A spot instance (EC2's instance lifecycle `spot`), not on demand.
    pub spot: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(version: &str) -> GroupLaunch {
        GroupLaunch::Template {
            id: "lt-1".into(),
            name: "dev-web".into(),
            version: version.into(),
        }
    }

    #[test]
    fn instances_on_another_launch_version_are_outdated() {
        let inst = |launch: GroupLaunch| GroupInstance {
            id: "i-1".into(),
            az: "us-east-1a".into(),
            lifecycle: "InService".into(),
            health: "Healthy".into(),
            launch,
            instance_type: "t3.small".into(),
            spot: false,
        };
        let g = Group {
            name: "dev-web".into(),
            min: 1,
            max: 3,
            desired: 2,
            launch: lt("2"),
            instances: vec![
                inst(lt("1")),
                inst(lt("2")),
                inst(GroupLaunch::Configuration("dev-web".into())),
            ],
            subnets: vec![],
            load_balancers: vec![],
            target_groups: vec![],
            health_check_type: "EC2".into(),
            grace_period: 0,
            tags: vec![],
            suspended: vec![],
            ..Default::default()
        };
        let outdated: Vec<bool> = g.instances.iter().map(|i| g.is_outdated(i)).collect();
        assert_eq!(outdated, vec![true, false, true]);
        assert_eq!(g.outdated().len(), 2);
        assert_eq!(g.in_service(), 3);
        let mut c = g.clone();
        c.launch = GroupLaunch::Configuration("dev-web-v2".into());
        c.instances = vec![
            inst(GroupLaunch::Configuration("dev-web".into())),
            inst(GroupLaunch::Configuration("dev-web-v2".into())),
        ];
        assert_eq!(c.outdated().len(), 1);
    }

    fn ec2(id: &str, template: Option<(&str, &str)>) -> Instance {
        Instance {
            id: id.into(),
            private_ip: None,
            public_ip: None,
            launched: None,
            template: template.map(|(a, b)| (a.into(), b.into())),
            tags: vec![],
            spot: false,
        }
    }

    #[test]
    fn launch_tags_decide_what_an_instance_runs() {
        let inst = |id: &str, launch: GroupLaunch| GroupInstance {
            id: id.into(),
            az: "us-east-1a".into(),
            lifecycle: "InService".into(),
            health: "Healthy".into(),
            launch,
            instance_type: "t3.small".into(),
            spot: false,
        };
        let mut g = Group {
            name: "dev-web".into(),
            min: 1,
            max: 3,
            desired: 3,
            launch: lt("2"),
            // what moto says: every instance on the template's current default version
            instances: vec![
                inst("i-old", lt("2")),
                inst("i-new", lt("2")),
                inst("i-lc", GroupLaunch::Configuration("dev-web".into())),
                inst("i-gone", lt("2")),
            ],
            subnets: vec![],
            load_balancers: vec![],
            target_groups: vec![],
            health_check_type: "EC2".into(),
            grace_period: 0,
            tags: vec![],
            suspended: vec![],
            ..Default::default()
        };
        g.use_launch_tags(&[
            ec2("i-old", Some(("lt-1", "1"))),
            ec2("i-new", Some(("lt-1", "2"))),
            ec2("i-lc", None),
        ]);
        let outdated: Vec<&str> = g.outdated().iter().map(|i| i.id.as_str()).collect();
        // launched from v1, and from a configuration while the group uses a template
        assert_eq!(outdated, vec!["i-old", "i-lc"]);
        assert_eq!(g.instances[0].launch.describe(), "dev-web v1");
        // a group on `$Latest` names no version: only another template or kind is outdated
        let pinned = g.launch.clone();
        g.launch = lt("$Latest");
        let outdated: Vec<&str> = g.outdated().iter().map(|i| i.id.as_str()).collect();
        assert_eq!(outdated, vec!["i-lc"]);
        g.launch = pinned;
        // the other way round: a group moved to a configuration outdates template instances
        g.launch = GroupLaunch::Configuration("dev-web".into());
        let outdated: Vec<&str> = g.outdated().iter().map(|i| i.id.as_str()).collect();
        assert_eq!(outdated, vec!["i-old", "i-new", "i-gone"]);
    }
}
