//! chronus: the command-line synthesizer. This binary only parses arguments and wires the
//! library crates together; the sound lives in chronus-dsp, time in chronus-engine.

#![warn(clippy::unwrap_used)]

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// chronus — a fault-tolerant, real-time modular synthesizer you play from the command line.
///
/// The default patch is the seed chain `sine > adsr > filter > out` with an unrouted `lfo`.
#[derive(Debug, Parser)]
#[command(name = "chronus", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render the default patch offline (as fast as possible) into a WAV file.
    Render(commands::render::RenderArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(args) => commands::render::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chronus: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
