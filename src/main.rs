//! The `tributary` binary: parse the command line, start logging, dispatch to a command, and
//! map the outcome to the documented exit codes.

mod cli;
mod commands;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{Cli, LogFormat};

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failure = 1,
    SomeFeedsFailed = 2,
    InvalidConfig = 3,
    Locked = 4,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage(&err),
    };
    init_tracing(&cli);
    let code = match commands::dispatch(&cli) {
        Ok(exit) => exit,
        Err(err) => report(&err),
    };
    ExitCode::from(code as u8)
}

/// `--help` and `--version` print and succeed; any other command-line mistake is printed by
/// clap and exits 3, like invalid configuration. (Clap's own code, 2, means "some feeds
/// failed" here, which a cron script must be able to trust.)
fn usage(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    let code = if err.use_stderr() {
        Exit::InvalidConfig
    } else {
        Exit::Ok
    };
    ExitCode::from(code as u8)
}

/// Prints an error with its whole chain and picks the exit code it stands for.
fn report(err: &anyhow::Error) -> Exit {
    if let Some(cfg) = err.downcast_ref::<tributary::config::ConfigErrors>() {
        eprintln!("tributary: {cfg}");
        return Exit::InvalidConfig;
    }
    if is_broken_pipe(err) {
        return Exit::Ok;
    }
    let code = match err.downcast_ref::<tributary::lock::LockError>() {
        Some(tributary::lock::LockError::Held { .. }) => Exit::Locked,
        _ => Exit::Failure,
    };
    eprint!("tributary: error: {err}");
    for cause in err.chain().skip(1) {
        eprint!(": {cause}");
    }
    eprintln!();
    code
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_tracing(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "tributary=debug,info",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("TRIBUTARY_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .init(),
    }
}
