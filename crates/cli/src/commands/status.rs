//! `chronus status`: the running synth's `/status.reply` as a table, once or live.

use super::send::{port, Client};
use anyhow::{bail, Result};
use rosc::{OscMessage, OscPacket, OscType};
use std::time::Duration;

/// Arguments of `chronus status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Host of the chronus OSC server.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port [default: $CHRONUS_OSC_PORT or 5005].
    #[arg(long)]
    port: Option<u16>,
    /// Refresh every half second until Ctrl-C (a meter for a tmux pane).
    #[arg(long)]
    watch: bool,
}

fn value(t: &OscType) -> String {
    match t {
        OscType::Int(i) => i.to_string(),
        OscType::Long(i) => i.to_string(),
        OscType::Float(f) => format!("{f}"),
        OscType::Double(d) => format!("{d:.3}"),
        OscType::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// The status as (key, value) pairs.
fn pairs(m: &OscMessage) -> Vec<(String, String)> {
    m.args
        .chunks(2)
        .filter_map(|c| match c {
            [OscType::String(k), v] => Some((k.clone(), value(v))),
            _ => None,
        })
        .collect()
}

fn render(m: &OscMessage) -> String {
    let p = pairs(m);
    let get = |k: &str| {
        p.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("?")
    };
    let mut out = String::new();
    out.push_str(&format!(
        "chronus  {} Hz  block {}  lookahead {}  up {} s\n",
        get("sample_rate"),
        get("block"),
        get("lookahead"),
        get("uptime")
    ));
    out.push_str(&format!(
        "workers  {} alive, active slot {}   failovers {}   respawns {}\n",
        get("workers_alive"),
        get("active"),
        get("failovers"),
        get("respawns")
    ));
    out.push_str(&format!(
        "audio    {} blocks played   underruns {} ({} samples lost)   xruns {}\n",
        get("played_blocks"),
        get("underruns"),
        get("lost_samples"),
        get("xruns")
    ));
    out.push_str(&format!(
        "control  {} messages   {} applied   {} errors   {} late bundles\n",
        get("messages"),
        get("applied"),
        get("errors"),
        get("late_bundles")
    ));
    out
}

/// Runs `chronus status`.
pub fn run(args: StatusArgs) -> Result<()> {
    let port = port(args.port)?;
    let mut client = Client::connect(&args.host, port, false, Duration::from_millis(1000))?;
    loop {
        client.send(&OscPacket::Message(OscMessage {
            addr: "/status".into(),
            args: vec![],
        }))?;
        let reply = match client.receive() {
            Ok(r) => r,
            Err(e) if args.watch => {
                print!("\x1b[2J\x1b[H");
                println!(
                    "chronus at {}:{port}: no answer ({e:#}); retrying…",
                    args.host
                );
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            Err(e) => return Err(e.context(format!("no chronus answered at {}:{port}", args.host))),
        };
        if reply.addr != "/status.reply" {
            bail!("unexpected reply {}", super::send::show(&reply));
        }
        if args.watch {
            print!("\x1b[2J\x1b[H{}", render(&reply));
            std::thread::sleep(Duration::from_millis(500));
        } else {
            print!("{}", render(&reply));
            return Ok(());
        }
    }
}
