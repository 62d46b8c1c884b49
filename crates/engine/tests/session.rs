//! A session loaded over what plays (`Engine::load_session`, `/state/load`) is taken by both
//! workers in one block: the patch edit that makes it and its commands land together, so the
//! old sound gives way to the new one without a silent block between them.

mod common;

use chronus_dsp::analysis;
use chronus_engine::{Action, Command, WorkerMode};
use common::{play, BLOCK, SR};
use std::time::Duration;

#[test]
fn a_session_loaded_over_a_playing_note_takes_one_block() {
    common::stalls::again_if_the_machine_stalled(|| {
        for mode in [WorkerMode::Thread, WorkerMode::Process] {
            // A4 held from the start; after about 0.3 s a session holding E4 (at another gain, on
            // a patch with one more module) is loaded over it.
            let a4 = Command::new(
                0,
                Action::NoteOn {
                    note: 69,
                    velocity: 1.0,
                    inst: None,
                },
            );
            let session = "# chronus-session 1\n0 /patch/create op osc\n0 /mod/sine/gain 0.3\n\
                       0 /mod/adsr/attack 1\n0 /note/on 64 1\n# end\n";
            let blocks = (1.0 * SR) as u64 / BLOCK as u64;
            let (out, m) = play(mode, &[a4], blocks, "session-load.wav", |engine| {
                while engine.metrics().played_blocks < (0.3 * SR) as u64 / BLOCK as u64 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                engine.load_session(session).unwrap();
            });
            assert_eq!(m.underruns, 0, "{mode:?}: {m:?}");
            // From the first sound to the end, no block is all silence: the old note stopped in
            // the very block the new one began.
            let first = out.iter().position(|&x| x != 0.0).unwrap();
            let silent: Vec<usize> = out[first..]
                .chunks(BLOCK)
                .enumerate()
                .filter(|(_, b)| b.len() == BLOCK && b.iter().all(|&x| x == 0.0))
                .map(|(i, _)| i)
                .collect();
            assert!(silent.is_empty(), "{mode:?}: silent blocks {silent:?}");
            // And the end is the session's: E4, not A4.
            let tail = &out[out.len() - 12_000..];
            let (e4, a4) = (
                analysis::amplitude_at(tail, 329.628, SR),
                analysis::amplitude_at(tail, 440.0, SR),
            );
            println!("{mode:?}: after the load E4 {e4:.3}, A4 {a4:.5}");
            assert!(e4 > 0.05 && a4 < 0.001, "{mode:?}: E4 {e4}, A4 {a4}");
        }
    });
}
