//! Who udo is signed in as (STS), for `whoami` and the `account_id` check.

use super::{Clients, error};
use crate::error::Result;

/// The caller's account and identity.
#[derive(Debug, Clone)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// One GetCallerIdentity call.
pub async fn identity(c: &Clients) -> Result<Identity> {
    let id = c
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| error("asking STS who we are", e))?;
    Ok(Identity {
        account: id.account().unwrap_or("?").to_string(),
        arn: id.arn().unwrap_or("?").to_string(),
    })
}
