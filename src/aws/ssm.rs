//! Systems Manager: agent registrations and Run Command (`udo exec --via ssm`).
//!
//! Every call here is batched the way Run Command allows: registrations are read 50 instances a
//! page, a command reaches a whole group through one tag target or up to 50 instance ids, and
//! results come back 50 invocations a page. Nothing here is one call per instance, except the
//! full output of a host whose plugin output AWS cut (see `ops::exec_ssm`).

use super::{Clients, error};
use crate::error::Result;
use aws_sdk_ssm::types::{InstanceInformationStringFilter, Target};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// The document udo runs: AWS's own shell-script document.
pub const DOCUMENT: &str = "AWS-RunShellScript";
/// Instance ids per SendCommand, DescribeInstanceInformation filter and result page.
pub const BATCH: usize = 50;
/// AWS-RunShellScript's longest `executionTimeout` (48 hours).
pub const MAX_EXECUTION_TIMEOUT: u64 = 172_800;
/// SendCommand's `TimeoutSeconds` (the delivery timeout) bounds.
pub const DELIVERY_TIMEOUT_RANGE: (u64, u64) = (30, 2_592_000);

/// Each instance's agent `PingStatus` (`Online`, `ConnectionLost`, `Inactive`); an instance
/// missing from the map has no agent registered with Systems Manager.
pub async fn agents(c: &Clients, ids: &[String]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(BATCH) {
        let filter = InstanceInformationStringFilter::builder()
            .key("InstanceIds")
            .set_values(Some(chunk.to_vec()))
            .build()
            .map_err(|e| crate::failure::Failure::local("building a filter", e))?;
        let mut token: Option<String> = None;
        loop {
            let page = c
                .ssm
                .describe_instance_information()
                .filters(filter.clone())
                .max_results(BATCH as i32)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| error("looking up SSM agent registrations", e))?;
            for i in page.instance_information_list() {
                if let Some(id) = i.instance_id() {
                    let ping = i.ping_status().map_or("Unknown", |p| p.as_str());
                    out.insert(id.to_string(), ping.to_string());
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
    }
    Ok(out)
}

/// Whom one SendCommand reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// Every running managed instance tagged `aws:autoscaling:groupName=GROUP`: one call however
    /// large the group.
    Group(String),
    /// These instances (at most `BATCH`).
    Instances(Vec<String>),
}

/// One SendCommand of AWS-RunShellScript.
#[derive(Debug, Clone)]
pub struct Send {
    pub script: String,
    /// `executionTimeout`: the agent ends the script after this many seconds.
    pub execution_timeout: u64,
    /// `TimeoutSeconds`: an invocation not picked up by then ends "Delivery Timed Out".
    pub delivery_timeout: u64,
    /// `MaxConcurrency`, e.g. `20`.
    pub max_concurrency: String,
    /// `MaxErrors`, e.g. `0` or `100%`.
    pub max_errors: String,
    /// `OutputS3BucketName` and `OutputS3KeyPrefix`.
    pub output: Option<(String, Option<String>)>,
    /// Shown by AWS with the command; unique to this send (it finds the command again after a
    /// lost reply).
    pub comment: String,
}

/// Sends the command and returns its id, at most once however the network behaves.
///
/// SendCommand has no client token: a retry after a lost reply would run the command a second
/// time. So it is sent without the SDK's retries; after a failure that may have reached AWS
/// (a timeout, a dropped connection, a 5xx) udo looks for the command by its comment, which
/// carries a token unique to this send (`s.comment`), among the commands sent since, and only
/// sends again when there is none. Throttling is waited out and sent again.
pub async fn send(c: &Clients, s: &Send, to: &Targets) -> Result<String> {
    let since = aws_smithy_types::DateTime::from(SystemTime::now() - Duration::from_secs(300));
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut req = c
            .ssm
            .send_command()
            .document_name(DOCUMENT)
            .parameters("commands", vec![s.script.clone()])
            .parameters("executionTimeout", vec![s.execution_timeout.to_string()])
            .timeout_seconds(s.delivery_timeout as i32)
            .max_concurrency(&s.max_concurrency)
            .max_errors(&s.max_errors)
            .comment(&s.comment);
        req = match to {
            Targets::Group(g) => req.targets(
                Target::builder()
                    .key("tag:aws:autoscaling:groupName")
                    .values(g)
                    .build(),
            ),
            Targets::Instances(ids) => req.set_instance_ids(Some(ids.clone())),
        };
        if let Some((bucket, prefix)) = &s.output {
            req = req
                .output_s3_bucket_name(bucket)
                .set_output_s3_key_prefix(prefix.clone());
        }
        let sent = req
            .customize()
            .config_override(
                aws_sdk_ssm::config::Builder::default()
                    .retry_config(aws_smithy_types::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        let err = match sent {
            Ok(out) => {
                return out
                    .command()
                    .and_then(|c| c.command_id())
                    .map(str::to_string)
                    .ok_or_else(|| crate::failure::Failure::NoCommandId.into());
            }
            Err(e) => e,
        };
        let (throttled, maybe_sent) = match &err {
            aws_sdk_ssm::error::SdkError::ServiceError(se) => {
                let code = aws_smithy_types::error::metadata::ProvideErrorMetadata::code(se.err());
                let status = se.raw().status().as_u16();
                (
                    matches!(code, Some("ThrottlingException" | "Throttling")),
                    status >= 500,
                )
            }
            aws_sdk_ssm::error::SdkError::ConstructionFailure(_) => (false, false),
            _ => (false, true),
        };
        if attempt >= 10 || !(throttled || maybe_sent) {
            return Err(error("sending the command with SSM Run Command", err));
        }
        if maybe_sent && let Some(id) = sent_since(c, &since, &s.comment).await? {
            return Ok(id);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// The id of the AWS-RunShellScript command with this comment sent since `since`, if any.
async fn sent_since(
    c: &Clients,
    since: &aws_smithy_types::DateTime,
    comment: &str,
) -> Result<Option<String>> {
    let after = since
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .map_err(|e| crate::failure::Failure::local("formatting a time", e))?;
    let filters = [
        ("InvokedAfter", after),
        ("DocumentName", DOCUMENT.to_string()),
    ];
    let mut token: Option<String> = None;
    loop {
        let mut req = c.ssm.list_commands().set_next_token(token.take());
        for (k, v) in &filters {
            req = req.filters(
                aws_sdk_ssm::types::CommandFilter::builder()
                    .key(aws_sdk_ssm::types::CommandFilterKey::from(*k))
                    .value(v)
                    .build()
                    .map_err(|e| crate::failure::Failure::local("building a filter", e))?,
            );
        }
        let page = req
            .send()
            .await
            .map_err(|e| error("looking for a command sent before a lost reply", e))?;
        if let Some(found) = page
            .commands()
            .iter()
            .find(|c| c.comment() == Some(comment))
        {
            return Ok(found.command_id().map(str::to_string));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(None),
        }
    }
}

/// One instance's invocation of a command, as ListCommandInvocations (Details=true) shows it.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    pub instance: String,
    /// `Pending`, `InProgress`, `Delayed`, `Success`, `Failed`, `TimedOut`, `Cancelled`, …
    pub status: String,
    /// `Delivery Timed Out`, `Execution Timed Out`, `Undeliverable`, `Terminated`, …
    pub details: String,
    /// The script's exit status; -1 when it never ran.
    pub response_code: i32,
    /// The plugin output: stdout, then stderr, at most 2,500 characters in all.
    pub output: String,
    pub started: Option<SystemTime>,
    pub finished: Option<SystemTime>,
}

impl Invocation {
    /// How long the script ran, when AWS says.
    pub fn duration(&self) -> Duration {
        match (self.started, self.finished) {
            (Some(a), Some(b)) => b.duration_since(a).unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

/// One page (at most `BATCH`) of a command's invocations with their plugin output, and the
/// token of the next page.
pub async fn invocations(
    c: &Clients,
    command: &str,
    token: Option<String>,
) -> Result<(Vec<Invocation>, Option<String>)> {
    let page = c
        .ssm
        .list_command_invocations()
        .command_id(command)
        .details(true)
        .max_results(BATCH as i32)
        .set_next_token(token)
        .send()
        .await
        .map_err(|e| error(format!("reading the results of SSM command {command}"), e))?;
    let list = page
        .command_invocations()
        .iter()
        .map(|i| {
            let plugin = i.command_plugins().first();
            Invocation {
                instance: i.instance_id().unwrap_or_default().to_string(),
                status: i.status().map_or("", |s| s.as_str()).to_string(),
                details: i.status_details().unwrap_or_default().to_string(),
                response_code: plugin.map_or(-1, |p| p.response_code()),
                output: plugin
                    .and_then(|p| p.output())
                    .unwrap_or_default()
                    .to_string(),
                started: time(plugin.and_then(|p| p.response_start_date_time())),
                finished: time(plugin.and_then(|p| p.response_finish_date_time())),
            }
        })
        .collect();
    let next = page
        .next_token()
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok((list, next))
}

/// The first 24,000 characters of a host's stdout and 8,000 of its stderr
/// (GetCommandInvocation), for a host whose plugin output was cut.
pub async fn full_output(c: &Clients, command: &str, instance: &str) -> Result<(String, String)> {
    let out = c
        .ssm
        .get_command_invocation()
        .command_id(command)
        .instance_id(instance)
        .send()
        .await
        .map_err(|e| {
            error(
                format!("reading the output of SSM command {command} on {instance}"),
                e,
            )
        })?;
    Ok((
        out.standard_output_content()
            .unwrap_or_default()
            .to_string(),
        out.standard_error_content().unwrap_or_default().to_string(),
    ))
}

/// The command's overall status (`Pending`, `InProgress`, `Success`, `Failed`, …).
pub async fn command_status(c: &Clients, command: &str) -> Result<String> {
    let out = c
        .ssm
        .list_commands()
        .command_id(command)
        .send()
        .await
        .map_err(|e| error(format!("reading SSM command {command}"), e))?;
    Ok(out
        .commands()
        .first()
        .and_then(|c| c.status())
        .map_or("", |s| s.as_str())
        .to_string())
}

/// Asks AWS to stop the command: pending invocations are cancelled, running scripts ended.
pub async fn cancel(c: &Clients, command: &str) -> Result<()> {
    c.ssm
        .cancel_command()
        .command_id(command)
        .send()
        .await
        .map_err(|e| error(format!("cancelling SSM command {command}"), e))?;
    Ok(())
}
