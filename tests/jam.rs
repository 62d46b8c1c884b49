//! End-to-end: `chronus jam` opens its tmux session; a phrase typed into the `say` pane (tmux
//! send-keys, as a person types) reaches the synth, and the `status` pane shows the new pitch
//! (tmux capture-pane, as a person reads it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

/// tmux against the test's own server (its socket under `dir`), never the user's.
fn tmux(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .env("TMUX_TMPDIR", dir)
        .env_remove("TMUX")
        .args(args)
        .output()
        .expect("tmux is installed by scripts/test.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The pane of the jam session with this title.
fn pane(dir: &Path, session: &str, title: &str) -> String {
    let list = tmux(
        dir,
        &[
            "list-panes",
            "-t",
            session,
            "-F",
            "#{pane_id} #{pane_title}",
        ],
    );
    list.lines()
        .find_map(|l| {
            let (id, t) = l.split_once(' ')?;
            (t == title).then(|| id.to_owned())
        })
        .unwrap_or_else(|| panic!("no '{title}' pane in:\n{list}"))
}

/// Captures `pane` until `wanted` shows, for at most 20 s; returns the last capture.
fn wait_for_screen(dir: &Path, pane: &str, wanted: &str) -> String {
    wait_until_screen(dir, pane, |screen| screen.contains(wanted))
}

/// Captures `pane` until `done` holds for what it shows, for at most 20 s; returns the last
/// capture.
fn wait_until_screen(dir: &Path, pane: &str, done: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = tmux(dir, &["capture-pane", "-p", "-J", "-t", pane]);
        if done(&screen) || Instant::now() > end {
            return screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_phrase_typed_in_the_jam_session_changes_what_the_status_pane_shows() {
    let dir = support::scratch("jam", "tmux");
    std::fs::create_dir_all(&dir).unwrap();
    let session = format!("jam{}", std::process::id());
    let port = support::free_port().to_string();
    let out = support::chronus()
        .env("TMUX_TMPDIR", &dir)
        .env_remove("TMUX")
        .args([
            "jam",
            "--session",
            &session,
            "--backend",
            "null",
            "--port",
            &port,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("tmux attach -t {session}")),
        "{said}"
    );
    let (say, status) = (pane(&dir, &session, "say"), pane(&dir, &session, "status"));
    let screen = wait_for_screen(&dir, &status, "sine 440.0 Hz");
    assert!(screen.contains("2 alive"), "status pane:\n{screen}");
    let prompt = wait_for_screen(&dir, &say, "chronus> ");
    assert!(prompt.contains("chronus> "), "say pane:\n{prompt}");
    tmux(
        &dir,
        &["send-keys", "-t", &say, "play C4, much brighter", "Enter"],
    );
    let screen = wait_for_screen(&dir, &status, "sine 261.6 Hz");
    tmux(&dir, &["kill-server"]);
    assert!(
        screen.contains("sine 261.6 Hz") && screen.contains("filter 2000.0 Hz"),
        "status pane after 'play C4, much brighter':\n{screen}"
    );
    assert!(screen.contains("underruns"), "{screen}");
}

#[test]
fn a_second_jam_with_the_same_name_is_refused_clearly() {
    let dir = support::scratch("jam", "tmux-twice");
    std::fs::create_dir_all(&dir).unwrap();
    let session = format!("twice{}", std::process::id());
    tmux(&dir, &["new-session", "-d", "-s", &session, "sleep 60"]);
    let out = support::chronus()
        .env("TMUX_TMPDIR", &dir)
        .env_remove("TMUX")
        .args(["jam", "--session", &session, "--backend", "null"])
        .output()
        .unwrap();
    tmux(&dir, &["kill-server"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("already exists") && err.contains("tmux attach -t"),
        "{err}"
    );
}

#[test]
fn without_tmux_jam_says_what_to_do_instead() {
    let out = support::chronus()
        .env("PATH", "/nonexistent")
        .args(["jam", "--backend", "null"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("tmux is not installed") && err.contains("chronus say --port"),
        "{err}"
    );
}

/// The number before `unit` after `label` on the first line of `screen` that starts with
/// `label` (`peak  ███… -9.3 dBFS` → -9.3).
fn reading(screen: &str, label: &str, unit: &str) -> Option<f64> {
    let line = screen.lines().find(|l| l.starts_with(label))?;
    let head = &line[..line.find(unit)?];
    head.split_whitespace().last()?.parse().ok()
}

/// Stops what a test started (its synth, its tmux server) even when the test fails.
struct Cleanup<'a> {
    synth: std::process::Child,
    tmux_dir: &'a Path,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        tmux(self.tmux_dir, &["kill-server"]);
        let _ = self.synth.kill();
        let _ = self.synth.wait();
    }
}

#[test]
fn the_live_meter_in_tmux_reads_a_tone_at_its_level_and_flashes_a_failover() {
    support::stalls::again_if_the_machine_stalled(|| {
        let dir = support::scratch("jam", "tmux-meter");
        std::fs::create_dir_all(&dir).unwrap();
        let port = support::free_port().to_string();
        let (synth, line) = support::start_run(
            support::chronus()
                .args([
                    "run",
                    "--backend",
                    "null",
                    "--osc",
                    &format!("127.0.0.1:{port}"),
                ])
                .stderr(std::process::Stdio::null()),
        );
        let mut cleanup = Cleanup {
            synth,
            tmux_dir: &dir,
        };
        let pids = support::worker_pids(&line);
        assert_eq!(pids.len(), 2, "{line}");
        let send = |args: &[&str]| {
            let out = support::chronus()
                .args(["send", "--port", &port])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "send {args:?}: {out:?}");
        };
        // A4 at velocity 1: the template's gain 0.5 at the envelope's sustain 0.7 = 0.35 peak,
        // less the 1 kHz lowpass's 0.16 dB at 440 Hz: -9.28 dBFS peak, -12.29 dBFS RMS; in the
        // centre of the stereo field (the default), each side 3.01 dB below: -12.29 and -15.30.
        send(&["/note/on", "A4", "1"]);
        let session = format!("meter{}", std::process::id());
        let bin = env!("CARGO_BIN_EXE_chronus");
        let cmd = format!("{bin} status --watch --port {port}");
        tmux(
            &dir,
            &[
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "110",
                "-y",
                "14",
                &cmd,
            ],
        );
        // Steady: the note's attack has passed and the peak hold has let go of it (the hold
        // reads what the peak reads).
        let screen = wait_until_screen(&dir, &session, |screen| {
            screen.contains("1 notes held")
                && reading(screen, "peak", "dBFS").is_some_and(|p| {
                    let hold = screen
                        .lines()
                        .find(|l| l.starts_with("peak"))
                        .and_then(|l| l.rsplit("hold").next())
                        .and_then(|h| h.split_whitespace().next())
                        .and_then(|h| h.parse::<f64>().ok());
                    hold.is_some_and(|h| (h - p).abs() < 0.05) && p < -12.0
                })
        });
        println!("{screen}");
        for side in ["1", "2"] {
            let (peak, rms) = (
                reading(&screen, &format!("peak {side}"), "dBFS").expect(&screen),
                reading(&screen, &format!("rms  {side}"), "dBFS").expect(&screen),
            );
            assert!(
                (peak + 12.29).abs() < 0.3,
                "peak {side}: {peak} dBFS:\n{screen}"
            );
            assert!(
                (rms + 15.30).abs() < 0.3,
                "rms {side}: {rms} dBFS:\n{screen}"
            );
            // The bar is drawn to the level: -12.3 dBFS on a 60 dB scale fills 79.5 % of it.
            let bar_line = screen
                .lines()
                .find(|l| l.starts_with(&format!("peak {side}")))
                .unwrap();
            let (full, empty) = (
                bar_line.matches('█').count() as f64,
                bar_line.matches('·').count() as f64 + bar_line.matches('│').count() as f64,
            );
            let share = full / (full + empty);
            assert!((share - 0.795).abs() < 0.03, "bar {share:.3}: {bar_line}");
        }
        // The spectrum's loudest band is the one holding 440 Hz.
        let spectrum_line = screen.lines().find(|l| l.starts_with("spectrum")).unwrap();
        assert!(
            spectrum_line.contains('█') || spectrum_line.contains('▇'),
            "{spectrum_line}"
        );
        // A pattern playing shows its step.
        send(&["/seq/target", "0", "adsr"]);
        send(&["/seq/pattern", "0", "x.x.x.x.x.x.x.x."]);
        send(&["/seq/start"]);
        let screen = wait_for_screen(&dir, &session, "pattern step");
        assert!(screen.contains("/16"), "{screen}");
        // A worker killed: the failover and the respawn show, the faults line flashing (red).
        // SAFETY: SIGKILL to a worker of the chronus under test.
        assert_eq!(unsafe { libc::kill(pids[0], libc::SIGKILL) }, 0);
        let screen = wait_for_screen(&dir, &session, "respawns 1");
        assert!(screen.contains("respawns 1"), "{screen}");
        let colours = tmux(&dir, &["capture-pane", "-p", "-e", "-t", &session]);
        let faults = colours.lines().find(|l| l.contains("failovers")).unwrap();
        // A red background: SGR 41, or 48;5;1 in tmux's 256-colour form.
        let red = ["\x1b[41m", ";41m", "48;5;1m"]
            .iter()
            .any(|c| faults.contains(c));
        assert!(
            red && faults.contains("failovers 1"),
            "not flashing: {faults:?}"
        );
        // q leaves the meter (the pane's program exits, and with it the session).
        tmux(&dir, &["send-keys", "-t", &session, "q"]);
        let end = Instant::now() + Duration::from_secs(5);
        let alive = || {
            Command::new("tmux")
                .env("TMUX_TMPDIR", &dir)
                .env_remove("TMUX")
                .args(["has-session", "-t", &session])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        while alive() {
            assert!(Instant::now() < end, "q did not leave the meter");
            std::thread::sleep(Duration::from_millis(50));
        }
        tmux(&dir, &["kill-server"]);
        // Not a terminal: the text status, every half second.
        let mut piped = support::chronus()
            .args(["status", "--watch", "--port", &port])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(piped.stdout.as_mut().unwrap()),
            &mut first,
        )
        .unwrap();
        let _ = piped.kill();
        let _ = piped.wait();
        assert!(first.contains("chronus  48000 Hz"), "{first:?}");
        // SAFETY: SIGINT to the chronus under test.
        unsafe { libc::kill(cleanup.synth.id() as i32, libc::SIGINT) };
        assert!(cleanup.synth.wait().unwrap().success());
    });
}
