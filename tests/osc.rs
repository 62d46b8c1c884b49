//! End-to-end: real UDP and TCP packets to a running `chronus run`, checked in the recorded
//! audio and in the replies.

use chronus_dsp::analysis;
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const SR: f64 = 48_000.0;

mod support;

use support::free_port;
use support::osc::{m, Client};

fn scratch(name: &str) -> PathBuf {
    support::scratch("osc", name)
}

struct Synth {
    child: Child,
    port: u16,
    wav: PathBuf,
}

impl Synth {
    /// Starts `chronus run` on a free port, recording, and waits for its start-up line.
    fn start(name: &str, seconds: f64, extra: &[&str]) -> Synth {
        let port = free_port();
        let wav = scratch(name);
        let (child, line) = support::start_run(
            Command::new(env!("CARGO_BIN_EXE_chronus"))
                .args([
                    "run",
                    "--lookahead",
                    "8",
                    "--seconds",
                    &seconds.to_string(),
                    "--record",
                ])
                .arg(&wav)
                .args(["--osc", &format!("127.0.0.1:{port}")])
                .args(extra)
                .stderr(Stdio::piped()),
        );
        assert!(line.contains("OSC on"), "start-up line: {line}");
        Synth { child, port, wav }
    }

    fn client(&self) -> Client {
        self.client_from("127.0.0.1")
    }

    /// A client on another loopback address: a host of its own for the per-host rate limit.
    fn client_from(&self, ip: &str) -> Client {
        let sock = UdpSocket::bind((ip, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        Client {
            sock,
            port: self.port,
        }
    }

    /// Waits for the run to end by itself and returns the recording as one channel (the
    /// stereo recording's mid: the centred patch's sound at the mono level) and the output.
    fn finish(self) -> (Vec<f32>, String) {
        let wav = self.wav.clone();
        let stdout = self.wait();
        (support::read_mid(&wav), stdout)
    }

    /// Waits for the run to end by itself and returns the stereo recording's sides.
    fn finish_sides(self) -> ((Vec<f32>, Vec<f32>), String) {
        let wav = self.wav.clone();
        let stdout = self.wait();
        (support::read_sides(&wav), stdout)
    }

    /// Waits for the run to end by itself, checks it ended well, returns its standard output.
    fn wait(self) -> String {
        let out = self.child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

fn freq(s: &[f32]) -> f64 {
    analysis::zero_crossing_frequency(s, SR).unwrap_or(0.0)
}

#[test]
fn mod_and_gate_change_the_recorded_sound() {
    let synth = Synth::start("modgate.wav", 3.0, &[]);
    let c = synth.client();
    c.send(&m("/mod/filter/cutoff", vec![OscType::Int(8000)]));
    c.send(&m("/mod/sine/freq", vec![OscType::Float(880.0)]));
    c.send(&m("/gate/adsr", vec![OscType::String("on".into())]));
    c.sync(1);
    let p1 = c.played_samples();
    std::thread::sleep(Duration::from_millis(600));
    c.send(&m("/engine/freq", vec![OscType::Int(440)]));
    c.sync(2);
    let p2 = c.played_samples();
    std::thread::sleep(Duration::from_millis(500));
    c.send(&m("/gate/adsr", vec![OscType::Bool(false)]));
    c.sync(3);
    let p3 = c.played_samples();
    let v = c.ask(&m(
        "/get",
        vec![
            OscType::String("sine".into()),
            OscType::String("freq".into()),
        ],
    ));
    assert_eq!(v.args[2], OscType::Float(440.0));
    let (s, _) = synth.finish();
    let (f1, f2) = (
        freq(&s[p1 + 2_400..p2 - 2_400]),
        freq(&s[p2 + 2_400..p3 - 2_400]),
    );
    println!("measured {f1:.3} Hz then {f2:.3} Hz");
    assert!(
        (f1 - 880.0).abs() < 0.1 && (f2 - 440.0).abs() < 0.1,
        "{f1} {f2}"
    );
    assert!(
        analysis::peak(&s[..p1.saturating_sub(4_800)]) == 0.0,
        "silent before the gate"
    );
    assert!(
        analysis::peak(&s[p3 + 14_400..]) < 1e-4,
        "released after gate off"
    );
}

#[test]
fn patterns_address_several_modules() {
    let synth = Synth::start("patterns.wav", 1.5, &[]);
    let c = synth.client();
    c.send(&m("/mod/{sine,filter}/q", vec![OscType::Float(3.0)]));
    // `q` only exists on the filter; the sine has no `q`, which is fine for a pattern.
    let r = c.ask(&m(
        "/get",
        vec![
            OscType::String("filter".into()),
            OscType::String("q".into()),
        ],
    ));
    assert_eq!(r.args[2], OscType::Float(3.0));
    c.send(&m("/mod/s*/gai?", vec![OscType::Float(0.25)]));
    let r = c.ask(&m(
        "/get",
        vec![
            OscType::String("sine".into()),
            OscType::String("gain".into()),
        ],
    ));
    assert_eq!(r.args[2], OscType::Float(0.25));
    let r = c.ask(&m("/mod/nomatch*/freq", vec![OscType::Float(1.0)]));
    assert_eq!(r.addr, "/error");
    synth.finish();
}

#[test]
fn bad_input_gets_an_error_reply_and_good_input_still_works() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("errors.wav", 2.0, &[]);
        let c = synth.client();
        let bad: Vec<OscPacket> = vec![
            m("/nope", vec![]),
            m("/mod/sine/freq", vec![]),
            m("/mod/sine/freq", vec![OscType::String("loud".into())]),
            m("/mod/sine/freq", vec![OscType::Float(f32::NAN)]),
            m(
                "/mod/sine/freq",
                vec![OscType::Float(1.0), OscType::Float(2.0)],
            ),
            m("/mod/nosuch/freq", vec![OscType::Float(1.0)]),
            m("/gate/adsr", vec![OscType::String("maybe".into())]),
            m("/gate/sine", vec![OscType::Int(1)]),
            m("/mod/sine/freq", vec![OscType::Blob(vec![1, 2, 3])]),
        ];
        for p in &bad {
            let r = c.ask(p);
            assert_eq!(r.addr, "/error", "{p:?} -> {r:?}");
        }
        for raw in [
            &b"garbage"[..],
            &[0u8; 3][..],
            b"/mod/sine/freq\0\0,f\0\0\x01",
        ] {
            c.send_raw(raw);
            assert_eq!(c.recv().addr, "/error", "malformed {raw:?}");
        }
        c.send_raw(&vec![b'/'; 40_000]);
        let r = c.recv();
        assert!(
            r.addr == "/error" && format!("{:?}", r.args).contains("limit"),
            "{r:?}"
        );
        // A bundle with one bad message applies nothing.
        let bundle = OscPacket::Bundle(OscBundle {
            timetag: OscTime::from((0, 1)),
            content: vec![
                m("/mod/sine/gain", vec![OscType::Float(0.1)]),
                m("/bad", vec![]),
            ],
        });
        assert_eq!(c.ask(&bundle).addr, "/error");
        let g = c.ask(&m(
            "/get",
            vec![
                OscType::String("sine".into()),
                OscType::String("gain".into()),
            ],
        ));
        assert_eq!(g.args[2], OscType::Float(0.5), "nothing applied half-way");
        // Clamped values are applied and reported.
        let r = c.ask(&m("/mod/filter/q", vec![OscType::Float(500.0)]));
        assert_eq!(
            (r.addr.as_str(), &r.args[2]),
            ("/clamped", &OscType::Float(20.0))
        );
        // And a valid message right after works.
        let r = c.ask(&m(
            "/get",
            vec![
                OscType::String("filter".into()),
                OscType::String("q".into()),
            ],
        ));
        assert_eq!(r.args[2], OscType::Float(20.0));
        let v = c.stats(&["messages", "applied", "errors"]);
        let (messages, applied, errors) = (v[0], v[1], v[2]);
        println!("messages {messages}, applied {applied}, errors {errors}");
        assert_eq!(
            messages,
            applied + errors + 1.0,
            "counters add up (this /status is not yet applied)"
        );
        // Each bad message, the 3 malformed packets, the oversize one, and both messages of the
        // half-bad bundle (its good message was refused with it).
        assert_eq!(
            errors as usize,
            bad.len() + 3 + 1 + 2,
            "every refused message counted"
        );
        let (_, stdout) = synth.finish();
        assert!(stdout.contains("0 underruns"), "{stdout}");
    });
}

#[test]
fn a_timetagged_bundle_lands_on_its_sample() {
    let synth = Synth::start("timetag.wav", 2.5, &["--stall-blocks", "4"]);
    let c = synth.client();
    c.send(&m("/mod/adsr/attack", vec![OscType::Float(5.0)]));
    c.sync(1);
    let expected = c.send_timed(500, vec![m("/gate/adsr", vec![OscType::Int(1)])]);
    c.sync(2);
    let (s, _) = synth.finish();
    let first = s.iter().position(|&x| x != 0.0).expect("the gate opened") as i64;
    println!("gate opened at sample {first}, timetag says {expected}");
    assert!((first - expected).abs() <= 1, "{first} vs {expected}");
}

#[test]
fn notes_play_on_voices_and_a_bundled_chord_starts_on_its_sample() {
    // Two voices: the third note of the chord takes the oldest one (C4's).
    let synth = Synth::start("notes.wav", 2.5, &["--stall-blocks", "4", "--voices", "2"]);
    let c = synth.client();
    c.send(&m("/mod/filter/cutoff", vec![OscType::Float(20_000.0)]));
    c.sync(1);
    let note = |n: OscType| m("/note/on", vec![n, OscType::Float(0.8)]);
    let chord = vec![
        note(OscType::Int(60)),
        note(OscType::Int(64)),
        note(OscType::String("G4".into())),
    ];
    let expected = c.send_timed(500, chord);
    c.sync(2);
    // A bad note gets a reason, and changes nothing.
    let err = c.ask(&m("/note/on", vec![OscType::Int(200)]));
    assert_eq!(err.addr, "/error");
    assert!(format!("{:?}", err.args).contains("0..127"), "{err:?}");
    let (s, _) = synth.finish();
    // Each voice's sine starts at phase 0 on the note's sample: the first non-zero sample is
    // the one after it.
    let first = s.iter().position(|&x| x != 0.0).expect("the chord played") as i64 - 1;
    println!("chord started at sample {first}, timetag says {expected}");
    assert!((first - expected).abs() <= 1, "{first} vs {expected}");
    let from = first as usize + 24_000; // after attack and decay
    let sustain = &s[from..from + 24_000];
    let level = |n: f64| analysis::amplitude_at(sustain, 440.0 * ((n - 69.0) / 12.0).exp2(), SR);
    let (c4, e4, g4) = (level(60.0), level(64.0), level(67.0));
    println!("C4 {c4:.4}, E4 {e4:.4}, G4 {g4:.4} (0.28 expected for the two held)");
    // Template gain 0.5 × sustain 0.7 × velocity 0.8.
    assert!((e4 - 0.28).abs() < 0.01 && (g4 - 0.28).abs() < 0.01);
    assert!(c4 < 0.005, "C4's voice was taken");
}

#[test]
fn steady_traffic_and_bursts_lose_nothing() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("load.wav", 16.0, &[]);
        let c = synth.client();
        c.send(&m("/gate/adsr", vec![OscType::Int(1)]));
        let before = c.stat("messages");
        // The seed's RT guard: 100 messages/s for 10 s.
        let start = Instant::now();
        for i in 0..1000u32 {
            while start.elapsed() < Duration::from_millis(u64::from(i) * 10) {
                std::thread::sleep(Duration::from_micros(500));
            }
            c.send(&m("/mod/sine/freq", vec![OscType::Float(200.0 + i as f32)]));
        }
        c.sync(1);
        let v = c.stats(&["messages", "applied", "errors", "underruns"]);
        // 1000 messages, the /sync and this /status arrived; all but this /status are done.
        assert_eq!(
            v[0] - before,
            1002.0,
            "every message of the steady stream arrived"
        );
        assert_eq!(v[1] + v[2] + 1.0, v[0], "every message applied or answered");
        assert_eq!((v[2], v[3]), (0.0, 0.0), "no errors, no underruns");
        // Then 10,000 messages as fast as one client can send them.
        let before = v[0];
        let burst = 10_000;
        for i in 0..burst {
            c.send(&m(
                "/mod/filter/cutoff",
                vec![OscType::Float(500.0 + (i % 1000) as f32)],
            ));
        }
        c.sync(2);
        let v = c.stats(&["messages", "applied", "errors", "underruns"]);
        println!(
            "after the burst: messages {}, applied {}, errors {}",
            v[0], v[1], v[2]
        );
        assert_eq!(
            v[0] - before,
            f64::from(burst) + 2.0,
            "every datagram of the burst arrived"
        );
        assert_eq!(
            v[1] + v[2] + 1.0,
            v[0],
            "every message applied or answered with an error"
        );
        assert_eq!(v[3], 0.0, "no underruns");
        let (_, stdout) = synth.finish();
        assert!(stdout.contains("0 underruns"), "{stdout}");
    });
}

