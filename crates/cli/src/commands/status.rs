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
    /// A live meter until q or Ctrl-C: peak and RMS bars, a spectrum, what sounds, faults
    /// flashing (redrawn 15 times a second; when not a terminal, the text every half second).
    #[arg(long)]
    watch: bool,
    /// Wait up to this many seconds for chronus to answer (for scripts that start it in the
    /// background: `chronus run & chronus status --wait 10`).
    #[arg(long, value_name = "SECONDS")]
    wait: Option<f64>,
}

/// What is sounding, for someone without speakers: the oscillator, envelope and filter.
fn sound_line(client: &mut Client, effects: bool) -> String {
    let v = |x: Option<f32>, unit: &str| x.map_or("?".to_owned(), |x| format!("{x:.1}{unit}"));
    let freq = client.get("sine", "freq");
    let gain = client.get("sine", "gain");
    let cutoff = client.get("filter", "cutoff");
    let (reverb, delay) = if effects {
        (client.get("reverb", "mix"), client.get("delay", "mix"))
    } else {
        (None, None)
    };
    let mut line = format!(
        "sound    sine {}  gain {}   filter {}",
        v(freq, " Hz"),
        gain.map_or("?".to_owned(), |g| format!("{g:.2}")),
        v(cutoff, " Hz"),
    );
    if let (Some(r), Some(d)) = (reverb, delay) {
        line.push_str(&format!("   reverb {r:.2}  delay {d:.2}"));
    }
    line.push('\n');
    line
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
pub(crate) fn pairs(m: &OscMessage) -> Vec<(String, String)> {
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
    // Each channel's peak, in dBFS (the meter's, falling 20 dB/s).
    let peaks: Vec<String> = (1..)
        .map_while(|c| {
            p.iter()
                .find(|(key, _)| *key == format!("peak.{c}"))
                .map(|(_, v)| v.parse::<f64>().unwrap_or(0.0))
        })
        .map(|v| {
            if v > 1e-6 {
                format!("{:.1}", 20.0 * v.log10())
            } else {
                "-inf".to_owned()
            }
        })
        .collect();
    if !peaks.is_empty() {
        out.push_str(&format!(
            "output   {} channel{}   peak {} dBFS\n",
            get("channels"),
            if get("channels") == "1" { "" } else { "s" },
            peaks.join(" / ")
        ));
    }
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
    let patience = Duration::from_millis(if args.wait.is_some() { 200 } else { 1000 });
    let mut client = Client::connect(&args.host, port, false, patience)?;
    let deadline = args
        .wait
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| std::time::Instant::now() + Duration::from_secs_f64(s));
    if args.watch && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return super::meter::watch(&mut client, |c| {
            let modules = c.modules();
            let effects = ["reverb", "delay"]
                .iter()
                .all(|m| modules.iter().any(|n| n == m));
            sound_line(c, effects)
        });
    }
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
            Err(_) if deadline.is_some_and(|d| std::time::Instant::now() < d) => continue,
            Err(e) => {
                return Err(e.context(format!(
                "no chronus answered at {}:{port} (start one with `chronus run`, or pass --port)",
                args.host
            )))
            }
        };
        if reply.addr != "/status.reply" {
            bail!("unexpected reply {}", super::send::show(&reply));
        }
        let modules = client.modules();
        let effects = ["reverb", "delay"]
            .iter()
            .all(|m| modules.iter().any(|n| n == m));
        let sound = sound_line(&mut client, effects);
        if args.watch {
            print!("\x1b[2J\x1b[H{}{sound}", render(&reply));
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            std::thread::sleep(Duration::from_millis(500));
        } else {
            print!("{}{sound}", render(&reply));
            return Ok(());
        }
    }
}
