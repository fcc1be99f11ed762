//! What every command gets: global options, the validated udo.yml, output, and AWS on demand.

use crate::aws::{self, Aws, Clients};
use crate::cli::{Cli, Command, Global};
use crate::config::{self, Config, Role};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::ops;
use crate::output::Output;
use tokio::sync::OnceCell;

pub struct Ctx {
    pub global: Global,
    pub config: Config,
    pub out: Output,
    pub events: Events,
    aws: OnceCell<Aws>,
}

impl Ctx {
    /// Verbose tracing: `-v` or `debug: 1` at the top of udo.yml.
    pub fn verbose(&self) -> bool {
        self.global.verbose > 0
    }

    /// AWS, set up on first use: never before udo.yml has been validated.
    pub async fn aws(&self) -> &Aws {
        let debug = self.config.top.bool("debug").unwrap_or(false);
        self.aws
            .get_or_init(|| Aws::load(&self.global, self.verbose() || debug))
            .await
    }

    /// The region a role lives in: --region, then udo.yml, then the AWS environment/profile.
    pub fn region_of(&self, role: &Role) -> Result<String> {
        self.region(role.settings.str("region"))
    }

    pub fn region(&self, configured: Option<&str>) -> Result<String> {
        aws::resolve_region(
            self.global.region.as_deref(),
            configured,
            self.global.profile.as_deref(),
        )
        .ok_or_else(|| {
            Error::usage(
                "no AWS region is set",
                "set `region:` in udo.yml, pass --region, or export AWS_REGION",
            )
        })
    }

    pub async fn clients_for(&self, role: &Role) -> Result<Clients> {
        let region = self.region_of(role)?;
        Ok(self.aws().await.clients(&region))
    }
}

/// Loads udo.yml, then runs the command. Commands that need no udo.yml run without one.
pub fn run(cli: Cli, label: crate::notify::Label) -> Result<()> {
    let Cli { global, command } = cli;
    match &command {
        Command::Version => {
            println!("udo {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "udo", &mut std::io::stdout());
            return Ok(());
        }
        _ => {}
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Failed(format!("cannot read the current directory: {e}")))?;
    let path = config::locate(global.config.as_deref(), &cwd)?;
    let config = config::load(&path)?;
    let ctx = Ctx {
        out: Output::new(global.output),
        global,
        config,
        events: Events::default(),
        aws: OnceCell::new(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let result = ops::dispatch(&ctx, command).await;
        if !ctx.global.no_notify && !ctx.global.dry_run {
            let events = ctx.events.records();
            crate::notify::deliver(&ctx.config, &label, &events).await;
        }
        result
    })
}
