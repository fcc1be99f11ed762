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
