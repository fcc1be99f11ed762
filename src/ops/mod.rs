//! Commands, one module per family. This is the only layer that joins udo.yml and AWS.

pub mod cluster;
pub mod config_cmd;
pub mod lc;
pub mod whoami;

use crate::cli::{ClusterCmd, Command, ConfigCmd, LcCmd};
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
        Command::Whoami => whoami::run(ctx).await,
        Command::Version | Command::Completions { .. } => Ok(()),
    }
}
