//! AWS errors as people read them: one line saying what udo was doing, AWS's error code and
//! message, the HTTP status and the request id (what AWS support asks for). Credential and
//! network problems get their own short message naming the profile or endpoint and what to do.
//!
//! The SDK's own `Display`/`Debug` of an error is a nested dump (`DispatchFailure(…
//! ConnectorError … hyper_util …)`); it never reaches the user. Classification (`classify`) reads
//! the SDK error once; rendering (`CallFailure::into_error`) is pure and unit-tested.

use crate::error::Error;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use std::sync::{Mutex, OnceLock};

/// The endpoint override in use (`--endpoint-url`, `AWS_ENDPOINT_URL`), to name it when it cannot
/// be reached. Set once when AWS is set up.
static ENDPOINT: OnceLock<Option<String>> = OnceLock::new();
/// The AWS profiles whose clients were built, to name them when credentials fail.
static PROFILES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers the endpoint override for error messages.
pub fn remember_endpoint(endpoint: Option<&str>) {
    let _ = ENDPOINT.set(endpoint.map(str::to_string));
}

/// Remembers a profile clients were built for, for error messages.
pub fn remember_profile(profile: &str) {
    let mut p = PROFILES.lock().unwrap_or_else(|e| e.into_inner());
    if !p.iter().any(|have| have == profile) {
        p.push(profile.to_string());
    }
}

fn endpoint() -> Option<String> {
    ENDPOINT.get().cloned().flatten()
}

/// The profiles in use: those clients were built for, else `AWS_PROFILE`'s.
fn profiles() -> Vec<String> {
    let named = PROFILES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if named.is_empty()
        && let Ok(p) = std::env::var("AWS_PROFILE")
        && !p.is_empty()
    {
        return vec![p];
    }
    named
}

/// What went wrong with one AWS call, in udo's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// AWS answered with an error.
    Service {
        code: Option<String>,
        message: Option<String>,
        status: u16,
        request_id: Option<String>,
    },
    /// AWS answered, but not in a form the SDK could read.
    Unreadable {
        status: u16,
        request_id: Option<String>,
    },
    /// Nothing listened at the endpoint.
    Refused,
    /// The endpoint's host name does not resolve.
    Unresolvable,
    /// No answer in time.
    Timeout,
    /// Some other connection problem (TLS, reset), with its innermost message.
    Network(String),
    /// No credentials could be found.
    NoCredentials,
    /// The SSO session behind the profile has expired.
    SsoExpired,
    /// Credentials were found but could not be loaded (a broken profile, a failing assume-role).
    CredentialsFailed(String),
    /// The request could not be built (a udo bug or a bad value), with its innermost message.
    Other(String),
}

/// Reads an SDK error once.
pub fn classify<E>(err: &SdkError<E, Response>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            let request_id = e
                .meta()
                .request_id()
                .or_else(|| err.request_id())
                .or_else(|| se.raw().headers().request_id())
                .map(str::to_string)
                .or_else(|| se.raw().body().bytes().and_then(body_request_id));
            if e.code().is_none() && e.message().is_none() {
                CallFailure::Unreadable { status, request_id }
            } else {
                CallFailure::Service {
                    code: e.code().map(str::to_string),
                    message: e.message().map(str::to_string),
                    status,
                    request_id,
                }
            }
        }
        SdkError::ResponseError(re) => CallFailure::Unreadable {
            status: re.raw().status().as_u16(),
            request_id: re.raw().headers().request_id().map(str::to_string),
        },
        SdkError::TimeoutError(_) => CallFailure::Timeout,
        // udo stopped retrying attempts that timed out (aws/retry.rs)
        SdkError::DispatchFailure(_) if super::retry::tried(err).is_some_and(|t| t.timed_out) => {
            CallFailure::Timeout
        }
        SdkError::DispatchFailure(df) => {
            let chain = chain_text(err);
            let lower = chain.to_ascii_lowercase();
            if let Some(ce) = df.as_connector_error() {
                if ce.is_timeout() {
                    return CallFailure::Timeout;
                }
                if ce.is_io() || !looks_like_credentials(&lower) {
                    return network(err, &lower);
                }
            }
            credentials(&lower, &innermost(err))
        }
        _ => {
            let lower = chain_text(err).to_ascii_lowercase();
            if looks_like_credentials(&lower) {
                credentials(&lower, &innermost(err))
            } else {
                CallFailure::Other(innermost(err))
            }
        }
    }
}

