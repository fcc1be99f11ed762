//! Commands, one module per family: argument handling and output. The decisions live below,
//! in `engine` (survey, plan, execute) and `model` (pure); no command module imports another,
//! and the dispatcher here is the only place that chains two commands (`--rollout`).

pub mod asg;
pub mod cluster;
pub mod config_cmd;
pub mod deploy;
pub mod exec;
pub mod lc;
pub mod plan;
pub mod status;
pub mod whoami;

use crate::cli::{AsgCmd, ClusterCmd, Command, ConfigCmd, LcCmd};
use crate::context::Ctx;
use crate::error::Result;

pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Validate => config_cmd::validate(ctx),
        Command::Config(ConfigCmd::Show { target }) => config_cmd::show(ctx, &target),
        Command::Lc(LcCmd::Cloudinit { target }) => lc::cloudinit(ctx, &target),
        Command::Lc(LcCmd::Create { target }) => lc::create(ctx, &target).await,
        Command::Lc(LcCmd::Destroy { target }) => lc::destroy(ctx, &target).await,
        Command::Lc(LcCmd::Show { target }) => lc::show(ctx, &target).await,
        Command::Lc(LcCmd::List) => lc::list(ctx).await,
        Command::Cluster(ClusterCmd::Create { cluster }) => cluster::create(ctx, &cluster).await,
        Command::Cluster(ClusterCmd::Destroy { cluster }) => cluster::destroy(ctx, &cluster).await,
        Command::Cluster(ClusterCmd::List) => cluster::list(ctx).await,
        Command::Cluster(ClusterCmd::Status { cluster }) => cluster::status(ctx, &cluster).await,
        Command::Asg(AsgCmd::Create { target }) => asg::create(ctx, &target).await,
        Command::Asg(AsgCmd::Destroy { target, timeout }) => {
            asg::destroy(ctx, &target, timeout).await
        }
        Command::Asg(AsgCmd::Reload { target, timeout }) => {
            asg::reload(ctx, &target, timeout).await
        }
        Command::Asg(AsgCmd::Updatelc { target, rollout }) => {
            asg::updatelc(ctx, &target).await?;
            if rollout {
                asg::rollout(ctx, &target, asg::RolloutOptions::defaults()).await?;
            }
            Ok(())
        }
        Command::Asg(AsgCmd::Scale {
            target,
            n,
            wait,
            timeout,
        }) => asg::scale(ctx, &target, n, wait, timeout).await,
        Command::Asg(AsgCmd::Instances { target, all_groups }) => {
            asg::instances(ctx, &target, all_groups).await
        }
        Command::Asg(AsgCmd::Randomip { target, private }) => {
            asg::randomip(ctx, &target, private).await
        }
        Command::Asg(AsgCmd::Policies { target }) => asg::policies(ctx, &target).await,
        Command::Asg(AsgCmd::Suspend { target, processes }) => {
            asg::suspend(ctx, &target, &processes, false).await
        }
        Command::Asg(AsgCmd::Resume { target, processes }) => {
            asg::suspend(ctx, &target, &processes, true).await
        }
        Command::Asg(AsgCmd::Rollout {
            target,
            batch,
            all,
            timeout,
            native,
            strategy,
        }) => {
            let opts = asg::RolloutOptions {
                batch,
                all,
                timeout,
                native,
                strategy,
            };
            asg::rollout(ctx, &target, opts).await
        }
        Command::Asg(AsgCmd::Rollback {
            target,
            to,
            timeout,
        }) => asg::rollback(ctx, &target, to.as_deref(), timeout).await,
        Command::Status { cluster } => status::status(ctx, cluster.as_deref()).await,
        Command::Whoami => whoami::run(ctx).await,
        Command::Deploy(args) => deploy::dispatch(ctx, args.command, args.create).await,
        Command::Exec(args) => exec::exec(ctx, &args).await,
        Command::Ssh(args) => exec::ssh(ctx, &args).await,
        Command::Plan { scope, exit_code } => plan::plan(ctx, scope.as_deref(), exit_code).await,
        Command::Apply { scope, rollout } => {
            let changed = plan::apply(ctx, scope.as_deref()).await?;
            if rollout && !ctx.global.dry_run {
                // One role after another, each asking as `asg rollout` does: a rollout replaces
                // running instances, so it never happens without its own confirmation (or `--yes`).
                for target in changed {
                    asg::rollout(ctx, &target, asg::RolloutOptions::defaults()).await?;
                }
            }
            Ok(())
        }
        Command::Version | Command::Completions { .. } => Ok(()),
    }
}
