//! The router's logic without a running engine: a synth of its own (the [`Synth`] trait) that
//! resolves through the real address table and remembers what it was sent.

use chronus_dsp::Patch;
use chronus_engine::control::{Directory, Resolved};
use chronus_engine::fault::FaultTarget;
use chronus_engine::offline::WavFormat;
use chronus_engine::{
    Action, Arg, EngineConfig, EngineError, InjectedFault, Metrics, MetricsSnapshot, PatchEdit,
    RecordingReport, Timing,
};
use chronus_osc::router::Peer;
use chronus_osc::{Router, Synth};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

/// Sent actions (with their stamp) and committed edits, against a real patch layout.
struct Recorder {
    config: EngineConfig,
    metrics: Arc<Metrics>,
    patch: Mutex<Patch>,
    sent: Mutex<Vec<(Option<u64>, Vec<Action>)>>,
    edits: Mutex<Vec<Vec<PatchEdit>>>,
    faults: Mutex<Vec<(FaultTarget, InjectedFault)>>,
}

impl Recorder {
    fn new() -> Arc<Recorder> {
        let config = EngineConfig::default();
        let patch = Patch::default_patch(config.sample_rate, config.block).unwrap();
        Arc::new(Recorder {
            config,
            metrics: Arc::new(Metrics::default()),
            patch: Mutex::new(patch),
            sent: Mutex::new(Vec::new()),
            edits: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
        })
    }

    fn sent(&self) -> Vec<(Option<u64>, Vec<Action>)> {
        self.sent.lock().unwrap().clone()
    }
}

impl Synth for Recorder {
    fn config(&self) -> &EngineConfig {
        &self.config
    }
    fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }
    fn metrics_handle(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }
    fn directory(&self) -> Arc<Directory> {
        Arc::new(Directory::of(&self.patch.lock().unwrap()))
    }
    fn resolve_address(&self, address: &str, args: &[Arg<'_>]) -> Result<Resolved, EngineError> {
        chronus_engine::control::resolve(&self.directory(), address, args)
    }
    fn send_together(
        &self,
        at: Option<u64>,
        actions: &[Action],
    ) -> Result<(u64, Timing), EngineError> {
        self.sent.lock().unwrap().push((at, actions.to_vec()));
        Ok((at.unwrap_or(1_000), Timing::OnTime))
    }
    fn edit_patch(&self, edits: &[PatchEdit]) -> Result<(), EngineError> {
        chronus_engine::edit::validate(&self.patch.lock().unwrap(), edits)?;
        chronus_engine::edit::apply(&mut self.patch.lock().unwrap(), edits)?;
        self.edits.lock().unwrap().push(edits.to_vec());
        Ok(())
    }
    fn get(&self, module: &str, param: &str) -> Result<f32, EngineError> {
        let p = self.patch.lock().unwrap();
        let id = p.lookup(module)?;
        Ok(p.param(id, p.kind(id)?.param_id(param)?)?)
    }
    fn describe(&self) -> Vec<chronus_dsp::NodeDesc> {
        self.patch.lock().unwrap().describe()
    }
    fn session(&self) -> Result<String, EngineError> {
        let patch = self.patch.lock().unwrap();
        let seq = chronus_engine::sequencer::Sequencer::new(patch.sample_rate());
        chronus_engine::session::render(&patch, &seq, &[])
    }
    fn load_session(&self, text: &str) -> Result<(), EngineError> {
        chronus_engine::session::parse(text).map(|_| ())
    }
    fn sample_at(&self, _ns: u64) -> Option<u64> {
        Some(96_000)
    }
    fn origin_ns(&self) -> u64 {
        0
    }
    fn recording(&self) -> Option<PathBuf> {
        None
    }
    fn start_recording_into(&self, _: File, _: &Path, _: WavFormat) -> Result<(), EngineError> {
        Ok(())
    }
    fn stop_recording(&self) -> Result<Option<RecordingReport>, EngineError> {
        Ok(None)
    }
    fn inject_fault(&self, target: FaultTarget, fault: InjectedFault) -> Result<(), EngineError> {
        self.faults.lock().unwrap().push((target, fault));
        Ok(())
    }
    fn dropped_commands(&self) -> u64 {
        0
    }
}

fn m(addr: &str, args: Vec<OscType>) -> OscPacket {
    OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    })
}

const ALICE: Peer = Peer::Tcp(1);
const BOB: Peer = Peer::Tcp(2);

fn id(synth: &Recorder, name: &str) -> chronus_dsp::ModuleId {
    synth.patch.lock().unwrap().find(name).unwrap()
}

