//! Target resolution: `CLUSTER.ROLE`, `CLUSTER` (its only role) and `CLUSTER.*` (every role).
//!
//! A target naming a cluster or role that udo.yml lacks is a usage error (exit 2), not a
//! configuration error: the file is fine, the command line is not. The message names what
//! does exist, so the user can pick from it.

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
                let here = format!(
                    "roles of `{}` ({}:{}:{}): {}",
                    cluster.name,
                    config.path.display(),
                    cluster.span.line,
                    cluster.span.col,
                    list(&cluster.name, &roles)
                );
                let help = match suggest(name, roles.iter().copied()) {
                    Some(s) => format!("did you mean `{}.{s}`? {here}", cluster.name),
                    None => here,
                };
                Err(Error::usage(
                    format!("cluster `{}` has no role `{name}`", cluster.name),
                    help,
                ))
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
    let message = format!("udo.yml has no cluster `{name}`");
    let help = match suggest(name, names.iter().copied()) {
        _ if names.is_empty() => {
            "no clusters are defined yet: add one under `clusters:`".to_string()
        }
        _ if name
            .split_once('.')
            .is_some_and(|(c, _)| config.cluster(c).is_some()) =>
        {
            format!(
                "this command takes a cluster name, such as `{}`; {}",
                name.split_once('.').map_or(name, |(c, _)| c),
                existing(config)
            )
        }
        Some(s) => format!("did you mean `{s}`? {}", existing(config)),
        None => existing(config),
    };
    Err(Error::usage(message, help))
}

/// The clusters and roles udo.yml has, in its order, for errors about targets (at most 12
/// clusters are spelled out).
fn existing(config: &Config) -> String {
    const SHOWN: usize = 12;
    let mut parts: Vec<String> = config
        .clusters
        .iter()
        .take(SHOWN)
        .map(|c| {
            let roles: Vec<&str> = c.roles.iter().map(|r| r.name.as_str()).collect();
            if roles.is_empty() {
                format!("`{}` (no roles yet)", c.name)
            } else {
                format!("`{}` ({})", c.name, list(&c.name, &roles))
            }
        })
        .collect();
    if config.clusters.len() > SHOWN {
        parts.push(format!("and {} more", config.clusters.len() - SHOWN));
    }
    format!(
        "clusters in {}:{}:{}: {}",
        config.path.display(),
        config.clusters_span.line,
        config.clusters_span.col,
        parts.join(", ")
    )
}

fn list(cluster: &str, roles: &[&str]) -> String {
    roles
        .iter()
        .map(|r| format!("`{cluster}.{r}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
