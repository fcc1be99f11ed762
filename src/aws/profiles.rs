//! Named AWS profiles: a profile udo.yml or `--profile` names must exist before udo signs in with
//! it. Otherwise the SDK falls through its credential chain and the user sees "no credentials"
//! instead of "there is no profile `prod`".

use crate::error::Error;
use aws_types::os_shim_internal::{Env, Fs};

/// Fails with a message naming the profile and the files looked in when it is not defined.
/// Reads only the local config and credentials files; no AWS call.
pub async fn check_exists(profile: &str) -> Result<(), Error> {
    let env = Env::real();
    let set = aws_config::profile::load(&Fs::real(), &env, &Default::default(), None).await;
    let defined = match &set {
        Ok(set) => set.get_profile(profile).is_some(),
        Err(_) => false,
    };
    if defined {
        return Ok(());
    }
    let config = env
        .get("AWS_CONFIG_FILE")
        .unwrap_or_else(|_| "~/.aws/config".into());
    let credentials = env
        .get("AWS_SHARED_CREDENTIALS_FILE")
        .unwrap_or_else(|_| "~/.aws/credentials".into());
    let why = match set {
        Err(e) => format!(" (the files could not be read: {e})"),
        Ok(_) => String::new(),
    };
    Err(Error::Access {
        message: format!(
            "AWS profile `{profile}` is not defined in {config} or {credentials}{why}"
        ),
        help: format!(
            "check the name (`aws configure list-profiles`), create it with `aws configure --profile {profile}` or `aws configure sso`, or fix `profile:` in udo.yml / --profile"
        ),
    })
}
