//! Making writes safe to repeat. The SDK retries a call whose reply was lost (a timeout, a reset
//! connection) although AWS may already have made the change; a re-run after an interruption
//! repeats the steps the last run had done. Either way the repeat must not fail or leak:
//! - a delete or detach answered "not found" / "not attached" is done ([`already_done`]);
//! - a create with a client token is deduplicated by AWS itself ([`client_token`]);
//! - a create answered "already exists" carries on with what exists when it is udo's (checked by
//!   the caller, by name and tags).

use crate::error::Result;
use aws_sdk_ec2::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `Ok(())` when the error's code is one of `codes` (the change is already made), else the
/// error as udo's, saying what udo was doing (`context`).
pub fn already_done<E>(err: SdkError<E>, codes: &[&str], context: impl Into<String>) -> Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(se) if se.err().code().is_some_and(|c| codes.contains(&c)) => Ok(()),
        _ => Err(super::error(context, err)),
    }
}

/// A fresh client token for one call. The SDK sends the same request, token included, on each
/// retry, so AWS answers a retry whose first reply was lost with what the first try made. It is
/// random, never derived from the request: AWS answers a reused token with the old result even
/// after that resource was deleted, which would break a destroy followed by a create.
pub fn client_token() -> String {
    format!("udo-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_short() {
        let a = client_token();
        assert_ne!(a, client_token());
        assert!(a.len() <= 64 && a.is_ascii(), "{a}");
    }
}
