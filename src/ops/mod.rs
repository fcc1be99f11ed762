//! Commands, one module per family. This is the only layer that joins udo.yml and AWS.

pub mod config_cmd;
pub mod lc;
pub mod whoami;

use crate::cli::{Command, ConfigCmd, LcCmd};
use crate::context::Ctx;
use crate::error::Result;

pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Validate => config_cmd::validate(ctx),
        Command::Config(ConfigCmd::Show { target }) => config_cmd::show(ctx, &target),
        Command::Lc(LcCmd::Cloudinit { target }) => lc::cloudinit(ctx, &target),
        Command::Whoami => whoami::run(ctx).await,
        Command::Version | Command::Completions { .. } => Ok(()),
    }
}
