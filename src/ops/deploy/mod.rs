//! `udo deploy …`: CodeDeploy deployments of a role's code to its autoscaling group.
//!
//! A deploy checks the deployment group against udo.yml first (one call when it matches) and
//! creates or fixes what differs, uploads a local bundle unless the bucket already has it, starts
//! the deployment, waits with backoff, then runs the post-deploy hooks. `revision` resolves
//! REVISION before any AWS call; `wait` polls; `hooks` runs the hooks; `scaling` suspends and
//! resumes the group's processes around a deployment.

mod hooks;
mod revision;
mod scaling;
mod wait;

use crate::aws::codedeploy::{self, GroupSpec, Revision};
use crate::aws::{Clients, s3};
use crate::cli::{DeployCmd, DeployCreate, DeployList};
use crate::config::{Config, Role};
use crate::context::Ctx;
use crate::documents;
use crate::engine::batch::Batch;
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::model::op_step::OpStep;
use crate::model::release;
use crate::model::step::Step;
use crate::output::table;
use crate::plan;
use crate::target::{self, Many};
use revision::Source;
use std::time::Instant;

/// One role's deployment target: its application and deployment group.
#[derive(Clone)]
struct Unit<'a> {
    role: &'a Role,
    app: String,
    group: String,
}

impl Unit<'_> {
    fn spec(&self) -> GroupSpec {
        let s = &self.role.settings;
        GroupSpec {
            name: self.group.clone(),
            autoscaling_group: self.role.group_name(),
            service_role: s.str("deploy.service_role").map(str::to_string),
            config: s.str("deploy.config").map(str::to_string),
            auto_rollback: s.bool("deploy.auto_rollback"),
        }
    }
}

fn group_name(role: &Role) -> String {
    role.settings
        .str("deployment_group")
        .map_or_else(|| role.group_name(), str::to_string)
}

fn unit(role: &Role) -> Result<Unit<'_>> {
    let app = role.settings.str("deploy.application").ok_or_else(|| {
        Error::usage(
            format!("role {} has no CodeDeploy application", role.target()),
            "set `deploy.application` in udo.yml (at the top level, the cluster or the role)",
        )
    })?;
    Ok(Unit {
        role,
        app: app.to_string(),
        group: group_name(role),
    })
}

/// The roles a deploy without one named role covers: those with `deploy.application`, and of
/// those, only the ones with an explicit `deployment_group` when any role has one.
fn deployable<'a>(roles: impl Iterator<Item = &'a Role>) -> Vec<&'a Role> {
    let with_app: Vec<&Role> = roles
        .filter(|r| r.settings.str("deploy.application").is_some())
        .collect();
    let explicit: Vec<&Role> = with_app
        .iter()
        .copied()
        .filter(|r| r.settings.str("deployment_group").is_some())
        .collect();
    if explicit.is_empty() {
        with_app
    } else {
        explicit
    }
}

/// Resolves TARGET: a deployment group name from udo.yml, `CLUSTER.ROLE`, `CLUSTER` or
/// `CLUSTER.*`. Checks every role's application and region before any AWS call.
fn units<'a>(ctx: &'a Ctx, text: &str) -> Result<Vec<Unit<'a>>> {
    let config = &ctx.config;
    let by_group: Vec<&Role> = all_roles(config)
        .filter(|r| group_name(r) == text)
        .collect();
    let roles = match by_group.len() {
        1 => by_group,
        0 => {
            let roles = target::resolve(config, text, Many::Allowed)?;
            if text.ends_with(".*") {
                let roles = deployable(roles.into_iter());
                if roles.is_empty() {
                    return Err(Error::usage(
                        format!("no role of `{text}` has a deployment group"),
                        "set `deploy.application` (and `deployment_group`) for the roles to deploy",
                    ));
                }
                roles
            } else {
                roles
            }
        }
        _ => {
            let names: Vec<String> = by_group.iter().map(|r| r.target()).collect();
            return Err(Error::usage(
                format!(
                    "deployment group `{text}` belongs to several roles: {}",
                    names.join(", ")
                ),
                "name the role as CLUSTER.ROLE",
            ));
        }
    };
    let mut out = Vec::new();
    for role in roles {
        ctx.region_of(role)?;
        out.push(unit(role)?);
    }
    Ok(out)
}

fn all_roles(config: &Config) -> impl Iterator<Item = &Role> {
    config.clusters.iter().flat_map(|c| c.roles.iter())
}

