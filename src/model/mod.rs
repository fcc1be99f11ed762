//! The model: udo's pure decisions, with no AWS calls and no command line. Given what udo.yml
//! wants and what a survey found, these modules say what differs and what to do about it.
//!
//! - `live`: what AWS has, as udo's types (groups, instances, launch configurations, VPCs,
//!   subnets, …): the records `aws/` fills and the model reads;
//! - `owner`: whose a resource found by name is (the `udo:app` tag), and the refusals;
//! - `group`: the group udo.yml describes (sizes, subnets, balancers, tags) and its diff;
//! - `launch_step`: what to do about a role's launch template or configuration;
//! - `scaling`: scheduled actions and scaling policies against udo.yml;
//! - `network`: a cluster's network as udo.yml describes it, and the steps that make it;
//! - `step`: the typed steps every command shows, asks about and runs (kind, sign, hazard);
//! - `op_step`: the steps of the commands that act on what exists (destroy, scale, rollout,
//!   deploy), wrapped in `step::Step::Op`;
//! - `plan`: a role's steps from what udo.yml wants and what a survey found;
//! - `drain`: the termination lifecycle hook `drain` asks for;
//! - `release`: a role's groups (its blue/green releases) and which one is active.

pub mod drain;
pub mod group;
pub mod launch_step;
pub mod live;
pub mod network;
pub mod op_step;
pub mod owner;
pub mod plan;
pub mod release;
pub mod scaling;
pub mod step;
