//! End-to-end through real ALSA PCMs, configured per test with ALSA_CONFIG_PATH (no global
//! file touched): a `jack` PCM paced by a dummy JACK server, tapped by alsa-lib's `file`
//! plugin, so the bytes chronus hands to ALSA can be compared with the offline render.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::Jackd;

fn scratch(name: &str) -> PathBuf {
    support::scratch("alsa", name)
}

struct Rig {
    jackd: Jackd,
    conf: PathBuf,
    dir: PathBuf,
}

impl Rig {
    /// A dummy JACK server and an ALSA configuration with PCMs on it (one channel).
    fn start(tag: &str) -> Rig {
        Rig::with_channels(tag, 1)
    }

    /// The same with `channels` channels (1 or 2): the `jack` PCM plays on that many of the
    /// server's playback ports, and the `file` tap holds interleaved frames.
    fn with_channels(tag: &str, channels: usize) -> Rig {
        let jackd = Jackd::start(&format!("alsa-{tag}"), 256);
        let dir = scratch(tag);
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("asoundrc");
        let ports = (0..channels)
            .map(|c| format!("{c} system:playback_{}", c + 1))
            .collect::<Vec<_>>()
            .join(" ");
        std::fs::write(
            &conf,
            format!(
                "pcm.cijack {{ type jack playback_ports {{ {ports} }} }}\n\
                 pcm.tap {{ type file slave.pcm \"cijack\" file \"{0}/tap.raw\" format \"raw\" }}\n\
                 pcm.tapplug {{ type plug slave.pcm \"tap\" }}\n\
                 pcm.!default {{ type plug slave.pcm \"tap\" }}\n",
                dir.display()
            ),
        )
        .unwrap();
        Rig { jackd, conf, dir }
    }

    fn chronus(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_chronus"));
        c.env(
            "ALSA_CONFIG_PATH",
            format!("/usr/share/alsa/alsa.conf:{}", self.conf.display()),
        )
        .env("JACK_DEFAULT_SERVER", &self.jackd.name)
        .env("JACK_NO_START_SERVER", "1");
        c
    }

