//! `chronus jam`: a tmux session laid out for playing — the synth, a plain-language prompt and
//! a live status meter, each in its own pane.

use anyhow::{bail, Context, Result};
use std::process::Command;

/// Arguments of `chronus jam`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
LAYOUT
  +---------------------------+-----------------------+
  | chronus run               | chronus status --watch |
  |                           |                       |
  +---------------------------+-----------------------+
  | chronus say (type here: \"play A4, with vibrato\")   |
  +---------------------------------------------------+

EXAMPLES
  chronus jam --attach                  open it and step inside
  chronus jam --backend jack            play through JACK
  tmux attach -t chronus                join it later (a collaborator too, same user)
  tmux kill-session -t chronus          end it (stops the synth)")]
pub struct JamArgs {
    /// Attach to the session right away (otherwise print how to).
    #[arg(long)]
    attach: bool,
    /// tmux session name.
    #[arg(long, default_value = "chronus")]
    session: String,
    /// Audio backend for `chronus run` (auto, jack, alsa, cpal, null).
    #[arg(long, value_enum, default_value_t = super::backends::BackendKind::Auto)]
    backend: super::backends::BackendKind,
    /// OSC port the three panes share [default: $CHRONUS_OSC_PORT or 5005].
    #[arg(long)]
    port: Option<u16>,
}

/// Quotes a word for the shell tmux runs a pane's command with.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn tmux(args: &[&str]) -> Result<String> {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .context("cannot run tmux")?;
    if !out.status.success() {
        bail!(
            "tmux {}: {}",
            args.first().copied().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs `chronus jam`.
pub fn run(args: JamArgs) -> Result<()> {
    let port = super::send::port(args.port)?;
    let exe = std::env::current_exe().context("cannot find the chronus binary")?;
    let exe = sh_quote(&exe.to_string_lossy());
    if Command::new("tmux").arg("-V").output().is_err() {
        bail!(
            "tmux is not installed (Debian: apt install tmux). Without it, open three terminals and run:\n  \
             chronus run --osc 127.0.0.1:{port}\n  chronus say --port {port}\n  chronus status --watch --port {port}"
        );
    }
    let session = &args.session;
    if tmux(&["has-session", "-t", session]).is_ok() {
        bail!(
            "a tmux session '{session}' already exists: join it with `tmux attach -t {session}`, \
             end it with `tmux kill-session -t {session}`, or pick another name with --session"
        );
    }
    // Each pane keeps its shell open after its command ends, so an error stays readable.
    let hold = |cmd: String| {
        format!("{cmd}; echo; echo \"[chronus jam] '{cmd}' ended; press Enter to close\"; read _")
    };
    let run = hold(format!(
        "{exe} run --backend {} --osc 127.0.0.1:{port}",
        args.backend
    ));
    let status = format!("{exe} status --watch --port {port}");
    let say = hold(format!(
        "{exe} status --wait 30 --port {port} >/dev/null; {exe} say --port {port}"
    ));
    let run_pane = tmux(&[
        "new-session",
        "-d",
        "-s",
        session,
        "-n",
        "jam",
        "-x",
        "160",
        "-y",
        "48",
        "-P",
        "-F",
        "#{pane_id}",
        &run,
    ])?;
    let say_pane = tmux(&[
        "split-window",
        "-v",
        "-l",
        "30%",
        "-t",
        &run_pane,
        "-P",
        "-F",
        "#{pane_id}",
        &say,
    ])?;
    let status_pane = tmux(&[
        "split-window",
        "-h",
        "-l",
        "45%",
        "-t",
        &run_pane,
        "-P",
        "-F",
        "#{pane_id}",
        &status,
    ])?;
    for (pane, title) in [
        (&run_pane, "synth"),
        (&say_pane, "say"),
        (&status_pane, "status"),
    ] {
        tmux(&["select-pane", "-t", pane, "-T", title])?;
    }
    tmux(&["select-pane", "-t", &say_pane])?;
    println!("chronus jam: tmux session '{session}' is up: synth (top left), status (top right), say (bottom; type there).");
    println!(
        "OSC on 127.0.0.1:{port}; from another terminal: chronus send --port {port} /gate/adsr on"
    );
    if args.attach {
        let status = Command::new("tmux")
            .args(["attach-session", "-t", session])
            .status()
            .context("cannot attach to tmux")?;
        if !status.success() {
            bail!("tmux attach failed: join with `tmux attach -t {session}`");
        }
    } else {
        println!("join it: tmux attach -t {session}      end it: tmux kill-session -t {session}");
    }
    Ok(())
}