#[test]
fn tcp_with_slip_framing() {
    let synth = Synth::start("tcp.wav", 1.5, &[]);
    let mut s = TcpStream::connect(("127.0.0.1", synth.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    for p in [
        m("/mod/sine/freq", vec![OscType::Int(330)]),
        m(
            "/get",
            vec![
                OscType::String("sine".into()),
                OscType::String("freq".into()),
            ],
        ),
    ] {
        s.write_all(&chronus_osc_slip(&rosc::encoder::encode(&p).unwrap()))
            .unwrap();
    }
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !got.ends_with(&[0xC0]) || got.len() < 2 {
        let n = s.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    let body: Vec<u8> = got.iter().copied().filter(|&b| b != 0xC0).collect();
    let (_, p) = rosc::decoder::decode_udp(&body).unwrap();
    let OscPacket::Message(r) = p else {
        panic!("a message")
    };
    assert_eq!(
        (r.addr.as_str(), &r.args[2]),
        ("/value", &OscType::Float(330.0))
    );
    drop(s);
    synth.finish();
}

/// SLIP-frames a packet (no escapes needed for these messages).
fn chronus_osc_slip(bytes: &[u8]) -> Vec<u8> {
    assert!(!bytes.contains(&0xC0) && !bytes.contains(&0xDB));
    [&[0xC0][..], bytes, &[0xC0]].concat()
}

#[test]
fn a_client_that_is_not_ours_liblo_oscsend() {
    let synth = Synth::start("liblo.wav", 1.5, &[]);
    let out = Command::new("oscsend")
        .args([
            "localhost",
            &synth.port.to_string(),
            "/mod/sine/freq",
            "f",
            "660",
        ])
        .output()
        .expect("oscsend (Debian package liblo-tools) is installed by scripts/test.sh");
    assert!(out.status.success());
    let c = synth.client();
    c.sync(1);
    let r = c.ask(&m(
        "/get",
        vec![
            OscType::String("sine".into()),
            OscType::String("freq".into()),
        ],
    ));
    assert_eq!(r.args[2], OscType::Float(660.0));
    synth.finish();
}

#[test]
fn notify_reports_a_failover() {
    let synth = Synth::start("notify.wav", 2.0, &[]);
    let c = synth.client();
    c.send(&m("/notify", vec![OscType::Int(1)]));
    c.sync(1);
    // The worker pids: children of the chronus process.
    let children =
        std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", synth.child.id())).unwrap();
    let pid: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
    // SAFETY: SIGKILL to a worker of the chronus under test.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && !events.iter().any(|e: &String| e.contains("respawn")) {
        let r = c.recv();
        if r.addr == "/event" {
            events.push(format!("{:?}", r.args));
        }
    }
    println!("events: {events:?}");
    assert!(events.iter().any(|e| e.contains("respawn")), "{events:?}");
    synth.finish();
}

#[test]
fn patch_edits_add_a_second_oscillator_atomically() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("patch.wav", 2.0, &[]);
        let c = synth.client();
        let s = |v: &str| OscType::String(v.into());
        c.send(&m("/mod/filter/cutoff", vec![OscType::Int(8000)]));
        c.send(&m("/patch/create", vec![s("sine2"), s("osc")]));
        c.send(&m("/patch/connect", vec![s("sine2"), s("adsr")]));
        let r = c.ask(&m("/patch/commit", vec![]));
        assert_eq!(
            (r.addr.as_str(), &r.args[0]),
            ("/patch/committed", &OscType::Int(2))
        );
        c.send(&m("/mod/sine2/freq", vec![OscType::Int(660)]));
        c.send(&m("/gate/adsr", vec![OscType::Int(1)]));
        c.sync(1);
        let start = c.played_samples();
        let modules = c.ask(&m("/modules", vec![]));
        assert!(modules.args.contains(&s("sine2")), "{modules:?}");
        // A cycle changes nothing; neither does an unknown module; an unknown type is refused.
        c.send(&m("/patch/connect", vec![s("filter"), s("sine2")]));
        assert_eq!(c.ask(&m("/patch/commit", vec![])).addr, "/error");
        c.send(&m("/patch/connect", vec![s("ghost"), s("adsr")]));
        assert_eq!(c.ask(&m("/patch/commit", vec![])).addr, "/error");
        assert_eq!(
            c.ask(&m("/patch/create", vec![s("x"), s("theremin")])).addr,
            "/error"
        );
        c.send(&m("/patch/create", vec![s("tmp"), s("lfo")]));
        let r = c.ask(&m("/patch/abort", vec![]));
        assert_eq!(
            (r.addr.as_str(), &r.args[0]),
            ("/patch/aborted", &OscType::Int(1))
        );
        assert_eq!(
            c.ask(&m("/modules", vec![])).args,
            modules.args,
            "nothing changed"
        );
        // A replacement worker restores the edited patch from the survivor: kill one.
        let children =
            std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", synth.child.id()))
                .unwrap();
        let pid: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
        // SAFETY: SIGKILL to a worker of the chronus under test.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        std::thread::sleep(Duration::from_millis(400));
        let v = c.stats(&["respawns", "diverged", "underruns", "workers_alive"]);
        assert_eq!(
            v,
            vec![1.0, 0.0, 0.0, 2.0],
            "respawned in sync with the edited patch"
        );
        let (rec, _) = synth.finish();
        let seg = &rec[start + 4_800..start + 14_400];
        let (a440, a660) = (
            analysis::amplitude_at(seg, 440.0, SR),
            analysis::amplitude_at(seg, 660.0, SR),
        );
        println!("amplitude at 440 Hz {a440:.3}, at 660 Hz {a660:.3}");
        assert!(
            a440 > 0.2 && a660 > 0.2,
            "both oscillators sound: {a440} {a660}"
        );
    });
}

