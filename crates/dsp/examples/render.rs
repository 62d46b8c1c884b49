//! Builds the default patch, plays an A3 on it for half a second and prints what it sounds
//! like: `cargo run -p chronus-dsp --example render`.

use chronus_dsp::{analysis, Patch};

fn main() -> Result<(), chronus_dsp::DspError> {
    let (rate, block) = (48_000.0, 64);
    let mut patch = Patch::default_patch(rate, block)?;
    patch.set("sine", "freq", 220.0)?;
    patch.set("filter", "cutoff", 2_000.0)?;
    let adsr = patch.lookup("adsr")?;
    patch.gate(adsr, true)?;
    let mut sound = vec![0.0f32; 24_000];
    for chunk in sound.chunks_mut(block) {
        patch.process(chunk);
    }
    let steady = &sound[12_000..];
    println!(
        "0.5 s of sine > adsr > filter at {:.1} Hz, peak {:.2}, {:.1} dBFS RMS",
        analysis::fundamental(steady, rate).unwrap_or(0.0),
        analysis::peak(steady),
        analysis::to_db(analysis::rms(steady)),
    );
    Ok(())
}
