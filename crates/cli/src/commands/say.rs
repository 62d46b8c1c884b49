//! `chronus say`: plain language to OSC, sent to a running chronus.

use super::send::{port, Client};
use anyhow::{Context as _, Result};
use chronus_nl::{plan, Context, Value};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, SystemTime};

/// Arguments of `chronus say`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
EXAMPLES
  chronus say \"play A4, a bit brighter, with vibrato\"
  chronus say --dry-run \"techno bass, wobble\"      print the OSC, send nothing
  chronus say --json \"play C4\"
  chronus say                                       one phrase per line (a tmux pane)
  printf 'play C4\\nup a fifth\\n' | chronus say

See docs/nl.md for every phrase chronus understands.")]
pub struct SayArgs {
    /// What to play, in plain language (no text: read phrases line by line).
    text: Vec<String>,
    /// Only print the plan; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Host of the chronus OSC server.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port [default: $CHRONUS_OSC_PORT or 5005].
    #[arg(long)]
    port: Option<u16>,
}

fn to_osc(v: &Value) -> OscType {
    match v {
        Value::Float(f) => OscType::Float(*f),
        Value::Int(i) => OscType::Int(*i),
        Value::Str(s) => OscType::String(s.clone()),
    }
}

/// Where a `/get` reply goes in the context.
type Field = (&'static str, &'static str, fn(&mut Context, f32));

/// Asks the server for the values the phrases build on (best effort).
fn refresh(client: &mut Client, ctx: &mut Context) {
    let fields: [Field; 7] = [
        ("sine", "freq", |c, v| c.freq = v),
        ("sine", "gain", |c, v| c.gain = v),
        ("filter", "cutoff", |c, v| c.cutoff = v),
        ("filter", "q", |c, v| c.q = v),
        ("adsr", "attack", |c, v| c.attack = v),
        ("adsr", "release", |c, v| c.release = v),
        ("lfo", "freq", |c, v| c.lfo_rate = v),
    ];
    for (module, param, apply) in fields {
        let ask = OscMessage {
            addr: "/get".into(),
            args: vec![
                OscType::String(module.into()),
                OscType::String(param.into()),
            ],
        };
        if client.send(&OscPacket::Message(ask)).is_err() {
            return;
        }
        match client.receive() {
            Ok(r) if r.addr == "/value" => {
                if let Some(OscType::Float(v)) = r.args.get(2) {
                    apply(ctx, *v);
                }
            }
            _ => return,
        }
    }
}

fn say_one(
    text: &str,
    args: &SayArgs,
    ctx: &mut Context,
    client: Option<&mut Client>,
) -> Result<()> {
    let p = match plan(text, ctx) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chronus: {e}; nothing sent");
            return Ok(());
        }
    };
    if args.json {
        println!("{}", p.to_json());
    } else {
        for m in &p.messages {
            println!("  {m}");
        }
        for e in &p.explanation {
            println!("  # {e}");
        }
    }
    let Some(client) = client else { return Ok(()) };
    let now = SystemTime::now();
    for m in &p.messages {
        let message = OscMessage {
            addr: m.address.clone(),
            args: m.args.iter().map(to_osc).collect(),
        };
        let packet = if m.at_ms == 0 {
            OscPacket::Message(message)
        } else {
            // Gradual changes: a bundle per step, timetagged, so chronus plays them on time.
            let at = now + Duration::from_millis(u64::from(m.at_ms));
            OscPacket::Bundle(OscBundle {
                timetag: OscTime::try_from(at).unwrap_or(OscTime::from((0, 1))),
                content: vec![OscPacket::Message(message)],
            })
        };
        client.send(&packet)?;
    }
    Ok(())
}

/// Runs `chronus say`.
pub fn run(args: SayArgs) -> Result<()> {
    let mut ctx = Context::default();
    let mut client = if args.dry_run {
        None
    } else {
        let mut c = Client::connect(
            &args.host,
            port(args.port)?,
            false,
            Duration::from_millis(300),
        )
        .context("cannot reach chronus")?;
        refresh(&mut c, &mut ctx);
        Some(c)
    };
    if !args.text.is_empty() {
        return say_one(&args.text.join(" "), &args, &mut ctx, client.as_mut());
    }
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    if interactive {
        eprintln!(
            "chronus say: type what you want to hear (\"play A4, with vibrato\"); Ctrl-D to leave."
        );
    }
    let mut line = String::new();
    loop {
        if interactive {
            eprint!("chronus> ");
            let _ = std::io::stderr().flush();
        }
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if matches!(text, "quit" | "exit" | "bye") {
            break;
        }
        say_one(text, &args, &mut ctx, client.as_mut())?;
    }
    Ok(())
}
