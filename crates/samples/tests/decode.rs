//! Decoding real files: WAV in every PCM and float width, FLAC, Ogg Vorbis and MP3 (the last
//! three made by Debian's own encoders, `flac`, `oggenc` and `lame`, from the same WAV), at
//! the engine's rate; and the files that must be refused.

use chronus_samples::{decode, Limits, SampleError};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch folder for this test file.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chronus-samples-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir.join(name)
}

/// A sine of `hz` at `rate`, `secs` long, amplitude 0.5.
fn sine(hz: f64, rate: u32, secs: f64) -> Vec<f32> {
    (0..(secs * f64::from(rate)) as usize)
        .map(|i| (0.5 * (std::f64::consts::TAU * hz * i as f64 / f64::from(rate)).sin()) as f32)
        .collect()
}

/// Writes `x` as a WAV of `channels` (the same signal in each) in `format`.
fn write_wav(path: &Path, x: &[f32], rate: u32, channels: u16, bits: u16, float: bool) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for &v in x {
        for _ in 0..channels {
            if float {
                w.write_sample(v).expect("write");
            } else {
                let full = (1i64 << (bits - 1)) as f32 - 1.0;
                let q = (v * full).round() as i32;
                match bits {
                    8 => w.write_sample(q as i8).expect("write"),
                    16 => w.write_sample(q as i16).expect("write"),
                    _ => w.write_sample(q).expect("write"),
                }
            }
        }
    }
    w.finalize().expect("finalize");
}

/// Frequency by rising zero crossings (interpolated), over the middle of `x`.
fn frequency(x: &[f32], rate: f64) -> f64 {
    chronus_dsp::analysis::zero_crossing_frequency(&x[x.len() / 10..x.len() * 9 / 10], rate)
        .expect("a tone")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{cmd:?} did not start ({e}): scripts/test.sh installs flac, vorbis-tools and lame")
    });
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn wav_of_every_width_reads_back_as_written() {
    let x = sine(440.0, 48_000, 0.25);
    for (bits, float, tolerance) in [
        (8, false, 1.0 / 100.0),
        (16, false, 1.0 / 30_000.0),
        (24, false, 1.0 / 8_000_000.0),
        (32, false, 1e-7),
        (32, true, 0.0),
    ] {
        let path = scratch(&format!("w{bits}{float}.wav"));
        write_wav(&path, &x, 48_000, 2, bits, float);
        let d = decode(&path, "w.wav", 48_000, Limits::default()).expect("decodes");
        assert_eq!((d.channels, d.frames(), d.file_rate), (2, x.len(), 48_000));
        let worst = x
            .iter()
            .zip(d.samples.chunks(2))
            .map(|(a, f)| (a - f[0]).abs().max((a - f[1]).abs()))
            .fold(0.0f32, f32::max);
        println!(
            "{bits}-bit {}: worst error {worst:e}",
            if float { "float" } else { "int" }
        );
        assert!(worst <= tolerance, "{bits} bits: {worst}");
    }
}

