//! `chronus status --watch` in a terminal: a live meter drawn with ratatui — peak and RMS bars
//! with peak hold, a one-line spectrum of the output, what sounds, and failovers and underruns
//! flashing as they happen — refreshed 15 times a second from `/meter` and `/status`.

use super::send::Client;
use anyhow::{Context as _, Result};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use rosc::{OscMessage, OscPacket, OscType};
use std::time::{Duration, Instant};

/// Frames a second.
const FPS: u64 = 15;
/// The bars' scale: -60..0 dBFS.
const FLOOR_DB: f64 = -60.0;
/// How long a peak is held, and a fault flashes.
const HOLD: Duration = Duration::from_millis(1500);
const FLASH: Duration = Duration::from_secs(2);

/// A `/meter.reply`, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeterReply {
    /// Per channel: (peak, rms), linear.
    pub channels: Vec<(f32, f32)>,
    /// Notes held and sounding.
    pub notes: (i32, i32),
    /// The pattern's step and length while it runs.
    pub step: Option<(i32, i32)>,
    /// The last samples played.
    pub scope: Vec<f32>,
}

/// Decodes a `/meter.reply`.
pub fn decode(m: &OscMessage) -> MeterReply {
    let mut r = MeterReply::default();
    let mut peaks = Vec::new();
    let mut rmss = Vec::new();
    let (mut step, mut steps) = (-1, 0);
    for pair in m.args.chunks(2) {
        let [OscType::String(k), v] = pair else {
            continue;
        };
        let f = match v {
            OscType::Float(f) => f64::from(*f),
            OscType::Int(i) => f64::from(*i),
            OscType::Long(i) => *i as f64,
            _ => 0.0,
        };
        match k.as_str() {
            "notes_held" => r.notes.0 = f as i32,
            "notes_sounding" => r.notes.1 = f as i32,
            "step" => step = f as i32,
            "steps" => steps = f as i32,
            "scope" => {
                if let OscType::Blob(b) = v {
                    r.scope = b
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                }
            }
            k if k.starts_with("peak.") => peaks.push(f as f32),
            k if k.starts_with("rms.") => rmss.push(f as f32),
            _ => {}
        }
    }
    r.channels = peaks.into_iter().zip(rmss).collect();
    r.step = (step >= 0).then_some((step, steps));
    r
}

