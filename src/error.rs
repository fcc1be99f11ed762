//! udo's error type and how each kind maps to an exit status.

use crate::config::diag::Diagnostics;

/// Exit status: the operation failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: bad usage or bad configuration (nothing was sent to AWS).
pub const EXIT_USAGE: i32 = 2;
/// Exit status of `udo plan --exit-code` when AWS differs from udo.yml.
pub const EXIT_DIFFERENCES: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// udo.yml (or a target naming something not in it) is wrong.
    #[error("{}", .0.render())]
    Config(Diagnostics),
    /// The command line is wrong in a way clap cannot see.
    #[error("error: {message}\n  = help: {help}")]
    Usage { message: String, help: String },
    /// An AWS call failed; `context` says what udo was doing.
    #[error("error: {context}: {detail}")]
    Aws { context: String, detail: String },
    /// The operation could not be done, by kind (a missing group, a refusal, a timeout, …).
    #[error("error: {0}")]
    Op(#[from] crate::failure::Failure),
    /// A batch in which some items failed; their messages were already printed.
    #[error("error: {0}")]
    Partial(String),
    /// `udo plan --exit-code` found differences (the plan was printed; not a failure).
    #[error("{0}")]
    Differences(String),
    /// AWS cannot be reached or udo cannot sign in (network, credentials, profile, account):
    /// what is wrong, naming the endpoint, profile or account, and what to do.
    #[error("error: {message}\n  = help: {help}")]
    Access { message: String, help: String },
    /// An `Access` error already rendered once and reported again (a cached check).
    #[error("{0}")]
    Rendered(String),
    /// Already reported in the command's own output (`validate -o json` prints its errors as
    /// the JSON document, nothing on stderr): only the exit status is left to give.
    #[error("")]
    Reported(i32),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage { .. } => EXIT_USAGE,
            Error::Differences(_) => EXIT_DIFFERENCES,
            Error::Reported(code) => *code,
            _ => EXIT_FAILED,
        }
    }

    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: help.into(),
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Error {
        Error::Config(d)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