#[test]
fn tcp_with_osc_1_0_length_prefixes() {
    let synth = Synth::start("tcplen.wav", 1.5, &["--tcp-length-prefix"]);
    let mut s = TcpStream::connect(("127.0.0.1", synth.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let packet = rosc::encoder::encode(&m("/modules", vec![])).unwrap();
    s.write_all(&(packet.len() as u32).to_be_bytes()).unwrap();
    s.write_all(&packet).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    let (_, p) = rosc::decoder::decode_udp(&body).unwrap();
    let OscPacket::Message(r) = p else {
        panic!("a message")
    };
    assert_eq!(r.addr, "/modules.reply");
    drop(s);
    synth.finish();
}

#[test]
fn allow_list_drops_other_sources_and_counts_them() {
    // Only 10.0.0.0/8 may play: our loopback packets are dropped (no reply) and counted.
    let synth = Synth::start("allow.wav", 1.5, &["--allow", "10.0.0.0/8"]);
    let c = synth.client();
    c.sock
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    c.send(&m("/status", vec![]));
    let mut buf = [0u8; 1024];
    assert!(
        c.sock.recv_from(&mut buf).is_err(),
        "a refused source got an answer"
    );
    let (_, stdout) = synth.finish();
    assert!(stdout.contains("chronus: stopped"), "{stdout}");
}

#[test]
fn chronus_osc_port_sets_the_port() {
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args(["run", "--backend", "null", "--seconds", "0.5"])
        .env("CHRONUS_OSC_PORT", port.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(&format!("OSC on 127.0.0.1:{port}")),
        "{text}"
    );
}

/// `/record/start` and `/record/stop`: a new WAV in the recordings folder, holding what was
/// played; names that would leave the folder, or reach through a symbolic link, are refused.
#[test]
fn record_over_osc_stays_inside_the_recordings_folder() {
    let dir = scratch("recordings-test");
    let _ = std::fs::remove_dir_all(&dir);
    let recs = dir.join("recs");
    std::fs::create_dir_all(&recs).unwrap();
    let outside = dir.join("outside.wav");
    std::os::unix::fs::symlink(&outside, recs.join("link.wav")).unwrap();
    let port = free_port();
    let (mut child, _start_line) = support::start_run(
        Command::new(env!("CARGO_BIN_EXE_chronus"))
            .args([
                "run",
                "--backend",
                "null",
                "--lookahead",
                "8",
                "--seconds",
                "20",
            ])
            .args(["--osc", &format!("127.0.0.1:{port}")])
            .arg("--recordings")
            .arg(&recs)
            .stderr(Stdio::null()),
    );
    let c = Client {
        sock: UdpSocket::bind("127.0.0.1:0").unwrap(),
        port,
    };
    c.sock
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let start = |name: &str| c.ask(&m("/record/start", vec![OscType::String(name.into())]));
    for bad in [
        "../escape.wav",
        "/tmp/absolute.wav",
        "sub/dir.wav",
        "link.wav",
        ".hidden",
    ] {
        let r = start(bad);
        assert_eq!(r.addr, "/error", "{bad}: {r:?}");
    }
    assert!(!outside.exists(), "the symbolic link was followed");
    assert!(!dir.join("escape.wav").exists());
    // A real take: 0.5 s of A4 at least, counted in played blocks (no clock in the test).
    c.send(&m("/gate/adsr", vec![OscType::String("on".into())]));
    c.sync(1);
    let r = start("take");
    assert_eq!(r.addr, "/record/started", "{r:?}");
    let again = start("second");
    assert_eq!(again.addr, "/error", "one recording at a time: {again:?}");
    let from = c.played_samples();
    while c.played_samples() < from + 24_000 {
        c.sync(2);
    }
    let r = c.ask(&m("/record/stop", vec![]));
    assert_eq!(r.addr, "/record/stopped", "{r:?}");
    let seconds = match r.args.get(1) {
        Some(OscType::Float(s)) => *s,
        other => panic!("{other:?}"),
    };
    assert!(seconds >= 0.5, "{seconds}");
    let take = support::read_mid(&recs.join("take.wav"));
    assert!(
        (take.len() as f64 / SR - f64::from(seconds)).abs() < 1e-5,
        "the reply says how long: {seconds} s, {} samples",
        take.len()
    );
    let f = freq(&take[4_800..]);
    assert!((f - 440.0).abs() < 0.05, "{f}");
    let r = c.ask(&m("/record/stop", vec![]));
    assert_eq!(r.addr, "/error", "nothing left to stop");
    // SAFETY: SIGINT to the chronus this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert!(child.wait().unwrap().success());
}

/// Every kind of malformed OSC, at the running binary while a note plays: each is answered
/// with an `/error`, nothing crashes or underruns, the counters add up, the note's pitch never
/// moves, and a valid message right after is heard. Then a flood over TCP past the per-source
/// rate limit: the excess is dropped and counted, to the packet.
#[test]
fn every_kind_of_malformed_osc_is_refused_and_the_sound_plays_on() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("malformed.wav", 4.0, &["--rate-limit", "1000"]);
        let c = synth.client();
        c.send(&m("/mod/filter/cutoff", vec![OscType::Float(20_000.0)]));
        c.send(&m("/gate/adsr", vec![OscType::Int(1)]));
        c.sync(1);
        let before = c.stats(&["messages", "errors", "applied"]);
        let valid = |p: &OscPacket| rosc::encoder::encode(p).unwrap();
        let freq = valid(&m("/mod/sine/freq", vec![OscType::Float(660.0)]));
        let mut nested = OscPacket::Bundle(OscBundle {
            timetag: OscTime::from((0, 1)),
            content: vec![m("/mod/sine/freq", vec![OscType::Float(880.0)])],
        });
        for _ in 0..20 {
            nested = OscPacket::Bundle(OscBundle {
                timetag: OscTime::from((0, 1)),
                content: vec![nested],
            });
        }
        let mut bundle_cut = valid(&OscPacket::Bundle(OscBundle {
            timetag: OscTime::from((0, 1)),
            content: vec![m("/mod/sine/freq", vec![OscType::Float(880.0)])],
        }));
        bundle_cut.truncate(bundle_cut.len() - 6);
        let long_address = format!("/{}\0\0\0,\0\0\0", "a".repeat(10_000));
        let long_string = valid(&m(
            "/mod/sine/freq",
            vec![OscType::String("x".repeat(12_000))],
        ));
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty datagram", Vec::new()),
            ("truncated message", freq[..freq.len() - 3].to_vec()),
            ("truncated bundle", bundle_cut),
            (
                "bad padding",
                b"/mod/sine/freq\0,f\0\0\0\0\x44\x25".to_vec(),
            ),
            ("type tags without a comma", b"/status\0ff\0\0".to_vec()),
            ("unknown type tag", b"/mod/sine/freq\0\0,Q\0\0".to_vec()),
            (
                "type tag without its data",
                b"/mod/sine/freq\0\0,f\0\0".to_vec(),
            ),
            (
                "non-UTF-8 address",
                b"/mod/\xff\xfe/freq\0\0\0\0,f\0\0\x44\x25\0\0".to_vec(),
            ),
            (
                "blob longer than the packet",
                b"/mod/sine/freq\0\0,b\0\0\x7f\xff\xff\xff".to_vec(),
            ),
            (
                "wrong arity",
                valid(&m("/gate/adsr", vec![OscType::Int(1), OscType::Int(0)])),
            ),
            ("no argument", valid(&m("/mod/sine/freq", vec![]))),
            (
                "NaN",
                valid(&m("/mod/sine/freq", vec![OscType::Float(f32::NAN)])),
            ),
            (
                "infinity",
                valid(&m("/mod/sine/freq", vec![OscType::Double(f64::INFINITY)])),
            ),
            ("huge address", long_address.into_bytes()),
            ("huge string argument", long_string),
            ("65,000-byte datagram", vec![b'/'; 65_000]),
            ("bundle nested 21 deep", valid(&nested)),
            (
                "note out of range",
                valid(&m("/note/on", vec![OscType::Int(300)])),
            ),
        ];
        for (what, bytes) in &cases {
            c.send_raw(bytes);
            let r = c.recv();
            assert_eq!(r.addr, "/error", "{what}: {r:?}");
            let reply = format!("{:?}", r.args);
            assert!(
                reply.len() < 400,
                "{what}: a short reply, not an echo: {} bytes",
                reply.len()
            );
            println!("{what}: {:?}", r.args.get(1));
        }
        let after = c.stats(&["messages", "errors", "applied", "underruns", "lost_samples"]);
        let (messages, errors, applied) = (
            after[0] - before[0],
            after[1] - before[1],
            after[2] - before[2],
        );
        assert_eq!(
            errors as usize,
            cases.len(),
            "one error per malformed packet"
        );
        assert_eq!(applied, 1.0, "only the first /status, nothing malformed");
        // The first /status is applied inside the window, the last one received but not yet.
        assert_eq!(messages, errors + applied, "counters add up");
        assert_eq!(
            (after[3], after[4]),
            (0.0, 0.0),
            "no underrun, nothing lost"
        );

        // A flood over TCP: 3,000 malformed frames against a limit of 1,000 packets/s. The limit
        // is per host, so from here on the watcher asks from another one (127.0.0.2): otherwise
        // its own /status could find the flood's bucket empty and be dropped.
        let c = synth.client_from("127.0.0.2");
        let mut tcp = TcpStream::connect(("127.0.0.1", synth.port)).unwrap();
        let base = c.stats(&["messages", "rate_limited"]);
        let flood: Vec<u8> = (0..3_000)
            .flat_map(|_| chronus_osc_slip(b"/flood\0\0,Q\0\0"))
            .collect();
        tcp.write_all(&flood).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut polls = 0.0;
        let (taken, limited) = loop {
            let v = c.stats(&["messages", "rate_limited"]);
            polls += 1.0; // each poll is a message too, counted in its own reply
            let (taken, limited) = (v[0] - base[0], v[1] - base[1]);
            if taken - polls + limited >= 3_000.0 || Instant::now() > deadline {
                break (taken - polls, limited);
            }
            std::thread::sleep(Duration::from_millis(5)); // poll interval
        };
        println!("flood: {limited} of 3000 dropped by the rate limit, {taken} handled");
        assert_eq!(
            taken + limited,
            3_000.0,
            "every frame handled or dropped, none lost"
        );
        assert!(
            limited >= 1_500.0,
            "most of the flood was over the limit: {limited}"
        );

        // The note plays on for a second after the barrage (polled, not slept), then a valid
        // message is applied and heard.
        let deadline = Instant::now() + Duration::from_secs(5);
        while c.played_samples() < 60_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20)); // poll interval
        }
        let played_before = c.played_samples();
        c.send_raw(&freq);
        c.sync(2);
        let end = c.stats(&["underruns", "lost_samples"]);
        assert_eq!((end[0], end[1]), (0.0, 0.0));
        drop(tcp);
        let (s, stdout) = synth.finish();
        assert!(stdout.contains("0 underruns"), "{stdout}");
        // The note played at 440 Hz through all of it, then at 660 Hz.
        let onset = s.iter().position(|&x| x != 0.0).expect("the note sounds");
        assert!(
            played_before > onset + 48_000,
            "a second of the note after the barrage"
        );
        let f_before = freq_of(&s[onset + 4_800..played_before]);
        let f_after = freq_of(&s[s.len() - 30_000..s.len() - 6_000]);
        println!("pitch {f_before:.2} Hz during the barrage, {f_after:.2} Hz after");
        assert!((f_before - 440.0).abs() < 0.5 && (f_after - 660.0).abs() < 0.5);
    });
}

