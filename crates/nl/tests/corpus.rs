//! The phrase corpus: phrases written the way people talk, each with the intent it must produce,
//! checked by what the plan does (a frequency within 0.05 Hz, the direction of a change, which
//! route), not by its exact messages (those are the golden table's job, `phrases.rs`).
//!
//! `corpus/main.txt` must be understood in full. `corpus/heldout.txt` was written before the
//! parser was changed and never tuned against: its score is printed
//! (`cargo test -p chronus-nl --test corpus -- --nocapture`), and only its refusals (nonsense
//! must never become a change) are asserted.
//!
//! A line is `[setup >> ...] phrase => expectation; expectation`. Each setup phrase is planned
//! first (from the default context); the expectations are checked on the last phrase, against
//! the context just before it:
//!
//! | expectation | holds when |
//! |---|---|
//! | `note N` | the last note is MIDI N and `sine.freq` within 0.05 Hz of it (A4 = 440 Hz) |
//! | `freq HZ` | `sine.freq` within 0.05 Hz of HZ |
//! | `chord N N N` | `/note/on` for exactly these notes |
//! | `FIELD up` / `FIELD down` | the field rose / fell (gain, cutoff, q, attack, release, lfo_rate, lfo_depth, reverb_mix, reverb_size, delay_mix, bpm, a4, freq, glide, swing, pan, spread, reverb_width) |
//! | `FIELD X` | the field is X (within 0.005) |
//! | `shape N` | the wave shape is N |
//! | `route T` / `route none` | the LFO is routed to T / nowhere |
//! | `sync X` | `/mod/delay/sync X` is sent |
//! | `sent MESSAGE` | this message is sent (`sent /voices 8 poly`) |
//! | `gate on` / `gate off` | `/gate/adsr on` / `off` is sent |
//! | `seq start` / `seq stop` | `/seq/start` / `/seq/stop` is sent |
//! | `answer TEXT` | nothing is sent and the answer says TEXT |
//! | `refused` | not understood: an error, nothing sent, the context unchanged |
//! | `ambiguous` | refused as ambiguous, with the readings offered |

use chronus_nl::{plan, Context, NlError, Plan};

/// One line of a corpus file.
struct Case {
    line: usize,
    setup: Vec<String>,
    phrase: String,
    expect: Vec<String>,
}

fn read(name: &str) -> Vec<Case> {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (phrases, expect) = line
            .split_once(" => ")
            .unwrap_or_else(|| panic!("{name}:{}: no ' => ' in {line:?}", i + 1));
        let mut phrases: Vec<String> = phrases.split(" >> ").map(str::to_owned).collect();
        let phrase = phrases.pop().unwrap_or_default();
        cases.push(Case {
            line: i + 1,
            setup: phrases,
            phrase,
            expect: expect.split(';').map(|e| e.trim().to_owned()).collect(),
        });
    }
    cases
}

fn field(ctx: &Context, name: &str) -> Option<f32> {
    Some(match name {
        "gain" => ctx.gain,
        "cutoff" => ctx.cutoff,
        "q" => ctx.q,
        "attack" => ctx.attack,
        "release" => ctx.release,
        "lfo_rate" => ctx.lfo_rate,
        "lfo_depth" => ctx.lfo_depth,
        "reverb_mix" => ctx.reverb_mix,
        "reverb_size" => ctx.reverb_size,
        "delay_mix" => ctx.delay_mix,
        "bpm" => ctx.bpm,
        "a4" => ctx.a4,
        "freq" => ctx.freq,
        "glide" => ctx.glide,
        "swing" => ctx.swing,
        "pan" => ctx.pan,
        "spread" => ctx.spread,
        "reverb_width" => ctx.reverb_width,
        _ => return None,
    })
}

fn sent(plan: &Plan, text: &str) -> bool {
    plan.messages.iter().any(|m| m.to_string() == text)
}

