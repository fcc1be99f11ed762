//! udo: Unemployed DevOps. See README.md.

mod account;
mod aws;
mod cli;
mod cloudinit;
mod config;
mod context;
mod error;
mod events;
mod launch;
mod ops;
mod output;
mod plan;
mod poll;
mod target;

use clap::Parser as _;

fn main() {
    let cli = cli::Cli::parse();
    let code = match context::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprint!("{e}");
            if !e.to_string().ends_with('\n') {
                eprintln!();
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