fn freq_of(s: &[f32]) -> f64 {
    analysis::fundamental(s, SR).unwrap_or(0.0)
}

#[test]
fn far_future_bundles_are_refused_counted_and_never_starve_immediate_commands() {
    let synth = Synth::start("future.wav", 10.0, &[]);
    let (c, watcher) = (synth.client(), synth.client());
    let freq = |hz: f32| m("/mod/sine/freq", vec![OscType::Float(hz)]);
    // A bundle timetagged `ms` from now, encoded once (a flood sends it again and again).
    let ahead = |ms: u64| {
        rosc::encoder::encode(&OscPacket::Bundle(OscBundle {
            timetag: OscTime::try_from(SystemTime::now() + Duration::from_millis(ms)).unwrap(),
            content: vec![freq(1_000.0)],
        }))
        .unwrap()
    };
    // Sends `bytes` `n` times, 64 at a time: each 64 counted in by the server (asked from
    // the other socket) before the next go, so no datagram is lost in a full socket buffer
    // (about 160 small datagrams fill a default one).
    let mut sent = 0.0;
    let mut asked = 0.0;
    let mut flood = |bytes: &[u8], n: u32| {
        for chunk in 0..n.div_ceil(64) {
            let k = (n - chunk * 64).min(64);
            for _ in 0..k {
                c.send_raw(bytes);
            }
            sent += f64::from(k);
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                asked += 1.0;
                let got = watcher.stat("messages");
                if got >= sent + asked {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the flood did not arrive: {got} of {sent} + {asked}"
                );
                std::thread::sleep(Duration::from_micros(200)); // poll interval
            }
        }
    };
    // An hour ahead: past the 60 s horizon, every one refused (once this filled the workers'
    // schedules, and later immediate commands were dropped without a word).
    let far = 5_000;
    flood(&ahead(3_600_000), far);
    // 30 s ahead, within the horizon: the first 2,048 wait for their time, the rest are
    // refused (half of the workers' schedule is kept for immediate commands).
    let near = 3_000;
    flood(&ahead(30_000), near);
    let first = c.recv();
    let reason = format!("{:?}", first.args);
    assert!(
        first.addr == "/error" && reason.contains("horizon of 60 s"),
        "{} {reason}",
        first.addr
    );
    // Asked from another socket (`/sync` here would wait 30 s): the refusals counted, until
    // every bundle has been handled.
    let expected = f64::from(far + near) - chronus_engine::FUTURE_LIMIT as f64;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut refused = 0.0;
    while refused < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5)); // poll interval (under the rate limit)
        refused = watcher.stat("schedule_refused");
    }
    assert_eq!(refused, expected, "refused and counted");
    // Immediate commands still get through, and are heard.
    watcher.send(&freq(300.0));
    watcher.send(&m("/gate/adsr", vec![OscType::String("on".into())]));
    watcher.sync(1);
    assert_eq!(
        watcher.stat("schedule_refused"),
        expected,
        "no more refused than that"
    );
    let from = watcher.played_samples();
    let v = watcher.ask(&m(
        "/get",
        vec![
            OscType::String("sine".into()),
            OscType::String("freq".into()),
        ],
    ));
    assert_eq!(v.args[2], OscType::Float(300.0));
    let (s, _) = synth.finish();
    let heard = freq_of(&s[from + 2_400..from + 26_400]);
    println!("far-future flood: {refused} refused, then {heard:.2} Hz");
    assert!((heard - 300.0).abs() < 0.2, "{heard} Hz");
}