/// TARGET, or every deployable role of udo.yml when it is absent.
fn units_or_all<'a>(ctx: &'a Ctx, text: Option<&str>) -> Result<Vec<Unit<'a>>> {
    match text {
        Some(t) => units(ctx, t),
        None => {
            let mut out = Vec::new();
            for role in deployable(all_roles(&ctx.config)) {
                ctx.region_of(role)?;
                out.push(unit(role)?);
            }
            Ok(out)
        }
    }
}

pub async fn dispatch(ctx: &Ctx, cmd: Option<DeployCmd>, create: DeployCreate) -> Result<()> {
    match cmd {
        None => self::create(ctx, &create).await,
        Some(DeployCmd::Create(args)) => self::create(ctx, &args).await,
        Some(DeployCmd::Setup { target }) => setup(ctx, &target).await,
        Some(DeployCmd::List { what }) => list(ctx, what).await,
        Some(DeployCmd::Last { target }) => last(ctx, target.as_deref()).await,
        Some(DeployCmd::Status { id }) => status(ctx, &id).await,
        Some(DeployCmd::Stop { target, rollback }) => stop(ctx, target.as_deref(), rollback).await,
    }
}

/// Creates the application and group when missing, and updates the group when it differs.
/// One call when everything matches. Returns whether it changed anything, and the autoscaling
/// group it deploys to: the role's active one (see [`role_group`]).
async fn ensure_group(
    ctx: &Ctx,
    c: &Clients,
    u: &Unit<'_>,
    prefix: &str,
) -> Result<(bool, String)> {
    let mut spec = u.spec();
    let live = codedeploy::group(c, &u.app, &u.group).await?;
    let read = role_group(c, u, live.as_ref()).await?;
    if let Some(Some(active)) = &read {
        spec.autoscaling_group = active.name.clone();
    }
    let asg = spec.autoscaling_group.clone();
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    match &live {
        None => {
            steps.push(Step::Op(OpStep::CreateDeploymentGroup {
                group: u.group.clone(),
                app: u.app.clone(),
                autoscaling_group: spec.autoscaling_group.clone(),
            }));
        }
        Some(g) => {
            let diff = spec.diff(g);
            if !diff.is_empty() {
                steps.push(Step::Op(OpStep::UpdateDeploymentGroup {
                    group: u.group.clone(),
                }));
                notes = diff;
            }
            let others: Vec<&String> = g
                .autoscaling_groups
                .iter()
                .filter(|a| **a != spec.autoscaling_group)
                .collect();
            if !others.is_empty() {
                ctx.out.info(&format!(
                    "{prefix}note: deployment group {} also deploys to {} (not from udo.yml); udo keeps {}",
                    u.group,
                    others
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if others.len() == 1 { "it" } else { "them" }
                ));
            }
        }
    }
    if steps.is_empty() {
        return Ok((false, asg));
    }
    // Attaching another application's group would deploy this application onto its
    // instances: the role's group must be this application's (or the old tool's, untagged).
    if read.is_none() {
        crate::engine::owner::group(c, u.role).await?;
    }
    if !plan::gate_quiet(
        ctx,
        &format!("{prefix}Deployment group {}:", u.group),
        &steps,
        &notes,
    )? {
        return Ok((false, asg));
    }
    match live {
        None => {
            if spec.service_role.is_none() {
                return Err(Failure::NoServiceRole {
                    group: u.group.clone(),
                }
                .into());
            }
            if !codedeploy::application_exists(c, &u.app).await?
                && codedeploy::create_application(c, &u.app).await?
            {
                ctx.events.emit_for(
                    u.role,
                    prefix,
                    format!("Created CodeDeploy application {}", u.app),
                );
            }
            codedeploy::create_group(c, &u.app, &spec).await?;
            ctx.events.emit_for(
                u.role,
                prefix,
                format!(
                    "Created deployment group {} for ASgroup {}",
                    u.group, spec.autoscaling_group
                ),
            );
        }
        Some(g) => {
            let diff = spec.diff(&g);
            let groups = spec.autoscaling_groups(Some(&g));
            codedeploy::update_group(c, &u.app, &spec, &groups).await?;
            ctx.events.emit_for(
                u.role,
                prefix,
                format!("Updated deployment group {}: {}", u.group, diff.join(", ")),
            );
        }
    }
    Ok((true, asg))
}

