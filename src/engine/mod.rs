//! The engine: every change udo makes goes desired → survey → plan → execute here.
//!
//! - `survey`: what AWS has for a set of roles, read with batched calls;
//! - `plan`: desired + survey → the typed steps of `model::plan`, for one role or many, with
//!   the cluster networks when asked;
//! - `execute`: runs steps in a safe order, each write safe to repeat, each one change event;
//! - `network`: a cluster's VPC, subnets and internet access, surveyed and made complete;
//! - `groups`: a role's groups (base and releases) read with the fewest calls, and the active one;
//! - `hosts`: the instances of the groups a command runs on, for `exec` and `ssh`;
//! - `batch`: the one runner of `CLUSTER.*` batches (concurrency, `[cluster.role]` prefixes,
//!   one question, a summary, the exit status);
//! - `wait`: the one wait loop of long AWS waits (backoff, timeout, Ctrl-C, progress);
//! - `suspend`: scaling processes suspended for an operation, recorded on the group.
//!
//! Commands (`ops`) call into this layer and print; this layer never calls a command.

pub mod batch;
pub mod execute;
pub mod groups;
pub mod hosts;
pub mod network;
pub mod owner;
pub mod plan;
pub mod survey;
pub mod suspend;
pub mod wait;
