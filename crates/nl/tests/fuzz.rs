//! Fuzzing on stable (see fuzz/harness.rs): any bytes as a phrase, over and over on one
//! context. No input may panic, and the context stays inside the safety limits.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use chronus_nl::{plan, Context};

#[test]
fn fuzz_the_phrase_parser() {
    let mut ctx = Context::default();
    harness::fuzz("nl", 10.0, 1024, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let _ = plan(&text, &mut ctx);
        assert!((20.0..=20_000.0).contains(&ctx.freq), "{ctx:?}");
        assert!((0.0..=1.0).contains(&ctx.gain), "{ctx:?}");
        assert!((0.1..=20.0).contains(&ctx.q), "{ctx:?}");
        assert!((20.0..=300.0).contains(&ctx.bpm), "{ctx:?}");
        assert!(ctx.voices >= 1 && ctx.voices <= ctx.oscillators, "{ctx:?}");
    });
}
