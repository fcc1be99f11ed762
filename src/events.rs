//! Change events: one line per change udo made ("Changed ASgroup prod-worker desired capacity
//! from 4 to 10"). All of them pass through here, printed now and kept for other sinks (chat
//! notifications come in a later issue).

use std::sync::Mutex;

#[derive(Default)]
pub struct Events {
    sent: Mutex<Vec<String>>,
}

impl Events {
    /// Records and prints one change. `prefix` names the role in batch runs.
    pub fn emit(&self, prefix: &str, message: impl Into<String>) {
        let message = message.into();
        println!("{prefix}{message}");
        self.sent.lock().expect("events").push(message);
    }

    /// Every change of this run, in order (for the chat sink of a later issue).
    #[cfg(test)]
    pub fn all(&self) -> Vec<String> {
        self.sent.lock().expect("events").clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_are_kept_in_order() {
        let e = super::Events::default();
        e.emit("", "Created ASgroup dev-web");
        e.emit(
            "[web] ",
            "Changed ASgroup dev-web desired capacity from 1 to 2",
        );
        assert_eq!(
            e.all(),
            vec![
                "Created ASgroup dev-web",
                "Changed ASgroup dev-web desired capacity from 1 to 2"
            ]
        );
    }
}
