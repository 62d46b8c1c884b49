//! What a snapshot carries: the default stereo patch's is small (a dry delay and reverb leave
//! their stale lines out, and the bytes are compressed: free voices are mostly zeros), so a
//! replacement worker is synced in a few milliseconds; a wet delay's lines (two seconds of
//! audio a side) are in the state whole. (The default patch has a delay and a reverb with the
//! `effects` feature only.)
#![cfg(feature = "effects")]

use chronus_dsp::Patch;
use chronus_engine::Renderer;

/// The bytes a snapshot carries (compressed) and the state's own size (decoded).
fn snapshot_bytes(mut patch: Patch, wet: bool) -> (usize, usize) {
    if wet {
        patch.set("delay", "mix", 0.5).unwrap();
    }
    let mut r = Renderer::new(patch);
    let mut out = vec![0.0f32; 64 * 2];
    for _ in 0..100 {
        r.render_planar(&mut out, 2);
    }
    let state = r.state();
    let carried = state.to_bytes().unwrap().len();
    (carried, postcard::to_stdvec(&state).unwrap().len())
}

#[test]
fn a_dry_default_patch_snapshots_in_a_few_kilobytes_and_a_wet_delay_whole() {
    let stereo = || Patch::default_patch_for(48_000.0, 64, true).unwrap();
    let (dry, wet) = (
        snapshot_bytes(stereo(), false),
        snapshot_bytes(stereo(), true),
    );
    println!(
        "default stereo patch's snapshot: {} bytes carried ({} decoded) dry, {} ({}) with the delay wet",
        dry.0, dry.1, wet.0, wet.1
    );
    assert!(dry.0 < 64 * 1024, "{dry:?} bytes");
    // Two lines of 2 s at 48 kHz, 4 bytes a sample.
    assert!(wet.1 > 2 * 96_000 * 4, "{wet:?} bytes");
}