#[test]
fn a_bundle_is_sent_whole_at_its_timetag_or_not_at_all() {
    let synth = Recorder::new();
    let router = Router::new(synth.clone());
    let bundle = |content| {
        OscPacket::Bundle(OscBundle {
            timetag: OscTime::from((4_000_000_000, 0)),
            content,
        })
    };
    let replies = router.handle(
        &bundle(vec![
            m("/mod/sine/freq", vec![OscType::Float(330.0)]),
            m("/gate/adsr", vec![OscType::String("on".into())]),
        ]),
        ALICE,
    );
    assert!(replies.is_empty(), "{replies:?}");
    let (sine, adsr) = (id(&synth, "sine"), id(&synth, "adsr"));
    assert_eq!(
        synth.sent(),
        [(
            Some(96_000),
            vec![
                Action::Set {
                    module: sine,
                    param: 0,
                    value: 330.0
                },
                Action::Gate {
                    module: adsr,
                    on: true
                }
            ]
        )],
        "one send, both actions, at the timetag's sample"
    );
    // One bad message: nothing is sent, the bad one is named.
    let replies = router.handle(
        &bundle(vec![
            m("/mod/sine/freq", vec![OscType::Float(440.0)]),
            m("/mod/nosuch/freq", vec![OscType::Float(1.0)]),
        ]),
        ALICE,
    );
    assert_eq!(synth.sent().len(), 1, "nothing more was sent");
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0].addr, "/error");
    assert_eq!(
        replies[0].args[0],
        OscType::String("/mod/nosuch/freq".into())
    );
    let stats = router.stats();
    assert_eq!(
        stats.errors.load(Relaxed),
        2,
        "the good message is refused too"
    );
    assert_eq!(stats.received.load(Relaxed), 4);
}

#[test]
fn a_pattern_sets_every_match_and_out_of_range_values_come_back_clamped() {
    let synth = Recorder::new();
    let router = Router::new(synth.clone());
    router.handle(
        &m(
            "/patch/create",
            vec![
                OscType::String("sine2".into()),
                OscType::String("osc".into()),
            ],
        ),
        ALICE,
    );
    router.handle(&m("/patch/commit", vec![]), ALICE);
    let replies = router.handle(&m("/mod/sine*/gain", vec![OscType::Float(3.0)]), ALICE);
    let clamped: Vec<_> = replies.iter().filter(|r| r.addr == "/clamped").collect();
    assert_eq!(clamped.len(), 2, "{replies:?}");
    assert_eq!(clamped[1].args[0], OscType::String("sine2".into()));
    assert_eq!(clamped[1].args[2], OscType::Float(1.0));
    assert_eq!(router.stats().clamped.load(Relaxed), 2);
    let last = synth.sent().pop().unwrap();
    assert_eq!(
        (last.0, last.1.len()),
        (None, 2),
        "both oscillators, as soon as possible"
    );
}

#[test]
fn staged_edits_belong_to_their_sender_until_commit_or_abort() {
    let synth = Recorder::new();
    let router = Router::new(synth.clone());
    let create = |name: &str| {
        m(
            "/patch/create",
            vec![OscType::String(name.into()), OscType::String("osc".into())],
        )
    };
    router.handle(&create("a1"), ALICE);
    router.handle(&create("b1"), BOB);
    router.handle(&create("b2"), BOB);
    // Bob drops his; Alice's stays staged and commits alone.
    let aborted = router.handle(&m("/patch/abort", vec![]), BOB);
    assert_eq!(aborted[0].addr, "/patch/aborted");
    assert_eq!(aborted[0].args[0], OscType::Int(2));
    let committed = router.handle(&m("/patch/commit", vec![]), ALICE);
    assert_eq!(committed[0].addr, "/patch/committed");
    assert_eq!(committed[0].args[0], OscType::Int(1));
    assert_eq!(synth.edits.lock().unwrap().len(), 1);
    let modules = router.handle(&m("/modules", vec![]), BOB);
    let names = format!("{:?}", modules[0].args);
    assert!(names.contains("a1") && !names.contains("b1"), "{names}");
    // An edit that cannot apply changes nothing and says so.
    router.handle(&create("a1"), ALICE);
    let refused = router.handle(&m("/patch/commit", vec![]), ALICE);
    assert_eq!(refused[0].addr, "/error", "{refused:?}");
    assert_eq!(synth.edits.lock().unwrap().len(), 1);
}

#[test]
fn a_sender_over_its_rate_is_dropped_and_counted() {
    let synth = Recorder::new();
    let router = Router::new(synth.clone()).with_rate_limit(5);
    let datagram = rosc::encoder::encode(&m("/mod/sine/gain", vec![OscType::Float(0.2)])).unwrap();
    let peer = Peer::Udp("127.0.0.1:9".parse().unwrap());
    for _ in 0..20 {
        router.handle_bytes(&datagram, peer, 16 * 1024);
    }
    let limited = router.stats().rate_limited.load(Relaxed);
    let sent = synth.sent().len() as u64;
    assert_eq!(
        sent + limited,
        20,
        "each packet is either applied or counted"
    );
    assert!(sent >= 5 && limited >= 10, "sent {sent}, limited {limited}");
}

