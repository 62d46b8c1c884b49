//! `chronus devices`: every backend's devices or ports, as a table or JSON.

use anyhow::Result;

/// Arguments of `chronus devices`.
#[derive(Debug, clap::Args)]
pub struct DevicesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One playable destination.
struct Device {
    backend: &'static str,
    name: String,
    description: String,
    default: bool,
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// Which pushes come before the last one depends on the backends built in.
#[allow(clippy::vec_init_then_push)]
fn collect() -> Vec<Device> {
    let mut v = Vec::new();
    #[cfg(feature = "jack")]
    match chronus_backend_jack::JackBackend::open(
        "chronus-devices",
        chronus_backend_jack::Connect::Nothing,
    ) {
        Ok(jack) => {
            let rate = jack.sample_rate();
            let period = jack.buffer_size();
            for (name, input) in jack.ports() {
                if input {
                    v.push(Device {
                        backend: "jack",
                        default: name.starts_with("system:playback"),
                        description: format!("JACK port ({rate} Hz, period {period})"),
                        name,
                    });
                }
            }
            for name in jack.midi_sources() {
                v.push(Device {
                    backend: "midi",
                    default: false,
                    description: "JACK MIDI source (chronus run --midi jack --midi-connect NAME)"
                        .into(),
                    name,
                });
            }
        }
        Err(e) => v.push(Device {
            backend: "jack",
            name: "-".into(),
            description: e.to_string(),
            default: false,
        }),
    }
    #[cfg(feature = "alsa")]
    for (name, description) in chronus_backend_alsa::midi::sources() {
        v.push(Device {
            backend: "midi",
            default: false,
            description: format!(
                "ALSA MIDI source {description} (chronus run --midi alsa --midi-connect NAME)"
            ),
            name,
        });
    }
    #[cfg(feature = "alsa")]
    for (name, description) in chronus_backend_alsa::devices() {
        v.push(Device {
            backend: "alsa",
            default: name == "default",
            name,
            description,
        });
    }
    #[cfg(feature = "cpal")]
    for d in chronus_backend_cpal::devices() {
        v.push(Device {
            backend: "cpal",
            description: format!("{} (cpal, --cpal-host {})", d.description, d.host),
            name: d.name,
            default: d.default,
        });
    }
    v.push(Device {
        backend: "null",
        name: "null".into(),
        description: "real-time clock, no device (always there; --record to a WAV)".into(),
        default: false,
    });
    v
}

/// Runs `chronus devices`.
pub fn run(args: DevicesArgs) -> Result<()> {
    let devices = collect();
    if args.json {
        let items: Vec<String> = devices
            .iter()
            .map(|d| {
                format!(
                    "{{\"backend\":{},\"name\":{},\"description\":{},\"default\":{}}}",
                    json_string(d.backend),
                    json_string(&d.name),
                    json_string(&d.description),
                    d.default
                )
            })
            .collect();
        println!("[{}]", items.join(","));
        return Ok(());
    }
    let width = devices
        .iter()
        .map(|d| d.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("  {:<7} {:<width$}  description", "backend", "name");
    for d in &devices {
        println!(
            "{} {:<7} {:<width$}  {}",
            if d.default { "*" } else { " " },
            d.backend,
            d.name,
            d.description
        );
    }
    println!("\n* = default. Play on one with: chronus run --backend jack --connect NAME, or --backend alsa --device NAME; take MIDI from a midi one with --midi jack --midi-connect NAME");
    Ok(())
}
