//! The picture `chronus analyze --plot` draws: a waveform over a spectrogram, as a PNG.

use anyhow::{Context, Result};
use rustfft::num_complex::Complex;
use std::path::Path;

/// Picture width in pixels (one column per slice of time).
pub const WIDTH: usize = 1200;
/// Height of the waveform strip.
pub const WAVE_HEIGHT: usize = 200;
/// Height of the spectrogram.
pub const SPECTRUM_HEIGHT: usize = 400;
/// The spectrogram's top frequency (or Nyquist, if lower).
pub const TOP_HZ: f64 = 8_000.0;
const FFT: usize = 4096;

/// An RGB picture.
struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(background: [u8; 3]) -> Canvas {
        let mut pixels = Vec::with_capacity(WIDTH * (WAVE_HEIGHT + SPECTRUM_HEIGHT) * 3);
        for _ in 0..WIDTH * (WAVE_HEIGHT + SPECTRUM_HEIGHT) {
            pixels.extend_from_slice(&background);
        }
        Canvas { pixels }
    }

    fn set(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        if x < WIDTH && y < WAVE_HEIGHT + SPECTRUM_HEIGHT {
            let i = (y * WIDTH + x) * 3;
            self.pixels[i..i + 3].copy_from_slice(&rgb);
        }
    }
}

/// Dark blue → purple → orange → pale yellow, for a level from 0 (quiet) to 1 (loudest).
fn heat(v: f64) -> [u8; 3] {
    let stops: [(f64, [f64; 3]); 5] = [
        (0.0, [8.0, 8.0, 24.0]),
        (0.3, [70.0, 20.0, 110.0]),
        (0.6, [200.0, 60.0, 60.0]),
        (0.85, [250.0, 170.0, 40.0]),
        (1.0, [255.0, 250.0, 200.0]),
    ];
    let v = v.clamp(0.0, 1.0);
    let k = stops.iter().position(|(s, _)| *s >= v).unwrap_or(4).max(1);
    let ((a, ca), (b, cb)) = (stops[k - 1], stops[k]);
    let t = if b > a { (v - a) / (b - a) } else { 0.0 };
    let mix = |i: usize| (ca[i] + (cb[i] - ca[i]) * t).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// Draws `samples` (mono) with onset markers into a PNG at `path`.
pub fn draw(
    channels: &[Vec<f32>],
    samples: &[f32],
    sample_rate: u32,
    onsets: &[f64],
    path: &Path,
) -> Result<()> {
    let mut canvas = Canvas::new([16, 16, 24]);
    let n = samples.len();
    let per_column = n as f64 / WIDTH as f64;
    // Waveforms: one lane per channel (the mix when there is none), each the min..max of
    // each column's samples.
    let lanes: Vec<&[f32]> = if channels.len() > 1 {
        channels.iter().map(Vec::as_slice).collect()
    } else {
        vec![samples]
    };
    let lane_height = WAVE_HEIGHT / lanes.len().max(1);
    for (k, lane) in lanes.iter().enumerate() {
        let top = k * lane_height;
        let mid = top + lane_height / 2;
        let colour = if k % 2 == 0 {
            [120, 200, 255]
        } else {
            [255, 190, 110]
        };
        for x in 0..WIDTH {
            canvas.set(x, mid, [60, 60, 70]);
            let a = (x as f64 * per_column) as usize;
            let b = (((x + 1) as f64 * per_column) as usize).clamp(a + 1, n.max(a + 1));
            let Some(slice) = lane.get(a..b.min(lane.len())) else {
                continue;
            };
            let (lo, hi) = slice
                .iter()
                .fold((0.0f32, 0.0f32), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            let y = |v: f32| {
                top + ((1.0 - f64::from(v.clamp(-1.0, 1.0))) * 0.5 * (lane_height - 1) as f64)
                    as usize
            };
            for yy in y(hi)..=y(lo) {
                canvas.set(x, yy, colour);
            }
        }
    }
    let seconds = n as f64 / f64::from(sample_rate);
    for t in onsets {
        let x = (t / seconds * WIDTH as f64) as usize;
        for y in 0..WAVE_HEIGHT {
            if y % 4 < 2 {
                canvas.set(x, y, [230, 50, 50]);
            }
        }
    }
    // Spectrogram: a Hann-windowed FFT centred on each column, in dB below the loudest bin.
    let fft = rustfft::FftPlanner::<f32>::new().plan_fft_forward(FFT);
    let hann: Vec<f32> = (0..FFT)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / (FFT - 1) as f32).cos())
        .collect();
    let hz_per_bin = f64::from(sample_rate) / FFT as f64;
    let top = TOP_HZ.min(f64::from(sample_rate) / 2.0);
    let mut db = vec![f64::NEG_INFINITY; WIDTH * SPECTRUM_HEIGHT];
    let mut buf = vec![Complex::new(0.0f32, 0.0); FFT];
    for x in 0..WIDTH {
        let centre = ((x as f64 + 0.5) * per_column) as i64;
        for (i, c) in buf.iter_mut().enumerate() {
            let at = centre - (FFT / 2) as i64 + i as i64;
            let s = usize::try_from(at)
                .ok()
                .and_then(|k| samples.get(k))
                .copied()
                .unwrap_or(0.0);
            *c = Complex::new(s * hann[i], 0.0);
        }
        fft.process(&mut buf);
        for row in 0..SPECTRUM_HEIGHT {
            // The rows a bin band covers: the loudest bin in this row's frequency span.
            let f_hi = top * (1.0 - row as f64 / SPECTRUM_HEIGHT as f64);
            let f_lo = top * (1.0 - (row + 1) as f64 / SPECTRUM_HEIGHT as f64);
            let (b0, b1) = (
                (f_lo / hz_per_bin).round() as usize,
                ((f_hi / hz_per_bin).round() as usize).max((f_lo / hz_per_bin).round() as usize),
            );
            let mag = (b0..=b1.min(FFT / 2))
                .map(|b| f64::from(buf[b].norm()))
                .fold(0.0, f64::max);
            db[row * WIDTH + x] = 20.0 * mag.max(1e-12).log10();
        }
    }
    let loudest = db.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for row in 0..SPECTRUM_HEIGHT {
        for x in 0..WIDTH {
            let level = (db[row * WIDTH + x] - loudest + 90.0) / 90.0;
            canvas.set(x, WAVE_HEIGHT + row, heat(level));
        }
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        WIDTH as u32,
        (WAVE_HEIGHT + SPECTRUM_HEIGHT) as u32,
    );
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("cannot write {}", path.display()))?;
    writer
        .write_image_data(&canvas.pixels)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writer
        .finish()
        .with_context(|| format!("cannot finish {}", path.display()))?;
    Ok(())
}