/// The role's active group (ownership checked), read only when the deployment group does not
/// settle which it is: when there is no deployment group yet (it is made for the active group),
/// or it does not list the base group `CLUSTER-ROLE` alone among the role's groups (it lists a
/// blue/green release `CLUSTER-ROLE-vN`, or none of them). A deployment group listing the
/// base group and no release costs no call: a release adds its group to the deployment group
/// before it becomes active. `None`: not read (the base group it is).
async fn role_group(
    c: &Clients,
    u: &Unit<'_>,
    live: Option<&codedeploy::Group>,
) -> Result<Option<Option<crate::aws::asg::Group>>> {
    let base = u.role.group_name();
    let settled = live.is_some_and(|g| {
        g.autoscaling_groups.contains(&base)
            && !g
                .autoscaling_groups
                .iter()
                .any(|a| release::release_of(&base, a).is_some_and(|n| n > 0))
    });
    if settled {
        return Ok(None);
    }
    Ok(Some(crate::engine::owner::group(c, u.role).await?))
}

/// `udo deploy setup TARGET`.
async fn setup(ctx: &Ctx, text: &str) -> Result<()> {
    let units = units(ctx, text)?;
    batch(ctx, text, &units)
        .run_with(units.clone(), |_, prefix, u| async move {
            let c = ctx.clients_for(u.role).await?;
            if !ensure_group(ctx, &c, &u, &prefix).await?.0 && !ctx.global.dry_run {
                println!(
                    "{prefix}Deployment group {} of {} matches udo.yml; no change",
                    u.group, u.app
                );
            }
            Ok(())
        })
        .await
}

/// The batch of a deploy's roles: several run as `CLUSTER.*` does (concurrently, prefixed,
/// with a summary).
fn batch<'a>(ctx: &'a Ctx, text: &str, units: &[Unit<'a>]) -> Batch<'a> {
    let roles = units.iter().map(|u| u.role).collect();
    Batch::new(ctx, text, roles, units.len() > 1)
}

/// `udo deploy TARGET REVISION`.
async fn create(ctx: &Ctx, args: &DeployCreate) -> Result<()> {
    let (Some(text), Some(rev)) = (&args.target, &args.revision) else {
        return Err(Error::usage(
            "`udo deploy` needs a TARGET and a REVISION",
            "e.g. `udo deploy dev.webapp 1a2b3c…` (a full commit id), a directory or bundle to upload, or see `udo deploy --help`",
        ));
    };
    let units = units(ctx, text)?;
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::local("cannot read the current directory", e))?;
    // Every role's revision, resolved before any AWS call; equal bundles are shared.
    let mut sources = Vec::new();
    for u in &units {
        let name = u
            .role
            .settings
            .str("app_name")
            .unwrap_or(u.app.as_str())
            .to_string();
        let source = revision::resolve(&u.role.settings, &name, rev, &cwd)?;
        sources.push(source);
    }
    let uploads = upload_all(ctx, &units, &sources).await?;
    let jobs: Vec<(Unit, Revision)> = units.iter().cloned().zip(uploads).collect();
    batch(ctx, text, &units)
        .run_with(jobs, |_, prefix, (u, revision)| async move {
            deploy_one(ctx, &u, &revision, args, &prefix).await
        })
        .await
}

