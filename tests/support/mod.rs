//! Helpers shared by the end-to-end tests: the binary, scratch files, ports, WAV reading, and
//! a JACK server of the test's own.
#![allow(dead_code)]

pub mod osc;
pub mod stalls;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The chronus binary under test.
pub fn chronus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chronus"))
}

/// A file in this test process's scratch folder for `suite`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chronus-{suite}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A port nobody uses right now for UDP nor TCP (both bound and released), for `chronus run
/// --osc`, which binds both. It is drawn below the kernel's ephemeral range (32768 and up on
/// Linux): a port from that range, released, can be handed at once to some client socket's
/// implicit bind, and the synth then fails to start on it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    for attempt in 0u64..1_000 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(attempt);
        h.write_u32(std::process::id());
        let port = 20_000 + (h.finish() % 12_000) as u16;
        let udp = std::net::UdpSocket::bind(("127.0.0.1", port));
        let tcp = std::net::TcpListener::bind(("127.0.0.1", port));
        if udp.is_ok() && tcp.is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000 after 1,000 tries");
}

/// The samples of a float WAV file.
pub fn read_f32(path: &Path) -> Vec<f32> {
    hound::WavReader::open(path)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect()
}

/// A float WAV file as one channel: a mono file's samples, or a stereo file's mid
/// `(L + R) · √½` — for a centred patch, the mono patch's signal at its level (to rounding).
pub fn read_mid(path: &Path) -> Vec<f32> {
    let channels = hound::WavReader::open(path).unwrap().spec().channels;
    let all = read_f32(path);
    match channels {
        1 => all,
        2 => all
            .chunks_exact(2)
            .map(|f| (f[0] + f[1]) * std::f32::consts::FRAC_1_SQRT_2)
            .collect(),
        n => panic!("{}: {n} channels, 1 or 2 expected", path.display()),
    }
}

/// A two-channel f32 WAV file's sides (left, right), checked to have two channels.
#[allow(dead_code)]
pub fn read_sides(path: &Path) -> (Vec<f32>, Vec<f32>) {
    let reader = hound::WavReader::open(path).unwrap();
    assert_eq!(
        reader.spec().channels,
        2,
        "{}: two channels",
        path.display()
    );
    split_sides(&read_f32(path))
}

/// Interleaved two-channel samples as (left, right).
pub fn split_sides(both: &[f32]) -> (Vec<f32>, Vec<f32>) {
    (
        both.iter().step_by(2).copied().collect(),
        both.iter().skip(1).step_by(2).copied().collect(),
    )
}

/// A JACK server with the dummy driver, under a name of its own, stopped on drop.
pub struct Jackd {
    pub child: Child,
    pub name: String,
}

impl Jackd {
    /// Starts `jackd -d dummy -r 48000 -p PERIOD` (real-time if allowed) and waits until it
    /// answers.
    pub fn start(tag: &str, period: u32) -> Jackd {
        let name = format!("chronus-{tag}-{}", std::process::id());
        for rt in [&["-R", "-P", "70"][..], &["--no-realtime"][..]] {
            let mut child = Command::new("jackd")
                .args(["-n", &name])
                .args(rt)
                .args(["-d", "dummy", "-r", "48000", "-p", &period.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("jackd (Debian package jackd2) is installed by scripts/test.sh");
            // Ready when jack_wait -c says "running" (polled: jackd has no readiness signal).
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
                let out = Command::new("jack_wait")
                    .args(["-s", &name, "-c"])
                    .env("JACK_NO_START_SERVER", "1")
                    .output()
                    .unwrap();
                if String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .any(|l| l.trim() == "running")
                {
                    return Jackd { child, name };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            stop_jackd(&mut child);
        }
        panic!("jackd did not start");
    }

    /// Points a command at this server (and forbids starting another).
    pub fn env<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1")
    }
}

impl Drop for Jackd {
    fn drop(&mut self) {
        stop_jackd(&mut self.child);
    }
}

/// Stops a jackd with SIGTERM so that it unregisters itself (a SIGKILLed server leaves its
/// entry in JACK's shared registry, and after a few of those no server can start), then reaps
/// it; SIGKILL only if it does not stop within 5 s.
pub fn stop_jackd(child: &mut Child) {
    // SAFETY: a signal to the jackd this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts `cmd` (a `chronus run …` whose stderr the caller has set up) with its stdout piped,
/// and reads its start-up line. Returns the running child and that line.
///
/// When the run ends before saying anything, this panics with its exit status and whatever it
/// wrote to a piped stderr, so a failed start says why.
pub fn start_run(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.is_empty() {
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
        }
        let status = child.wait();
        panic!("chronus run ended before its start-up line ({status:?}): {err}");
    }
    (child, line)
}

/// The worker pids a start-up line names (`… (pids 123 456)`).
pub fn worker_pids(line: &str) -> Vec<i32> {
    line.split("(pids ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .map(|p| {
            p.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `cmd` to its end and returns its output; fails the test with its standard error when
/// it does not succeed.
pub fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Starts `chronus run --backend jack --jack-name CLIENT --no-connect --osc 127.0.0.1:PORT`
/// with `extra` on `jackd`, its standard error going to `stderr`; returns it, its start-up
/// line and its OSC port. A run that does not start on JACK fails the test with what it said
/// (on a piped standard error).
pub fn start_on_jack(
    jackd: &Jackd,
    client: &str,
    extra: &[&str],
    stderr: Stdio,
) -> (Child, String, u16) {
    let port = free_port();
    let (mut child, line) = start_run(
        jackd
            .env(&mut chronus())
            .args([
                "run",
                "--backend",
                "jack",
                "--jack-name",
                client,
                "--no-connect",
            ])
            .args(["--osc", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stderr(stderr),
    );
    if !line.contains("playing on jack") {
        let mut err = String::new();
        if let Some(e) = child.stderr.as_mut() {
            let _ = std::io::Read::read_to_string(e, &mut err);
        }
        panic!("chronus did not start on JACK: {line}{err}");
    }
    (child, line, port)
}
