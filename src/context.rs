//! What every command gets: global options, the validated udo.yml, output, and AWS on demand.

use crate::account::{self, Accounts};
use crate::aws::{self, Aws, Clients};
use crate::cli::{Cli, Command, Global, OutputFormat};
use crate::config::merge::Settings;
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
    /// The command may change AWS: a wrong `account_id` refuses instead of warning.
    pub writes: bool,
    pub accounts: Accounts,
}

impl Ctx {
    /// Verbose tracing: `-v` or `debug: 1` at the top of udo.yml.
    pub fn verbose(&self) -> bool {
        self.global.verbose > 0
    }

    /// What the AWS side is told: the global options that concern it, and `debug:`.
    pub fn aws_options(&self) -> aws::Options {
        let debug = self.config.top.bool("debug").unwrap_or(false);
        aws::Options {
            profile: self.global.profile.clone(),
            region: self.global.region.clone(),
            endpoint_url: self.global.endpoint_url.clone(),
            verbose: self.verbose() || debug,
        }
    }

    /// AWS, set up on first use: never before udo.yml has been validated.
    pub async fn aws(&self) -> &Aws {
        self.aws
            .get_or_init(|| async { Aws::load(&self.aws_options()).await })
            .await
    }

    /// The region a role lives in: --region, then udo.yml, then the AWS environment/profile.
    pub fn region_of(&self, role: &Role) -> Result<String> {
        self.region_in(&role.settings)
    }

    /// The region for a level's settings (a role's or a cluster's), with its profile's region
    /// as the last resort.
    pub fn region_in(&self, settings: &Settings) -> Result<String> {
        self.region_with(settings.str("region"), self.profile_in(settings))
    }

    /// The region for a value from udo.yml, with `--profile`'s region as the last resort.
    #[allow(dead_code)] // kept for callers that have no settings at hand
    pub fn region(&self, configured: Option<&str>) -> Result<String> {
        self.region_with(configured, self.global.profile.as_deref())
    }

    /// The AWS profile a level's settings act with: `--profile` wins over udo.yml's `profile`.
    pub fn profile_in<'a>(&'a self, settings: &'a Settings) -> Option<&'a str> {
        self.global.profile.as_deref().or(settings.str("profile"))
    }

    fn region_with(&self, configured: Option<&str>, profile: Option<&str>) -> Result<String> {
        self.aws_options()
            .region_for(configured, profile)
            .ok_or_else(|| {
                Error::usage(
                    "no AWS region is set",
                    "set `region:` in udo.yml, pass --region, or export AWS_REGION",
                )
            })
    }

    pub async fn clients_for(&self, role: &Role) -> Result<Clients> {
        let region = self.region_of(role)?;
        self.clients_with(
            &role.settings,
            &region,
            &format!("role `{}`", role.target()),
        )
        .await
    }

    /// The roles grouped by where they live, one group per (profile, region) in the order
    /// first seen, each with its clients: batched reads (one DescribeAutoScalingGroups for all
    /// of a group's roles, …) are made per group, as clusters may live in different accounts
    /// and regions. Every role's `account_id` is checked (one STS call per profile, reused).
    pub async fn by_place<'a>(&self, roles: &[&'a Role]) -> Result<Vec<(Clients, Vec<&'a Role>)>> {
        let mut out = Vec::new();
        for list in self.group_by_place(roles.to_vec(), |r| *r)? {
            let mut clients = None;
            for role in &list {
                clients = Some(self.clients_for(role).await?);
            }
            if let Some(c) = clients {
                out.push((c, list));
            }
        }
        Ok(out)
    }

    /// Items (roles, or hosts of roles) grouped by the (profile, region) their role lives in,
    /// in the order first seen: the one grouping behind every batched read.
    pub fn group_by_place<'r, T>(
        &self,
        items: Vec<T>,
        role_of: impl Fn(&T) -> &'r Role,
    ) -> Result<Vec<Vec<T>>> {
        type Place = (Option<String>, String); // profile, region
        let mut places: Vec<(Place, Vec<T>)> = Vec::new();
        for item in items {
            let role = role_of(&item);
            let key = (
                self.profile_in(&role.settings).map(str::to_string),
                self.region_of(role)?,
            );
            match places.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(item),
                None => places.push((key, vec![item])),
            }
        }
        Ok(places.into_iter().map(|(_, list)| list).collect())
    }

    /// Clients for a level's settings (a role's or a cluster's `profile`) in a region, after
    /// checking its `account_id` against the account they sign in to. `what` names the level.
    pub async fn clients_with(
        &self,
        settings: &Settings,
        region: &str,
        what: &str,
    ) -> Result<Clients> {
        let profile = self.profile_in(settings);
        let clients = self.aws().await.clients_in(profile, region).await?;
        self.accounts
            .check(&clients, settings, profile, what, self.writes)
            .await?;
        Ok(clients)
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
        .map_err(|e| crate::failure::Failure::local("cannot read the current directory", e))?;
    let validate_json = matches!(command, Command::Validate) && global.output == OutputFormat::Json;
    let path = match config::locate(global.config.as_deref(), &cwd) {
        Ok(p) => p,
        Err(e) if validate_json => {
            ops::config_cmd::print_not_found(&Output::new(global.output), &e);
            return Err(Error::Reported(e.exit_code()));
        }
        Err(e) => return Err(e),
    };
    let config = match config::load(&path) {
        Ok(c) => c,
        Err(d) if validate_json => {
            ops::config_cmd::print_invalid(&Output::new(global.output), &d);
            return Err(Error::Reported(crate::error::EXIT_USAGE));
        }
        Err(d) => return Err(d.into()),
    };
    let ctx = Ctx {
        writes: account::writes(&command, global.dry_run),
        accounts: Accounts::default(),
        out: Output::new(global.output),
        events: Events::new(global.output == OutputFormat::Json),
        global,
        config,
        aws: OnceCell::new(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| crate::failure::Failure::local("cannot start the async runtime", e))?;
    runtime.block_on(async {
        let result = ops::dispatch(&ctx, command).await;
        if !ctx.global.no_notify && !ctx.global.dry_run {
            let events = ctx.events.records();
            let accounts = ctx.accounts.known().await;
            let account_of = |s: &Settings| {
                let profile = ctx.profile_in(s).map(str::to_string);
                accounts.get(&profile).cloned()
            };
            crate::notify::deliver(&ctx.config, &label, &events, &account_of).await;
        }
        result
    })
}