/// Uploads each distinct local bundle once (skipped when the bucket has it) and reads S3 keys'
/// ETags, turning every source into a revision CodeDeploy can deploy.
async fn upload_all(ctx: &Ctx, units: &[Unit<'_>], sources: &[Source]) -> Result<Vec<Revision>> {
    let mut done: Vec<(String, String, Option<String>)> = Vec::new();
    let mut out = Vec::new();
    for (u, source) in units.iter().zip(sources) {
        let revision = match source {
            Source::GitHub { repo, commit } => Revision::GitHub {
                repo: repo.clone(),
                commit: commit.clone(),
            },
            Source::S3Key {
                bucket,
                key,
                bundle,
            }
            | Source::Upload {
                bucket,
                key,
                bundle,
                ..
            } => {
                let known = done
                    .iter()
                    .find(|(b, k, _)| b == bucket && k == key)
                    .map(|(_, _, e)| e.clone());
                let etag = match known {
                    Some(e) => e,
                    None => {
                        let e = if ctx.global.dry_run {
                            None
                        } else {
                            let c = ctx.clients_for(u.role).await?;
                            s3_etag(ctx, &c, u, source).await?
                        };
                        done.push((bucket.clone(), key.clone(), e.clone()));
                        e
                    }
                };
                Revision::S3 {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    bundle: *bundle,
                    etag,
                }
            }
        };
        out.push(revision);
    }
    Ok(out)
}

async fn s3_etag(ctx: &Ctx, c: &Clients, u: &Unit<'_>, source: &Source) -> Result<Option<String>> {
    match source {
        Source::S3Key { bucket, key, .. } => match s3::etag(c, bucket, key).await? {
            Some(e) => Ok(Some(e)),
            None => Err(Failure::NoSuchBundle {
                bucket: bucket.clone(),
                key: key.clone(),
            }
            .into()),
        },
        Source::Upload {
            bucket,
            key,
            bytes,
            from,
            ..
        } => {
            if let Some(e) = s3::etag(c, bucket, key).await? {
                ctx.out.info(&format!(
                    "s3://{bucket}/{key} already holds this bundle; not uploading"
                ));
                return Ok(Some(e));
            }
            let etag = s3::put(c, bucket, key, bytes.to_vec()).await?;
            ctx.events.emit_for(
                u.role,
                "",
                format!(
                    "Uploaded {} to s3://{bucket}/{key} ({} bytes)",
                    from.display(),
                    bytes.len()
                ),
            );
            Ok(Some(etag))
        }
        Source::GitHub { .. } => Ok(None),
    }
}

/// One role's deployment, from the group check to the hooks.
async fn deploy_one(
    ctx: &Ctx,
    u: &Unit<'_>,
    revision: &Revision,
    args: &DeployCreate,
    prefix: &str,
) -> Result<()> {
    let c = ctx.clients_for(u.role).await?;
    let (_, asg) = ensure_group(ctx, &c, u, prefix).await?;
    if ctx.global.dry_run {
        println!(
            "{prefix}Would deploy {} to {}\nDry run: nothing was changed.",
            revision.short(),
            u.group
        );
        return Ok(());
    }
    let suspend = u.role.settings.bool("deploy.suspend_scaling") == Some(true);
    if suspend && args.no_wait {
        ctx.out.info(&format!(
            "{prefix}note: deploy.suspend_scaling is not applied with --no-wait (nothing would resume the processes)"
        ));
    }
    let suspended = if suspend && !args.no_wait {
        Some(scaling::suspend(ctx, &c, u.role, &asg, prefix).await?)
    } else {
        None
    };
    // From here on every path out resumes the processes: success, failure, timeout, Ctrl-C,
    // kill (SIGTERM) and errors in udo.
    let created = std::sync::Mutex::new(None);
    let run = deploy_and_wait(ctx, &c, u, &asg, revision, args, prefix, &created);
    let result = interruptible(&created, run).await;
    if let Some((asg, processes)) = suspended {
        let resumed = scaling::resume(ctx, &c, u.role, &asg, &processes, prefix).await;
        if let Err(e) = resumed {
            return Err(match result {
                Ok(_) => e,
                Err(first) => Failure::Then {
                    first: Box::new(first),
                    then: Box::new(e),
                }
                .into(),
            });
        }
    }
    let Some(done) = result? else {
        return Ok(());
    };
    if args.skip_hooks {
        return Ok(());
    }
    let hooks = u.role.settings.list("post_deploy_hook");
    if hooks.is_empty() {
        return Ok(());
    }
    let env = hooks::HookEnv {
        app: &u.app,
        cluster: &u.role.cluster,
        role: &u.role.name,
        deployment_id: &done.id,
        revision: &match revision {
            Revision::GitHub { commit, .. } => commit.clone(),
            Revision::S3 { bucket, key, .. } => format!("s3://{bucket}/{key}"),
        },
    };
    hooks::run(&hooks, &env, prefix).await
}

/// Runs `fut` unless Ctrl-C or SIGTERM comes first; `created` names the deployment, if any, in
/// the message.
async fn interruptible<T>(
    created: &std::sync::Mutex<Option<String>>,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    // A wait inside `fut` ends its own progress line when it is dropped.
    crate::engine::wait::interruptible(fut)
        .await
        .unwrap_or_else(|_| {
            Err(Failure::DeployInterrupted {
                id: created.lock().expect("created").clone(),
            }
            .into())
        })
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The active deployment of the group that a CreateDeployment call made at `since` started:
/// with this run's description (it holds a token of its own), the same revision, and created
/// since then (a minute's slack for clocks).
async fn created_by_lost_reply(
    c: &Clients,
    u: &Unit<'_>,
    revision: &Revision,
    description: &str,
    since: i64,
) -> Result<Option<String>> {
    let want = revision.describe();
    for id in codedeploy::list_deployments(c, &u.app, &u.group, true).await? {
        let d = codedeploy::deployment(c, &id).await?;
        if d.revision == want
            && d.description == description
            && d.create_time.is_some_and(|t| t >= since - 60)
        {
            return Ok(Some(d.id));
        }
    }
    Ok(None)
}

/// Starts the deployment and, unless `--no-wait`, waits for it. `Some` when it succeeded.
#[allow(clippy::too_many_arguments)]
async fn deploy_and_wait(
    ctx: &Ctx,
    c: &Clients,
    u: &Unit<'_>,
    asg: &str,
    revision: &Revision,
    args: &DeployCreate,
    prefix: &str,
    created: &std::sync::Mutex<Option<String>>,
) -> Result<Option<codedeploy::Deployment>> {
    // The run's own token in the description tells the deployment this call started from any
    // other (the same revision deployed a minute ago, say) when its reply is lost.
    let description = format!(
        "udo deploy {} {} ({})",
        u.role.target(),
        revision.short(),
        crate::aws::idempotent::client_token()
    );
    let since = now_secs();
    let id = match codedeploy::create_deployment(c, &u.app, &u.group, revision, &description).await
    {
        Ok(id) => id,
        // CreateDeployment has no client token: when its reply was lost, AWS started the
        // deployment and the SDK's retry was refused (the group already has an active
        // deployment) or gave up. Follow the deployment that call started, if there is one.
        Err(e) => match created_by_lost_reply(c, u, revision, &description, since).await? {
            Some(id) => {
                ctx.out.info(&format!(
                    "{prefix}note: AWS's reply to CreateDeployment was lost, but it started deployment {id} ({}); following it",
                    revision.short()
                ));
                id
            }
            None => return Err(e),
        },
    };
    *created.lock().expect("created") = Some(id.clone());
    ctx.events.emit_for(
        u.role,
        prefix,
        format!("Deploying {} to {}", revision.short(), u.group),
    );
    if args.no_wait {
        println!("{prefix}Deployment {id} created; follow it with `udo deploy status {id}`");
        return Ok(None);
    }
    ctx.out
        .info(&format!("{prefix}Deployment {id} created; waiting for it"));
    let started = Instant::now();
    let d = wait::until_done(ctx, c, &id, &u.group, prefix, args.timeout).await?;
    let took = wait::elapsed(started.elapsed().as_secs());
    match wait::verdict(&d) {
        wait::Verdict::Succeeded => {
            ctx.events.emit_for(
                u.role,
                prefix,
                format!("Deployment {id} to {} succeeded in {took}", u.group),
            );
            Ok(Some(d))
        }
        verdict => {
            let word = if verdict == wait::Verdict::Stopped {
                "was stopped"
            } else {
                "failed"
            };
            ctx.events.emit_for(
                u.role,
                prefix,
                format!("Deployment {id} to {} {word} after {took}", u.group),
            );
            let why = wait::diagnose(c, &d).await?;
            if d.error_code.as_deref() == Some("NO_INSTANCES") {
                return Err(Failure::DeployedToNothing {
                    id: id.clone(),
                    deployment_group: u.group.clone(),
                    group: asg.to_string(),
                    target: u.role.target(),
                    why: why.into(),
                }
                .into());
            }
            Err(Failure::DeploymentEnded {
                id,
                group: u.group.clone(),
                stopped: verdict == wait::Verdict::Stopped,
                why,
            }
            .into())
        }
    }
}

fn time(t: Option<i64>) -> String {
    t.and_then(|s| {
        aws_smithy_types::DateTime::from_secs(s)
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .ok()
    })
    .unwrap_or_else(|| "-".into())
}

fn deployment_json(d: &codedeploy::Deployment) -> documents::Deployment {
    documents::Deployment {
        id: d.id.clone(),
        application: d.application.clone(),
        group: d.group.clone(),
        status: d.status.clone(),
        revision: d.revision.clone(),
        etag: d.etag.clone(),
        creator: d.creator.clone(),
        created: time(d.create_time),
        completed: d.complete_time.map(|t| time(Some(t))),
        instances: d.overview,
        error: d.error.clone(),
    }
}

fn instances_text(d: &codedeploy::Deployment) -> String {
    let o = d.overview;
    format!(
        "{} ok, {} failed, {} pending, {} in progress, {} skipped",
        o.succeeded, o.failed, o.pending, o.in_progress, o.skipped
    )
}

/// `udo deploy last [TARGET]`: two calls per group (the group's last deployment, then it).
async fn last(ctx: &Ctx, text: Option<&str>) -> Result<()> {
    let units = units_or_all(ctx, text)?;
    let mut rows = Vec::new();
    let mut docs = Vec::new();
    for u in &units {
        let c = ctx.clients_for(u.role).await?;
        let g = codedeploy::group(&c, &u.app, &u.group).await?;
        let d = match g.and_then(|g| g.last_deployment) {
            Some(id) => Some(codedeploy::deployment(&c, &id).await?),
            None => None,
        };
        match &d {
            Some(d) => {
                rows.push(vec![
                    u.group.clone(),
                    d.id.clone(),
                    d.status.clone(),
                    d.revision.clone(),
                    d.creator.clone(),
                    time(d.create_time),
                    time(d.complete_time),
                    instances_text(d),
                ]);
                docs.push(documents::LastDeployment {
                    target: u.role.target(),
                    group: u.group.clone(),
                    deployment: Some(deployment_json(d)),
                });
            }
            None => {
                rows.push(vec![
                    u.group.clone(),
                    "-".into(),
                    "(none)".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
                docs.push(documents::LastDeployment {
                    target: u.role.target(),
                    group: u.group.clone(),
                    deployment: None,
                });
            }
        }
    }
    if ctx.out.json() {
        ctx.out.print_json(&documents::DeployLast { groups: docs });
    } else {
        print!(
            "{}",
            table(
                &[
                    "GROUP",
                    "DEPLOYMENT",
                    "STATUS",
                    "REVISION",
                    "CREATOR",
                    "CREATED",
                    "COMPLETED",
                    "INSTANCES"
                ],
                &rows
            )
        );
    }
    Ok(())
}

/// `udo deploy status ID`.
async fn status(ctx: &Ctx, id: &str) -> Result<()> {
    let region = ctx.region(ctx.config.top.str("region"))?;
    let c = ctx
        .clients_with(&ctx.config.top, &region, "udo.yml's top level")
        .await?;
    let d = codedeploy::deployment(&c, id).await?;
    let why = if d.status == "Failed" {
        wait::diagnose(&c, &d).await?
    } else {
        Vec::new()
    };
    if ctx.out.json() {
        ctx.out.print_json(&documents::DeployStatus {
            deployment: deployment_json(&d),
            failures: why,
        });
    } else {
        println!("deployment  {}", d.id);
        println!("group       {} ({})", d.group, d.application);
        println!("status      {}", d.status);
        println!("revision    {}", d.revision);
        println!("creator     {}", d.creator);
        println!("created     {}", time(d.create_time));
        println!("completed   {}", time(d.complete_time));
        println!("instances   {}", instances_text(&d));
        for l in why {
            println!("  {l}");
        }
    }
    Ok(())
}

/// `udo deploy stop [TARGET] [--rollback]`: stops each group's active deployments.
async fn stop(ctx: &Ctx, text: Option<&str>, rollback: bool) -> Result<()> {
    let units = units_or_all(ctx, text)?;
    let mut found = Vec::new();
    for u in &units {
        let c = ctx.clients_for(u.role).await?;
        for id in codedeploy::list_deployments(&c, &u.app, &u.group, true).await? {
            found.push((u.clone(), c.clone(), id));
        }
    }
    if found.is_empty() {
        if ctx.out.json() {
            ctx.out
                .print_json(&documents::DeployStop { stopped: vec![] });
        } else {
            println!("No active deployment; nothing to stop.");
        }
        return Ok(());
    }
    let steps: Vec<Step> = found
        .iter()
        .map(|(u, _, id)| {
            Step::Op(OpStep::StopDeployment {
                id: id.clone(),
                group: u.group.clone(),
                rollback,
            })
        })
        .collect();
    if !plan::gate_steps(ctx, "udo will:", &steps, &[])? {
        return Ok(());
    }
    let mut stopped = Vec::new();
    for (u, c, id) in &found {
        codedeploy::stop(c, id, rollback).await?;
        ctx.events.emit_for(
            u.role,
            "",
            format!(
                "Stopped deployment {id} of {}{}",
                u.group,
                if rollback { " (rolling back)" } else { "" }
            ),
        );
        stopped.push(documents::Stopped {
            group: u.group.clone(),
            id: id.clone(),
            rollback,
        });
    }
    if ctx.out.json() {
        ctx.out.print_json(&documents::DeployStop { stopped });
    }
    Ok(())
}

/// `udo deploy list apps|groups|deployments|configs|post`.
async fn list(ctx: &Ctx, what: DeployList) -> Result<()> {
    if what == DeployList::Post {
        return list_post(ctx);
    }
    let region = ctx.region(ctx.config.top.str("region"))?;
    let c = ctx
        .clients_with(&ctx.config.top, &region, "udo.yml's top level")
        .await?;
    match what {
        DeployList::Apps => {
            let apps = codedeploy::list_applications(&c).await?;
            print_names(ctx, &apps, |names| documents::Applications {
                applications: names,
            });
        }
        DeployList::Configs => {
            let configs = codedeploy::list_configs(&c).await?;
            print_names(ctx, &configs, |names| documents::Configs { configs: names });
        }
        DeployList::Groups => {
            let mut apps: Vec<&str> = all_roles(&ctx.config)
                .filter_map(|r| r.settings.str("deploy.application"))
                .collect();
            apps.dedup();
            apps.sort_unstable();
            apps.dedup();
            let mut rows = Vec::new();
            let mut docs = Vec::new();
            for app in apps {
                for g in codedeploy::list_groups(&c, app).await? {
                    rows.push(vec![app.to_string(), g.clone()]);
                    docs.push(documents::DeploymentGroup {
                        application: app.to_string(),
                        group: g.clone(),
                    });
                }
            }
            if ctx.out.json() {
                ctx.out
                    .print_json(&documents::DeploymentGroups { groups: docs });
            } else {
                print!("{}", table(&["APPLICATION", "GROUP"], &rows));
            }
        }
        DeployList::Deployments => {
            let mut rows = Vec::new();
            let mut docs = Vec::new();
            for u in deployable(all_roles(&ctx.config)).into_iter().map(unit) {
                let u = u?;
                let c = ctx.clients_for(u.role).await?;
                if codedeploy::group(&c, &u.app, &u.group).await?.is_none() {
                    continue;
                }
                for id in codedeploy::list_deployments(&c, &u.app, &u.group, false).await? {
                    rows.push(vec![u.app.clone(), u.group.clone(), id.clone()]);
                    docs.push(documents::DeploymentId {
                        application: u.app.clone(),
                        group: u.group.clone(),
                        id: id.clone(),
                    });
                }
            }
            if ctx.out.json() {
                ctx.out
                    .print_json(&documents::Deployments { deployments: docs });
            } else {
                print!("{}", table(&["APPLICATION", "GROUP", "DEPLOYMENT"], &rows));
            }
        }
        DeployList::Post => unreachable!("handled above"),
    }
    Ok(())
}

fn print_names<T: serde::Serialize>(ctx: &Ctx, names: &[String], doc: impl Fn(Vec<String>) -> T) {
    if ctx.out.json() {
        ctx.out.print_json(&doc(names.to_vec()));
    } else {
        for n in names {
            println!("{n}");
        }
    }
}

/// The post-deploy hooks of every role, in the order they run (no AWS call).
fn list_post(ctx: &Ctx) -> Result<()> {
    let mut rows = Vec::new();
    let mut docs = Vec::new();
    for role in all_roles(&ctx.config) {
        let hooks = role.settings.list("post_deploy_hook");
        for (i, h) in hooks.iter().enumerate() {
            rows.push(vec![role.target(), (i + 1).to_string(), h.to_string()]);
        }
        if !hooks.is_empty() {
            docs.push(documents::RoleHooks {
                target: role.target(),
                hooks: hooks.iter().map(|h| h.to_string()).collect(),
            });
        }
    }
    if ctx.out.json() {
        ctx.out.print_json(&documents::PostHooks { roles: docs });
    } else {
        print!("{}", table(&["ROLE", "#", "COMMAND"], &rows));
    }
    Ok(())
}