/// An OSC client over TCP (SLIP framing, chronus-osc's codec): nothing is lost however fast
/// it sends.
struct TcpClient {
    stream: TcpStream,
    decoder: chronus_osc::slip::Decoder,
    frames: std::collections::VecDeque<Vec<u8>>,
}

impl TcpClient {
    fn connect(port: u16) -> TcpClient {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        TcpClient {
            stream,
            decoder: chronus_osc::slip::Decoder::new(65_536),
            frames: Default::default(),
        }
    }
    fn send(&mut self, p: &OscPacket) {
        let frame = chronus_osc::slip::encode(&rosc::encoder::encode(p).unwrap());
        self.stream.write_all(&frame).unwrap();
    }
    /// The next reply; `None` when the server closed the connection.
    fn recv(&mut self) -> Option<OscMessage> {
        loop {
            if let Some(body) = self.frames.pop_front() {
                return match rosc::decoder::decode_udp(&body).unwrap().1 {
                    OscPacket::Message(m) => Some(m),
                    OscPacket::Bundle(_) => panic!("a bundle reply"),
                };
            }
            let mut buf = [0u8; 4096];
            let n = match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("no reply: {e}"),
            };
            for f in self.decoder.feed(&buf[..n]) {
                match f {
                    chronus_osc::slip::Frame::Packet(p) => self.frames.push_back(p),
                    other => panic!("a bad frame from the server: {other:?}"),
                }
            }
        }
    }
    fn ask(&mut self, p: &OscPacket) -> OscMessage {
        self.send(p);
        self.recv().expect("a reply")
    }
}

fn create(name: &str, kind: &str) -> OscPacket {
    m(
        "/patch/create",
        vec![OscType::String(name.into()), OscType::String(kind.into())],
    )
}

#[test]
fn staged_edits_syncs_modules_and_tcp_connections_have_limits_answered_and_counted() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("limits.wav", 6.0, &[]);
        let watcher = synth.client();
        let mut a = TcpClient::connect(synth.port);
        let limits = [
            "staged_refused",
            "syncs_refused",
            "modules_refused",
            "tcp_refused",
        ];
        assert_eq!(watcher.stats(&limits), [0.0; 4]);

        // Staged edits: 1,024 wait for a commit; the next is refused and named.
        let staged = chronus_osc::router::MAX_STAGED_EDITS;
        for i in 0..staged {
            a.send(&create(&format!("m{i}"), "osc"));
        }
        let refused = a.ask(&create("one_more", "osc"));
        let reason = format!("{:?}", refused.args);
        assert!(
            refused.addr == "/error" && reason.contains("1024 staged edits per sender"),
            "{refused:?}"
        );
        let aborted = a.ask(&m("/patch/abort", vec![]));
        assert_eq!(
            (aborted.addr.as_str(), &aborted.args[0]),
            ("/patch/aborted", &OscType::Int(staged as i32))
        );

        // Modules: the default patch's 6 and 251 more is one too many; nothing changes.
        let before = a.ask(&m("/modules", vec![])).args.len();
        let room = chronus_dsp::MAX_MODULES - before / 2;
        for i in 0..=room {
            a.send(&create(&format!("o{i}"), "osc"));
        }
        let refused = a.ask(&m("/patch/commit", vec![]));
        let reason = format!("{:?}", refused.args);
        assert!(
            refused.addr == "/error" && reason.contains("at most 256 modules"),
            "{refused:?}"
        );
        assert_eq!(
            a.ask(&m("/modules", vec![])).args.len(),
            before,
            "nothing changed"
        );
        // Exactly as many as there is room for go in.
        for i in 0..room {
            a.send(&create(&format!("o{i}"), "osc"));
        }
        let committed = a.ask(&m("/patch/commit", vec![]));
        assert_eq!(committed.addr, "/patch/committed", "{committed:?}");

        // Syncs: behind a command 3 s ahead, 256 /sync replies may wait; the next is refused.
        let later = OscPacket::Bundle(OscBundle {
            timetag: OscTime::try_from(SystemTime::now() + Duration::from_secs(3)).unwrap(),
            content: vec![m("/mod/sine/gain", vec![OscType::Float(0.3)])],
        });
        let mut b = TcpClient::connect(synth.port);
        b.send(&later);
        let waiting = chronus_osc::router::MAX_PENDING_SYNCS;
        for i in 0..waiting {
            b.send(&m("/sync", vec![OscType::Int(i as i32)]));
        }
        let refused = b.ask(&m("/sync", vec![OscType::Int(-1)]));
        let reason = format!("{:?}", refused.args);
        assert!(
            refused.addr == "/error" && reason.contains("256 /sync replies waiting"),
            "{refused:?}"
        );

        // TCP connections: a and b are two of the 64; the 65th is told why and closed.
        let max = chronus_osc::MAX_TCP_CONNECTIONS;
        let mut held: Vec<TcpClient> = (2..max).map(|_| TcpClient::connect(synth.port)).collect();
        // Each is served (it answers) before the one that is too many connects.
        for c in held.iter_mut() {
            assert_eq!(c.ask(&m("/status", vec![])).addr, "/status.reply");
        }
        let mut over = TcpClient::connect(synth.port);
        let told = over.recv().expect("an /error before the close");
        assert!(
            format!("{:?}", told.args).contains("at most 64 TCP connections"),
            "{told:?}"
        );
        assert!(over.recv().is_none(), "closed");
        // One closes: there is room again.
        drop(held.pop());
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut again = loop {
            let mut c = TcpClient::connect(synth.port);
            c.send(&m("/status", vec![]));
            match c.recv() {
                Some(r) if r.addr == "/status.reply" => break c,
                _ => assert!(Instant::now() < deadline, "no room after a close"),
            }
            std::thread::sleep(Duration::from_millis(20)); // the server notices the close
        };
        assert_eq!(again.ask(&m("/status", vec![])).addr, "/status.reply");

        let counted = watcher.stats(&limits);
        assert_eq!(counted[..3], [1.0, 1.0, 1.0], "{counted:?}");
        assert!(counted[3] >= 1.0, "{counted:?}");
        drop((a, b, held, again));
        let (_, stdout) = synth.finish();
        assert!(stdout.contains("0 underruns"), "{stdout}");
    });
}

#[test]
fn the_rate_limit_is_per_host_however_many_connections_it_opens() {
    let synth = Synth::start("per-host.wav", 3.0, &["--rate-limit", "200"]);
    let mut clients: Vec<TcpClient> = (0..4).map(|_| TcpClient::connect(synth.port)).collect();
    // 150 each: under the limit for any one connection, 600 together from one host.
    let gain = m("/mod/sine/gain", vec![OscType::Float(0.2)]);
    for c in clients.iter_mut() {
        for _ in 0..150 {
            c.send(&gain);
        }
    }
    // The bucket refills at 200 a second: a second later a question gets through.
    std::thread::sleep(Duration::from_millis(1_100)); // let the bucket refill
    let watcher = synth.client();
    let [limited, messages] = watcher.stats(&["rate_limited", "messages"])[..] else {
        panic!("two counters")
    };
    println!("600 packets from one host: {messages} handled, {limited} over the limit");
    assert!(limited >= 300.0, "{limited} of 600 limited");
    drop(clients);
    synth.finish();
}

