//! What the router needs of a synth: the [`Synth`] trait, which the engine implements. The
//! router is generic over it, so its logic (bundles, staged edits, replies, limits) is
//! unit-tested without a running engine.

use chronus_engine::control::{Directory, Resolved};
use chronus_engine::fault::FaultTarget;
use chronus_engine::offline::WavFormat;
use chronus_engine::samples::SampleInfo;
use chronus_engine::{
    Action, Arg, Engine, EngineConfig, EngineError, InjectedFault, Metrics, MetricsSnapshot,
    NewSample, PatchEdit, RecordingReport, Sent, Timing,
};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The engine as the router sees it (see [`Engine`] for what each method does).
pub trait Synth: Send + Sync + 'static {
    /// The engine's settings.
    fn config(&self) -> &EngineConfig;
    /// Live metrics.
    fn metrics(&self) -> MetricsSnapshot;
    /// The metrics handle (the meter).
    fn metrics_handle(&self) -> Arc<Metrics>;
    /// The patch's names as of the last edit.
    fn directory(&self) -> Arc<Directory>;
    /// An address through the one address table.
    fn resolve_address(&self, address: &str, args: &[Arg<'_>]) -> Result<Resolved, EngineError>;
    /// Actions taken together at one sample (`None`: as soon as possible).
    fn send_together(
        &self,
        at: Option<u64>,
        actions: &[Action],
    ) -> Result<(u64, Timing), EngineError>;
    /// Like [`Synth::send_together`], with an armed fault (if any) riding on the actions (see
    /// [`Engine::send_with_fault`]) and the actions' first sequence number, for matching
    /// [`Synth::take_quarantined`] to their senders. A synth without workers injects the
    /// fault first and numbers nothing (0).
    fn send_with_fault(
        &self,
        at: Option<u64>,
        actions: &[Action],
        fault: Option<InjectedFault>,
    ) -> Result<Sent, EngineError> {
        if let Some(f) = fault {
            self.inject_fault(FaultTarget::Command, f)?;
        }
        let (sample, timing) = self.send_together(at, actions)?;
        Ok(Sent {
            sample,
            timing,
            first_seq: 0,
        })
    }
    /// The sequence numbers of commands quarantined since the last call (both workers failed
    /// on them). A synth without workers has none.
    fn take_quarantined(&self) -> Vec<u64> {
        Vec::new()
    }
    /// Patch edits applied atomically.
    fn edit_patch(&self, edits: &[PatchEdit]) -> Result<(), EngineError>;
    /// A parameter's value as last sent.
    fn get(&self, module: &str, param: &str) -> Result<f32, EngineError>;
    /// The patch's modules and wiring (routes with their depths).
    fn describe(&self) -> Vec<chronus_dsp::NodeDesc>;
    /// The session text of what plays now (see `chronus_engine::session`).
    fn session(&self) -> Result<String, EngineError>;
    /// Loads a session's text over what plays now, at one block; nothing changes on an error.
    fn load_session(&self, text: &str) -> Result<(), EngineError>;
    /// The output sample that plays at monotonic time `ns`.
    fn sample_at(&self, ns: u64) -> Option<u64>;
    /// The sequencer's tempo (BPM) and whether it runs.
    fn tempo(&self) -> (f32, bool) {
        (120.0, false)
    }
    /// Each worker slot's DSP load (render time over block time; 0 for none).
    fn dsp_load(&self) -> [f32; 2] {
        [0.0; 2]
    }
    /// Monotonic time of sample 0.
    fn origin_ns(&self) -> u64;
    /// The file being recorded, if any.
    fn recording(&self) -> Option<PathBuf>;
    /// Starts recording into a file the caller created.
    fn start_recording_into(
        &self,
        file: File,
        path: &Path,
        format: WavFormat,
    ) -> Result<(), EngineError>;
    /// Stops recording.
    fn stop_recording(&self) -> Result<Option<RecordingReport>, EngineError>;
    /// Injects a fault (`/fault/inject`, with `chronus run --fault-injection`).
    fn inject_fault(&self, target: FaultTarget, fault: InjectedFault) -> Result<(), EngineError>;
    /// Commands the workers could not carry out (a full schedule, an edit they could not
    /// read), added up over both slots.
    fn dropped_commands(&self) -> u64;
    /// Loads samples into memory both workers share (see [`Engine::load_samples`]). A synth
    /// without workers has no sample memory: it refuses.
    fn load_samples(&self, batch: &[NewSample<'_>]) -> Result<Vec<SampleInfo>, EngineError> {
        let _ = batch;
        Err(EngineError::BadArguments {
            address: "/sample/load".into(),
            reason: "this synth plays no samples".into(),
        })
    }
    /// Frees a sample (see [`Engine::free_sample`]).
    fn free_sample(&self, name: &str) -> Result<SampleInfo, EngineError> {
        Err(EngineError::NoSuchSample {
            name: name.to_owned(),
        })
    }
    /// The samples loaded.
    fn samples(&self) -> Vec<SampleInfo> {
        Vec::new()
    }
    /// Bytes of sample memory held.
    fn sample_bytes(&self) -> u64 {
        0
    }
}

impl Synth for Engine {
    fn config(&self) -> &EngineConfig {
        Engine::config(self)
    }
    fn metrics(&self) -> MetricsSnapshot {
        Engine::metrics(self)
    }
    fn metrics_handle(&self) -> Arc<Metrics> {
        Engine::metrics_handle(self)
    }
    fn directory(&self) -> Arc<Directory> {
        Engine::directory(self)
    }
    fn resolve_address(&self, address: &str, args: &[Arg<'_>]) -> Result<Resolved, EngineError> {
        Engine::resolve_address(self, address, args)
    }
    fn send_together(
        &self,
        at: Option<u64>,
        actions: &[Action],
    ) -> Result<(u64, Timing), EngineError> {
        Engine::send_together(self, at, actions)
    }
    fn send_with_fault(
        &self,
        at: Option<u64>,
        actions: &[Action],
        fault: Option<InjectedFault>,
    ) -> Result<Sent, EngineError> {
        Engine::send_with_fault(self, at, actions, fault)
    }
    fn take_quarantined(&self) -> Vec<u64> {
        Engine::take_quarantined(self)
    }
    fn edit_patch(&self, edits: &[PatchEdit]) -> Result<(), EngineError> {
        Engine::edit_patch(self, edits)
    }
    fn get(&self, module: &str, param: &str) -> Result<f32, EngineError> {
        Engine::get(self, module, param)
    }
    fn describe(&self) -> Vec<chronus_dsp::NodeDesc> {
        Engine::describe(self)
    }
    fn session(&self) -> Result<String, EngineError> {
        Engine::session(self)
    }
    fn load_session(&self, text: &str) -> Result<(), EngineError> {
        Engine::load_session(self, text)
    }
    fn tempo(&self) -> (f32, bool) {
        Engine::tempo(self)
    }

    fn dsp_load(&self) -> [f32; 2] {
        [0, 1].map(|i| self.worker_stats(i).map_or(0.0, |w| w.load))
    }

    fn sample_at(&self, ns: u64) -> Option<u64> {
        Engine::sample_at(self, ns)
    }
    fn origin_ns(&self) -> u64 {
        Engine::origin_ns(self)
    }
    fn recording(&self) -> Option<PathBuf> {
        Engine::recording(self)
    }
    fn start_recording_into(
        &self,
        file: File,
        path: &Path,
        format: WavFormat,
    ) -> Result<(), EngineError> {
        Engine::start_recording_into(self, file, path, format)
    }
    fn stop_recording(&self) -> Result<Option<RecordingReport>, EngineError> {
        Engine::stop_recording(self)
    }
    fn inject_fault(&self, target: FaultTarget, fault: InjectedFault) -> Result<(), EngineError> {
        Engine::inject_into(self, target, fault)
    }
    fn dropped_commands(&self) -> u64 {
        (0..2)
            .filter_map(|i| self.worker_stats(i))
            .map(|s| s.dropped_commands)
            .sum()
    }
    fn load_samples(&self, batch: &[NewSample<'_>]) -> Result<Vec<SampleInfo>, EngineError> {
        Engine::load_samples(self, batch)
    }
    fn free_sample(&self, name: &str) -> Result<SampleInfo, EngineError> {
        Engine::free_sample(self, name)
    }
    fn samples(&self) -> Vec<SampleInfo> {
        Engine::samples(self)
    }
    fn sample_bytes(&self) -> u64 {
        Engine::sample_bytes(self)
    }
}
