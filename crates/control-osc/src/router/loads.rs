//! Sample loads in the background: `/sample/load` reads and decodes a file in a thread of its
//! own (a large file takes seconds), so the messages after it — notes, parameters — are
//! handled meanwhile; its answer comes with the router's next [`Router::poll`] once the sample
//! is in. At most [`MAX_LOADS`] at once: one more is refused and counted.

use super::*;
use chronus_engine::score::Load;
use std::sync::atomic::AtomicUsize;

/// Sample loads under way at once (one more: `/error`, counted in `samples_refused`).
pub const MAX_LOADS: usize = 2;

/// A finished load: who asked, at which address, and the answer (or why it failed).
type Done = (Peer, String, Result<Vec<OscMessage>, String>);

/// The loads under way and those done, waiting for [`Router::poll`].
#[derive(Default)]
pub(super) struct Loads {
    running: AtomicUsize,
    done: Mutex<Vec<Done>>,
}

impl Loads {
    fn finished(&self) -> Vec<Done> {
        std::mem::take(&mut *self.done.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<S: Synth> Router<S> {
    /// Starts reading and loading `load` for `peer` in a thread of its own.
    pub(super) fn start_load(&self, peer: Peer, addr: &str, load: Load) -> Result<(), Failure> {
        let loads = self.loads.clone();
        if loads
            .running
            .fetch_update(Relaxed, Relaxed, |n| (n < MAX_LOADS).then_some(n + 1))
            .is_err()
        {
            return Err(self.sample_refused(format!(
                "{MAX_LOADS} sample loads are under way (the limit for loads at once); wait for their /sample/loaded"
            )));
        }
        let (engine, files, addr) = (self.engine.clone(), self.samples.clone(), addr.to_owned());
        let spawned = std::thread::Builder::new()
            .name("chronus-load".into())
            .spawn({
                let loads = loads.clone();
                move || {
                    let answer = crate::samples::load(&*engine, files.as_ref(), &load)
                        .map(|infos| infos.into_iter().map(loaded).collect());
                    loads
                        .done
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((peer, addr, answer));
                    loads.running.fetch_sub(1, Relaxed);
                }
            });
        if let Err(e) = spawned {
            loads.running.fetch_sub(1, Relaxed);
            return Err(self.sample_refused(format!("no thread to load it in ({e})")));
        }
        Ok(())
    }

    /// The answers of the loads finished since the last call.
    pub(super) fn finished_loads(&self) -> Vec<(Peer, OscMessage)> {
        let mut out = Vec::new();
        for (peer, addr, answer) in self.loads.finished() {
            match answer {
                Ok(replies) => out.extend(replies.into_iter().map(|r| (peer, r))),
                Err(reason) => {
                    let f = self.sample_refused(reason);
                    out.extend(self.error(peer, &addr, f).into_iter().map(|r| (peer, r)));
                }
            }
        }
        out
    }
}

/// `/sample/loaded <name> <frames> <channels> <rate>`.
fn loaded(i: chronus_engine::samples::SampleInfo) -> OscMessage {
    msg(
        "/sample/loaded",
        vec![
            OscType::String(i.name),
            OscType::Int(i.frames.min(i32::MAX as u64) as i32),
            OscType::Int(i32::from(i.channels)),
            OscType::Int(i.rate as i32),
        ],
    )
}
