//! `udo validate` and `udo config show`.

use crate::config::diag::Diagnostics;
use crate::config::merge::{MValue, Origin};
use crate::config::schema::{self, Kind};
use crate::context::Ctx;
use crate::documents;
use crate::error::{Error, Result};
use crate::launch::LaunchSpec;
use crate::output::Output;
use crate::target;
use std::fmt::Write as _;

/// Paths whose values are secrets and never printed.
pub fn is_secret(path: &str) -> bool {
    path == "slack.url" || path == "notify"
}

/// Prints `{"valid": false, "path", "errors": […]}` on stdout for `validate --output json`.
pub fn print_invalid(out: &Output, d: &Diagnostics) {
    out.print_json(&documents::Invalid {
        valid: false,
        path: Some(d.path.display().to_string()),
        errors: d.to_json(),
    });
}

/// The same document when there is no udo.yml to read: `path` is null and the one error has
/// no file, line or column.
pub fn print_not_found(out: &Output, e: &Error) {
    let (message, help) = match e {
        Error::Usage { message, help } => (message.clone(), Some(help.clone())),
        other => (other.to_string(), None),
    };
    out.print_json(&documents::Invalid {
        valid: false,
        path: None,
        errors: vec![documents::ConfigError {
            file: None,
            line: None,
            column: None,
            message,
            help,
            notes: Vec::new(),
        }],
    });
}

pub fn validate(ctx: &Ctx) -> Result<()> {
    let cfg = &ctx.config;
    // What a launch needs, for every role: what `lc create`/`asg create` would refuse.
    let problems: Vec<_> = cfg
        .clusters
        .iter()
        .flat_map(|c| c.roles.iter())
        .flat_map(LaunchSpec::problems)
        .collect();
    if !problems.is_empty() {
        let d = cfg.error(problems);
        if ctx.out.json() {
            print_invalid(&ctx.out, &d);
            return Err(Error::Reported(crate::error::EXIT_USAGE));
        }
        return Err(d.into());
    }
    let roles: Vec<String> = cfg
        .clusters
        .iter()
        .flat_map(|c| c.roles.iter().map(|r| r.target()))
        .collect();
    // Valid, but weaker than it should be (IMDSv1 allowed): said, never refused.
    let warnings = cfg.error(
        cfg.clusters
            .iter()
            .flat_map(|c| c.roles.iter())
            .flat_map(crate::launch::warnings)
            .collect(),
    );
    if !warnings.items.is_empty() && !ctx.out.json() {
        eprint!("{}", warnings.render_warnings());
    }
    if ctx.out.json() {
        ctx.out.print_json(&documents::Valid {
            valid: true,
            warnings: warnings.to_json(),
            path: cfg.path.display().to_string(),
            clusters: cfg
                .clusters
                .iter()
                .map(|c| documents::ValidCluster {
                    name: c.name.clone(),
                    roles: c.roles.iter().map(|r| r.name.clone()).collect(),
                })
                .collect(),
        });
    } else {
        println!(
            "{} is valid: {} cluster{}, {} role{}{}",
            cfg.path.display(),
            cfg.clusters.len(),
            if cfg.clusters.len() == 1 { "" } else { "s" },
            roles.len(),
            if roles.len() == 1 { "" } else { "s" },
            if roles.is_empty() {
                String::new()
            } else {
                format!(" ({})", roles.join(", "))
            }
        );
    }
    Ok(())
}

pub fn show(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let settings = &role.settings;
    if ctx.out.json() {
        let sources = settings
            .sources()
            .into_iter()
            .map(|(path, o)| (path, origin_json(o)))
            .collect();
        ctx.out.print_json(&documents::ConfigShow {
            target: role.target(),
            cluster: role.cluster.clone(),
            role: role.name.clone(),
            group: role.group_name(),
            settings: settings.to_json(&|p| is_secret(p)),
            sources: documents::Ordered(sources),
        });
        return Ok(());
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {}: effective settings (group {}), from {}",
        role.target(),
        role.group_name(),
        ctx.config.path.display()
    );
    render_entries(
        &mut out,
        &settings.entries,
        schema::FIELDS,
        0,
        "",
        ctx.verbose(),
    );
    print!("{out}");
    Ok(())
}

fn origin_json(o: &Origin) -> documents::Origin {
    documents::Origin {
        level: o.level.short(),
        place: o.level.describe(),
        line: o.span.line,
        column: o.span.col,
    }
}

fn origin_comment(o: &Origin) -> String {
    format!("  # {}, line {}", o.level.describe(), o.span.line)
}

fn render_entries(
    out: &mut String,
    entries: &[(String, MValue)],
    fields: &[schema::Field],
    depth: usize,
    path: &str,
    verbose: bool,
) {
    let pad = "  ".repeat(depth);
    for (key, value) in entries {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match value {
            MValue::Scalar(leaf) => {
                let text = if is_secret(&full) {
                    "<redacted>".to_string()
                } else {
                    leaf.text.clone()
                };
                let note = if verbose {
                    origin_comment(&leaf.origin)
                } else {
                    String::new()
                };
                if text.contains('\n') {
                    let _ = writeln!(out, "{pad}{key}: |{note}");
                    for line in text.lines() {
                        let _ = writeln!(out, "{pad}  {line}");
                    }
                } else {
                    let _ = writeln!(out, "{pad}{key}: {}{note}", yaml_scalar(&text));
                }
            }
            MValue::List(items) => {
                let _ = writeln!(out, "{pad}{key}:");
                for item in items {
                    let note = if verbose {
                        origin_comment(&item.origin)
                    } else {
                        String::new()
                    };
                    let text = if is_secret(&full) {
                        "<redacted>"
                    } else {
                        item.text.as_str()
                    };
                    let _ = writeln!(out, "{pad}  - {}{note}", yaml_scalar(text));
                }
            }
            MValue::Map(inner)
                if matches!(
                    schema::lookup(fields, key).map(|f| &f.kind),
                    Some(Kind::Named(_))
                ) =>
            {
                // a list of named entries: one `- name: …` block per entry
                let _ = writeln!(out, "{pad}{key}:");
                for (name, entry) in inner {
                    if let MValue::Map(e) = entry {
                        let mut block = String::new();
                        render_entries(
                            &mut block,
                            e,
                            &[],
                            depth + 2,
                            &format!("{full}.{name}"),
                            verbose,
                        );
                        let inner_pad = "  ".repeat(depth + 2);
                        for (i, line) in block.lines().enumerate() {
                            let rest = line.strip_prefix(&inner_pad).unwrap_or(line);
                            let lead = if i == 0 { "- " } else { "  " };
                            let _ = writeln!(out, "{pad}  {lead}{rest}");
                        }
                    }
                }
            }
            MValue::Map(inner) => {
                let _ = writeln!(out, "{pad}{key}:");
                let sub: &[schema::Field] = match schema::lookup(fields, key).map(|f| &f.kind) {
                    Some(Kind::Record(sub)) => sub,
                    _ => &[],
                };
                render_entries(out, inner, sub, depth + 1, &full, verbose);
            }
        }
    }
}

/// Quotes a value when plain YAML would read it differently.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.starts_with(|c: char| "#'\"&*!|>%@`{}[],-?: ".contains(c))
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(' ');
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("strings serialize")
    }
}
