//! A fuzzing harness on stable Rust, shared by the crates' `fuzz` tests.
//!
//! For a target named `NAME` it replays every file of `fuzz/corpus/NAME/` (the corpus kept in
//! the repository: seeds and every input that ever crashed), then feeds the check mutations of
//! the corpus (bit flips, new bytes, cuts, repeats, splices) and plain random inputs until the
//! time budget runs out: `CHRONUS_FUZZ_SECONDS` per target, or the target's default. A panic is
//! a failure: the input is written out and shown in hex, to be added to the corpus.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The corpus folder of a target.
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: fast, and reproducible from the seed printed at the start.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    let mut v = if corpus.is_empty() || rng.below(8) == 0 {
        (0..rng.below(64)).map(|_| rng.next() as u8).collect()
    } else {
        corpus[rng.below(corpus.len())].clone()
    };
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = [0, 0xff, 0x7f, 0x80, b'/', b',', 0x2c, b'#'][rng.below(8)];
            }
            2 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                v.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                let piece = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, piece);
            }
            5 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            _ => v.truncate(rng.below(len + 1)),
        }
    }
    v.truncate(max_len);
    v
}

/// Runs `check` on the corpus of `target`, then on mutations for the time budget.
#[allow(dead_code)] // each test binary uses one of the two entry points
pub fn fuzz(target: &str, default_seconds: f64, max_len: usize, check: impl FnMut(&[u8])) {
    fuzz_inner(target, default_seconds, max_len, None, check)
}

/// As [`fuzz`], with a progress oracle: an input on which `check` has not returned within
/// `deadline` is a failure too (a hang: it is saved and shown, and the test process exits).
#[allow(dead_code)]
pub fn fuzz_with_deadline(
    target: &str,
    default_seconds: f64,
    max_len: usize,
    deadline: Duration,
    check: impl FnMut(&[u8]),
) {
    fuzz_inner(target, default_seconds, max_len, Some(deadline), check)
}

/// The input being checked and since when, for the watchdog of [`fuzz_with_deadline`].
type Current = std::sync::Arc<std::sync::Mutex<Option<(Instant, Vec<u8>)>>>;

/// Watches `current`: exits the process when one input runs past `deadline`.
fn watchdog(target: &str, deadline: Duration, current: Current) {
    let target = target.to_owned();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(50));
        let guard = current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((since, input)) = guard.as_ref() {
            if since.elapsed() > deadline {
                let path = std::env::temp_dir().join(format!("chronus-fuzz-{target}-hang.bin"));
                let _ = std::fs::write(&path, input);
                let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
                eprintln!(
                    "fuzz target {target} hangs: no return within {deadline:?} on {} bytes, \
                     saved to {}: {hex}\nadd it to fuzz/corpus/{target}/ and fix the code",
                    input.len(),
                    path.display()
                );
                std::process::exit(101);
            }
        }
    });
}

fn fuzz_inner(
    target: &str,
    default_seconds: f64,
    max_len: usize,
    deadline: Option<Duration>,
    mut check: impl FnMut(&[u8]),
) {
    let current: Current = Default::default();
    if let Some(d) = deadline {
        watchdog(target, d, current.clone());
    }
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(corpus_dir(target))
        .map(|dir| {
            let mut files: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
            files.sort();
            files
                .into_iter()
                .filter_map(|p| std::fs::read(p).ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !corpus.is_empty(),
        "no corpus for {target} in {:?}",
        corpus_dir(target)
    );
    let seconds = std::env::var("CHRONUS_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(default_seconds);
    let seed = std::env::var("CHRONUS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let mut rng = Rng(seed);
    let mut run = |input: &[u8]| {
        if deadline.is_some() {
            *current.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((Instant::now(), input.to_vec()));
        }
        let result = catch_unwind(AssertUnwindSafe(|| check(input)));
        if deadline.is_some() {
            *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        if result.is_err() {
            let path = std::env::temp_dir().join(format!("chronus-fuzz-{target}-crash.bin"));
            let _ = std::fs::write(&path, input);
            let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
            panic!(
                "fuzz target {target} crashed on {} bytes (seed {seed}), saved to {}: {hex}\n\
                 add it to fuzz/corpus/{target}/ and fix the code",
                input.len(),
                path.display()
            );
        }
    };
    for input in corpus.clone() {
        run(&input);
    }
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut runs = corpus.len() as u64;
    while Instant::now() < end {
        let input = mutate(&mut rng, &corpus, max_len);
        run(&input);
        runs += 1;
        // Keep a few mutants around as parents: deeper inputs over time.
        if rng.below(64) == 0 && corpus.len() < 4_096 {
            corpus.push(input);
        }
    }
    println!("fuzz {target}: {runs} inputs in {seconds} s (seed {seed}), no crash");
}
