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
#[command(
    name = "chronus",
    version,
    about,
    long_about,
    after_help = "\
GETTING STARTED
  chronus run                      start the synth (Ctrl-C stops); then, in another terminal:
  chronus send /gate/adsr on       hear a note (A4)
  chronus say \"play C4, with vibrato\"
  chronus jam                      all of it in a tmux session

LOGS
  -v / -vv for more, -q for errors only; RUST_LOG (e.g. RUST_LOG=chronus_engine=debug)
  overrides both.

EXIT CODES
  0  success
  1  an error: the message says what went wrong and what to do next
  2  bad usage (an unknown option or a missing argument): see --help"
)]
struct Cli {
    /// More log lines (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Log lines go to stderr: warnings and progress by default, `-v`/`-q` or `RUST_LOG` to change.
fn init_logs(verbose: u8, quiet: bool, errors_only: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) if errors_only => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the synth: two redundant workers playing through an audio backend until Ctrl-C.
    Run(Box<commands::run::RunArgs>),
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
    /// Serve chronus's tools to an AI assistant: MCP on stdio, playing a running chronus.
    #[cfg(feature = "mcp")]
    Mcp(commands::mcp::McpArgs),
    /// Show a running chronus's status (workers, failovers, underruns, messages); --watch.
    #[cfg(feature = "osc")]
    Status(commands::status::StatusArgs),
    /// What a WAV file contains: pitch, level, onsets, clipping; --plot draws it as a PNG.
    Analyze(commands::analyze::AnalyzeArgs),
    /// List every backend's devices and ports (the default marked); --json too.
    Devices(commands::devices::DevicesArgs),
    /// Measure chronus: `failover` (SIGKILL the active worker again and again), `osc`, `latency`.
    Bench(commands::bench::BenchArgs),
    /// Print a shell completion script: `chronus completions bash > /etc/bash_completion.d/chronus`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `chronus man | man -l -`.
    Man,
}

fn main() -> ExitCode {
    // A worker process is this binary re-executed by the engine: it never returns from here.
    chronus_engine::run_if_worker();
    let cli = Cli::parse();
    // Benchmarks print a progress bar and a table: the engine's log lines (two per injected
    // fault) only with -v; errors (both workers lost) always.
    let quiet_logs = matches!(cli.command, Command::Bench(_)) && cli.verbose == 0;
    init_logs(cli.verbose, cli.quiet, quiet_logs);
    if !matches!(cli.command, Command::Run(_)) {
        // Printing commands end quietly when their reader goes away (`chronus analyze | head`),
        // as Unix tools do. Not `run`: its OSC server must outlive a TCP client that vanishes.
        // SAFETY: restoring the default disposition of SIGPIPE, before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let result = match cli.command {
        Command::Run(args) => commands::run::run(*args),
        Command::Render(args) => commands::render::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Devices(args) => commands::devices::run(args),
        Command::Analyze(args) => commands::analyze::run(args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "chronus", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
            .render(&mut std::io::stdout())
            .map_err(anyhow::Error::from),
        #[cfg(feature = "osc")]
        Command::Send(args) => commands::send::run(args),
        #[cfg(feature = "osc")]
        Command::Status(args) => commands::status::run(args),
        #[cfg(all(feature = "nl", feature = "osc"))]
        Command::Say(args) => commands::say::run(args),
        #[cfg(all(feature = "nl", feature = "osc"))]
        Command::Jam(args) => commands::jam::run(args),
        #[cfg(feature = "mcp")]
        Command::Mcp(args) => commands::mcp::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chronus: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
