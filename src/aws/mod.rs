//! AWS access: one SdkConfig from flags and the environment, clients per region, retry and
//! timeout settings, and a tracing interceptor that makes `-v` show every call.
//!
//! Other modules under aws/ wrap one service each and return udo's own types, so AWS SDK types
//! stay at this edge.

pub mod asg;
pub mod codedeploy;
pub mod ec2;
pub mod elb;
pub mod error;
pub mod idempotent;
pub mod profiles;
pub mod retry;
pub mod rollout;
pub mod s3;
pub mod scaling;
pub mod ssm;
pub mod sts;
pub mod trace;

use crate::error::Error;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// What udo's AWS side is told by the command line and udo.yml, and nothing else of them: the
/// profile and region flags, an endpoint override and whether to trace calls. aws/ never sees
/// the command line itself, so it stays usable by any command (and by tests) as it is.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--profile`: the profile of the shared configuration.
    pub profile: Option<String>,
    /// `--region`: wins over every other source of a region.
    pub region: Option<String>,
    /// `--endpoint-url` (else `AWS_ENDPOINT_URL`, read by the SDK).
    pub endpoint_url: Option<String>,
    /// Print one trace line per call on stderr (`-v`, or `debug:` in udo.yml).
    pub verbose: bool,
}

impl Options {
    /// The region for a value from udo.yml and a profile: `--region`, then udo.yml's, then the
    /// AWS environment and profile (see [`resolve_region`]).
    pub fn region_for(&self, configured: Option<&str>, profile: Option<&str>) -> Option<String> {
        resolve_region(self.region.as_deref(), configured, profile)
    }
}

/// Service clients for one region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub asg: aws_sdk_autoscaling::Client,
    pub sts: aws_sdk_sts::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
    pub s3: aws_sdk_s3::Client,
    /// Classic load balancers (instance health for rollouts).
    pub elb_classic: aws_sdk_elasticloadbalancing::Client,
    /// Systems Manager (`udo exec --via ssm`: Run Command and agent registrations).
    pub ssm: aws_sdk_ssm::Client,
}

/// The AWS side of a command: loaded only once a command needs it, after udo.yml validated.
pub struct Aws {
    base: SdkConfig,
    tracer: trace::Tracer,
    by_region: Mutex<HashMap<String, Clients>>,
    /// The profile `base` was loaded for (`--profile`), if any.
    profile: Option<String>,
    endpoint_url: Option<String>,
    /// Whether `--profile`'s profile exists, checked once on first use.
    profile_checked: tokio::sync::OnceCell<Result<(), String>>,
    /// Configurations of the other profiles udo.yml names (`profile:`), loaded once each.
    by_profile: tokio::sync::Mutex<HashMap<String, SdkConfig>>,
    /// Clients per (profile, region) for those profiles.
    by_profile_region: Mutex<HashMap<(String, String), Clients>>,
}

impl Aws {
    /// Builds the shared configuration: profile, credentials chain, endpoint, retries, timeouts.
    pub async fn load(opts: &Options) -> Aws {
        let base = loader(opts.profile.as_deref(), opts.endpoint_url.as_deref())
            .load()
            .await;
        error::remember_endpoint(base.endpoint_url());
        if let Some(p) = &opts.profile {
            error::remember_profile(p);
        }
        Aws {
            base,
            tracer: trace::Tracer::new(opts.verbose),
            by_region: Mutex::new(HashMap::new()),
            profile: opts.profile.clone(),
            endpoint_url: opts.endpoint_url.clone(),
            profile_checked: tokio::sync::OnceCell::new(),
            by_profile: tokio::sync::Mutex::new(HashMap::new()),
            by_profile_region: Mutex::new(HashMap::new()),
        }
    }

    /// Clients for a profile and region: `None` (or `--profile`'s) is the shared configuration;
    /// another profile (udo.yml's `profile:`) is checked to exist, loaded once, and cached.
    pub async fn clients_in(&self, profile: Option<&str>, region: &str) -> Result<Clients, Error> {
        let Some(profile) = profile.filter(|p| Some(*p) != self.profile.as_deref()) else {
            if let Some(p) = &self.profile {
                let checked = self
                    .profile_checked
                    .get_or_init(|| async {
                        profiles::check_exists(p).await.map_err(|e| e.to_string())
                    })
                    .await;
                if let Err(text) = checked {
                    return Err(Error::Rendered(text.clone()));
                }
            }
            return Ok(self.clients(region));
        };
        let key = (profile.to_string(), region.to_string());
        if let Some(c) = self
            .by_profile_region
            .lock()
            .expect("client cache")
            .get(&key)
        {
            return Ok(c.clone());
        }
        let config = {
            let mut configs = self.by_profile.lock().await;
            match configs.get(profile) {
                Some(c) => c.clone(),
                None => {
                    profiles::check_exists(profile).await?;
                    error::remember_profile(profile);
                    let c = loader(Some(profile), self.endpoint_url.as_deref())
                        .load()
                        .await;
                    configs.insert(profile.to_string(), c.clone());
                    c
                }
            }
        };
        let clients = build_clients(&config, region, &self.tracer);
        self.by_profile_region
            .lock()
            .expect("client cache")
            .insert(key, clients.clone());
        Ok(clients)
    }

