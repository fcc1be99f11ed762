//! The typed steps of the commands that act on what exists rather than on udo.yml's plan:
//! `asg destroy`/`reload`, `lc destroy`, `cluster destroy`, `asg scale N`, `asg suspend`/
//! `resume`, `asg rollout` and `deploy`. Each is one [`Step::Op`](super::step::Step::Op), so
//! these commands show, ask about and refuse exactly as the engine's commands do: through the
//! one gate (`plan::gate_steps`), whose question follows from the steps' hazards, never from a
//! risk the command picks. Pure.

use super::step::{Hazard, Kind, Part};
use crate::launch::LaunchKind;

/// One thing one of these commands does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpStep {
    /// `asg destroy`: the group's sizes to 0, then a wait until its instances are gone.
    EmptyGroup {
        group: String,
        instances: usize,
        desired: i32,
    },
    DeleteGroup {
        group: String,
    },
    /// A role's own launch template or configuration (`asg destroy`, `lc destroy`), not an
    /// unused leftover (that is the engine's `DeleteLaunchConfiguration`).
    DeleteLaunch {
        kind: LaunchKind,
        name: String,
    },
    /// `cluster destroy`: the network, piece by piece.
    DeleteRouteTable {
        id: String,
        associations: usize,
    },
    DeleteGateway {
        id: String,
        attached: bool,
    },
    DeleteSubnet {
        id: String,
        cidr: String,
    },
    DeleteVpc {
        id: String,
        cidr: String,
    },
    /// `asg scale N` below the group's minimum.
    LowerMin {
        group: String,
        from: i32,
        to: i32,
    },
    /// `asg scale N` above the group's maximum; `yml_max`: udo.yml's `max_size`, which the
    /// next `apply` brings the group back to.
    RaiseMax {
        group: String,
        from: i32,
        to: i32,
        yml_max: i32,
    },
    /// `instructed`: the number was typed on the command line (`asg scale prod.worker 2`),
    /// which is itself the user's answer: a cut then does not ask, and the line still says
    /// from how many to how many.
    SetDesired {
        group: String,
        from: i32,
        to: i32,
        instructed: bool,
    },
    /// `asg suspend` / `asg resume`; `what`: the processes, or "all processes".
    Processes {
        group: String,
        what: String,
        resume: bool,
    },
    /// A rollout's first step: the processes it suspends until it ends.
    SuspendForRollout {
        group: String,
        processes: Vec<String>,
    },
    /// One batch of a rollout: surge, wait, then terminate the old instances it covers.
    RolloutBatch {
        number: usize,
        total: usize,
        size: usize,
        launch: String,
        balanced: bool,
        terminate: Vec<String>,
    },
    /// A rollout's last step: the sizes the group had before it.
    RestoreSizes {
        group: String,
        sizes: Sizes,
    },
    /// A re-run of an interrupted rollout: the rest of its batches, then the sizes restored.
    FinishRollout {
        group: String,
        old: usize,
        sizes: Sizes,
    },
    /// `asg rollout --native`.
    InstanceRefresh {
        group: String,
        min_healthy: i32,
        all: bool,
    },
    CreateDeploymentGroup {
        group: String,
        app: String,
        autoscaling_group: String,
    },
    /// Its differences are the plan's notes. udo only ever adds the role's autoscaling group
    /// to a deployment group (it keeps the others), so this step takes nothing away.
    UpdateDeploymentGroup {
        group: String,
    },
    StopDeployment {
        id: String,
        group: String,
        rollback: bool,
    },
}

/// A group's sizes, as a rollout restores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    pub desired: i32,
    pub min: i32,
    pub max: i32,
}

impl Sizes {
    fn describe(self) -> String {
        format!(
            "desired {}, min {}, max {}",
            self.desired, self.min, self.max
        )
    }
}

impl OpStep {
    pub fn kind(&self) -> Kind {
        use OpStep::*;
        match self {
            DeleteGroup { .. }
            | DeleteLaunch { .. }
            | DeleteRouteTable { .. }
            | DeleteGateway { .. }
            | DeleteSubnet { .. }
            | DeleteVpc { .. } => Kind::Delete,
            CreateDeploymentGroup { .. } => Kind::Create,
            EmptyGroup { .. }
            | LowerMin { .. }
            | RaiseMax { .. }
            | SetDesired { .. }
            | Processes { .. }
            | SuspendForRollout { .. }
            | RolloutBatch { .. }
            | RestoreSizes { .. }
            | FinishRollout { .. }
            | InstanceRefresh { .. }
            | UpdateDeploymentGroup { .. }
            | StopDeployment { .. } => Kind::Change,
        }
    }