/// The request id written in an XML error document (`<RequestID>` for EC2, `<RequestId>` for
/// the other query services), for answers that carry it only there.
fn body_request_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    ["<RequestID>", "<RequestId>"].iter().find_map(|tag| {
        let start = text.find(tag)? + tag.len();
        let id = text[start..].split('<').next()?.trim();
        (!id.is_empty() && id.len() <= 128).then(|| id.to_string())
    })
}

fn looks_like_credentials(lower: &str) -> bool {
    lower.contains("credential") || lower.contains("sso") || lower.contains("profile")
}

fn credentials(lower: &str, inner: &str) -> CallFailure {
    if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) {
        CallFailure::SsoExpired
    } else if lower.contains("no credentials") || lower.contains("not enabled") {
        CallFailure::NoCredentials
    } else {
        CallFailure::CredentialsFailed(inner.to_string())
    }
}

fn network(err: &(dyn std::error::Error + 'static), lower: &str) -> CallFailure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return CallFailure::Refused,
                std::io::ErrorKind::TimedOut => return CallFailure::Timeout,
                _ => {}
            }
        }
        source = e.source();
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        CallFailure::Unresolvable
    } else if lower.contains("connection refused") {
        CallFailure::Refused
    } else {
        CallFailure::Network(innermost(err))
    }
}

/// Whether a failed attempt found nothing at the endpoint (refused, or a name that does not
/// resolve): not a transient fault, so aws/retry.rs gives it only a short budget.
pub fn is_unreachable(err: &(dyn std::error::Error + 'static)) -> bool {
    let lower = chain_text(err).to_ascii_lowercase();
    matches!(
        network(err, &lower),
        CallFailure::Refused | CallFailure::Unresolvable
    )
}

/// Every message of the error's source chain, joined (for matching, never shown).
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut source = Some(err);
    while let Some(e) = source {
        out.push_str(&e.to_string());
        out.push('\n');
        source = e.source();
    }
    out
}

/// The last message of the chain: the actual cause, without the SDK's wrappers. Only its
/// first line is kept (a credentials chain lists every provider it tried).
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !text.trim().is_empty() {
            last = text;
        }
        source = e.source();
    }
    last.lines().next().unwrap_or_default().trim().to_string()
}

/// Where the request went, in words.
pub fn target() -> String {
    match endpoint() {
        Some(url) => format!("AWS at {url}"),
        None => "AWS".to_string(),
    }
}

fn named_profiles() -> String {
    match profiles().as_slice() {
        [] => String::new(),
        [one] => format!(" for profile `{one}`"),
        many => format!(" for profiles {}", many.join(", ")),
    }
}

impl CallFailure {
    /// udo's error for this failure while doing `context`.
    pub fn into_error(self, context: &str) -> Error {
        let access = |message: String, help: &str| Error::Access {
            message: format!("{context}: {message}"),
            help: help.to_string(),
        };
        let endpoint_help = if endpoint().is_some() {
            "check the address in --endpoint-url / AWS_ENDPOINT_URL, and that the service there is running"
        } else {
            "check the network connection, the region, and any proxy settings"
        };
        match self {
            CallFailure::Service {
                code,
                message,
                status,
                request_id,
            } => {
                let mut detail = match (code, message) {
                    (Some(c), Some(m)) => format!("{c}: {m}"),
                    (Some(c), None) => c,
                    (None, Some(m)) => m,
                    (None, None) => "error".into(),
                };
                detail = one_line(&detail);
                detail.push_str(&format!(" (HTTP {status}{})", rid(request_id.as_deref())));
                Error::Aws {
                    context: context.to_string(),
                    detail,
                }
            }
            CallFailure::Unreadable { status, request_id } => Error::Aws {
                context: context.to_string(),
                detail: format!(
                    "AWS answered with an error udo could not read (HTTP {status}{})",
                    rid(request_id.as_deref())
                ),
            },
            CallFailure::Refused => access(
                format!("could not reach {}: connection refused", target()),
                endpoint_help,
            ),
            CallFailure::Unresolvable => access(
                format!(
                    "could not reach {}: its host name does not resolve",
                    target()
                ),
                if endpoint().is_some() {
                    "check the host name in --endpoint-url / AWS_ENDPOINT_URL"
                } else {
                    "check the network connection and DNS, and the region's name"
                },
            ),
            CallFailure::Timeout => access(
                format!("no answer from {} in time", target()),
                endpoint_help,
            ),
            CallFailure::Network(cause) => access(
                format!("could not reach {}: {}", target(), one_line(&cause)),
                endpoint_help,
            ),
            CallFailure::NoCredentials if !profiles().is_empty() => access(
                format!("no AWS credentials found{}", named_profiles()),
                "give the profile credentials (`aws configure --profile NAME`, or `aws sso login --profile NAME` for SSO); a named profile's credentials are used instead of AWS_ACCESS_KEY_ID",
            ),
            CallFailure::NoCredentials => access(
                "no AWS credentials found".to_string(),
                "use a profile (--profile NAME, `profile:` in udo.yml, or AWS_PROFILE=NAME) set up with `aws configure`, or `aws configure sso` and `aws sso login`; or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary keys)",
            ),
            CallFailure::SsoExpired => access(
                format!("the AWS SSO session{} has expired", named_profiles()),
                "run `aws sso login` (with --profile NAME for a named profile), then run udo again",
            ),
            CallFailure::CredentialsFailed(cause) => access(
                format!(
                    "could not load AWS credentials{}: {}",
                    named_profiles(),
                    one_line(&cause)
                ),
                "check the profile in ~/.aws/config and ~/.aws/credentials (`aws configure list`)",
            ),
            CallFailure::Other(cause) => Error::Aws {
                context: context.to_string(),
                detail: one_line(&cause),
            },
        }
    }
}

