//! `chronus bench` as a user runs it: the failover benchmark shows a progress bar and its table
//! (the engine's log lines only with -v), its matrix puts every fault kind into every target,
//! and the OSC benchmark measures with the rate limit off, says so, and then measures the
//! limit's effect.

mod support;

use std::process::Output;

fn bench(args: &[&str]) -> Output {
    let out = support::chronus().arg("bench").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "chronus bench {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn failover_prints_its_table_and_the_log_lines_only_at_verbose() {
    let out = bench(&["failover", "--kills", "3"]);
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    for row in [
        "lost samples (all kills)",
        "detection, median",
        "replacement ready, median",
    ] {
        assert!(text.contains(row), "no '{row}' row: {text}");
    }
    let log_lines = |e: &str| e.lines().filter(|l| l.contains("worker")).count();
    assert_eq!(log_lines(&err), 0, "log lines without -v: {err}");
    let out = bench(&["-v", "failover", "--kills", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    // Each kill is logged at -v: the death, then the replacement.
    assert!(log_lines(&err) >= 6, "{err}");
}

#[test]
fn failover_matrix_puts_every_fault_into_every_target() {
    support::stalls::again_if_the_machine_stalled(|| {
        let out = bench(&["failover", "--matrix", "--kills", "2"]);
        let text = String::from_utf8_lossy(&out.stdout);
        println!("{text}");
        for kind in ["crash", "panic", "hang", "nan"] {
            for target in ["active", "standby", "both", "command"] {
                let row = text
                    .lines()
                    .find(|l| l.split_whitespace().take(2).eq([kind, target]))
                    .unwrap_or_else(|| panic!("no {kind} {target} row: {text}"));
                let lost: f64 = row.split_whitespace().nth(2).unwrap().parse().unwrap();
                let spurious = row.split_whitespace().last().unwrap();
                // One worker at a time loses nothing, nor does a poison command (its follower
                // passes over it, or puts it off when its leader hangs in it); both at once lose
                // a few ms, counted.
                if target != "both" {
                    assert_eq!(lost, 0.0, "{row}");
                }
                assert_eq!(spurious, "0", "{row}");
            }
        }
        // A command the leader is late with (not hung): nothing lost, no fault, nothing
        // quarantined, the follower resynced each time.
        let late = text
            .lines()
            .find(|l| l.starts_with("a command the leading worker is"))
            .unwrap_or_else(|| panic!("no late row: {text}"));
        let figures: Vec<u64> = late
            .split(':')
            .nth(1)
            .unwrap()
            .split(',')
            .take(4)
            .map(|f| f.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(figures, [0, 0, 0, 2], "{late}");
    });
}

#[test]
fn osc_measures_with_the_rate_limit_off_and_reports_its_effect() {
    let out = bench(&["osc", "--seconds", "0.2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rate limit off"), "{text}");
    // 50,000 msg/s (past the default limit of 20,000) is on the ladder and gets through whole.
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("50000 "))
        .unwrap_or_else(|| panic!("no 50,000/s row: {text}"));
    assert!(row.ends_with(" ok"), "{row}");
    // The limit at its default: 40,000 msg/s for 3 s against 20,000/s and a second's burst:
    // at least a third refused, counted, and the sender told.
    let line = text
        .lines()
        .find(|l| l.starts_with("rate limit (default 20000"))
        .unwrap_or_else(|| panic!("no rate-limit line: {text}"));
    let number_before = |word: &str| -> u64 {
        let head = &line[..line.find(word).unwrap()];
        head.split_whitespace().last().unwrap().parse().unwrap()
    };
    let (applied, refused) = (number_before(" applied"), number_before(" refused"));
    assert_eq!(applied + refused, 120_000, "{line}");
    assert!(refused >= 30_000 && applied >= 60_000, "{line}");
    assert!(!line.contains("told 0 time"), "{line}");
}

/// `chronus bench samples`: a 64 MB sample costs one copy of itself in the machine's shared
/// memory and none in the workers, and the replacements map it (the benchmark fails if one
/// does not).
#[test]
fn samples_measures_one_copy_and_replacements_with_it() {
    support::stalls::again_if_the_machine_stalled(|| {
        let out = bench(&["samples", "--megabytes", "64", "--kills", "3"]);
        let text = String::from_utf8_lossy(&out.stdout);
        println!("{text}");
        let figure = |row: &str| -> f64 {
            let line = text
                .lines()
                .find(|l| l.starts_with(row))
                .unwrap_or_else(|| panic!("no '{row}' row: {text}"));
            line[row.len()..]
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no figure in {line}"))
        };
        let copies = figure("memory it costs, in copies of the sample");
        assert!((0.95..1.5).contains(&copies), "{copies} copies");
        let workers = figure("workers' own memory, change");
        assert!(workers < 4_096.0, "the workers grew {workers} kB");
        let lost = text
            .lines()
            .find(|l| l.starts_with("lost samples, underruns"))
            .expect("a lost samples row");
        assert!(lost.trim_end().ends_with(" 0, 0"), "{lost}");
    });
}
