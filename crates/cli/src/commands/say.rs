//! `chronus say`: plain language to OSC, sent to a running chronus.

use super::send::{port, Client};
use anyhow::{Context as _, Result};
use chronus_nl::{plan, Context, Value};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::io::{BufRead, IsTerminal};
use std::time::{Duration, SystemTime};

/// Arguments of `chronus say`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
EXAMPLES
  chronus say \"play A4, a bit brighter, with vibrato\"
  chronus say --dry-run \"techno bass, wobble\"      print the OSC, send nothing
  chronus say --json \"play C4\"
  chronus say \"what note is that?\"                  asks the server (/get), sends nothing
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

/// Asks the server for the values the phrases build on (best effort: what does not answer
/// keeps its default).
fn refresh(client: &mut Client, ctx: &mut Context) {
    let client = std::cell::RefCell::new(client);
    ctx.refresh(
        |module, param| client.borrow_mut().get(module, param),
        || client.borrow_mut().modules(),
    );
}

/// Plans one phrase and sends it; `Ok(false)` when it was not understood (said on stderr,
/// nothing sent).
fn say_one(
    text: &str,
    args: &SayArgs,
    ctx: &mut Context,
    mut client: Option<&mut Client>,
) -> Result<bool> {
    // A question is answered from the synth as it is now, not from what was last asked for.
    if chronus_nl::asks(text) {
        if let Some(c) = client.as_deref_mut() {
            refresh(c, ctx);
        }
    }
    let p = match plan(text, ctx) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chronus: {e}; nothing sent");
            return Ok(false);
        }
    };
    if args.json {
        println!("{}", p.to_json());
    } else if let Some(answer) = &p.answer {
        println!("{answer}");
    } else {
        for m in &p.messages {
            println!("  {m}");
        }
        for e in &p.explanation {
            println!("  # {e}");
        }
    }
    let Some(client) = client else {
        return Ok(true);
    };
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
    Ok(true)
}

/// Where the phrases typed at the prompt are kept between sessions.
fn history_file() -> Option<std::path::PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".local/state"))
        })?;
    Some(state.join("chronus").join("say_history"))
}

/// The prompt in a terminal: line editing (arrows, Ctrl-A/E, Ctrl-R search) and a history
/// kept across sessions.
fn interactive(args: &SayArgs, ctx: &mut Context, mut client: Option<&mut Client>) -> Result<()> {
    use rustyline::error::ReadlineError;
    let mut editor =
        rustyline::DefaultEditor::new().context("cannot set up line editing on this terminal")?;
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    eprintln!(
        "chronus say: type what you want to hear (\"play A4, with vibrato\"); up/down for history, Ctrl-D to leave."
    );
    loop {
        match editor.readline("chronus> ") {
            Ok(line) => {
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                if matches!(text, "quit" | "exit" | "bye") {
                    break;
                }
                let _ = editor.add_history_entry(text);
                // At the prompt a phrase not understood is explained and the prompt goes on.
                say_one(text, args, ctx, client.as_deref_mut())?;
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("reading the terminal"),
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    Ok(())
}

/// Runs `chronus say`. A phrase (or, from a pipe, any line) that is not understood makes it
/// exit with status 1, so scripts notice.
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
        if !say_one(&args.text.join(" "), &args, &mut ctx, client.as_mut())? {
            anyhow::bail!(
                "the phrase was not understood (see docs/nl.md for what chronus understands)"
            );
        }
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        return interactive(&args, &mut ctx, client.as_mut());
    }
    // A pipe: one phrase per line.
    let mut line = String::new();
    let stdin = std::io::stdin();
    let mut missed = 0usize;
    loop {
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
        if !say_one(text, &args, &mut ctx, client.as_mut())? {
            missed += 1;
        }
    }
    if missed > 0 {
        anyhow::bail!(
            "{missed} phrase(s) not understood (see docs/nl.md for what chronus understands)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chronus_engine::address::presets;

    /// `chronus say` keeps a preset's values in its context ("brighter" after "a warm pad"
    /// starts from the pad's cutoff): they must be the engine's preset's.
    #[test]
    fn the_phrases_presets_are_the_engines() {
        for p in chronus_nl::PRESETS {
            let engine = presets::built_in(p.name).unwrap_or_else(|| panic!("{}", p.name));
            let value = |kind: &str, param: &str| {
                engine
                    .settings
                    .iter()
                    .find(|(k, n, _)| k == kind && n == param)
                    .map(|s| s.2)
            };
            let name = p.name;
            assert_eq!(value("osc", "shape"), Some(p.shape as f32), "{name} shape");
            assert_eq!(value("osc", "gain"), Some(p.gain), "{name} gain");
            assert_eq!(value("filter", "cutoff"), Some(p.cutoff), "{name} cutoff");
            assert_eq!(value("filter", "q").unwrap_or(0.707), p.q, "{name} q");
            assert_eq!(value("adsr", "attack"), Some(p.attack), "{name} attack");
            assert_eq!(value("adsr", "release"), Some(p.release), "{name} release");
            assert_eq!(value("pan", "spread"), p.spread, "{name} spread");
            match p.lfo {
                Some((target, rate, depth)) => {
                    assert_eq!(value("lfo", "freq"), Some(rate), "{name} lfo");
                    assert_eq!(value("lfo", "depth"), Some(depth), "{name} lfo");
                    let (kind, param) = target.split_once('.').unwrap();
                    let kind = if kind == "sine" { "osc" } else { kind };
                    assert!(
                        engine
                            .routes
                            .iter()
                            .any(|r| r.0 == "lfo" && r.1 == kind && r.2 == param),
                        "{name}: the engine's preset routes the lfo to {target}"
                    );
                }
                None => assert!(engine.routes.iter().all(|r| r.0 != "lfo"), "{name}"),
            }
        }
    }
}
