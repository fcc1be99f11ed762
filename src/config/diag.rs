//! Located diagnostics, rendered like a compiler's: what is wrong, where, and what to do.

use super::yaml::Span;
use crate::documents::{ConfigError, ConfigNote};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One configuration problem at a place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Option<Span>,
    /// Other places worth showing, each with a short label.
    pub notes: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn at(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span: Some(span),
            notes: Vec::new(),
            help: None,
        }
    }

    /// A problem with the file as a whole (empty, unreadable, not UTF-8).
    pub fn whole_file(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span: None,
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn note(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.notes.push((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// All problems found in one file, rendered together so a user fixes them in one pass.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub path: PathBuf,
    pub source: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Renders every problem. Secret values (webhook URLs) are masked even in quoted source
    /// lines: CI logs keep what udo prints.
    pub fn render(&self) -> String {
        let mut out = self.render_raw();
        for secret in secret_values(&self.source) {
            out = out.replace(&secret, "<redacted>");
        }
        out
    }

    /// The problems as JSON for CI and editors (`validate --output json`), secrets masked as in
    /// `render`: `[{"file", "line", "column", "message", "help", "notes"}…]`; `line` and
    /// `column` are null for a problem with the whole file.
    pub fn to_json(&self) -> Vec<ConfigError> {
        let secrets = secret_values(&self.source);
        let mask = |text: &str| {
            secrets
                .iter()
                .fold(text.to_string(), |t, s| t.replace(s.as_str(), "<redacted>"))
        };
        let file = self.path.display().to_string();
        self.items
            .iter()
            .map(|d| ConfigError {
                file: Some(file.clone()),
                line: d.span.map(|s| s.line),
                column: d.span.map(|s| s.col),
                message: mask(&d.message),
                help: d.help.as_deref().map(mask),
                notes: d
                    .notes
                    .iter()
                    .map(|(span, label)| ConfigNote {
                        line: span.line,
                        column: span.col,
                        message: mask(label),
                    })
                    .collect(),
            })
            .collect()
    }

    fn render_raw(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            render_one(&mut out, &self.path, &self.source, d, "error");
        }
        let n = self.items.len();
        let _ = writeln!(
            out,
            "{} in {}; nothing was sent to AWS.",
            if n == 1 {
                "1 configuration error".to_string()
            } else {
                format!("{n} configuration errors")
            },
            self.path.display()
        );
        out
    }
}

impl Diagnostics {
    /// The items as warnings (`validate`: settings AWS accepts but that weaken a role), each
    /// located like an error, with secrets masked.
    pub fn render_warnings(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            render_one(&mut out, &self.path, &self.source, d, "warning");
        }
        for secret in secret_values(&self.source) {
            out = out.replace(&secret, "<redacted>");
        }
        out
    }
}

fn render_one(out: &mut String, path: &Path, source: &str, d: &Diagnostic, severity: &str) {
    let _ = writeln!(out, "{severity}: {}", d.message);
    match d.span {
        Some(span) => {
            let _ = writeln!(out, "  --> {}:{}:{}", path.display(), span.line, span.col);
            snippet(out, source, span, None);
        }
        None => {
            let _ = writeln!(out, "  --> {}", path.display());
        }
    }
    for (span, label) in &d.notes {
        let _ = writeln!(
            out,
            "note: {label}\n  --> {}:{}:{}",
            path.display(),
            span.line,
            span.col
        );
        snippet(out, source, *span, None);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out.push('\n');
}

fn snippet(out: &mut String, source: &str, span: Span, _label: Option<&str>) {
    let Some(line) = source.lines().nth(span.line.saturating_sub(1)) else {
        return;
    };
    // Keep very long lines readable.
    let shown: String = line.chars().take(160).collect();
    let width = span.line.to_string().len();
    let pad = " ".repeat(width);
    let caret_at = span.col.saturating_sub(1).min(shown.chars().count());
    let caret_len = caret_len(&shown, caret_at);
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{} | {}", span.line, shown);
    let _ = writeln!(
        out,
        "{pad} | {}{}",
        " ".repeat(caret_at),
        "^".repeat(caret_len)
    );
}

/// How many characters to underline from `at`: the whole key or value written there. A key ends
/// at its `:`; a plain value runs to the end of the line (spaces included: `app_name: my app`)
/// or a ` #` comment, and inside `[…]`/`{…}` to the next `,`, `]` or `}`; a quoted value runs to
/// its closing quote.
fn caret_len(line: &str, at: usize) -> usize {
    let chars: Vec<char> = line.chars().collect();
    let Some(&first) = chars.get(at) else {
        return 1;
    };
    if first == '\'' || first == '"' {
        let close = chars[at + 1..].iter().position(|c| *c == first);
        return close.map_or(chars.len() - at, |p| p + 2);
    }
    let depth = chars[..at].iter().fold(0i32, |d, c| match c {
        '[' | '{' => d + 1,
        ']' | '}' => d - 1,
        _ => d,
    });
    let mut end = at;
    while end < chars.len() {
        let c = chars[end];
        let next = chars.get(end + 1).copied();
        let key_end = c == ':' && next.is_none_or(char::is_whitespace);
        let comment = c == '#' && end > at && chars[end - 1].is_whitespace();
        let flow_end = depth > 0 && matches!(c, ',' | ']' | '}');
        if key_end || comment || flow_end {
            break;
        }
        end += 1;
    }
    while end > at && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    (end - at).max(1)
}

/// The values of `slack.url` and `notify` at every level of a udo.yml, best effort (unparsable
/// text has none).
fn secret_values(source: &str) -> Vec<String> {
    use super::yaml::{Node, Value};
    fn slack_url(level: &Node, out: &mut Vec<String>) {
        if let Some(Value::Scalar { text, .. }) = level
            .get("slack")
            .and_then(|e| e.value.get("url"))
            .map(|e| &e.value.value)
            && text.len() >= 8
            && !is_env_reference(text)
        {
            out.push(text.clone());
        }
        if let Some(e) = level.get("notify") {
            every_scalar(&e.value, out);
        }
    }
    // `notify` holds URLs only; even a misshapen one (a mapping) is masked.
    fn every_scalar(node: &Node, out: &mut Vec<String>) {
        match &node.value {
            Value::Scalar { text, .. } if text.len() >= 8 => out.push(text.clone()),
            Value::Seq(items) => items.iter().for_each(|i| every_scalar(i, out)),
            Value::Map(entries) => entries.iter().for_each(|e| every_scalar(&e.value, out)),
            _ => {}
        }
    }
    let Ok(Some(root)) = super::yaml::parse(source) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    slack_url(&root, &mut out);
    for cluster in root
        .get("clusters")
        .and_then(|e| e.value.as_map())
        .unwrap_or_default()
    {
        slack_url(&cluster.value, &mut out);
        for role in cluster
            .value
            .get("roles")
            .and_then(|e| e.value.as_map())
            .unwrap_or_default()
        {
            slack_url(&role.value, &mut out);
        }
    }
    out
}

/// `${NAME}` alone: the name of a variable holding the secret, not the secret itself.
fn is_env_reference(text: &str) -> bool {
    text.starts_with("${") && text.ends_with('}') && !text[2..].contains(['$', '{'])
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment), for
/// "did you mean" suggestions: `dve` is one typo away from `dev`.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let keys = ["instance_type", "iam_profile", "ami"];
        assert_eq!(suggest("instance_typ", keys), Some("instance_type"));
        assert_eq!(suggest("iam_proflie", keys), Some("iam_profile"));
        assert_eq!(suggest("completely_else", keys), None);
        assert_eq!(suggest("dve", ["dev", "prod"]), Some("dev"));
    }

    #[test]
    fn carets_underline_the_whole_key_or_value() {
        let len = |line: &str, at: &str| caret_len(line, line.find(at).unwrap());
        assert_eq!(len("app_name: my app", "my"), 6);
        assert_eq!(len("app_name: my app  # note", "my"), 6);
        assert_eq!(len("  bad_key: 2", "bad"), 7);
        assert_eq!(len("url: http://x.example/a", "http"), 18);
        assert_eq!(len("p: {min_size: 1, max_size: 22}", "22"), 2);
        assert_eq!(len("p: {min: 1}", "min"), 3);
        assert_eq!(len("subnets_cidr: [10.0.0.1/24, b]", "10."), 11);
        assert_eq!(len("name: 'dev env'", "'dev"), 9);
        assert_eq!(len("x:", ":"), 1);
    }

    #[test]
    fn render_points_at_the_column() {
        let d = Diagnostics {
            path: "udo.yml".into(),
            source: "a: 1\n  bad_key: 2\n".into(),
            items: vec![
                Diagnostic::at(Span { line: 2, col: 3 }, "unknown key `bad_key`").help("remove it"),
            ],
        };
        let text = d.render();
        assert!(text.contains("error: unknown key `bad_key`"));
        assert!(text.contains("--> udo.yml:2:3"));
        assert!(text.contains("2 |   bad_key: 2\n  |   ^^^^^^^\n"), "{text}");
        assert!(text.contains("= help: remove it"));
    }
}
