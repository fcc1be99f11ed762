//! `udo whoami`: the account, identity and region udo would act on, and, where udo.yml names
//! an `account_id` or a `profile`, the expected account next to the actual one.

use crate::config::merge::Settings;
use crate::context::Ctx;
use crate::documents;
use crate::error::Result;
use crate::{aws, output};

/// A part of udo.yml with its own profile or expected account.
struct Scope<'a> {
    name: String,
    settings: &'a Settings,
}

fn key<'a>(ctx: &'a Ctx, s: &'a Settings) -> (Option<&'a str>, Option<&'a str>) {
    (ctx.profile_in(s), s.str("account_id"))
}

/// The top level, then each cluster and role whose profile or account_id differs from the level
/// above it.
fn scopes(ctx: &Ctx) -> Vec<Scope<'_>> {
    let cfg = &ctx.config;
    let mut out = Vec::new();
    for c in &cfg.clusters {
        if key(ctx, &c.settings) != key(ctx, &cfg.top) {
            out.push(Scope {
                name: format!("cluster {}", c.name),
                settings: &c.settings,
            });
        }
        for r in &c.roles {
            if key(ctx, &r.settings) != key(ctx, &c.settings) {
                out.push(Scope {
                    name: format!("role {}", r.target()),
                    settings: &r.settings,
                });
            }
        }
    }
    out
}

pub async fn run(ctx: &Ctx) -> Result<()> {
    let top = &ctx.config.top;
    let region = ctx.region_in(top)?;
    let aws_ctx = ctx.aws().await;
    let profile = ctx.profile_in(top);
    let clients = aws_ctx.clients_in(profile, &region).await?;
    let id = aws::sts::identity(&clients).await?;
    ctx.accounts.remember(profile, &id.account).await;
    let endpoint = aws_ctx.endpoint().unwrap_or("AWS");
    let expected = top.str("account_id");
    let mut rows = Vec::new();
    for s in scopes(ctx) {
        let region = ctx.region_in(s.settings)?;
        let p = ctx.profile_in(s.settings);
        let c = aws_ctx.clients_in(p, &region).await?;
        let actual = ctx.accounts.actual(p, &c).await?;
        rows.push((s.name, p, s.settings.str("account_id"), actual));
    }
    let matches = |want: Option<&str>, have: &str| want.map(|w| w == have);
    if ctx.out.json() {
        ctx.out.print_json(&documents::Whoami {
            account: id.account.clone(),
            arn: id.arn.clone(),
            region: region.clone(),
            endpoint: endpoint.to_string(),
            profile: profile.map(String::from),
            expected_account: expected.map(String::from),
            account_matches: matches(expected, &id.account),
            scopes: rows
                .iter()
                .map(|(name, p, want, have)| documents::WhoamiScope {
                    scope: name.clone(),
                    profile: p.map(String::from),
                    expected_account: want.map(String::from),
                    account: have.to_string(),
                    account_matches: matches(*want, have),
                })
                .collect(),
        });
        return Ok(());
    }
    let verdict = |want: Option<&str>, have: &str| match want {
        None => "(no account_id)".to_string(),
        Some(w) if w == have => format!("{w} (matches)"),
        Some(w) => format!("{w} (DIFFERENT: udo refuses to change anything here)"),
    };
    println!(
        "account   {}\nidentity  {}\nregion    {region}\nendpoint  {endpoint}",
        id.account, id.arn
    );
    if let Some(p) = profile {
        println!("profile   {p}");
    }
    if expected.is_some() {
        println!("expected  {}", verdict(expected, &id.account));
    }
    if !rows.is_empty() {
        println!();
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|(name, p, want, have)| {
                vec![
                    name.clone(),
                    p.unwrap_or("(default)").to_string(),
                    have.clone(),
                    verdict(*want, have),
                ]
            })
            .collect();
        print!(
            "{}",
            output::table(&["SCOPE", "PROFILE", "ACCOUNT", "EXPECTED"], &table)
        );
    }
    Ok(())
}