/// Checks one expectation; `Err` says what was found instead.
fn check(
    expect: &str,
    before: &Context,
    after: &Context,
    result: &Result<Plan, NlError>,
) -> Result<(), String> {
    let words: Vec<&str> = expect.split_whitespace().collect();
    let plan = match (words.as_slice(), result) {
        (["refused"], Err(NlError::NotUnderstood { .. })) if after == before => return Ok(()),
        (["ambiguous"], Err(NlError::Ambiguous { .. })) if after == before => return Ok(()),
        (_, Err(e)) => return Err(format!("{e}")),
        (["refused" | "ambiguous"], Ok(p)) => return Err(format!("planned {:?}", p.messages)),
        (_, Ok(p)) => p,
    };
    let shown = || {
        let m: Vec<String> = plan.messages.iter().map(|m| m.to_string()).collect();
        format!("{m:?} {:?}", plan.explanation)
    };
    let ok = match words.as_slice() {
        ["note", n] => {
            let n: i32 = n.parse().map_err(|_| format!("bad note {n}"))?;
            let hz = 440.0 * 2f32.powf((n - 69) as f32 / 12.0);
            after.last_note == Some(n) && (after.freq - hz).abs() < 0.05
        }
        ["freq", hz] => {
            let hz: f32 = hz.parse().map_err(|_| format!("bad freq {hz}"))?;
            (after.freq - hz).abs() < 0.05
        }
        ["chord", notes @ ..] => {
            let on: Vec<String> = plan
                .messages
                .iter()
                .filter(|m| m.address == "/note/on")
                .map(|m| m.args[0].to_string())
                .collect();
            on == notes.iter().map(|n| n.to_string()).collect::<Vec<_>>()
        }
        ["shape", n] => after.shape.to_string() == *n,
        ["route", "none"] => after.lfo_target.is_none(),
        ["route", target] => after.lfo_target.as_deref() == Some(*target),
        ["sync", v] => sent(plan, &format!("/mod/delay/sync {v}")),
        ["sent", message @ ..] => sent(plan, &message.join(" ")),
        ["gate", on] => sent(plan, &format!("/gate/adsr {on}")),
        ["seq", what] => sent(plan, &format!("/seq/{what}")),
        ["answer", text @ ..] => {
            let text = text.join(" ").to_lowercase();
            plan.messages.is_empty()
                && plan
                    .explanation
                    .iter()
                    .any(|e| e.to_lowercase().contains(&text))
        }
        [name, how] => {
            let (Some(b), Some(a)) = (field(before, name), field(after, name)) else {
                return Err(format!("unknown expectation {expect:?}"));
            };
            match *how {
                "up" => a > b,
                "down" => a < b,
                v => {
                    let v: f32 = v.parse().map_err(|_| format!("bad value in {expect:?}"))?;
                    (a - v).abs() < 0.005
                }
            }
        }
        _ => return Err(format!("unknown expectation {expect:?}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("not {expect:?}: {}", shown()))
    }
}

/// Runs a corpus file; returns the failures, one line each.
fn run(name: &str) -> (usize, Vec<String>) {
    let cases = read(name);
    let mut failures = Vec::new();
    for case in &cases {
        let mut ctx = Context::default();
        for s in &case.setup {
            if let Err(e) = plan(s, &mut ctx) {
                failures.push(format!("{name}:{}: setup {s:?}: {e}", case.line));
            }
        }
        let before = ctx.clone();
        let result = plan(&case.phrase, &mut ctx);
        for e in &case.expect {
            if let Err(why) = check(e, &before, &ctx, &result) {
                failures.push(format!("{name}:{}: {:?}: {why}", case.line, case.phrase));
                break;
            }
        }
    }
    (cases.len(), failures)
}

#[test]
fn the_main_corpus_is_understood_in_full() {
    let start = std::time::Instant::now();
    let (n, failures) = run("main.txt");
    // How fast a phrase is read (printed, not asserted: the machines are shared).
    println!(
        "main.txt: {n} phrases (with their setups) in {:?}: {:.0} µs a line",
        start.elapsed(),
        start.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    assert!(n >= 450, "{n} phrases: the corpus is at least 450 lines");
    assert!(
        failures.is_empty(),
        "{} of {n} phrases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn held_out_score() {
    score("heldout.txt");
    score("heldout-late.txt");
}

fn score(name: &str) {
    let (n, failures) = run(name);
    println!(
        "{name}: {} of {n} understood as meant ({:.0} %)",
        n - failures.len(),
        100.0 * (n - failures.len()) as f32 / n as f32
    );
    for f in &failures {
        println!("  {f}");
    }
    // Nonsense is never mapped to a change, held out or not.
    let refusals: Vec<&String> = failures.iter().filter(|f| f.contains("planned")).collect();
    assert!(refusals.is_empty(), "nonsense made a plan: {refusals:?}");
}
