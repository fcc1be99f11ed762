//! Everything udo prints: events, tables, JSON, progress. Results go to stdout; events,
//! progress and errors go to stderr, so `--output json` stays machine-readable.

use crate::cli::OutputFormat;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone)]
pub struct Output {
    pub format: OutputFormat,
    /// stderr is a terminal: progress may redraw one line instead of printing many.
    pub interactive: bool,
}

impl Output {
    pub fn new(format: OutputFormat) -> Output {
        Output {
            format,
            interactive: std::io::stderr().is_terminal(),
        }
    }

    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Prints a JSON document on stdout (one of `crate::documents`).
    pub fn print_json<T: serde::Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value).expect("JSON values always serialize");
        println!("{text}");
    }

    /// A status line on stderr (what udo is doing, or notes beside the result).
    pub fn info(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }

    /// A progress line: redrawn in place on a terminal, one plain line per update elsewhere.
    pub fn progress(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        if self.interactive {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    /// Ends a run of progress lines on a terminal.
    pub fn progress_done(&self) {
        if self.interactive {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err);
        }
    }
}

/// Renders rows as aligned columns with a header.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(headers.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_aligns_columns() {
        let t = super::table(
            &["A", "LONGER"],
            &[
                vec!["xyz".into(), "1".into()],
                vec!["q".into(), "22".into()],
            ],
        );
        assert_eq!(t, "A    LONGER\nxyz  1\nq    22\n");
    }
}
