//! Elastic Load Balancing v2: target group names to ARNs (groups take ARNs only).

use super::{Clients, error};
use crate::error::{Error, Result};

/// ARNs pass through; names are looked up in one call. A name with no target group is an error.
pub async fn target_group_arns(c: &Clients, items: &[String]) -> Result<Vec<String>> {
    let names: Vec<String> = items
        .iter()
        .filter(|i| !i.starts_with("arn:"))
        .cloned()
        .collect();
    let found = if names.is_empty() {
        Vec::new()
    } else {
        let out = c
            .elb
            .describe_target_groups()
            .set_names(Some(names.clone()))
            .send()
            .await
            .map_err(|e| {
                let code = super::error_code(&e).unwrap_or_default().to_string();
                if code.contains("TargetGroupNotFound") {
                    Error::from(crate::failure::Failure::TargetGroupsNotFound {
                        names: names.clone(),
                    })
                } else {
                    error("looking up target groups", e)
                }
            })?;
        out.target_groups()
            .iter()
            .filter_map(|t| {
                Some((
                    t.target_group_name()?.to_string(),
                    t.target_group_arn()?.to_string(),
                ))
            })
            .collect::<Vec<_>>()
    };
    items
        .iter()
        .map(|i| {
            if i.starts_with("arn:") {
                Ok(i.clone())
            } else {
                found
                    .iter()
                    .find(|(n, _)| n == i)
                    .map(|(_, a)| a.clone())
                    .ok_or_else(|| {
                        Error::from(crate::failure::Failure::NoTargetGroup { name: i.clone() })
                    })
            }
        })
        .collect()
}
