//! chronus: the command-line synthesizer. This binary only parses arguments and wires the
//! library crates together; the sound lives in chronus-dsp, time and failover in
//! chronus-engine.

#![warn(clippy::unwrap_used)]

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// chronus — a fault-tolerant, real-time modular synthesizer you play from the command line.
///
/// Two workers render the same sound in lockstep; if one dies, the other's audio is already
/// there, so not one sample is lost. The default patch is the seed chain
/// `sine > adsr > filter > out` with an unrouted `lfo`.
#[derive(Debug, Parser)]
#[command(name = "chronus", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the synth: two redundant workers playing through an audio backend until Ctrl-C.
    Run(commands::run::RunArgs),
    /// Render the default patch offline (as fast as possible) into a WAV file.
    Render(commands::render::RenderArgs),
    /// Send one OSC message to a running chronus (or any OSC server).
    #[cfg(feature = "osc")]
    Send(commands::send::SendArgs),
    /// Say what you want to hear, in plain language ("play A4, a bit brighter").
    #[cfg(all(feature = "nl", feature = "osc"))]
    Say(commands::say::SayArgs),
    /// Open a tmux session for playing: the synth, a `say` prompt and a live status meter.
    #[cfg(all(feature = "nl", feature = "osc"))]
    Jam(commands::jam::JamArgs),
    /// Show a running chronus's status (workers, failovers, underruns, messages); --watch.
    #[cfg(feature = "osc")]
    Status(commands::status::StatusArgs),
    /// What a WAV file contains: pitch, level, onsets, clipping; --plot draws it as a PNG.
    Analyze(commands::analyze::AnalyzeArgs),
    /// List every backend's devices and ports (the default marked); --json too.
    Devices(commands::devices::DevicesArgs),
    /// Measure chronus: `failover` (SIGKILL the active worker again and again), `osc`.
    Bench(commands::bench::BenchArgs),
}

fn main() -> ExitCode {
    // A worker process is this binary re-executed by the engine: it never returns from here.
    chronus_engine::run_if_worker();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run(_)) {
        // Printing commands end quietly when their reader goes away (`chronus analyze | head`),
        // as Unix tools do. Not `run`: its OSC server must outlive a TCP client that vanishes.
        // SAFETY: restoring the default disposition of SIGPIPE, before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let result = match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Render(args) => commands::render::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Devices(args) => commands::devices::run(args),
        Command::Analyze(args) => commands::analyze::run(args),
        #[cfg(feature = "osc")]
        Command::Send(args) => commands::send::run(args),
        #[cfg(feature = "osc")]
        Command::Status(args) => commands::status::run(args),
        #[cfg(all(feature = "nl", feature = "osc"))]
        Command::Say(args) => commands::say::run(args),
        #[cfg(all(feature = "nl", feature = "osc"))]
        Command::Jam(args) => commands::jam::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chronus: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
