//! Target resolution: `CLUSTER.ROLE`, `CLUSTER` (its only role) and `CLUSTER.*` (every role).

use crate::config::diag::{Diagnostic, suggest};
use crate::config::{Cluster, Config, Role};
use crate::error::{Error, Result};

/// Whether a command accepts `CLUSTER.*` (group commands that run per role in a batch).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Many {
    Allowed,
    No,
}

/// Resolves a target to the roles it names, in udo.yml order.
pub fn resolve<'a>(config: &'a Config, text: &str, many: Many) -> Result<Vec<&'a Role>> {
    let (cluster_name, role_name) = match text.split_once('.') {
        Some((c, r)) => (c, Some(r)),
        None => (text, None),
    };
    let cluster = find_cluster(config, cluster_name)?;
    let roles: Vec<&str> = cluster.roles.iter().map(|r| r.name.as_str()).collect();
    if cluster.roles.is_empty() {
        return Err(config
            .error(vec![
                Diagnostic::at(
                    cluster.span,
                    format!("cluster `{}` has no roles yet", cluster.name),
                )
                .help(
                    "add `roles:` with at least one role (webapp, worker, ...) under the cluster",
                ),
            ])
            .into());
    }
    match role_name {
        Some("*") if many == Many::Allowed => Ok(cluster.roles.iter().collect()),
        Some("*") => Err(Error::usage(
            format!("`{text}` names every role, but this command works on one"),
            format!("name one: {}", list(&cluster.name, &roles)),
        )),
        Some(name) => match cluster.roles.iter().find(|r| r.name == name) {
            Some(r) => Ok(vec![r]),
            None => {
                let mut d = Diagnostic::at(
                    cluster.span,
                    format!("cluster `{}` has no role `{name}`", cluster.name),
                );
                d = match suggest(name, roles.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{}.{s}`?", cluster.name)),
                    None => d.help(format!("its roles are: {}", list(&cluster.name, &roles))),
                };
                Err(config.error(vec![d]).into())
            }
        },
        None if cluster.roles.len() == 1 => Ok(vec![&cluster.roles[0]]),
        None => Err(Error::usage(
            format!(
                "cluster `{}` has {} roles; say which one",
                cluster.name,
                roles.len()
            ),
            format!(
                "use one of {}{}",
                list(&cluster.name, &roles),
                if many == Many::Allowed {
                    format!(", or `{}.*` for all of them", cluster.name)
                } else {
                    String::new()
                }
            ),
        )),
    }
}

/// Resolves a target that must name exactly one role.
pub fn one<'a>(config: &'a Config, text: &str) -> Result<&'a Role> {
    Ok(resolve(config, text, Many::No)?[0])
}

pub fn find_cluster<'a>(config: &'a Config, name: &str) -> Result<&'a Cluster> {
    if let Some(c) = config.cluster(name) {
        return Ok(c);
    }
    let names: Vec<&str> = config.clusters.iter().map(|c| c.name.as_str()).collect();
    let mut d = Diagnostic::at(
        config.clusters_span,
        format!("no cluster `{name}` in this file"),
    );
    d = match suggest(name, names.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None if names.is_empty() => d.help("no clusters are defined yet".to_string()),
        None => d.help(format!("clusters here: {}", names.join(", "))),
    };
    Err(config.error(vec![d]).into())
}

fn list(cluster: &str, roles: &[&str]) -> String {
    roles
        .iter()
        .map(|r| format!("`{cluster}.{r}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
