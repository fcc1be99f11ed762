//! `--help` as a newcomer reads it: each command's own options first and the global options
//! after under their own heading, value names that say what they are, commands in a deliberate
//! order, and one-line descriptions that say what the README's command table says.
//!
//! The snapshots in tests/golden/help/ are the reviewed help texts; a change to the command line
//! shows up as a diff there. To refresh them after a deliberate change, run the tests with
//! `UDO_BLESS=1` and review the diff.

mod support;
use support::Test;

/// Runs `udo ARGS` at a fixed width (help wraps to the terminal, else to $COLUMNS).
fn help(args: &[&str], columns: &str) -> String {
    let out = Test::new().env("COLUMNS", columns).run(args);
    out.ok();
    out.stdout.clone()
}

#[track_caller]
fn matches_golden(name: &str, args: &[&str]) {
    let text = help(args, "100");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/help")
        .join(format!("{name}.txt"));
    if std::env::var_os("UDO_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UDO_BLESS=1 writes it)", path.display()));
    assert_eq!(
        text,
        golden,
        "`udo {}` changed; review it and update {} (UDO_BLESS=1)",
        args.join(" "),
        path.display()
    );
}

#[test]
fn help_texts_match_the_reviewed_snapshots() {
    matches_golden("udo", &["--help"]);
    matches_golden("asg", &["asg", "--help"]);
    matches_golden("asg-rollout", &["asg", "rollout", "--help"]);
    matches_golden("asg-scale", &["asg", "scale", "--help"]);
    matches_golden("exec", &["exec", "--help"]);
    matches_golden("deploy", &["deploy", "--help"]);
}

/// The sections of a help text: heading ("Options", "Global options", …) and its lines.
fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            out.push((line.trim_end_matches(':').to_string(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line.to_string());
        }
    }
    out
}

/// The long option names a section lists (`--batch`, …).
fn options(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let t = l.trim_start();
            if !l.starts_with("  ") || !t.starts_with('-') {
                return None;
            }
            let long = if t.starts_with("--") {
                t
            } else {
                t.split_once(", ")?.1
            };
            Some(
                long.split([' ', '='])
                    .next()?
                    .trim_end_matches("...")
                    .to_string(),
            )
        })
        .filter(|o| o.starts_with("--"))
        .collect()
}

const GLOBAL: [&str; 9] = [
    "--config",
    "--region",
    "--profile",
    "--endpoint-url",
    "--output",
    "--yes",
    "--dry-run",
    "--verbose",
    "--no-notify",
];

