//! The machinery every changing command shares, below the commands and above aws/: the runner
//! of `CLUSTER.*` batches, the wait loop of long AWS waits, and the record of scaling processes
//! udo suspended on a group.

pub mod batch;
pub mod suspend;
pub mod wait;