    pub fn part(&self) -> Part {
        use OpStep::*;
        match self {
            DeleteRouteTable { .. }
            | DeleteGateway { .. }
            | DeleteSubnet { .. }
            | DeleteVpc { .. } => Part::Network,
            DeleteLaunch { .. } => Part::Launch,
            EmptyGroup { .. }
            | DeleteGroup { .. }
            | LowerMin { .. }
            | RaiseMax { .. }
            | SetDesired { .. }
            | Processes { .. } => Part::Group,
            SuspendForRollout { .. }
            | RolloutBatch { .. }
            | RestoreSizes { .. }
            | FinishRollout { .. }
            | InstanceRefresh { .. } => Part::Instances,
            CreateDeploymentGroup { .. } | UpdateDeploymentGroup { .. } | StopDeployment { .. } => {
                Part::Deployment
            }
        }
    }

    pub fn hazard(&self) -> Option<Hazard> {
        use OpStep::*;
        match self {
            EmptyGroup {
                instances, desired, ..
            } if *instances > 0 || *desired > 0 => Some(Hazard::ReducesCapacity),
            DeleteGroup { .. } | DeleteLaunch { .. } => Some(Hazard::Deletes),
            DeleteRouteTable { .. }
            | DeleteGateway { .. }
            | DeleteSubnet { .. }
            | DeleteVpc { .. } => Some(Hazard::RemovesConnectivity),
            LowerMin { .. } | RaiseMax { .. } => Some(Hazard::OverridesBounds),
            SetDesired {
                from,
                to,
                instructed: false,
                ..
            } if to < from => Some(Hazard::ReducesCapacity),
            // Each batch terminates old instances; a restore (or the end of an interrupted
            // rollout) lowers desired capacity from its surge; a refresh replaces instances
            // with at most `100 - min_healthy` percent of them out of service at a time.
            RolloutBatch { .. } | FinishRollout { .. } | InstanceRefresh { .. } => {
                Some(Hazard::ReducesCapacity)
            }
            StopDeployment { .. } => Some(Hazard::StopsDeployment),
            _ => None,
        }
    }

