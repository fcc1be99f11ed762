//! Ownership, with AWS: the role's group read by name and refused when it is another app's,
//! and the tagging of a launch template udo takes over. The rule itself (whose a resource
//! is, the refusals) is pure and lives in `model::owner`, re-exported here.

use crate::aws::Clients;
use crate::config::Role;
use crate::error::Result;
use crate::model::live::Group;
/// The rule, under its old path too, for code written against `engine::owner`.
#[allow(unused_imports)]
pub use crate::model::owner::{
    Owner, app_of, check, check_config, check_group, check_template, config_app, not_rolling_out,
    rollout_tag,
};

/// The role's active group (its base group, or the release tagged active: see
/// `engine::groups`), when it is not another app's (else the refusal).
pub async fn group(c: &Clients, role: &Role) -> Result<Option<Group>> {
    let g = super::groups::active(c, role).await?;
    if let Some(g) = &g {
        check_group(role, g)?;
    }
    Ok(g)
}

/// Tags a launch template udo takes over (it had no `udo:app` tag) with the role's tags, so
/// it is found as udo's from then on.
pub async fn tag_template(c: &Clients, template_id: &str, role: &Role) -> Result<()> {
    crate::aws::ec2::tag_resource(c, template_id, &crate::launch::role_tags(role)).await
}