/// Every leaf command, as its words (`["asg", "rollout"]`), read from the help itself.
fn leaf_commands() -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let text = help(&args, "1000");
        let subs: Vec<String> = sections(&text)
            .into_iter()
            .filter(|(h, _)| h == "Commands")
            .flat_map(|(_, lines)| lines)
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|c| c != "help")
            .collect();
        if subs.is_empty() {
            out.push(path);
        } else {
            for s in subs {
                let mut p = path.clone();
                p.push(s);
                todo.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_command_lists_its_own_options_first_then_the_global_ones() {
    let leaves = leaf_commands();
    assert!(leaves.len() > 30, "{leaves:?}");
    for path in leaves {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let text = help(&args, "100");
        let secs = sections(&text);
        let headings: Vec<&str> = secs.iter().map(|(h, _)| h.as_str()).collect();
        let global_at = headings
            .iter()
            .position(|h| *h == "Global options")
            .unwrap_or_else(|| panic!("udo {}: no Global options heading\n{text}", path.join(" ")));
        assert_eq!(
            global_at,
            headings.len() - 1,
            "udo {}: global options must come last\n{text}",
            path.join(" ")
        );
        let globals = options(&secs[global_at].1);
        assert_eq!(globals, GLOBAL, "udo {}\n{text}", path.join(" "));
        for (heading, lines) in &secs[..global_at] {
            for o in options(lines) {
                assert!(
                    !GLOBAL.contains(&o.as_str()),
                    "udo {}: global {o} listed under {heading}\n{text}",
                    path.join(" ")
                );
            }
        }
        // value names say what they are; no empty env values
        for line in text.lines() {
            if line.contains("--timeout") || line.contains("--pause") {
                assert!(line.contains("<SECONDS>"), "udo {}: {line}", path.join(" "));
            }
            if line.contains("--output") {
                assert!(line.contains("<FORMAT>"), "udo {}: {line}", path.join(" "));
            }
        }
        assert!(
            !text.contains("=]"),
            "udo {}: empty env value\n{text}",
            path.join(" ")
        );
    }
}

#[test]
fn the_command_list_is_in_a_deliberate_order() {
    let text = help(&["--help"], "1000");
    let commands: Vec<String> = sections(&text)
        .into_iter()
        .filter(|(h, _)| h == "Commands")
        .flat_map(|(_, lines)| lines)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(
        commands,
        [
            "validate",
            "plan",
            "apply",
            "status",
            "asg",
            "deploy",
            "exec",
            "ssh",
            "cluster",
            "lc",
            "config",
            "whoami",
            "completions",
            "version",
            "help"
        ]
    );
}

/// The README's command table: (command words, description), in its order. A row such as
/// `asg scale TARGET [N]` names `asg scale`; `deploy TARGET REVISION` is `deploy create`.
fn readme_rows() -> Vec<(Vec<String>, String)> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("| Command | What it does | Example |")
        .expect("README command table");
    let mut rows = Vec::new();
    for line in readme[start..].lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cells = split_cells(line);
        let usage = cells[1].replace('`', "");
        let mut words: Vec<String> = usage
            .split_whitespace()
            .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase()))
            .map(str::to_string)
            .collect();
        if words == ["deploy"] {
            words.push("create".into());
        }
        rows.push((words, cells[2].trim().to_string()));
    }
    rows
}

/// Splits a Markdown table row on `|`, not on `\|`.
fn split_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// The one-line description `udo … --help` gives each subcommand of `path`.
fn descriptions(path: &[&str]) -> Vec<(String, String)> {
    let mut args = path.to_vec();
    args.push("--help");
    sections(&help(&args, "1000"))
        .into_iter()
        .filter(|(h, _)| h == "Commands")
        .flat_map(|(_, lines)| lines)
        .filter_map(|l| {
            let t = l.trim_start();
            let (name, about) = t.split_once(' ')?;
            Some((name.to_string(), about.trim().to_string()))
        })
        .filter(|(n, _)| n != "help")
        .collect()
}

#[test]
fn help_and_the_readme_describe_every_command_alike() {
    let rows = readme_rows();
    let leaves = leaf_commands();
    let listed: Vec<Vec<String>> = rows.iter().map(|(w, _)| w.clone()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(
        sorted, leaves,
        "the README's table and udo's commands differ"
    );
    let no_ticks = |s: &str| s.replace('`', "");
    for (words, readme) in &rows {
        let (last, parent) = words.split_last().unwrap();
        let parent: Vec<&str> = parent.iter().map(String::as_str).collect();
        let about = descriptions(&parent)
            .into_iter()
            .find(|(n, _)| n == last)
            .map(|(_, a)| a)
            .unwrap_or_else(|| panic!("udo {} is not listed", words.join(" ")));
        assert!(
            no_ticks(readme).starts_with(&no_ticks(&about)),
            "udo {}: help says {about:?}, the README {readme:?}",
            words.join(" ")
        );
    }
    // the README lists the commands in help's order
    let mut order: Vec<String> = Vec::new();
    for (words, _) in &rows {
        if !order.contains(&words[0]) {
            order.push(words[0].clone());
        }
    }
    let top: Vec<String> = descriptions(&[]).into_iter().map(|(n, _)| n).collect();
    assert_eq!(order, top, "the README's table is not in help's order");
    for family in ["asg", "deploy", "cluster", "lc"] {
        let readme: Vec<&str> = rows
            .iter()
            .filter(|(w, _)| w[0] == family)
            .map(|(w, _)| w[1].as_str())
            .collect();
        let help: Vec<String> = descriptions(&[family])
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            readme, help,
            "`{family}`: the README's order differs from help's"
        );
    }
}
