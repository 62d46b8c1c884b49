//! End-to-end: `chronus run` on the null backend, with real worker processes and signals.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

mod support;

use support::{chronus, read_f32, read_sides};

fn scratch(name: &str) -> PathBuf {
    support::scratch("run", name)
}

/// Starts `chronus run ARGS`, reads its start-up line and returns the child and the worker pids.
fn start(args: &[&str]) -> (Child, Vec<i32>, String) {
    let (child, line) = support::start_run(
        chronus()
            .args(["run", "--backend", "null"])
            .args(args)
            .stderr(Stdio::piped()),
    );
    let pids = support::worker_pids(&line);
    (child, pids, line)
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A phrase, then the sequencer playing a note pattern from 0.8 s (so the SIGKILL at about
/// 0.9 s falls inside it: the replacement must restore the sequencer's position too).
const SCORE: &str = "0.05 /mod/filter/cutoff 3000\n0.05 /gate/adsr on\n0.5 /mod/sine/freq 660\n\
                     0.8 /seq/target 0 note\n0.8 /seq/pattern 0 C4 . E4 G4 . C5 x X\n\
                     0.8 /seq/bpm 140\n0.8 /seq/start\n1.0 /mod/sine/shape 3\n1.5 /engine/freq 330\n\
                     2.0 /gate/adsr off\n2.3 /gate/adsr on\n2.6 /seq/stop\n";

#[test]
fn sigkill_a_worker_while_recording_loses_nothing() {
    support::stalls::again_if_the_machine_stalled(|| {
        let score = scratch("phrase.score");
        std::fs::write(&score, SCORE).unwrap();
        let rec = scratch("take.wav");
        let (child, pids, line) = start(&[
            "--seconds",
            "3",
            "--lookahead",
            "4",
            "--record",
            rec.to_str().unwrap(),
            "--score",
            score.to_str().unwrap(),
        ]);
        assert_eq!(pids.len(), 2, "start-up line names the workers: {line}");
        std::thread::sleep(Duration::from_millis(900));
        // SAFETY: SIGKILL to a worker process of the chronus under test.
        assert_eq!(unsafe { libc::kill(pids[0], libc::SIGKILL) }, 0);
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(
            stdout.contains("1 respawns"),
            "the killed worker was replaced: {stdout}"
        );
        assert!(stdout.contains("0 underruns (0 samples lost)"), "{stdout}");
        // The fault and the replacement each leave one log line.
        assert!(
            stderr.contains("worker 0 died")
                && stderr.contains("the other worker plays on")
                && stderr.contains("worker 0 replaced: in sync and online"),
            "{stderr}"
        );

        // The same score rendered offline, with no engine at all.
        let reference = scratch("reference.wav");
        let r = chronus()
            .args([
                "render",
                "--seconds",
                "4",
                "--score",
                score.to_str().unwrap(),
                "--out",
                reference.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(r.status.success());
        let (live, offline) = (read_f32(&rec), read_f32(&reference));
        assert!(live.len() > 140_000, "about 3 s recorded: {}", live.len());
        let diff = live
            .iter()
            .zip(&offline)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(
            diff, None,
            "the live recording differs from the offline render"
        );
        for p in pids {
            assert!(!alive(p), "worker {p} left behind");
        }
    });
}

#[test]
fn sigkill_during_a_stereo_phrase_leaves_both_channels_bit_identical() {
    support::stalls::again_if_the_machine_stalled(|| {
        // The phrase above, in stereo: notes spread across the pool, the pan moving, and (with
        // the effects) ping-pong echoes and a wide reverb, so that left and right differ.
        let pan = "0.0 /mod/pan/spread 1\n0.3 /mod/pan/pos -0.6\n1.4 /mod/pan/pos 0.5\n";
        let effects = if cfg!(feature = "effects") {
            "0.0 /mod/delay/pingpong 1\n0.0 /mod/delay/time 125\n0.0 /mod/delay/mix 0.4\n\
         0.0 /mod/reverb/mix 0.25\n"
        } else {
            ""
        };
        let score = scratch("stereo.score");
        std::fs::write(&score, format!("{pan}{effects}{SCORE}")).unwrap();
        let rec = scratch("stereo-take.wav");
        let (child, pids, line) = start(&[
            "--channels",
            "2",
            "--seconds",
            "3",
            "--lookahead",
            "4",
            "--record",
            rec.to_str().unwrap(),
            "--score",
            score.to_str().unwrap(),
        ]);
        assert_eq!(pids.len(), 2, "start-up line names the workers: {line}");
        std::thread::sleep(Duration::from_millis(900));
        // SAFETY: SIGKILL to a worker process of the chronus under test.
        assert_eq!(unsafe { libc::kill(pids[1], libc::SIGKILL) }, 0);
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("1 respawns"), "replaced: {stdout}");
        assert!(stdout.contains("0 underruns (0 samples lost)"), "{stdout}");

        let reference = scratch("stereo-reference.wav");
        let r = chronus()
            .args(["render", "--channels", "2", "--seconds", "4", "--score"])
            .arg(&score)
            .arg("--out")
            .arg(&reference)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let ((live_l, live_r), (ref_l, ref_r)) = (read_sides(&rec), read_sides(&reference));
        assert!(
            live_l.len() > 140_000,
            "about 3 s recorded: {}",
            live_l.len()
        );
        for (side, live, offline) in [("left", &live_l, &ref_l), ("right", &live_r, &ref_r)] {
            let diff = live
                .iter()
                .zip(offline.iter())
                .position(|(a, b)| a.to_bits() != b.to_bits());
            assert_eq!(
                diff, None,
                "{side}: the live recording differs from the offline render"
            );
        }
        // Really two sides: they differ (the pan, the ping-pong), and both sound.
        let differ = live_l.iter().zip(&live_r).filter(|(a, b)| a != b).count();
        assert!(
            differ > live_l.len() / 2,
            "left and right differ: {differ} samples"
        );
        let level = |x: &[f32]| x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32;
        assert!(level(&live_l) > 1e-4 && level(&live_r) > 1e-4);
    });
}

#[test]
fn ctrl_c_stops_cleanly_with_a_valid_recording() {
    let rec = scratch("ctrlc.wav");
    let (child, pids, _) = start(&["--record", rec.to_str().unwrap(), "--workers", "process"]);
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: SIGINT to the chronus under test, as Ctrl-C would.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reader = hound::WavReader::open(&rec).expect("a finalised WAV");
    assert!(
        reader.duration() > 4_800,
        "some audio was recorded: {}",
        reader.duration()
    );
    for p in pids {
        assert!(!alive(p), "worker {p} left behind (or a zombie)");
    }
}

#[test]
fn bad_configuration_is_refused_clearly() {
    for args in [
        vec!["--backend", "nonsense"],
        vec!["--lookahead", "99", "--seconds", "1"],
        vec!["--block", "8"],
        vec!["--workers", "fibers"],
        vec!["--seconds", "-2"],
    ] {
        let out = chronus().arg("run").args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            err.contains("error") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn make_install_gives_a_chronus_whose_workers_are_the_installed_binary() {
    support::stalls::again_if_the_machine_stalled(|| {
        let root = scratch("install");
        let _ = std::fs::remove_dir_all(&root);
        // The binary under test stands in for the release build `make install` would make.
        let out = std::process::Command::new("make")
            .args([
                "-s",
                "-C",
                env!("CARGO_MANIFEST_DIR"),
                "-f",
                "../../Makefile",
                "install",
            ])
            .arg(format!("PREFIX={}", root.display()))
            .arg(format!("CHRONUS_BIN={}", env!("CARGO_BIN_EXE_chronus")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let installed = root.join("bin/chronus");
        let man = std::fs::read_to_string(root.join("share/man/man1/chronus.1")).unwrap();
        assert!(man.contains(".TH chronus 1"), "{man:.200}");
        let bash = std::fs::read_to_string(root.join("share/bash-completion/completions/chronus"));
        assert!(bash.unwrap().contains("complete -F"));
        assert!(root.join("share/zsh/site-functions/_chronus").exists());
        assert!(root
            .join("share/fish/vendor_completions.d/chronus.fish")
            .exists());

        // Started from where it was installed, its workers are that binary, and so is a worker
        // that replaces a killed one.
        let (child, line) = support::start_run(
            std::process::Command::new(&installed)
                .args(["run", "--backend", "null", "--seconds", "3"])
                .stderr(Stdio::piped()),
        );
        let pids = support::worker_pids(&line);
        assert_eq!(pids.len(), 2, "{line}");
        let exe = |pid: u32| std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let installed = installed.canonicalize().unwrap();
        for &p in &pids {
            assert_eq!(exe(p as u32).as_ref(), Some(&installed), "worker {p}");
        }
        let host = child.id();
        // Kills worker `pid` and returns the worker that replaces it (a new child that has executed
        // the worker, not one still between fork and exec).
        let replace = |pid: u32, known: &[u32]| -> u32 {
            // SAFETY: SIGKILL to a worker of the chronus under test.
            assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                let worker = |p: u32| {
                    std::fs::read(format!("/proc/{p}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains("__chronus-worker"))
                };
                if let Some(p) = support::stalls::children(host)
                    .into_iter()
                    .find(|p| !known.contains(p) && worker(*p))
                {
                    return p;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "no replacement worker"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        let mut known: Vec<u32> = pids.iter().map(|&p| p as u32).collect();
        let first = replace(known[0], &known);
        assert_eq!(exe(first).as_ref(), Some(&installed));
        known.push(first);
        // An upgrade replaces the binary on disk (here by a program that is not chronus at all):
        // a worker that dies now is replaced by the build that is running, not by the new file.
        std::fs::remove_file(&installed).unwrap();
        std::fs::copy("/bin/true", &installed).unwrap();
        let second = replace(first, &known);
        let deleted = format!("{} (deleted)", installed.display());
        assert_eq!(
            exe(second).map(|p| p.display().to_string()),
            Some(deleted),
            "the replacement runs the build the host started from"
        );
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success()
                && stdout.contains("2 respawns")
                && stdout.contains(" 0 underruns"),
            "{stdout}"
        );
    });
}

/// Starts `chronus run` in a process group of its own, as a shell starts a foreground job.
fn start_job(args: &[&str]) -> (Child, Vec<i32>) {
    use std::os::unix::process::CommandExt;
    let (child, line) = support::start_run(
        chronus()
            // --seconds: should the test fail before it signals, the job ends by itself.
            .args([
                "run",
                "--backend",
                "null",
                "--workers",
                "process",
                "--seconds",
                "30",
            ])
            .args(args)
            .process_group(0)
            .stderr(Stdio::piped()),
    );
    let pids = support::worker_pids(&line);
    assert_eq!(pids.len(), 2, "{line}");
    (child, pids)
}

#[test]
fn ctrl_c_sigterm_and_sighup_to_the_job_stop_it_cleanly_without_a_fault() {
    // Ctrl-C in a terminal or tmux signals the whole foreground process group; `timeout` and
    // systemd send SIGTERM; tmux closing a pane sends SIGHUP. Each: the host alone gets it,
    // stops its workers in order, logs no fault and exits 0 with the recording whole.
    for (name, sig, group) in [
        ("ctrl-c", libc::SIGINT, true),
        ("sigterm", libc::SIGTERM, false),
        ("sighup", libc::SIGHUP, true),
    ] {
        let rec = scratch(&format!("{name}.wav"));
        let (child, pids) = start_job(&["--record", rec.to_str().unwrap()]);
        // Let it play a little (the workers online, blocks recorded).
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while hound::WavReader::open(&rec).map_or(true, |r| r.duration() < 4_800)
            && std::time::Instant::now() < until
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let target = if group {
            -(child.id() as i32)
        } else {
            child.id() as i32
        };
        // SAFETY: a signal to the chronus under test (its process group for Ctrl-C and HUP).
        assert_eq!(unsafe { libc::kill(target, sig) }, 0);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {:?}\n{stderr}", out.status);
        for bad in ["died", "no healthy worker", "stalled", "restarting"] {
            assert!(
                !stderr.contains(bad),
                "{name}: a fault was logged: {stderr}"
            );
        }
        let reader = hound::WavReader::open(&rec).expect("a finalised WAV");
        assert!(
            reader.duration() >= 4_800,
            "{name}: {} samples",
            reader.duration()
        );
        for p in pids {
            assert!(!alive(p), "{name}: worker {p} left behind");
        }
    }
}

#[test]
fn workers_exit_by_themselves_when_the_host_is_killed() {
    let (mut child, pids) = start_job(&[]);
    // SAFETY: SIGKILL to the chronus under test: it cannot stop its workers itself.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
    let _ = child.wait();
    // Orphans are reaped by whoever adopts them, maybe late: a zombie has exited.
    let running = |p: i32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next())
                .is_some_and(|state| state != "Z")
        })
    };
    let until = std::time::Instant::now() + Duration::from_secs(2);
    while pids.iter().any(|&p| running(p)) {
        assert!(
            std::time::Instant::now() < until,
            "workers {pids:?} outlived their host by 2 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_pause_of_the_host_or_of_everything_is_played_through() {
    support::stalls::again_if_the_machine_stalled(|| {
        let score = scratch("tone.score");
        std::fs::write(&score, "0.0 /gate/adsr on\n").unwrap();
        let rec = scratch("paused.wav");
        let (child, pids, line) = start(&[
            "--seconds",
            "10",
            "--record",
            rec.to_str().unwrap(),
            "--score",
            score.to_str().unwrap(),
        ]);
        assert_eq!(pids.len(), 2, "{line}");
        let host = child.id() as i32;
        // Stops `who` for 2 s (over 1,500 blocks: more than the seal ring's 1,024), then goes on.
        let pause = |who: &[i32]| {
            for &p in who {
                // SAFETY: SIGSTOP to the chronus under test or its workers.
                assert_eq!(unsafe { libc::kill(p, libc::SIGSTOP) }, 0);
            }
            std::thread::sleep(Duration::from_secs(2)); // the pause itself
            for &p in who.iter().rev() {
                // SAFETY: SIGCONT to the same processes.
                assert_eq!(unsafe { libc::kill(p, libc::SIGCONT) }, 0);
            }
        };
        std::thread::sleep(Duration::from_millis(800)); // the tone plays a while first
        pause(&[host]); // Ctrl-Z, then fg: the host alone (its workers are a group of their own)
        std::thread::sleep(Duration::from_millis(800));
        pause(&[host, pids[0], pids[1]]); // a VM pause: everything at once
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{}", stdout.lines().last().unwrap_or(""));
        // After both pauses the tone plays on: the last two seconds are A4 at its level, whole
        // (the centred stereo recording's mid: the mono level).
        let rec = support::read_mid(&rec);
        let tail = &rec[rec.len() - 96_000..];
        let f = chronus_dsp::analysis::zero_crossing_frequency(tail, 48_000.0).unwrap_or(0.0);
        let low = tail
            .chunks(4_800)
            .map(chronus_dsp::analysis::peak)
            .fold(f64::MAX, f64::min);
        println!("after the pauses: {f:.2} Hz, the quietest 0.1 s peaks at {low:.3}");
        assert!((f - 440.0).abs() < 0.5, "{f} Hz");
        assert!(low > 0.3, "a gap after the pauses: {low}");
    });
}