#[test]
fn get_and_status_answer_from_the_synth() {
    let synth = Recorder::new();
    let router = Router::new(synth.clone());
    let value = router.handle(
        &m(
            "/get",
            vec![
                OscType::String("sine".into()),
                OscType::String("freq".into()),
            ],
        ),
        ALICE,
    );
    assert_eq!(value[0].addr, "/value");
    assert_eq!(value[0].args[2], OscType::Float(440.0));
    let status = router.handle(&m("/status", vec![]), ALICE);
    assert_eq!(status[0].addr, "/status.reply");
    let text = format!("{:?}", status[0].args);
    for key in ["played_blocks", "underruns", "failovers", "rate_limited"] {
        assert!(text.contains(key), "{key} in {text}");
    }
    let unknown = router.handle(&m("/what", vec![]), ALICE);
    assert_eq!(unknown[0].addr, "/error");
}

#[test]
fn faults_are_injected_only_when_enabled_and_a_command_fault_rides_on_the_next_command() {
    let s = |v: &str| OscType::String(v.into());
    let inject = |kind: &str, target: &str| m("/fault/inject", vec![s(kind), s(target)]);
    // Off by default: refused, nothing injected.
    let synth = Recorder::new();
    let router = Router::new(synth.clone());
    let r = router.handle(&inject("crash", "active"), ALICE);
    assert_eq!(r[0].addr, "/error");
    assert!(
        format!("{:?}", r[0].args).contains("--fault-injection"),
        "{r:?}"
    );
    assert!(synth.faults.lock().unwrap().is_empty());

    let synth = Recorder::new();
    let router = Router::new(synth.clone()).with_fault_injection(true);
    let r = router.handle(&inject("hang", "standby"), ALICE);
    assert_eq!(
        (r[0].addr.as_str(), r[0].args.clone()),
        ("/fault/injected", vec![s("hang"), s("standby")])
    );
    assert_eq!(
        synth.faults.lock().unwrap().as_slice(),
        [(FaultTarget::Standby, InjectedFault::Hang)]
    );
    // Bad kinds and targets are refused with the choices.
    for bad in [inject("explode", "active"), inject("nan", "all")] {
        let r = router.handle(&bad, ALICE);
        assert_eq!(r[0].addr, "/error", "{r:?}");
    }
    // `command`: armed now, sent with the next command that changes the sound, once.
    router.handle(&inject("nan", "command"), ALICE);
    assert_eq!(synth.faults.lock().unwrap().len(), 1, "not yet");
    router.handle(&m("/mod/sine/freq", vec![OscType::Float(330.0)]), BOB);
    router.handle(&m("/mod/sine/freq", vec![OscType::Float(331.0)]), BOB);
    assert_eq!(
        synth.faults.lock().unwrap().as_slice(),
        [
            (FaultTarget::Standby, InjectedFault::Hang),
            (FaultTarget::Command, InjectedFault::Nan)
        ]
    );
    assert_eq!(router.stats().faults_injected.load(Relaxed), 2);
}

/// MIDI through the router: each event the actions of its address, at the sample it was
/// stamped with; a flood past the limit dropped and counted; bad bytes counted.
#[test]
fn midi_events_become_stamped_actions_and_a_flood_is_limited() {
    let synth = Recorder::new();
    let router = Router::new(synth.clone());
    router.midi_bytes(&[0x90, 60, 127], Some(48_000));
    router.midi_bytes(&[0xB0, 64, 127], Some(48_010));
    router.midi_bytes(&[0xE0, 0x7F, 0x7F], Some(48_020));
    router.midi_bytes(&[0x90, 60], Some(48_030)); // truncated
    let sent = synth.sent();
    let stamps: Vec<Option<u64>> = sent.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        stamps,
        [Some(48_000), Some(48_010), Some(48_020)],
        "{sent:?}"
    );
    assert!(
        matches!(sent[0].1[..], [Action::NoteOn { note: 60, velocity, .. }] if velocity == 1.0),
        "{sent:?}"
    );
    assert!(
        matches!(sent[1].1[..], [Action::Sustain { on: true, .. }]),
        "{sent:?}"
    );
    assert!(
        matches!(sent[2].1[..], [Action::Bend { semitones, .. }] if semitones == 2.0),
        "{sent:?}"
    );
    let stats = router.stats();
    assert_eq!(stats.midi_malformed.load(Relaxed), 1);
    // 60,000 controller moves at once: the limit (20,000 a second, a second's burst) lets
    // about 20,000 through; the rest are dropped and counted, none silently.
    let before = synth.sent().len();
    for k in 0..60_000u32 {
        router.midi_event(
            chronus_midi::MidiEvent::Control {
                channel: 1,
                cc: 1,
                value: (k % 128) as u8,
            },
            None,
        );
    }
    let limited = stats.midi_rate_limited.load(Relaxed);
    let through = (synth.sent().len() - before) as u64;
    println!("flood: {through} through, {limited} limited");
    assert_eq!(through + limited, 60_000);
    assert!(limited >= 30_000, "{limited}");
}
