//! Post-deploy hooks: each `post_deploy_hook` entry runs after a successful deployment as one
//! `sh -c` command (so quoting works), in order, with the deployment in its environment and its
//! output prefixed by the hook's number. The first failure stops the rest.

use crate::error::Result;
use crate::failure::Failure;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// What the hooks learn about the deployment, as `UDO_*` variables.
pub struct HookEnv<'a> {
    pub app: &'a str,
    pub cluster: &'a str,
    pub role: &'a str,
    pub deployment_id: &'a str,
    pub revision: &'a str,
}

pub async fn run(hooks: &[&str], env: &HookEnv<'_>, prefix: &str) -> Result<()> {
    for (i, hook) in hooks.iter().enumerate() {
        let n = i + 1;
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(hook)
            .env("UDO_APP", env.app)
            .env("UDO_CLUSTER", env.cluster)
            .env("UDO_ROLE", env.role)
            .env("UDO_DEPLOYMENT_ID", env.deployment_id)
            .env("UDO_REVISION", env.revision)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Failure::local(format!("cannot start post-deploy hook {n}"), e))?;
        let tag = format!("{prefix}[hook {n}] ");
        let out = child.stdout.take().map(|s| {
            let tag = tag.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(s).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    println!("{tag}{l}");
                }
            })
        });
        let err = child.stderr.take().map(|s| {
            let tag = tag.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(s).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    eprintln!("{tag}{l}");
                }
            })
        });
        let status = child
            .wait()
            .await
            .map_err(|e| Failure::local(format!("post-deploy hook {n} did not finish"), e))?;
        for task in [out, err].into_iter().flatten() {
            let _ = task.await;
        }
        if !status.success() {
            let how = match status.code() {
                Some(c) => format!("exit status {c}"),
                None => "a signal".to_string(),
            };
            let rest = hooks.len() - n;
            return Err(Failure::HookFailed {
                n,
                hook: hook.to_string(),
                how,
                rest,
            }
            .into());
        }
    }
    Ok(())
}
