//! AWS access: one SdkConfig from flags and the environment, clients per region, retry and
//! timeout settings, and a tracing interceptor that makes `-v` show every call.
//!
//! Other modules under aws/ wrap one service each and return udo's own types, so AWS SDK types
//! stay at this edge.

pub mod asg;
pub mod ec2;
pub mod elb;
pub mod idempotent;
pub mod trace;

use crate::cli::Global;
use crate::error::Error;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Service clients for one region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub asg: aws_sdk_autoscaling::Client,
    pub sts: aws_sdk_sts::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
}

/// The AWS side of a command: loaded only once a command needs it, after udo.yml validated.
pub struct Aws {
    base: SdkConfig,
    tracer: trace::Tracer,
    by_region: Mutex<HashMap<String, Clients>>,
}

impl Aws {
    /// Builds the shared configuration: profile, credentials chain, endpoint, retries, timeouts.
    pub async fn load(global: &Global, verbose: bool) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    // 10 tries: with 30% of calls throttled, failing or dropped, 6 left about one
                    // lifecycle run in 15 with a failed command (tests/faults.rs).
                    .with_max_attempts(10)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(p) = &global.profile {
            loader = loader.profile_name(p);
        }
        if let Some(url) = &global.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        // The region given to each client decides; this only avoids an IMDS region lookup.
        loader = loader.region(Region::new("us-east-1"));
        Aws {
            base: loader.load().await,
            tracer: trace::Tracer::new(verbose),
            by_region: Mutex::new(HashMap::new()),
        }
    }

    /// Clients for a region, built once per region and shared.
    pub fn clients(&self, region: &str) -> Clients {
        let mut cache = self.by_region.lock().expect("client cache");
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let region_value = Region::new(region.to_string());
                let ec2 = aws_sdk_ec2::config::Builder::from(&self.base)
                    .region(region_value.clone())
                    .interceptor(self.tracer.clone())
                    .build();
                let asg = aws_sdk_autoscaling::config::Builder::from(&self.base)
                    .region(region_value.clone())
                    .interceptor(self.tracer.clone())
                    .build();
                let elb = aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.base)
                    .region(region_value.clone())
                    .interceptor(self.tracer.clone())
                    .build();
                let sts = aws_sdk_sts::config::Builder::from(&self.base)
                    .region(region_value)
                    .interceptor(self.tracer.clone())
                    .build();
                Clients {
                    ec2: aws_sdk_ec2::Client::from_conf(ec2),
                    asg: aws_sdk_autoscaling::Client::from_conf(asg),
                    sts: aws_sdk_sts::Client::from_conf(sts),
                    elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(elb),
                }
            })
            .clone()
    }

    /// The endpoint override in use, if any (shown by `whoami`).
    pub fn endpoint(&self) -> Option<&str> {
        self.base.endpoint_url()
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

/// Turns an SDK error into udo's, keeping AWS's own code and message and saying what udo was doing.
pub fn error<E>(context: impl Into<String>, err: aws_sdk_ec2::error::SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_ec2::error::SdkError;
    let detail = match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            match (e.code(), e.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_string(),
                _ => aws_sdk_ec2::error::DisplayErrorContext(&err).to_string(),
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => format!(
            "could not reach AWS ({}); check the network, --endpoint-url / AWS_ENDPOINT_URL and --region",
            aws_sdk_ec2::error::DisplayErrorContext(&err)
        ),
        _ => {
            let text = aws_sdk_ec2::error::DisplayErrorContext(&err).to_string();
            if text.contains("no credentials") || text.contains("credentials provider") {
                "no AWS credentials found: set AWS_PROFILE or --profile, run `aws configure` or `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_string()
            } else {
                text
            }
        }
    };
    Error::Aws {
        context: context.into(),
        detail,
    }
}

/// The error code of a service error, to tell "not found" apart from real failures.
pub fn error_code<E: ProvideErrorMetadata>(err: &aws_sdk_ec2::error::SdkError<E>) -> Option<&str> {
    match err {
        aws_sdk_ec2::error::SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}
