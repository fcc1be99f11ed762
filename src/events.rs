//! Change events: one line per change udo made ("Changed ASgroup prod-worker desired capacity
//! from 4 to 10"). All of them pass through here, printed now and kept for the other sink: chat
//! notifications (src/notify.rs), posted once the command has run.

use crate::config::Role;
use std::sync::Mutex;

/// One change as it was printed, with the role it concerns when the command said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `(cluster, role)` when known; otherwise the command's target and `prefix` tell.
    pub scope: Option<(String, String)>,
    /// `[cluster.role] ` in batch runs, empty otherwise.
    pub prefix: String,
    pub message: String,
}

#[derive(Default)]
pub struct Events {
    sent: Mutex<Vec<Event>>,
    /// `-o json`: stdout holds the one document, so change lines go to stderr.
    to_stderr: bool,
}

impl Events {
    /// The events of a run whose stdout is a JSON document (`json`) or text.
    pub fn new(json: bool) -> Events {
        Events {
            sent: Mutex::default(),
            to_stderr: json,
        }
    }

    /// Records and prints one change. `prefix` names the role in batch runs.
    pub fn emit(&self, prefix: &str, message: impl Into<String>) {
        self.record(None, prefix, message.into());
    }

    /// Records and prints one change about `role`.
    pub fn emit_for(&self, role: &Role, prefix: &str, message: impl Into<String>) {
        let scope = Some((role.cluster.clone(), role.name.clone()));
        self.record(scope, prefix, message.into());
    }

    /// Records one change about `role` and prints it on stderr instead of stdout (for a
    /// command whose stdout is a JSON document).
    pub fn emit_for_on_stderr(&self, role: &Role, prefix: &str, message: impl Into<String>) {
        let message = message.into();
        eprintln!("{prefix}{message}");
        self.keep(
            Some((role.cluster.clone(), role.name.clone())),
            prefix,
            message,
        );
    }

    fn record(&self, scope: Option<(String, String)>, prefix: &str, message: String) {
        if self.to_stderr {
            eprintln!("{prefix}{message}");
        } else {
            println!("{prefix}{message}");
        }
        self.keep(scope, prefix, message);
    }

    fn keep(&self, scope: Option<(String, String)>, prefix: &str, message: String) {
        self.sent.lock().expect("events").push(Event {
            scope,
            prefix: prefix.to_string(),
            message,
        });
    }

    /// Every change of this run, in order, with its scope (for the chat sink).
    pub fn records(&self) -> Vec<Event> {
        self.sent.lock().expect("events").clone()
    }

    /// Every change of this run, in order.
    #[cfg(test)]
    pub fn all(&self) -> Vec<String> {
        self.records().into_iter().map(|e| e.message).collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_are_kept_in_order() {
        let e = super::Events::default();
        e.emit("", "Created ASgroup dev-web");
        e.emit(
            "[dev.web] ",
            "Changed ASgroup dev-web desired capacity from 1 to 2",
        );
        assert_eq!(
            e.all(),
            vec![
                "Created ASgroup dev-web",
                "Changed ASgroup dev-web desired capacity from 1 to 2"
            ]
        );
        assert_eq!(e.records()[1].prefix, "[dev.web] ");
    }
}