    /// Clients for a region, built once per region and shared.
    pub fn clients(&self, region: &str) -> Clients {
        let mut cache = self.by_region.lock().expect("client cache");
        cache
            .entry(region.to_string())
            .or_insert_with(|| build_clients(&self.base, region, &self.tracer))
            .clone()
    }

    /// The endpoint override in use, if any (shown by `whoami`).
    pub fn endpoint(&self) -> Option<&str> {
        self.base.endpoint_url()
    }
}

/// The loader every configuration starts from: retries, timeouts, profile, endpoint.
///
/// A named profile's own credentials win over `AWS_ACCESS_KEY_ID` in the environment, as with
/// the AWS CLI's `--profile`: otherwise `profile: prod` in udo.yml would quietly act with
/// whatever keys the shell exports.
fn loader(profile: Option<&str>, endpoint_url: Option<&str>) -> aws_config::ConfigLoader {
    let (connect_timeout, attempt_timeout) = retry::timeouts();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                // 10 tries: with 30% of calls throttled, failing or dropped, 6 left about one
                // lifecycle run in 15 with a failed command (tests/faults.rs). Unreachable
                // endpoints and timed-out attempts get fewer (retry.rs).
                .with_max_attempts(retry::MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(10)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(connect_timeout)
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        );
    if let Some(p) = profile {
        loader = loader.profile_name(p).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(p)
                .build(),
        );
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    // The region given to each client decides; this only avoids an IMDS region lookup.
    loader.region(Region::new("us-east-1"))
}

/// One region's service clients from a configuration.
fn build_clients(base: &SdkConfig, region: &str, tracer: &trace::Tracer) -> Clients {
    let region = Region::new(region.to_string());
    // Every service client: the shared config, the region, and the -v tracer.
    macro_rules! client {
        ($sdk:ident) => {
            $sdk::Client::from_conf(
                $sdk::config::Builder::from(base)
                    .region(region.clone())
                    .interceptor(retry::Patience)
                    .interceptor(tracer.clone())
                    .build(),
            )
        };
    }
    // An endpoint override (an emulator, a local S3) addresses buckets by path.
    let s3 = aws_sdk_s3::config::Builder::from(base)
        .region(region.clone())
        .force_path_style(base.endpoint_url().is_some())
        .interceptor(retry::Patience)
        .interceptor(tracer.clone())
        .build();
    Clients {
        ec2: client!(aws_sdk_ec2),
        asg: client!(aws_sdk_autoscaling),
        sts: client!(aws_sdk_sts),
        elb: client!(aws_sdk_elasticloadbalancingv2),
        codedeploy: client!(aws_sdk_codedeploy),
        s3: aws_sdk_s3::Client::from_conf(s3),
        elb_classic: client!(aws_sdk_elasticloadbalancing),
        ssm: client!(aws_sdk_ssm),
    }
}

/// The region a command acts in: the flag, then udo.yml's, then the AWS environment and profile.
///
/// The AWS part reads environment variables and the profile file only: udo never asks the
/// instance metadata service, which would hang for seconds on a laptop.
pub fn resolve_region(
    flag: Option<&str>,
    configured: Option<&str>,
    profile: Option<&str>,
) -> Option<String> {
    if let Some(r) = flag.or(configured) {
        return Some(r.to_string());
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return Some(v);
        }
    }
    profile_region(profile)
}

/// Reads `region` of the active profile from the AWS config file (a tiny INI subset).
fn profile_region(profile: Option<&str>) -> Option<String> {
    let profile = profile
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .unwrap_or_else(|| "default".into());
    let path = match std::env::var_os("AWS_CONFIG_FILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".aws/config"),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let wanted = [format!("[profile {profile}]"), format!("[{profile}]")];
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = wanted.iter().any(|w| w == line);
        } else if inside
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == "region"
        {
            return Some(v.trim().to_string());
        }
    }
    None
}

/// Turns an SDK error into udo's, keeping AWS's own code and message and saying what udo was
/// doing (see error.rs: one line, never the SDK's debug dump).
pub fn error<E>(context: impl Into<String>, err: aws_sdk_ec2::error::SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    error::from_sdk(&context.into(), &err)
}

/// The error code of a service error, to tell "not found" apart from real failures.
pub fn error_code<E: ProvideErrorMetadata>(err: &aws_sdk_ec2::error::SdkError<E>) -> Option<&str> {
    match err {
        aws_sdk_ec2::error::SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}
