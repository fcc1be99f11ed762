//! The engine: every change udo makes goes desired → survey → plan → execute here.
//!
//! - `survey`: what AWS has for a set of roles, read with batched calls;
//! - `plan`: what udo.yml would change, role by role, from the survey (the diffs are `model`'s);
//! - `execute`: the writes, each safe to repeat, each one change event;
//! - `converge`: one role brought in line (create or update), as the commands and `apply` do it;
//! - `network`: a cluster's VPC, subnets and internet access, surveyed and made complete;
//! - `hosts`: the instances of the groups a command runs on, for `exec` and `ssh`;
//! - `batch`: the one runner of `CLUSTER.*` batches (concurrency, `[cluster.role]` prefixes,
//!   one question, a summary, the exit status);
//! - `wait`: the one wait loop of long AWS waits (backoff, timeout, Ctrl-C, progress);
//! - `suspend`: scaling processes suspended for an operation, recorded on the group.
//!
//! Commands (`ops`) call into this layer and print; this layer never calls a command.

pub mod batch;
pub mod converge;
pub mod execute;
pub mod hosts;
pub mod network;
pub mod owner;
pub mod plan;
pub mod survey;
pub mod suspend;
pub mod wait;