    pub fn line(&self) -> String {
        use OpStep::*;
        match self {
            EmptyGroup {
                group, instances, ..
            } => format!(
                "set {group} sizes to 0 and wait for its {instances} instance(s) to terminate"
            ),
            DeleteGroup { group } => format!("delete autoscaling group {group}"),
            DeleteLaunch { kind, name } => format!("delete {} {name}", kind.noun()),
            DeleteRouteTable { id, associations } => {
                format!("delete route table {id} ({associations} subnet associations)")
            }
            DeleteGateway {
                id,
                attached: false,
            } => format!("delete internet gateway {id} (detached)"),
            DeleteGateway { id, attached: true } => {
                format!("detach and delete internet gateway {id}")
            }
            DeleteSubnet { id, cidr } => format!("delete subnet {id} ({cidr})"),
            DeleteVpc { id, cidr } => format!("delete VPC {id} ({cidr})"),
            LowerMin { group, from, to } => {
                format!("lower the minimum size of {group} from {from} to {to}")
            }
            RaiseMax {
                group,
                from,
                to,
                yml_max,
            } => format!(
                "raise the maximum size of {group} from {from} to {to}{}",
                if to > yml_max {
                    format!(
                        " (udo.yml's max_size is {yml_max}: the next `udo apply` lowers it again)"
                    )
                } else {
                    String::new()
                }
            ),
            SetDesired {
                group, from, to, ..
            } => format!("set the desired capacity of {group} from {from} to {to}"),
            Processes {
                group,
                what,
                resume,
            } => format!(
                "{} {what} of {group}",
                if *resume { "resume" } else { "suspend" }
            ),
            SuspendForRollout { group, processes } => format!(
                "suspend {} of {group} until the rollout ends",
                processes.join(", ")
            ),
            RolloutBatch {
                number,
                total,
                size,
                launch,
                balanced,
                terminate,
            } => format!(
                "batch {number}/{total}: launch {size} new instance(s) on {launch}, wait until InService{}, then terminate {}",
                if *balanced { " and healthy" } else { "" },
                terminate.join(", ")
            ),
            RestoreSizes { group, sizes } => format!("restore {group} to {}", sizes.describe()),
            FinishRollout { group, old, sizes } => format!(
                "finish the interrupted rollout of {group}: {old} old instance(s) left, then restore {}",
                sizes.describe()
            ),
            InstanceRefresh {
                group,
                min_healthy,
                all,
            } => format!(
                "start an AWS instance refresh of {group}: minimum healthy {min_healthy}%, {}",
                if *all {
                    "replacing every instance"
                } else {
                    "skipping instances that already match"
                }
            ),
            CreateDeploymentGroup {
                group,
                app,
                autoscaling_group,
            } => format!(
                "create deployment group {group} of application {app} for autoscaling group {autoscaling_group}"
            ),
            UpdateDeploymentGroup { group } => format!("update deployment group {group}"),
            StopDeployment {
                id,
                group,
                rollback,
            } => format!(
                "stop deployment {id} of {group}{}",
                if *rollback { " and roll back" } else { "" }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::step::{self, Step};
    use super::*;

    fn op(s: OpStep) -> Step {
        Step::Op(s)
    }

    #[test]
    fn destroying_a_group_says_how_many_go_and_asks() {
        let steps = [
            op(OpStep::EmptyGroup {
                group: "dev-web".into(),
                instances: 2,
                desired: 2,
            }),
            op(OpStep::DeleteGroup {
                group: "dev-web".into(),
            }),
            op(OpStep::DeleteLaunch {
                kind: LaunchKind::Template,
                name: "dev-web".into(),
            }),
        ];
        assert_eq!(
            step::render(&steps, "  "),
            "  ~ set dev-web sizes to 0 and wait for its 2 instance(s) to terminate\n  - delete autoscaling group dev-web\n  - delete launch template dev-web\n"
        );
        assert_eq!(steps[0].hazard(), Some(Hazard::ReducesCapacity));
        assert_eq!(steps[1].hazard(), Some(Hazard::Deletes));
        // a role's own launch settings always ask, the engine's unused leftovers do not
        assert_eq!(steps[2].hazard(), Some(Hazard::Deletes));
        assert_eq!(
            Step::DeleteLaunchConfiguration {
                name: "dev-web".into()
            }
            .hazard(),
            None
        );
        // an empty group takes no capacity away, but deleting it still asks
        let empty = OpStep::EmptyGroup {
            group: "g".into(),
            instances: 0,
            desired: 0,
        };
        assert_eq!(empty.hazard(), None);
    }

    #[test]
    fn deleting_a_launch_configuration_is_a_deletion_everywhere() {
        let s = op(OpStep::DeleteLaunch {
            kind: LaunchKind::Configuration,
            name: "dev-old".into(),
        });
        assert_eq!(s.signed(), "- delete launch configuration dev-old");
        assert_eq!(s.part(), Part::Launch);
    }

    #[test]
    fn network_deletions_remove_connectivity() {
        let steps = [
            op(OpStep::DeleteRouteTable {
                id: "rtb-1".into(),
                associations: 2,
            }),
            op(OpStep::DeleteGateway {
                id: "igw-1".into(),
                attached: true,
            }),
            op(OpStep::DeleteGateway {
                id: "igw-2".into(),
                attached: false,
            }),
            op(OpStep::DeleteSubnet {
                id: "subnet-1".into(),
                cidr: "10.0.1.0/24".into(),
            }),
            op(OpStep::DeleteVpc {
                id: "vpc-1".into(),
                cidr: "10.0.0.0/16".into(),
            }),
        ];
        assert_eq!(
            step::render(&steps, "  "),
            "  - delete route table rtb-1 (2 subnet associations)\n  - detach and delete internet gateway igw-1\n  - delete internet gateway igw-2 (detached)\n  - delete subnet subnet-1 (10.0.1.0/24)\n  - delete VPC vpc-1 (10.0.0.0/16)\n"
        );
        for s in &steps {
            assert_eq!(s.hazard(), Some(Hazard::RemovesConnectivity), "{s:?}");
            assert_eq!(s.part(), Part::Network);
        }
    }

    #[test]
    fn an_instructed_cut_does_not_ask_but_still_says_how_many() {
        let cut = |instructed| {
            op(OpStep::SetDesired {
                group: "prod-worker".into(),
                from: 5,
                to: 2,
                instructed,
            })
        };
        assert_eq!(
            cut(true).line(),
            "set the desired capacity of prod-worker from 5 to 2"
        );
        assert_eq!(cut(true).hazard(), None);
        assert_eq!(cut(true).kind(), Kind::Change);
        // the same cut without the user's number asks
        assert_eq!(cut(false).hazard(), Some(Hazard::ReducesCapacity));
        // raising asks neither way
        let raise = OpStep::SetDesired {
            group: "g".into(),
            from: 1,
            to: 3,
            instructed: false,
        };
        assert_eq!(raise.hazard(), None);
    }

    #[test]
    fn moving_a_groups_bounds_by_hand_asks() {
        let raise = OpStep::RaiseMax {
            group: "dev-web".into(),
            from: 3,
            to: 5,
            yml_max: 3,
        };
        assert_eq!(
            raise.line(),
            "raise the maximum size of dev-web from 3 to 5 (udo.yml's max_size is 3: the next `udo apply` lowers it again)"
        );
        assert_eq!(raise.hazard(), Some(Hazard::OverridesBounds));
        let within = OpStep::RaiseMax {
            group: "dev-web".into(),
            from: 3,
            to: 4,
            yml_max: 5,
        };
        assert_eq!(
            within.line(),
            "raise the maximum size of dev-web from 3 to 4"
        );
        let lower = OpStep::LowerMin {
            group: "dev-web".into(),
            from: 1,
            to: 0,
        };
        assert_eq!(
            lower.line(),
            "lower the minimum size of dev-web from 1 to 0"
        );
        assert_eq!(lower.hazard(), Some(Hazard::OverridesBounds));
    }

    #[test]
    fn suspending_processes_asks_nothing() {
        let s = OpStep::Processes {
            group: "dev-web".into(),
            what: "all processes".into(),
            resume: false,
        };
        assert_eq!(s.line(), "suspend all processes of dev-web");
        assert_eq!((s.kind(), s.hazard()), (Kind::Change, None));
    }

    #[test]
    fn a_rollouts_batches_terminate_and_ask() {
        let sizes = Sizes {
            desired: 2,
            min: 1,
            max: 3,
        };
        let steps = [
            op(OpStep::SuspendForRollout {
                group: "dev-web".into(),
                processes: vec!["AZRebalance".into(), "ScheduledActions".into()],
            }),
            op(OpStep::RolloutBatch {
                number: 1,
                total: 1,
                size: 2,
                launch: "launch template dev-web version 2".into(),
                balanced: true,
                terminate: vec!["i-1".into(), "i-2".into()],
            }),
            op(OpStep::RestoreSizes {
                group: "dev-web".into(),
                sizes,
            }),
        ];
        assert_eq!(
            step::render(&steps, "  "),
            "  ~ suspend AZRebalance, ScheduledActions of dev-web until the rollout ends\n  ~ batch 1/1: launch 2 new instance(s) on launch template dev-web version 2, wait until InService and healthy, then terminate i-1, i-2\n  ~ restore dev-web to desired 2, min 1, max 3\n"
        );
        assert_eq!(
            steps.iter().map(Step::hazard).collect::<Vec<_>>(),
            vec![None, Some(Hazard::ReducesCapacity), None]
        );
        let finish = OpStep::FinishRollout {
            group: "dev-web".into(),
            old: 0,
            sizes,
        };
        assert_eq!(
            finish.line(),
            "finish the interrupted rollout of dev-web: 0 old instance(s) left, then restore desired 2, min 1, max 3"
        );
        // even with no old instance left, restoring lowers desired from the surge
        assert_eq!(finish.hazard(), Some(Hazard::ReducesCapacity));
        let native = OpStep::InstanceRefresh {
            group: "dev-web".into(),
            min_healthy: 50,
            all: false,
        };
        assert_eq!(
            native.line(),
            "start an AWS instance refresh of dev-web: minimum healthy 50%, skipping instances that already match"
        );
        assert_eq!(native.hazard(), Some(Hazard::ReducesCapacity));
    }

    #[test]
    fn deployment_groups_are_made_quietly_stopping_a_deployment_asks() {
        let create = OpStep::CreateDeploymentGroup {
            group: "dev-web".into(),
            app: "shop".into(),
            autoscaling_group: "dev-web".into(),
        };
        assert_eq!(
            create.line(),
            "create deployment group dev-web of application shop for autoscaling group dev-web"
        );
        assert_eq!((create.kind(), create.hazard()), (Kind::Create, None));
        let update = OpStep::UpdateDeploymentGroup {
            group: "dev-web".into(),
        };
        assert_eq!((update.kind(), update.hazard()), (Kind::Change, None));
        let stop = OpStep::StopDeployment {
            id: "d-1".into(),
            group: "dev-web".into(),
            rollback: true,
        };
        assert_eq!(stop.line(), "stop deployment d-1 of dev-web and roll back");
        assert_eq!(stop.hazard(), Some(Hazard::StopsDeployment));
        assert_eq!(stop.part(), Part::Deployment);
    }
}