#[test]
fn a_tcp_client_that_never_reads_is_disconnected_and_counted_and_stalls_nobody() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("lazy.wav", 6.0, &["--rate-limit", "0"]);
        let watcher = synth.client();
        // A subscriber that asks and asks and never reads an answer: ~30 MB of /status replies.
        let mut lazy = TcpStream::connect(("127.0.0.1", synth.port)).unwrap();
        let ask = |p: &OscPacket| chronus_osc::slip::encode(&rosc::encoder::encode(p).unwrap());
        let mut flood = ask(&m("/notify", vec![OscType::Int(1)]));
        let status = ask(&m("/status", vec![]));
        for _ in 0..30_000 {
            flood.extend_from_slice(&status);
        }
        // The server closes it part way: the rest of the writes fail, which is the point.
        let _ = lazy.write_all(&flood);
        let deadline = Instant::now() + Duration::from_secs(5);
        while watcher.stat("tcp_stalled") < 1.0 {
            assert!(
                Instant::now() < deadline,
                "the lazy client is still connected"
            );
            std::thread::sleep(Duration::from_millis(20)); // poll interval
        }
        // Nobody else waited for it: a /sync over UDP is answered (by the notify thread), and a
        // new TCP client is served.
        watcher.send(&m("/mod/sine/freq", vec![OscType::Float(330.0)]));
        watcher.sync(7);
        let mut fresh = TcpClient::connect(synth.port);
        assert_eq!(fresh.ask(&m("/status", vec![])).addr, "/status.reply");
        assert_eq!(watcher.stat("tcp_stalled"), 1.0, "counted once");
        // Its side sees the connection closed.
        lazy.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut sink = Vec::new();
        let closed = lazy.read_to_end(&mut sink);
        assert!(
            closed.is_ok()
                || closed.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "closed by the server"
        );
        drop(fresh);
        let (_, stdout) = synth.finish();
        assert!(stdout.contains("0 underruns"), "{stdout}");
    });
}

#[test]
fn the_largest_delay_edit_allowed_lands_without_an_underrun_and_one_more_is_refused() {
    support::stalls::again_if_the_machine_stalled(|| {
        use chronus_dsp::ModuleKind;
        let synth = Synth::start("heavy-edit.wav", 4.0, &[]);
        let watcher = synth.client();
        watcher.send(&m("/gate/adsr", vec![OscType::String("on".into())]));
        watcher.sync(1);
        // What the default patch holds already (a delay and a reverb), and what each new one takes
        // (stereo, the default: lines for both sides).
        let bytes = |k: ModuleKind| k.build_for(SR, 64, true).unwrap().memory_bytes();
        let (delay, reverb) = (bytes(ModuleKind::Delay), bytes(ModuleKind::Reverb));
        let mut room = chronus_dsp::MAX_DELAY_MEMORY - delay - reverb;
        let mut c = TcpClient::connect(synth.port);
        // 20 reverbs wired in, then as many two-second delays as fit, in one commit.
        for i in 0..20 {
            c.send(&create(&format!("r{i}"), "reverb"));
            c.send(&m(
                "/patch/connect",
                vec![
                    OscType::String("filter".into()),
                    OscType::String(format!("r{i}")),
                ],
            ));
            room -= reverb;
        }
        let delays = room / delay;
        for i in 0..delays {
            c.send(&create(&format!("d{i}"), "delay"));
        }
        let committed = c.ask(&m("/patch/commit", vec![]));
        assert_eq!(committed.addr, "/patch/committed", "{committed:?}");
        println!("one commit: 20 reverbs and {delays} delays");
        watcher.send(&m("/mod/d0/time", vec![OscType::Float(250.0)]));
        watcher.sync(2);
        assert_eq!(watcher.stat("underruns"), 0.0, "no block lost to the edit");
        // One delay more does not fit: refused, named, nothing changed.
        c.send(&create("one_more", "delay"));
        let refused = c.ask(&m("/patch/commit", vec![]));
        let reason = format!("{:?}", refused.args);
        assert!(
            refused.addr == "/error" && reason.contains("MiB of delay and reverb lines"),
            "{refused:?}"
        );
        drop(c);
        let (_, stdout) = synth.finish();
        assert!(stdout.contains("0 underruns"), "{stdout}");
    });
}

/// Polls `/status` until `key` reaches `at_least` (or fails after 10 s).
fn wait_stat(c: &Client, key: &str, at_least: f64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = c.stat(key);
        if v >= at_least {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{key} stayed at {v} (< {at_least})"
        );
        std::thread::sleep(Duration::from_millis(20)); // poll interval
    }
}

#[test]
fn injected_faults_are_survived_and_a_poison_command_fails_one_worker_alone() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("faults.wav", 12.0, &["--fault-injection"]);
        let c = synth.client();
        let s = |v: &str| OscType::String(v.into());
        c.send(&m("/gate/adsr", vec![s("on")]));
        c.sync(1);
        let inject = |kind: &str, target: &str| {
            let r = c.ask(&m("/fault/inject", vec![s(kind), s(target)]));
            assert_eq!(
                (r.addr.as_str(), r.args.clone()),
                ("/fault/injected", vec![s(kind), s(target)]),
                "{r:?}"
            );
        };
        // One worker at a time: replaced, and not a sample lost.
        let mut respawns = c.stat("respawns");
        for (kind, target) in [
            ("crash", "active"),
            ("hang", "standby"),
            ("nan", "active"),
            ("panic", "standby"),
        ] {
            inject(kind, target);
            respawns = wait_stat(&c, "respawns", respawns + 1.0);
            wait_stat(&c, "workers_alive", 2.0);
            println!("{kind} {target}: replaced");
        }
        let v = c.stats(&["underruns", "lost_samples", "failovers", "faults_injected"]);
        assert_eq!((v[0], v[1]), (0.0, 0.0), "no sample lost to single faults");
        assert!(
            v[2] >= 2.0,
            "the active worker's faults were failovers: {v:?}"
        );
        assert_eq!(v[3], 4.0);
        // After the next checkpoint (every 5 s) holds the gate, a change it does not hold, then
        // both workers at once: the restart replays the change (nothing but time is lost).
        wait_stat(&c, "uptime", 5.5);
        c.send(&m("/mod/sine/freq", vec![OscType::Float(330.0)]));
        c.sync(2);
        inject("crash", "both");
        respawns = wait_stat(&c, "respawns", respawns + 2.0);
        wait_stat(&c, "workers_alive", 2.0);
        let lost_both = c.stat("lost_samples");
        assert!(lost_both > 0.0, "a double fault loses time");
        assert!(c.stat("replayed") >= 1.0, "the change was replayed");
        let block = c.stat("block") as usize;
        let restarted = c.stat("played_blocks") as usize * block;
        std::thread::sleep(Duration::from_millis(500)); // the restarted tone plays a while
        let restarted_until = c.stat("played_blocks") as usize * block;
        // Poison commands: armed, each rides on the next command; the leading worker fails on it
        // alone (a panic, then a hang), and its follower passes over it (or puts it off: a hung
        // leader never renders the block).
        let sender = synth.client_from("127.0.0.3");
        for (n, (kind, pitch)) in [("panic", 440.0), ("hang", 550.0)].into_iter().enumerate() {
            inject(kind, "command");
            assert_eq!(c.stat("respawns"), respawns, "armed, not yet sent");
            // From a client of its own, which hears what became of its command.
            sender.send(&m("/mod/sine/freq", vec![OscType::Float(pitch)]));
            respawns = wait_stat(&c, "respawns", respawns + 1.0);
            wait_stat(&c, "workers_alive", 2.0);
            let lost = c.stat("lost_samples");
            println!(
                "lost samples: crash both {lost_both}, poison command ({kind}) {}",
                lost - lost_both
            );
            assert_eq!(lost, lost_both, "the poison command ({kind}) lost nothing");
            assert!(
                c.stat("quarantined") >= n as f64 + 1.0,
                "the poison command ({kind}) is quarantined"
            );
            let told = sender.recv();
            println!("the poison command's sender: {} {:?}", told.addr, told.args);
            assert_eq!(told.addr, "/error", "{told:?}");
            assert_eq!(told.args[0], s("/mod/sine/freq"), "{told:?}");
            assert!(
                matches!(&told.args[1], OscType::String(r) if r.starts_with("quarantined:")),
                "{told:?}"
            );
            // Not a double fault a moment later either (one that was on its way when the
            // replacement was counted).
            let v = c.stats(&["lost_samples", "respawns"]);
            assert_eq!(
                v,
                [lost_both, respawns],
                "a single fault ({kind}), nothing lost"
            );
        }
        let (rec, stdout) = synth.finish();
        println!("{}", stdout.lines().last().unwrap_or(""));
        // The audio says so too: no gap (a run of exact zeros) from before the poison command on.
        let gap = rec[restarted_until..]
            .split(|&x| x != 0.0)
            .map(<[f32]>::len)
            .max()
            .unwrap_or(0);
        assert!(gap < 8, "a gap of {gap} samples after the poison command");
        // After the double fault, the pitch set after the checkpoint.
        let f = freq(&rec[restarted + 4_800..restarted_until]);
        println!("after crash both: {f:.2} Hz");
        assert!((f - 330.0).abs() < 1.0, "{f} Hz (440: the change was lost)");
        // The tone plays on after all of it, at its level, and the quarantined commands (440 and
        // 550 Hz) never took effect: the last second is still 330 Hz.
        let tail = &rec[rec.len() - SR as usize..];
        let (f, level) = (freq(tail), analysis::peak(tail));
        println!("after the faults: {f:.2} Hz, peak {level:.3}");
        assert!((f - 330.0).abs() < 1.0, "{f} Hz");
        assert!(level > 0.3, "peak {level}");
    });
}

