//! udo: Unemployed DevOps. See README.md.

mod account;
mod aws;
mod cli;
mod cloudinit;
mod config;
mod context;
mod documents;
mod engine;
mod error;
mod events;
mod failure;
mod fleet;
mod launch;
mod model;
mod notify;
mod ops;
mod output;
mod plan;
mod poll;
mod rollout;
mod schedule;
mod ssh;
mod ssm;
mod target;

fn main() {
    quiet_broken_pipe();
    let matches = <cli::Cli as clap::CommandFactory>::command().get_matches();
    let label = notify::Label::from_matches(&matches);
    let cli =
        <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let code = match context::run(cli, label) {
        Ok(()) => 0,
        Err(e) => {
            let text = e.to_string();
            if !text.is_empty() {
                eprint!("{text}");
                if !text.ends_with('\n') {
                    eprintln!();
                }
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// A closed stdout (`udo status | head -1`, `udo lc show … | grep -q`) is the reader saying it has
/// seen enough. Rust ignores SIGPIPE, so `print!` then panics with "failed printing to stdout";
/// end quietly with status 0 instead, as ripgrep does, rather than dumping a panic on the user.
/// Every write udo makes is safe to interrupt, so stopping here leaves nothing a re-run cannot
/// finish. Any other panic keeps the default report.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