#[test]
fn a_64_bit_float_wav_reads_back_as_written() {
    // hound writes no 64-bit float: the file by hand (RIFF, fmt chunk of format 3, data).
    let x = sine(440.0, 48_000, 0.1);
    let data: Vec<u8> = x.iter().flat_map(|&v| f64::from(v).to_le_bytes()).collect();
    let mut wav = Vec::new();
    wav.extend(b"RIFF");
    wav.extend((36 + data.len() as u32).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(16u32.to_le_bytes());
    wav.extend(3u16.to_le_bytes()); // IEEE float
    wav.extend(1u16.to_le_bytes()); // mono
    wav.extend(48_000u32.to_le_bytes());
    wav.extend((48_000u32 * 8).to_le_bytes());
    wav.extend(8u16.to_le_bytes());
    wav.extend(64u16.to_le_bytes());
    wav.extend(b"data");
    wav.extend((data.len() as u32).to_le_bytes());
    wav.extend(&data);
    let path = scratch("f64.wav");
    std::fs::write(&path, wav).expect("write");
    let d = decode(&path, "f64.wav", 48_000, Limits::default()).expect("decodes");
    assert_eq!((d.channels, d.frames()), (1, x.len()));
    assert_eq!(d.samples, x, "every value as written");
}

#[test]
fn a_44k1_tone_keeps_its_pitch_at_48k() {
    let path = scratch("tone44.wav");
    write_wav(&path, &sine(1000.0, 44_100, 1.0), 44_100, 1, 16, false);
    let d = decode(&path, "tone44.wav", 48_000, Limits::default()).expect("decodes");
    assert_eq!(d.file_rate, 44_100);
    // One second of the file is one second at 48 kHz (to a few frames of filter delay).
    assert!(
        (d.frames() as i64 - 48_000).abs() <= 64,
        "{} frames",
        d.frames()
    );
    let f = frequency(&d.samples, 48_000.0);
    println!("a 1 kHz tone at 44.1 kHz plays at {f:.3} Hz at 48 kHz");
    assert!((f - 1000.0).abs() < 0.05, "{f}");
}

#[test]
fn flac_of_the_same_data_decodes_bit_identically_and_ogg_and_mp3_at_their_pitch() {
    let wav = scratch("same.wav");
    write_wav(&wav, &sine(1000.0, 48_000, 1.0), 48_000, 2, 16, false);
    let flac = scratch("same.flac");
    run(Command::new("flac")
        .args(["--silent", "--force", "-o"])
        .arg(&flac)
        .arg(&wav));
    let a = decode(&wav, "same.wav", 48_000, Limits::default()).expect("wav");
    let b = decode(&flac, "same.flac", 48_000, Limits::default()).expect("flac");
    assert_eq!(a, b, "FLAC and WAV of the same data");
    // Lossy formats: the pitch, and the length to the encoder's padding.
    let ogg = scratch("same.ogg");
    run(Command::new("oggenc")
        .args(["--quiet", "-q", "6", "-o"])
        .arg(&ogg)
        .arg(&wav));
    let mp3 = scratch("same.mp3");
    run(Command::new("lame")
        .args(["--quiet", "-b", "192"])
        .arg(&wav)
        .arg(&mp3));
    for (path, name) in [(&ogg, "same.ogg"), (&mp3, "same.mp3")] {
        let d = decode(path, name, 48_000, Limits::default()).expect(name);
        let left: Vec<f32> = d.samples.chunks(2).map(|f| f[0]).collect();
        let f = frequency(&left, 48_000.0);
        println!("{name}: {} frames, {f:.3} Hz", d.frames());
        assert_eq!(d.channels, 2);
        assert!(
            (d.frames() as i64 - 48_000).abs() < 2_400,
            "{name}: {} frames",
            d.frames()
        );
        assert!((f - 1000.0).abs() < 0.1, "{name}: {f}");
    }
}

#[test]
fn corrupt_empty_huge_and_many_channel_files_are_refused_with_reasons() {
    let junk = scratch("junk.wav");
    std::fs::write(
        &junk,
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .expect("write");
    let e = decode(&junk, "junk.wav", 48_000, Limits::default()).expect_err("junk");
    assert!(matches!(e, SampleError::Unreadable { .. }), "{e}");
    assert!(
        e.to_string().contains("WAV, FLAC, Ogg Vorbis and MP3"),
        "{e}"
    );
    // A WAV header cut short.
    let cut = scratch("cut.wav");
    write_wav(&cut, &sine(440.0, 48_000, 0.1), 48_000, 1, 16, false);
    let bytes = std::fs::read(&cut).expect("read");
    std::fs::write(&cut, &bytes[..30]).expect("write");
    assert!(decode(&cut, "cut.wav", 48_000, Limits::default()).is_err());
    // No frames.
    let empty = scratch("empty.wav");
    write_wav(&empty, &[], 48_000, 1, 16, false);
    assert!(decode(&empty, "empty.wav", 48_000, Limits::default()).is_err());
    // Three channels.
    let three = scratch("three.wav");
    write_wav(&three, &sine(440.0, 48_000, 0.1), 48_000, 3, 16, false);
    let e = decode(&three, "three.wav", 48_000, Limits::default()).expect_err("3 channels");
    assert!(
        matches!(e, SampleError::TooManyChannels { channels: 3, .. }),
        "{e}"
    );
    // Decoded past the limit: a second of stereo is 384 000 bytes.
    let long = scratch("long.wav");
    write_wav(&long, &sine(440.0, 48_000, 1.0), 48_000, 2, 16, false);
    let small = Limits {
        file_bytes: 1 << 30,
        decoded_bytes: 100_000,
    };
    let e = decode(&long, "long.wav", 48_000, small).expect_err("too large");
    assert!(matches!(e, SampleError::DecodedTooLarge { .. }), "{e}");
}