fn rid(request_id: Option<&str>) -> String {
    request_id.map_or(String::new(), |r| format!(", request id {r}"))
}

/// Keeps a message on one line: AWS messages may carry newlines.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Turns an SDK error into udo's: the one entry point the service modules use.
///
/// A network failure names what it cost (`… (4 attempts in 1.3 s)`), from the record
/// aws/retry.rs leaves in the error.
pub fn from_sdk<E>(context: &str, err: &SdkError<E, Response>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let error = classify(err).into_error(context);
    match (error, super::retry::tried(err)) {
        (Error::Access { message, help }, Some(t)) => Error::Access {
            message: format!("{message} ({})", t.summary()),
            help,
        },
        (error, _) => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_are_one_line_with_status_and_request_id() {
        let e = CallFailure::Service {
            code: Some("InvalidParameterValue".into()),
            message: Some("Value (x) for parameter\nfoo is invalid".into()),
            status: 400,
            request_id: Some("abc-123".into()),
        }
        .into_error("creating VPC");
        assert_eq!(
            e.to_string(),
            "error: creating VPC: InvalidParameterValue: Value (x) for parameter foo is invalid (HTTP 400, request id abc-123)"
        );
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn unreadable_answers_say_so_without_a_dump() {
        let e = CallFailure::Unreadable {
            status: 502,
            request_id: None,
        }
        .into_error("listing groups");
        assert_eq!(
            e.to_string(),
            "error: listing groups: AWS answered with an error udo could not read (HTTP 502)"
        );
    }

    #[test]
    fn credential_problems_say_what_to_do() {
        let text = CallFailure::NoCredentials
            .into_error("asking STS who we are")
            .to_string();
        assert!(text.starts_with("error: asking STS who we are: no AWS credentials found"));
        // (the help names the profile's fix when AWS_PROFILE is set where the tests run)
        assert!(
            text.contains("\n  = help: ") && text.contains("aws configure"),
            "{text}"
        );
        let text = CallFailure::SsoExpired.into_error("x").to_string();
        assert!(text.contains("aws sso login"), "{text}");
    }

    #[test]
    fn request_ids_are_found_in_error_documents() {
        let ec2 = b"<Response><Errors><Error><Code>X</Code></Error></Errors><RequestID>r-1</RequestID></Response>";
        assert_eq!(body_request_id(ec2).as_deref(), Some("r-1"));
        let query = b"<ErrorResponse><Error/><RequestId> r-2 </RequestId></ErrorResponse>";
        assert_eq!(body_request_id(query).as_deref(), Some("r-2"));
        assert_eq!(body_request_id(b"<html></html>"), None);
    }

    #[test]
    fn credential_texts_are_told_apart() {
        assert_eq!(
            credentials("the sso token has expired", "x"),
            CallFailure::SsoExpired
        );
        assert_eq!(
            credentials("no credentials found in chain", "x"),
            CallFailure::NoCredentials
        );
        assert_eq!(
            credentials("profile `x` is broken", "broken"),
            CallFailure::CredentialsFailed("broken".into())
        );
    }
}
