//! Fuzzing on stable (see fuzz/harness.rs): OSC packets into the router of a running engine
//! (decoding, bundles, patterns, patch edits, the sequencer, recording), and SLIP framing. No
//! input may panic; the engine must still be healthy and answer afterwards.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use chronus_engine::backend::{Backend, NullBackend, StreamConfig};
use chronus_engine::{Engine, EngineConfig, WorkerMode};
use chronus_osc::router::Peer;
use chronus_osc::slip;
use chronus_osc::Router;
use std::sync::Arc;

#[test]
fn fuzz_osc_packets_into_a_running_engine() {
    let config = EngineConfig {
        workers: WorkerMode::Thread,
        lookahead: 8,
        ..EngineConfig::default()
    };
    let (engine, output) = Engine::start(config).unwrap();
    let engine = Arc::new(engine);
    let stream = Box::new(NullBackend::default())
        .start(
            StreamConfig {
                sample_rate: 48_000,
                block: 64,
                channels: 1,
            },
            output,
            engine.metrics_handle(),
        )
        .unwrap();
    let dir = std::env::temp_dir().join(format!("chronus-fuzz-recordings-{}", std::process::id()));
    let router = Router::new(engine.clone()).with_recordings(Some(dir.clone()));
    let peer = Peer::Udp("127.0.0.1:9".parse().unwrap());
    harness::fuzz("osc", 20.0, 4096, |bytes| {
        let _ = router.handle_bytes(bytes, peer, 16 * 1024);
    });
    // Still playing, and still answering.
    let status = router.handle_bytes(
        &rosc::encoder::encode(&rosc::OscPacket::Message(rosc::OscMessage {
            addr: "/status".into(),
            args: vec![],
        }))
        .unwrap(),
        peer,
        16 * 1024,
    );
    assert_eq!(
        status.first().map(|m| m.addr.as_str()),
        Some("/status.reply")
    );
    let m = engine.metrics();
    assert_eq!(m.workers_alive, 2, "{m:?}");
    let _ = engine.stop_recording();
    let _ = stream.stop();
    engine.shutdown();
    // Whatever was recorded stayed inside the recordings folder.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            assert!(e.path().starts_with(&dir));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_slip_framing() {
    harness::fuzz("slip", 10.0, 8192, |bytes| {
        let mut d = slip::Decoder::new(1024);
        // In pieces, as a TCP stream delivers them.
        let mut frames = Vec::new();
        for piece in bytes.chunks(7) {
            frames.extend(d.feed(piece));
        }
        for f in frames {
            if let slip::Frame::Packet(p) = f {
                assert!(p.len() <= 1024);
                if p.is_empty() {
                    continue;
                }
                // Every packet decoded re-encodes to a frame that decodes to it again.
                let mut again = slip::Decoder::new(1024);
                assert_eq!(
                    again.feed(&slip::encode(&p)),
                    vec![slip::Frame::Packet(p.clone())]
                );
            }
        }
    });
}