#[test]
fn fault_injection_is_off_by_default_and_loopback_only() {
    let synth = Synth::start("nofaults.wav", 1.0, &[]);
    let c = synth.client();
    let s = |v: &str| OscType::String(v.into());
    let r = c.ask(&m("/fault/inject", vec![s("crash"), s("active")]));
    assert_eq!(r.addr, "/error");
    assert!(
        format!("{:?}", r.args).contains("--fault-injection"),
        "{r:?}"
    );
    assert_eq!(c.stat("respawns"), 0.0);
    synth.finish();
    let out = support::chronus()
        .args([
            "run",
            "--backend",
            "null",
            "--seconds",
            "1",
            "--fault-injection",
        ])
        .args(["--osc", &format!("0.0.0.0:{}", free_port())])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("loopback only"), "{err}");
}

#[test]
fn nine_commits_in_one_bundle_are_each_applied_or_refused_never_lost() {
    support::stalls::again_if_the_machine_stalled(|| {
        let synth = Synth::start("commits.wav", 4.0, &[]);
        let c = synth.client();
        let s = |v: &str| OscType::String(v.into());
        // Nine creates and commits in one bundle; returns (committed, refused).
        let nine = |tag: &str| {
            let mut content = Vec::new();
            for n in 0..9 {
                content.push(m("/patch/create", vec![s(&format!("{tag}{n}")), s("osc")]));
                content.push(m("/patch/commit", vec![]));
            }
            c.send(&OscPacket::Bundle(OscBundle {
                timetag: OscTime::from((0, 1)),
                content,
            }));
            let (mut committed, mut refused) = (0u32, 0u32);
            while committed + refused < 9 {
                let r = c.recv();
                match r.addr.as_str() {
                    "/patch/committed" => committed += 1,
                    "/error" => {
                        assert!(format!("{:?}", r.args).contains("patch commits"), "{r:?}");
                        refused += 1;
                    }
                    other => panic!("{other}: {r:?}"),
                }
            }
            (committed, refused)
        };
        let (committed, refused) = nine("o");
        println!("one bundle of 9 commits: {committed} committed, {refused} refused");
        assert!(committed >= 8, "the mailbox takes 8 at once");
        // And while a worker is being replaced: its replacement must get every edit too, or it
        // would diverge from the survivor (and be counted).
        let pid = support::stalls::children(synth.child.id())[0];
        // SAFETY: SIGKILL to a worker of the chronus under test.
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
        let (during, refused_during) = nine("r");
        println!("during a resync: {during} committed, {refused_during} refused");
        wait_stat(&c, "respawns", 1.0);
        wait_stat(&c, "workers_alive", 2.0);
        c.sync(1);
        let v = c.stats(&[
            "commits_refused",
            "diverged",
            "underruns",
            "dropped_commands",
        ]);
        assert_eq!(
            v,
            vec![f64::from(refused + refused_during), 0.0, 0.0, 0.0],
            "counted; no worker lost an edit"
        );
        let modules = format!("{:?}", c.ask(&m("/modules", vec![])).args);
        let there = |tag: &str| {
            (0..9)
                .filter(|n| modules.contains(&format!("\"{tag}{n}\"")))
                .count() as u32
        };
        assert_eq!(
            (there("o"), there("r")),
            (committed, during),
            "what was committed is in the patch, nothing else"
        );
        synth.finish();
    });
}

#[test]
fn stereo_a_bus_takes_a_send_at_its_level_and_status_reports_each_channel() {
    // Two channels: the default.
    let synth = Synth::start("stereo-bus.wav", 3.0, &[]);
    let c = synth.client();
    let status = c.status();
    let has = |k: &str| status.iter().any(|(key, _)| key == k);
    assert_eq!(c.stat("channels"), 2.0);
    assert!(has("peak.1") && has("peak.2") && !has("peak.3"));
    // Hard left (the pan glides there over 20 ms), then a steady note 100 ms later.
    c.send(&m("/mod/pan/pos", vec![OscType::Int(-1)]));
    c.send(&m("/mod/filter/cutoff", vec![OscType::Int(8000)]));
    c.send_timed(
        100,
        vec![m("/gate/adsr", vec![OscType::String("on".into())])],
    );
    c.sync(1);
    std::thread::sleep(Duration::from_millis(400));
    let before = c.played_samples();
    // Each worker's DSP load: some of the block's time, far from all of it.
    let loads = c.stats(&["dsp_load.0", "dsp_load.1"]);
    println!("DSP load of each worker: {loads:?}");
    assert!(loads.iter().all(|&l| l > 0.0 && l < 0.5), "{loads:?}");
    let peaks = c.stats(&["peak.1", "peak.2"]);
    println!("peaks with the note hard left: {peaks:?}");
    assert!(peaks[0] > 0.2 && peaks[1] < 1e-3, "{peaks:?}");
    // A bus taking half of the pan, to the output: the left side 1.5 times as loud.
    let created = c.ask(&m("/bus/new", vec![OscType::String("verb".into())]));
    assert_eq!(created.addr, "/bus/created", "{created:?}");
    let s = |v: &str| OscType::String(v.into());
    c.send(&m(
        "/patch/connect",
        vec![s("pan"), s("verb"), OscType::Float(0.5)],
    ));
    c.send(&m("/patch/connect", vec![s("verb"), s("out")]));
    let committed = c.ask(&m("/patch/commit", vec![]));
    assert_eq!(committed.args, vec![OscType::Int(2)], "{committed:?}");
    c.sync(2);
    let after = c.played_samples();
    // Refused, counted: a level out of range, a bus that exists.
    let errors = c.stat("errors");
    let bad = c.ask(&m(
        "/patch/connect",
        vec![s("pan"), s("verb"), OscType::Float(3.0)],
    ));
    assert_eq!(bad.addr, "/error", "{bad:?}");
    let again = c.ask(&m("/bus/new", vec![s("verb")]));
    assert_eq!(again.addr, "/error", "{again:?}");
    assert_eq!(c.stat("errors"), errors + 2.0);
    let ((left, right), _) = synth.finish_sides();
    let level = |a: usize| analysis::rms(&left[a..a + 9_600]);
    let (l1, l2) = (level(before - 9_600), level(after + 4_800));
    println!("left RMS before the send {l1:.4}, after {l2:.4}");
    assert!((l2 / l1 - 1.5).abs() < 0.01, "{l1} -> {l2}");
    assert!(analysis::peak(&right) < 1e-3, "nothing on the right");
}

/// A noise source made over OSC plays in its colour: pink, wired straight to the output, on
/// both sides alike, with 12 dB less in the octave four above than in the octave below (white
/// would have as much), measured in the recording.
#[test]
fn a_pink_noise_made_over_osc_is_heard_in_its_colour() {
    let synth = Synth::start("noise.wav", 2.0, &[]);
    let c = synth.client();
    let s = |v: &str| OscType::String(v.into());
    c.send(&create("hiss", "noise"));
    c.send(&m("/patch/connect", vec![s("hiss"), s("out")]));
    let r = c.ask(&m("/patch/commit", vec![]));
    assert_eq!(r.addr, "/patch/committed", "{r:?}");
    c.send(&m("/mod/hiss/color", vec![OscType::Int(1)]));
    c.sync(1);
    let from = c.played_samples() + 480;
    let ((left, right), _) = synth.finish_sides();
    assert_eq!(left, right, "a mono source to the output: both sides alike");
    let x = &left[from..from + 38_400];
    let band = |lo: f64| {
        let power: f64 = (0..40)
            .map(|k| analysis::amplitude_at(x, lo * (1.0 + k as f64 / 40.0), SR).powi(2))
            .sum();
        10.0 * (power / 40.0).log10()
    };
    let (low, high) = (band(200.0), band(3_200.0));
    println!("pink noise: 200-400 Hz {low:.1} dB, 3.2-6.4 kHz {high:.1} dB (four octaves: -12.0)");
    assert!(((high - low) + 12.04).abs() < 2.0, "{low} {high}");
    assert!(analysis::rms(x) > 0.03, "audible: {}", analysis::rms(x));
}