    fn tap(&self) -> Vec<f32> {
        let bytes = std::fs::read(self.dir.join("tap.raw")).unwrap();
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

const SCORE: &str = "0.0 /mod/filter/cutoff 5000\n0.0 /gate/adsr on\n0.8 /mod/sine/freq 660\n\
                     1.4 /mod/sine/shape 2\n2.0 /gate/adsr off\n";

fn offline(score: &Path) -> Vec<f32> {
    offline_channels(score, 1)
}

/// The score rendered offline in `channels` channels, interleaved as the file holds it.
fn offline_channels(score: &Path, channels: usize) -> Vec<f32> {
    let out = scratch(&format!("reference-{channels}.wav"));
    let r = Command::new(env!("CARGO_BIN_EXE_chronus"))
        .args([
            "render",
            "--channels",
            &channels.to_string(),
            "--seconds",
            "4",
            "--score",
            score.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(r.status.success());
    hound::WavReader::open(&out)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect()
}

/// Length of the silent lead-in before the engine's samples start in the tap.
fn lead_in(tap: &[f32], reference: &[f32]) -> usize {
    (0..4096)
        .find(|&o| {
            tap[o..o + 2048]
                .iter()
                .zip(&reference[..2048])
                .all(|(a, b)| a.to_bits() == b.to_bits())
        })
        .expect("the engine's samples follow a short silent lead-in")
}

/// A mono run (`--channels 1`, the patch from before stereo) on a one-channel rig.
fn run(rig: &Rig, device: &str, format: &str, seconds: &str, score: &Path) -> (String, Duration) {
    run_with(rig, device, format, seconds, score, &["--channels", "1"])
}

fn run_with(
    rig: &Rig,
    device: &str,
    format: &str,
    seconds: &str,
    score: &Path,
    extra: &[&str],
) -> (String, Duration) {
    let started = Instant::now();
    let (child, first) = support::start_run(
        rig.chronus()
            .args([
                "run",
                "--backend",
                "alsa",
                "--device",
                device,
                "--alsa-format",
                format,
                "--no-osc",
            ])
            .args([
                "--lookahead",
                "8",
                "--seconds",
                seconds,
                "--score",
                score.to_str().unwrap(),
            ])
            .args(extra)
            .stderr(Stdio::piped()),
    );
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let text = format!("{first}{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (text, took)
}

#[test]
fn f32_reaches_alsa_bit_exact_and_paced_in_real_time() {
    support::stalls::again_if_the_machine_stalled(|| {
        let rig = Rig::start("f32");
        let score = rig.dir.join("s.score");
        std::fs::write(&score, SCORE).unwrap();
        let (text, took) = run(&rig, "tap", "f32", "3", &score);
        println!("{}", text.lines().last().unwrap_or(""));
        assert!(
            took >= Duration::from_millis(2_900),
            "paced by JACK: 3 s took {took:?}"
        );
        assert!(text.contains("0 underruns"), "{text}");
        let (tap, reference) = (rig.tap(), offline(&score));
        assert!(tap.len() > 140_000, "{} frames reached ALSA", tap.len());
        // The stream opens with the device buffer (less one period) of silence.
        let lead = lead_in(&tap, &reference);
        println!("silent lead-in: {lead} frames");
        let diff = tap[lead..]
            .iter()
            .zip(&reference)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(
            diff, None,
            "the bytes that reached ALSA differ from the engine's samples"
        );
    });
}

#[test]
fn s16_is_converted_exactly() {
    let rig = Rig::start("s16");
    let score = rig.dir.join("s.score");
    std::fs::write(&score, SCORE).unwrap();
    run(&rig, "tapplug", "s16", "2", &score);
    // plug turns each s16 into s16/32768 on its way to the float tap: undo that exactly.
    let tap: Vec<i32> = rig
        .tap()
        .iter()
        .map(|x| (x * 32_768.0).round() as i32)
        .collect();
    let want: Vec<i32> = offline(&score)
        .iter()
        .map(|&x| chronus_engine::offline::to_int(x, 16))
        .collect();
    assert!(tap.len() > 90_000);
    let lead = (0..4096)
        .find(|&o| tap[o..o + 2048] == want[..2048])
        .expect("the engine's samples follow the silent lead-in");
    let diff = tap[lead..].iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(
        diff, None,
        "s16 conversion differs (scaled, rounded, clipped, no dither)"
    );
}

/// A stereo score: the pan left of centre, ping-pong echoes, so the sides differ.
const STEREO: &str = "0.0 /mod/pan/pos -0.6\n0.0 /mod/delay/pingpong 1\n0.0 /mod/delay/time 125\n\
                      0.0 /mod/delay/mix 0.4\n";

/// The frame at which the engine's interleaved samples start in `tap` (after the silent
/// lead-in), for 2-channel frames.
fn stereo_lead_in<T: PartialEq>(tap: &[T], reference: &[T]) -> usize {
    (0..4096)
        .find(|&o| tap[2 * o..2 * o + 4096] == reference[..4096])
        .expect("the engine's samples follow a short silent lead-in")
}

#[test]
fn stereo_f32_is_interleaved_byte_exact() {
    support::stalls::again_if_the_machine_stalled(|| {
        let rig = Rig::with_channels("stereo-f32", 2);
        let score = rig.dir.join("s.score");
        std::fs::write(&score, format!("{STEREO}{SCORE}")).unwrap();
        // The default: two channels.
        let (text, _) = run_with(&rig, "tap", "f32", "2", &score, &[]);
        assert!(text.contains("0 underruns"), "{text}");
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
        let (tap, reference) = (bits(&rig.tap()), bits(&offline_channels(&score, 2)));
        assert!(tap.len() > 2 * 90_000, "{} samples reached ALSA", tap.len());
        let lead = stereo_lead_in(&tap, &reference);
        let diff = tap[2 * lead..]
            .iter()
            .zip(&reference)
            .position(|(a, b)| a != b);
        assert_eq!(
            diff, None,
            "the interleaved frames that reached ALSA differ (at sample {diff:?})"
        );
        let differ = reference.chunks_exact(2).filter(|f| f[0] != f[1]).count();
        assert!(
            differ > reference.len() / 4,
            "the two sides differ: {differ} frames"
        );
    });
}

#[test]
fn stereo_s16_is_interleaved_and_converted_exactly() {
    let rig = Rig::with_channels("stereo-s16", 2);
    let score = rig.dir.join("s.score");
    std::fs::write(&score, format!("{STEREO}{SCORE}")).unwrap();
    run_with(&rig, "tapplug", "s16", "2", &score, &[]);
    // plug turns each s16 into s16/32768 on its way to the float tap: undo that exactly.
    let tap: Vec<i32> = rig
        .tap()
        .iter()
        .map(|x| (x * 32_768.0).round() as i32)
        .collect();
    let want: Vec<i32> = offline_channels(&score, 2)
        .iter()
        .map(|&x| chronus_engine::offline::to_int(x, 16))
        .collect();
    assert!(tap.len() > 2 * 90_000);
    let lead = stereo_lead_in(&tap, &want);
    let diff = tap[2 * lead..].iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(diff, None, "s16 interleaving or conversion differs");
}

#[test]
fn a_stereo_engine_on_a_mono_device_plays_the_equal_power_downmix() {
    support::stalls::again_if_the_machine_stalled(|| {
        // The one-channel rig: the device takes 1 channel, the engine renders 2.
        let rig = Rig::start("downmix");
        let score = rig.dir.join("s.score");
        std::fs::write(&score, format!("{STEREO}{SCORE}")).unwrap();
        // The default: two channels.
        let (text, _) = run_with(&rig, "tap", "f32", "2", &score, &[]);
        assert!(text.contains("0 underruns"), "{text}");
        let stereo = offline_channels(&score, 2);
        let want: Vec<u32> = stereo
            .chunks_exact(2)
            .map(|f| ((f[0] + f[1]) * std::f32::consts::FRAC_1_SQRT_2).to_bits())
            .collect();
        let tap: Vec<u32> = rig.tap().iter().map(|x| x.to_bits()).collect();
        assert!(tap.len() > 90_000, "{} frames reached ALSA", tap.len());
        let lead = (0..4096)
            .find(|&o| tap[o..o + 2048] == want[..2048])
            .expect("the downmix follows a short silent lead-in");
        let diff = tap[lead..].iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(
            diff, None,
            "the device got something else than (L + R) · √½"
        );
    });
}

#[test]
fn bad_alsa_configuration_is_refused_clearly() {
    let rig = Rig::start("bad");
    for (args, says) in [
        (vec!["--device", "nosuchpcm"], "cannot open ALSA device"),
        (
            vec!["--device", "cijack", "--sample-rate", "44100"],
            "cannot run at 44100 Hz",
        ),
        // A device with fewer channels than asked plays them mapped (a stereo engine on a
        // mono device: the downmix, tested above); a channel count no engine has is refused.
        (
            vec!["--device", "cijack", "--channels", "9"],
            "--channels must be 1..=8",
        ),
    ] {
        let out = rig
            .chronus()
            .args(["run", "--backend", "alsa", "--no-osc", "--seconds", "1"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(says) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn devices_lists_alsa_pcms_and_jack_ports() {
    let rig = Rig::start("dev");
    let out = rig.chronus().args(["devices", "--json"]).output().unwrap();
    assert!(out.status.success());
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.starts_with('[') && json.trim_end().ends_with(']'),
        "{json}"
    );
    assert!(
        json.contains("\"backend\":\"jack\",\"name\":\"system:playback_1\""),
        "{json}"
    );
    assert!(json.contains("\"backend\":\"null\""), "{json}");
    // cpal's rows of its ALSA host name a device as `--device` takes it (the PCM: the same
    // names as ALSA's rows), its description in the description column.
    let names = |backend: &str, host: &str| -> Vec<String> {
        json.split(&format!("{{\"backend\":\"{backend}\",\"name\":\""))
            .skip(1)
            .filter(|rest| rest.split('}').next().is_some_and(|o| o.contains(host)))
            .filter_map(|rest| rest.split('"').next().map(str::to_owned))
            .collect()
    };
    let (alsa, cpal) = (names("alsa", ""), names("cpal", "--cpal-host alsa"));
    assert!(!cpal.is_empty(), "no cpal device on its ALSA host: {json}");
    for name in &cpal {
        assert!(
            alsa.contains(name),
            "cpal lists '{name}', not an ALSA PCM: {json}"
        );
    }
    let table = rig.chronus().arg("devices").output().unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("* jack") && text.contains("system:playback_1"),
        "{text}"
    );
}

#[test]
fn cpal_plays_on_the_alsa_default_device() {
    support::stalls::again_if_the_machine_stalled(|| {
        // The default PCM here is a plug into the JACK-paced tap: cpal sees a real ALSA device.
        let rig = Rig::start("cpal");
        let score = rig.dir.join("s.score");
        std::fs::write(&score, SCORE).unwrap();
        let started = Instant::now();
        let out = rig
            .chronus()
            .args([
                "run",
                "--backend",
                "cpal",
                "--no-osc",
                "--lookahead",
                "8",
                "--seconds",
                "2",
            ])
            .args(["--score", score.to_str().unwrap()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("playing on cpal") && text.contains("0 underruns"),
            "{text}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(1_900),
            "paced in real time"
        );
        let tap = rig.tap();
        assert!(
            tap.len() > 48_000,
            "{} frames reached ALSA through cpal",
            tap.len()
        );
        let f =
            chronus_dsp::analysis::zero_crossing_frequency(&tap[4_800..33_600], 48_000.0).unwrap();
        println!("cpal: {} frames, {f:.3} Hz", tap.len());
        assert!((f - 440.0).abs() < 0.5, "{f}");
    });
}