fn db(x: f32) -> f64 {
    if x > 0.0 {
        20.0 * f64::from(x).log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// A bar of `width` cells for `level_db` on the -60..0 scale, with a hold mark.
fn bar(level_db: f64, hold_db: f64, width: usize) -> Vec<Span<'static>> {
    let cells =
        |d: f64| (((d - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0) * width as f64).round() as usize;
    let (fill, hold) = (cells(level_db), cells(hold_db).min(width.saturating_sub(1)));
    let mut spans = Vec::new();
    for i in 0..width {
        let db_here = FLOOR_DB + (i as f64 + 0.5) / width as f64 * -FLOOR_DB;
        let color = if db_here > -3.0 {
            Color::Red
        } else if db_here > -12.0 {
            Color::Yellow
        } else {
            Color::Green
        };
        let (ch, style) = if i < fill {
            ("█", Style::default().fg(color))
        } else if i == hold && hold_db > FLOOR_DB {
            ("│", Style::default().fg(color))
        } else {
            ("·", Style::default().fg(Color::DarkGray))
        };
        spans.push(Span::styled(ch, style));
    }
    spans
}

/// One line of `bands` characters: the spectrum of `samples`, 30 Hz to 16 kHz in log steps,
/// each band's loudest bin on ▁..█ over -72..0 dB (a full-scale sine reads 0 dB).
pub fn spectrum(samples: &[f32], sample_rate: f64, bands: usize) -> String {
    let n = samples.len();
    if n < 64 || bands == 0 {
        return " ".repeat(bands);
    }
    let mut planner = rustfft::FftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let window: Vec<f32> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
        .collect();
    let gain: f32 = window.iter().sum::<f32>() / 2.0;
    let mut buf: Vec<rustfft::num_complex::Complex<f32>> = samples
        .iter()
        .zip(&window)
        .map(|(x, w)| rustfft::num_complex::Complex::new(x * w, 0.0))
        .collect();
    fft.process(&mut buf);
    let bin_hz = sample_rate / n as f64;
    let (lo, hi) = (30f64, 16_000f64.min(sample_rate / 2.0));
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    (0..bands)
        .map(|b| {
            let f0 = lo * (hi / lo).powf(b as f64 / bands as f64);
            let f1 = lo * (hi / lo).powf((b + 1) as f64 / bands as f64);
            let (k0, k1) = (
                (f0 / bin_hz).floor() as usize,
                ((f1 / bin_hz).ceil() as usize).max(1),
            );
            let mag = buf[k0.min(n / 2)..k1.min(n / 2).max(k0.min(n / 2) + 1)]
                .iter()
                .map(|c| c.norm() / gain)
                .fold(0.0f32, f32::max);
            let d = db(mag);
            if d < -72.0 {
                ' '
            } else {
                LEVELS[(((d + 72.0) / 72.0 * 8.0) as usize).min(7)]
            }
        })
        .collect()
}

/// What the screen keeps between frames: peak holds and when faults last changed.
#[derive(Default)]
struct Holds {
    peak: Vec<(f64, Instant)>,
    faults: Option<(u64, u64)>,
    flash_until: Option<Instant>,
}

fn status_value(status: &[(String, String)], key: &str) -> String {
    status
        .iter()
        .find(|(k, _)| k == key)
        .map_or("?".to_owned(), |(_, v)| v.clone())
}

fn ask(client: &mut Client, addr: &str) -> Option<OscMessage> {
    client
        .send(&OscPacket::Message(OscMessage {
            addr: addr.into(),
            args: vec![],
        }))
        .ok()?;
    // Skip anything else that arrives (an /error, a stray reply).
    for _ in 0..4 {
        match client.receive() {
            Ok(m) if m.addr == format!("{addr}.reply") => return Some(m),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
    None
}

/// Draws the meter until q, Esc or Ctrl-C. `sound` gives the "what the patch plays" line.
pub fn watch(client: &mut Client, mut sound: impl FnMut(&mut Client) -> String) -> Result<()> {
    let mut terminal = ratatui::try_init().context("cannot draw on this terminal")?;
    let result = run(&mut terminal, client, &mut sound);
    ratatui::restore();
    result
}

fn run(
    terminal: &mut ratatui::DefaultTerminal,
    client: &mut Client,
    sound: &mut impl FnMut(&mut Client) -> String,
) -> Result<()> {
    let mut holds = Holds::default();
    let mut status: Vec<(String, String)> = Vec::new();
    let mut sound_text = String::new();
    let mut slow_at = Instant::now() - Duration::from_secs(1);
    loop {
        let frame_start = Instant::now();
        let meter = ask(client, "/meter").map(|m| decode(&m));
        if slow_at.elapsed() >= Duration::from_millis(500) {
            if let Some(s) = ask(client, "/status") {
                status = super::status::pairs(&s);
            }
            sound_text = sound(client).trim_end().to_owned();
            slow_at = Instant::now();
        }
        let lines = screen(
            meter.as_ref(),
            &status,
            &sound_text,
            &mut holds,
            terminal.size()?.width,
        );
        terminal.draw(|f| f.render_widget(Paragraph::new(lines), f.area()))?;
        let frame = Duration::from_millis(1000 / FPS);
        let wait = frame.saturating_sub(frame_start.elapsed());
        if event::poll(wait)? {
            if let Event::Key(k) = event::read()? {
                let ctrl_c =
                    k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                if k.kind == KeyEventKind::Press
                    && (ctrl_c || matches!(k.code, KeyCode::Char('q') | KeyCode::Esc))
                {
                    return Ok(());
                }
            }
        }
    }
}

fn screen(
    meter: Option<&MeterReply>,
    status: &[(String, String)],
    sound: &str,
    holds: &mut Holds,
    width: u16,
) -> Vec<Line<'static>> {
    let get = |k: &str| status_value(status, k);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from(vec![
        Span::styled("chronus", bold),
        Span::raw(format!(
            "  {} Hz  block {}  lookahead {}   workers {} alive (active {})",
            get("sample_rate"),
            get("block"),
            get("lookahead"),
            get("workers_alive"),
            get("active")
        )),
    ])];
    let Some(m) = meter else {
        lines.push(Line::from(
            "no answer from chronus (is `chronus run` running, on this port?); retrying…",
        ));
        return lines;
    };
    let now = Instant::now();
    let bar_width = usize::from(width).saturating_sub(34).clamp(10, 60);
    holds
        .peak
        .resize(m.channels.len(), (f64::NEG_INFINITY, now));
    for (c, &(peak, rms)) in m.channels.iter().enumerate() {
        let (p, r) = (db(peak), db(rms));
        let hold = &mut holds.peak[c];
        if p >= hold.0 || hold.1.elapsed() > HOLD {
            *hold = (p, now);
        }
        let label = |name: &str| {
            if m.channels.len() > 1 {
                format!("{name} {}  ", c + 1)
            } else {
                format!("{name}  ")
            }
        };
        let fmt = |d: f64| {
            if d.is_finite() {
                format!("{d:6.1} dBFS")
            } else {
                "  -inf dBFS".to_owned()
            }
        };
        let mut spans = vec![Span::raw(label("peak"))];
        spans.extend(bar(p, hold.0, bar_width));
        spans.push(Span::raw(format!(" {}  hold {}", fmt(p), fmt(hold.0))));
        lines.push(Line::from(spans));
        let mut spans = vec![Span::raw(label("rms "))];
        spans.extend(bar(r, f64::NEG_INFINITY, bar_width));
        spans.push(Span::raw(format!(" {}", fmt(r))));
        lines.push(Line::from(spans));
    }
    let rate: f64 = get("sample_rate").parse().unwrap_or(48_000.0);
    lines.push(Line::from(vec![
        Span::raw("spectrum "),
        Span::styled(
            spectrum(&m.scope, rate, bar_width),
            Style::default().fg(Color::Cyan),
        ),
        Span::raw("  30 Hz … 16 kHz"),
    ]));
    let step = m.step.map_or("pattern stopped".to_owned(), |(s, l)| {
        format!("pattern step {}/{}", s + 1, l)
    });
    lines.push(Line::from(format!(
        "sounds   {} notes held ({} sounding)   {step}",
        m.notes.0, m.notes.1
    )));
    let faults: (u64, u64) = (
        get("failovers").parse().unwrap_or(0),
        get("underruns").parse().unwrap_or(0),
    );
    if holds.faults.is_some_and(|f| f != faults) {
        holds.flash_until = Some(now + FLASH);
    }
    holds.faults = Some(faults);
    let flash = holds.flash_until.is_some_and(|t| now < t);
    let fault_style = if flash {
        Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    lines.push(Line::from(vec![
        Span::raw("faults   "),
        Span::styled(
            format!(
                "failovers {}   respawns {}   underruns {} ({} samples lost)   xruns {}",
                get("failovers"),
                get("respawns"),
                get("underruns"),
                get("lost_samples"),
                get("xruns")
            ),
            fault_style,
        ),
    ]));
    lines.push(Line::from(format!(
        "control  {} messages   {} applied   {} errors   {} late bundles",
        get("messages"),
        get("applied"),
        get("errors"),
        get("late_bundles")
    )));
    lines.push(Line::from(sound.to_owned()));
    lines.push(Line::styled(
        "q: quit",
        Style::default().fg(Color::DarkGray),
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spectrum_shows_a_tone_in_its_band_and_nothing_far_from_it() {
        let tone: Vec<f32> = (0..1024)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 1_000.0 * i as f32 / 48_000.0).sin())
            .collect();
        let line = spectrum(&tone, 48_000.0, 32);
        assert_eq!(line.chars().count(), 32);
        // 1 kHz sits at log(1000/30)/log(16000/30) = 0.558 of the way: band 17.
        let band = line.chars().nth(17).unwrap();
        assert!(matches!(band, '▇' | '█'), "{line}");
        assert_eq!(line.chars().next(), Some(' '), "{line}");
        assert_eq!(spectrum(&[0.0; 1024], 48_000.0, 8), "        ");
    }

    #[test]
    fn bars_fill_to_the_level() {
        let cells = bar(-30.0, -6.0, 20);
        let filled = cells.iter().filter(|s| s.content == "█").count();
        assert_eq!(filled, 10);
        assert_eq!(cells[18].content, "│");
    }
}