#[test]
fn two_instruments_made_over_osc_are_each_heard_at_their_pitch() {
    let synth = Synth::start("instruments.wav", 4.0, &[]);
    let c = synth.client();
    let s = |v: &str| OscType::String(v.into());
    let r = c.ask(&m("/inst/new", vec![s("bass"), s("osc > adsr > filter")]));
    assert_eq!(
        (r.addr.as_str(), r.args.clone()),
        ("/inst/created", vec![s("bass")])
    );
    // Its modules answer to their names.
    c.send(&m("/mod/bass.osc/shape", vec![OscType::Int(3)]));
    c.send(&m("/mod/bass.osc/gain", vec![OscType::Float(0.3)]));
    c.send(&m("/mod/bass.filter/cutoff", vec![OscType::Int(8000)]));
    let list = c.ask(&m("/inst/list", vec![]));
    assert_eq!(list.addr, "/inst/list.reply");
    assert_eq!(
        list.args[2..].to_vec(),
        vec![s("bass"), s("bass.osc > bass.adsr > bass.filter")],
        "{list:?}"
    );
    assert_eq!(list.args[0], s("default"));
    // Refusals: a taken name, a chain that is no voice; nothing changes, each answered.
    for (name, chain) in [("bass", "osc > adsr"), ("pad", "osc > filter")] {
        let r = c.ask(&m("/inst/new", vec![s(name), s(chain)]));
        assert_eq!(r.addr, "/error", "{name} {chain}: {r:?}");
    }
    let r = c.ask(&m("/note/on", vec![OscType::Int(60), s("drums")]));
    assert!(format!("{r:?}").contains("no instrument 'drums'"), "{r:?}");
    // The limit: 8 instruments, the default one included; the 9th is answered and counted.
    for i in 0..6 {
        let r = c.ask(&m(
            "/inst/new",
            vec![s(&format!("i{i}")), s("noise > adsr")],
        ));
        assert_eq!(r.addr, "/inst/created", "{r:?}");
    }
    let r = c.ask(&m("/inst/new", vec![s("i6"), s("noise > adsr")]));
    assert!(format!("{r:?}").contains("at most 8 instruments"), "{r:?}");
    assert_eq!(c.stat("instruments_refused"), 1.0);
    for i in 0..6 {
        let r = c.ask(&m("/inst/remove", vec![s(&format!("i{i}"))]));
        assert_eq!(r.addr, "/inst/removed", "{r:?}");
    }
    let r = c.ask(&m("/modules", vec![]));
    assert!(
        !format!("{r:?}").contains("i0."),
        "their modules are gone: {r:?}"
    );

    // The bass alone, then the default instrument's A4 joins it at a known sample.
    c.send(&m(
        "/note/on",
        vec![OscType::Int(34), OscType::Float(1.0), s("bass")],
    ));
    c.sync(1);
    let alone_from = c.played_samples() + 4_800;
    let both_at = c.send_timed(
        700,
        vec![m("/note/on", vec![OscType::Int(69), OscType::Float(1.0)])],
    ) as usize;
    let (x, _) = synth.finish();
    assert!(both_at > alone_from + 9_600, "the run was slow to start");
    let alone = &x[alone_from..both_at - 480];
    let both = &x[both_at + 4_800..both_at + 4_800 + 24_000];
    let bass_hz = 440.0 * 2f64.powf((34.0 - 69.0) / 12.0);
    let f = analysis::fundamental(alone, SR).unwrap();
    println!(
        "bass alone at {f:.3} Hz (want {bass_hz:.3}); 440 Hz alone {:.4}, together {:.4}; \
         bass fundamental alone {:.4}, together {:.4}",
        analysis::amplitude_at(alone, 440.0, SR),
        analysis::amplitude_at(both, 440.0, SR),
        analysis::amplitude_at(alone, bass_hz, SR),
        analysis::amplitude_at(both, bass_hz, SR),
    );
    assert!(
        (1200.0 * (f / bass_hz).log2()).abs() < 1.0,
        "bass at {f} Hz"
    );
    assert!(analysis::amplitude_at(alone, 440.0, SR) < 0.01, "no A4 yet");
    assert!(
        analysis::amplitude_at(both, 440.0, SR) > 0.1,
        "the A4 joins"
    );
    let (a, b) = (
        analysis::amplitude_at(alone, bass_hz, SR),
        analysis::amplitude_at(both, bass_hz, SR),
    );
    assert!(
        a > 0.05 && (b / a - 1.0).abs() < 0.02,
        "the bass plays on as it was: {a} {b}"
    );
}

#[test]
fn presets_make_instruments_and_save_them_as_files_that_load_back() {
    let dir = scratch("presets");
    let _ = std::fs::remove_dir_all(&dir);
    let synth = Synth::start("presets.wav", 3.0, &["--presets", dir.to_str().unwrap()]);
    let c = synth.client();
    let s = |v: &str| OscType::String(v.into());
    // A built-in preset, by one of its words, makes the instrument it names.
    let r = c.ask(&m("/inst/load", vec![s("pad"), s("warm pad")]));
    assert_eq!(r.addr, "/inst/loaded", "{r:?}");
    let get = |module: &str, param: &str| match c.ask(&m("/get", vec![s(module), s(param)])).args[2]
    {
        OscType::Float(v) => v,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(
        (get("pad.osc", "unison"), get("pad.adsr", "release")),
        (5.0, 1500.0)
    );
    // Tweaked, saved, loaded into a new instrument: every parameter comes back.
    c.send(&m("/mod/pad.filter/cutoff", vec![OscType::Int(2222)]));
    c.send(&m("/mod/pad.osc/detune", vec![OscType::Int(17)]));
    let r = c.ask(&m("/inst/save", vec![s("pad"), s("my pad")]));
    assert_eq!(r.addr, "/inst/saved", "{r:?}");
    let text = std::fs::read_to_string(dir.join("my pad.preset")).unwrap();
    assert!(
        text.contains("filter cutoff 2222") && text.contains("osc detune 17"),
        "{text}"
    );
    let r = c.ask(&m("/inst/load", vec![s("lead"), s("my pad")]));
    assert_eq!(r.addr, "/inst/loaded", "{r:?}");
    for (module, param) in [
        ("osc", "detune"),
        ("filter", "cutoff"),
        ("adsr", "attack"),
        ("pan", "spread"),
    ] {
        assert_eq!(
            get(&format!("lead.{module}"), param),
            get(&format!("pad.{module}"), param),
            "{module}.{param}"
        );
    }
    // Refusals: a name that leaves the folder, one taken, a preset that is nowhere.
    for (addr, inst, name) in [
        ("/inst/save", "pad", "../escape"),
        ("/inst/save", "pad", "my pad"),
        ("/inst/load", "x", "no such preset"),
        ("/inst/load", "nope", "pluck"),
    ] {
        let r = c.ask(&m(addr, vec![s(inst), s(name)]));
        // `/inst/load nope pluck` makes `nope`: only the first three are errors.
        if name == "pluck" {
            assert_eq!(r.addr, "/inst/loaded", "{r:?}");
        } else {
            assert_eq!(r.addr, "/error", "{addr} {name}: {r:?}");
        }
    }
    assert!(!dir.join("../escape.preset").exists());
    // The loaded instrument plays.
    c.send(&m(
        "/note/on",
        vec![OscType::Int(57), OscType::Float(1.0), s("lead")],
    ));
    c.sync(1);
    let from = c.played_samples() + 48_000;
    let (x, _) = synth.finish();
    assert!(
        analysis::rms(&x[from..from + 9_600]) > 0.02,
        "the lead sounds"
    );
}
