//! `chronus run`: the engine on a backend, until Ctrl-C.

use super::backends::BackendKind;
use anyhow::{bail, Context, Result};
use chronus_dsp::Patch;
use chronus_engine::backend::StreamConfig;
use chronus_engine::offline::WavFormat;
use chronus_engine::{Command, Engine, EngineConfig, Score, ScorePlayer, WorkerMode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `chronus run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
EXAMPLES
  chronus run                                         JACK if a server runs, else null
  chronus run --backend jack --connect system:playback_1
  chronus run --backend null --record take.wav        play into nothing, recording
  chronus run --backend null --score phrase.score     play a score against the clock
  chronus run --workers thread --lookahead 4          threads instead of processes

Stop with Ctrl-C: the workers are stopped, shared memory is released and the recording is
finalised.")]
pub struct RunArgs {
    /// Audio backend.
    #[arg(long, value_enum, default_value_t = BackendKind::Auto)]
    backend: BackendKind,
    /// JACK client name.
    #[arg(long, default_value = "chronus")]
    jack_name: String,
    /// Connect the JACK output to this port (repeatable) instead of the system playback ports.
    #[arg(long)]
    connect: Vec<String>,
    /// Leave the JACK output ports unconnected.
    #[arg(long)]
    no_connect: bool,
    /// Device to play on: an ALSA PCM (--backend alsa, default `default`) or a cpal device
    /// name (--backend cpal, default: the host's default output).
    #[arg(long)]
    device: Option<String>,
    /// ALSA sample format: f32, s32 or s16 [default: the first the device takes].
    #[arg(long)]
    alsa_format: Option<String>,
    /// cpal host for --backend cpal: alsa, or jack (cpal's own JACK client, named
    /// cpal_client_PID_out, connected to the system playback ports) [default: cpal's default].
    #[arg(long)]
    cpal_host: Option<String>,
    /// Output channels, 1..=8: 2 (the default) plays the stereo patch (left, right), more
    /// leaves the channels past the second silent, 1 plays the mono patch exactly as before
    /// stereo. A one-channel device gets the equal-power downmix of the stereo patch.
    #[arg(long, default_value_t = 2)]
    channels: usize,
    /// Record what is played (every channel, at the output: failovers leave no gap) to this
    /// WAV file, on any backend. Ctrl-C finalises it.
    #[arg(long)]
    record: Option<PathBuf>,
    /// The folder `/record/start [name]` over OSC writes new WAV files into (created when
    /// first used; names cannot leave it).
    #[cfg(feature = "osc")]
    #[arg(long, default_value = "recordings")]
    recordings: PathBuf,
    /// The folder `/inst/save <instrument> <name>` over OSC writes preset files into and
    /// `/inst/load` reads them from (created when first used; names cannot leave it). The
    /// built-in presets (pad, pluck, supersaw, pwm, brass) need no folder.
    #[cfg(feature = "osc")]
    #[arg(long, default_value = "presets")]
    presets: PathBuf,
    /// The folder `/state/save <name>` over OSC writes sessions into and `/state/load <name>`
    /// and `/state/list` read (created when first used; names cannot leave it).
    #[cfg(feature = "osc")]
    #[arg(long, default_value = "sessions")]
    sessions: PathBuf,
    #[cfg(feature = "osc")]
    /// The folder `/sample/load <name> <file>` reads sample files from (WAV, FLAC, Ogg Vorbis,
    /// MP3; a path relative to it, never outside it, no symbolic links). The built-in kit
    /// (`/kit/load basic`) needs none.
    #[arg(long, default_value = "samples")]
    samples: PathBuf,
    #[cfg(feature = "osc")]
    /// The largest sample file read, in MB.
    #[arg(long, default_value_t = 256, value_name = "MB")]
    sample_file_limit: u64,
    /// Sample memory allowed in all, in MB (shared by both workers: counted once).
    #[arg(long, default_value_t = chronus_engine::DEFAULT_SAMPLE_MEMORY >> 20, value_name = "MB")]
    sample_memory: u64,
    /// Sample format of the recording: f32, s24 or s16.
    #[arg(long, default_value = "f32")]
    format: WavFormat,
    #[command(flatten)]
    voices: super::voices::VoiceArgs,
    /// Play this score (timed commands, see `chronus render --help`) against the clock.
    #[arg(long)]
    score: Option<PathBuf>,
    /// Keep what you build in this file: read at start if it exists (the patch, instruments,
    /// parameters come back as they were), rewritten within a second of any change and at
    /// the end, atomically (a crash leaves the old file or the new, never half of one). A
    /// readable score; see docs/sessions.md.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// Workers as separate processes (a crash cannot touch the other) or threads.
    #[arg(long, default_value = "process")]
    workers: WorkerMode,
    /// Blocks the workers render ahead of the output (1..=14). More absorbs scheduling
    /// jitter; each block adds block/rate of latency.
    #[arg(long, default_value_t = 2)]
    lookahead: usize,
    /// When each block's commands are fixed: `late` (three quarters of a period after the
    /// output's tick, by a sealer thread waking each period: the workers get lookahead + 1/4
    /// periods for a block), `mid` (half a period after it: a quarter block more latency,
    /// lookahead + 1/2 periods for the workers) or `tick` (at the tick, no sealer thread:
    /// three quarters of a block more latency than `late`, lookahead + 1 periods).
    #[arg(long, value_enum, default_value_t = SealPoint::Late)]
    seal: SealPoint,
    /// A worker this many blocks behind the output, and silent as long, is stalled.
    #[arg(long, default_value_t = 2)]
    stall_blocks: u64,
    /// Sample rate in Hz [default: the device's (JACK), else 48000].
    #[arg(long)]
    sample_rate: Option<u32>,
    /// Samples per block (16..=1024).
    #[arg(long, default_value_t = 64)]
    block: usize,
    /// Stop by itself after this many seconds.
    #[arg(long)]
    seconds: Option<f64>,
    /// OSC server address (UDP and TCP) [default: 127.0.0.1:5005; $CHRONUS_OSC_PORT sets the
    /// port]. Binding anything but loopback lets other machines play chronus.
    #[cfg(feature = "osc")]
    #[arg(long)]
    osc: Option<std::net::SocketAddr>,
    /// Do not start the OSC server.
    #[cfg(feature = "osc")]
    #[arg(long)]
    no_osc: bool,
    /// Only accept OSC from this address block (repeatable), e.g. 192.168.1.0/24.
    #[cfg(feature = "osc")]
    #[arg(long)]
    allow: Vec<chronus_osc::Cidr>,
    /// Packets per second each OSC source may send (a UDP address, or a TCP connection); the
    /// excess is dropped, counted (`rate_limited` in `/status`) and the sender told once a
    /// second. 0: no limit.
    #[cfg(feature = "osc")]
    #[arg(long, default_value_t = chronus_osc::router::DEFAULT_RATE_LIMIT)]
    rate_limit: u32,
    /// How far ahead a bundle's timetag (or a score's event) may be, in seconds: a later one
    /// is refused with /error and counted (`schedule_refused` in `/status`).
    #[arg(long, default_value_t = chronus_engine::DEFAULT_HORIZON_SECONDS, value_name = "SECONDS")]
    horizon: f64,
    /// OSC over TCP: int32 length prefix (OSC 1.0) instead of SLIP (OSC 1.1).
    #[cfg(feature = "osc")]
    #[arg(long)]
    tcp_length_prefix: bool,
    /// Lets `/fault/inject <crash|panic|hang|nan|slow> <active|standby|both|command>` break
    /// workers on purpose, to see (and test) what chronus does about it. Loopback only.
    #[cfg(feature = "osc")]
    #[arg(long)]
    fault_injection: bool,
    /// MIDI input: `jack` registers `<jack-name>:midi_in` (in the audio client with
    /// --backend jack: each event plays at its exact sample, a fixed latency after it came),
    /// `alsa` a sequencer port `<jack-name>:midi_in` (or --midi-device), `auto` takes JACK
    /// when a server answers, else ALSA, `none` takes no MIDI. Notes, pedal, bend,
    /// controllers (`/midi/map`), clock: see docs/midi.md.
    #[cfg(feature = "osc")]
    #[arg(long, value_enum, default_value_t = super::midi_in::MidiChoice::None)]
    midi: super::midi_in::MidiChoice,
    /// Connect this JACK MIDI output port to chronus's MIDI input (repeatable), e.g.
    /// `--midi-connect a2j:keyboard`.
    #[cfg(feature = "osc")]
    #[arg(long, value_name = "PORT")]
    midi_connect: Vec<String>,
    /// With --midi alsa: read this raw MIDI device (e.g. hw:1,0,0; `amidi -l` lists them)
    /// instead of opening a sequencer port.
    #[cfg(feature = "osc")]
    #[arg(long, value_name = "DEVICE")]
    midi_device: Option<String>,
    /// For `chronus bench latency`: print, when stopping, the monotonic time (ns) at which
    /// the first block was played.
    #[arg(long, hide = true)]
    report_first_block: bool,
}

#[cfg(feature = "osc")]
fn start_osc(args: &RunArgs, engine: &Arc<Engine>) -> Result<Option<chronus_osc::Server>> {
    if args.no_osc {
        return Ok(None);
    }
    let port = crate::commands::send::port(None)?;
    let addr = args
        .osc
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    if args.fault_injection && !addr.ip().is_loopback() {
        bail!(
            "--fault-injection is for loopback only, and OSC would listen on {addr}: \
             use --osc 127.0.0.1:PORT, or leave --fault-injection off"
        );
    }
    if !addr.ip().is_loopback() {
        tracing::warn!(
            "OSC listens on {addr}, reachable from other machines{}",
            if args.allow.is_empty() {
                "; restrict it with --allow CIDR"
            } else {
                ""
            }
        );
    }
    let config = chronus_osc::ServerConfig {
        addr,
        allow: args.allow.clone(),
        recordings: Some(args.recordings.clone()),
        presets: Some(args.presets.clone()),
        sessions: Some(args.sessions.clone()),
        samples: Some(sample_files(args)),
        rate_limit: args.rate_limit,
        fault_injection: args.fault_injection,
        framing: if args.tcp_length_prefix {
            chronus_osc::TcpFraming::LengthPrefix
        } else {
            chronus_osc::TcpFraming::Slip
        },
        ..Default::default()
    };
    let server = chronus_osc::Server::start(engine.clone(), config).context(
        "the OSC server did not start (another chronus on this port? try --osc 127.0.0.1:5006)",
    )?;
    Ok(Some(server))
}

/// A session that loads samples, once the engine runs: its samples, then the session itself
/// in one block.
fn load_session_with_samples(
    args: &RunArgs,
    engine: &Engine,
    loads: &[chronus_engine::score::Load],
    text: &str,
) -> Result<()> {
    let path = args.session.as_deref().unwrap_or(std::path::Path::new("?"));
    #[cfg(feature = "osc")]
    {
        let files = sample_files(args);
        for l in loads {
            chronus_osc::samples::load(engine, Some(&files), l)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
        engine
            .load_session(text)
            .with_context(|| format!("{}: the session did not load", path.display()))
    }
    #[cfg(not(feature = "osc"))]
    {
        let _ = (engine, loads, text);
        bail!(
            "{}: the session loads samples, and this chronus was built without them (the osc feature)",
            path.display()
        )
    }
}

#[cfg(feature = "osc")]
/// The samples folder and the limits `--samples`, `--sample-file-limit` and `--sample-memory`
/// set.
fn sample_files(args: &RunArgs) -> chronus_osc::SampleFiles {
    chronus_osc::SampleFiles {
        folder: chronus_samples::SampleFolder::new(&args.samples),
        limits: chronus_samples::Limits {
            file_bytes: args.sample_file_limit << 20,
            decoded_bytes: args.sample_memory << 20,
        },
    }
}

/// The MIDI settings' session lines.
#[cfg(feature = "osc")]
fn session_midi_lines(router: &chronus_osc::Router) -> String {
    router.midi_session_lines()
}

#[cfg(not(feature = "osc"))]
fn session_midi_lines(_router: &()) -> String {
    String::new()
}

/// Whether MIDI in is asked for (and possible in this build).
fn midi_wanted(args: &RunArgs) -> bool {
    #[cfg(feature = "osc")]
    {
        use super::midi_in::MidiChoice;
        matches!(args.midi, MidiChoice::Jack | MidiChoice::Auto)
    }
    #[cfg(not(feature = "osc"))]
    {
        let _ = args;
        false
    }
}

fn midi_sources(args: &RunArgs) -> Vec<String> {
    #[cfg(feature = "osc")]
    {
        args.midi_connect.clone()
    }
    #[cfg(not(feature = "osc"))]
    {
        let _ = args;
        Vec::new()
    }
}

/// What the JACK backend opened for MIDI (its `midi_in` port), if anything.
#[cfg(all(feature = "osc", feature = "jack"))]
type OpenedMidi = Option<(chronus_backend_jack::MidiReceiver, String)>;
#[cfg(all(feature = "osc", not(feature = "jack")))]
type OpenedMidi = ();

/// Starts MIDI in as `--midi` says: JACK (the port the JACK backend registered, or a client
/// of its own), the ALSA sequencer (or a raw device, `--midi-device`), or, for `auto`, the
/// first of those there is. Returns the input and the line to print.
#[cfg(feature = "osc")]
fn start_midi(
    args: &RunArgs,
    opened: OpenedMidi,
    router: &Arc<chronus_osc::Router>,
    engine: &Arc<Engine>,
    period: Option<u32>,
) -> Result<Option<(super::midi_in::MidiInput, String)>> {
    use super::midi_in::MidiChoice;
    let choice = args.midi;
    if choice == MidiChoice::None {
        return Ok(None);
    }
    let period = u64::from(period.unwrap_or(args.block as u32));
    let line = |port: &str| {
        format!(
            "chronus: MIDI in on {port} (each event plays {:.1} ms after it came)",
            super::midi_in::latency(engine, period) as f64 * 1000.0 / engine.config().sample_rate
        )
    };
    let mut why = Vec::new();
    if matches!(choice, MidiChoice::Jack | MidiChoice::Auto) {
        #[cfg(feature = "jack")]
        {
            let jack = match opened {
                Some((receiver, port)) => Ok((receiver, None, port)),
                None => chronus_backend_jack::MidiClient::open(
                    &format!("{}-midi", args.jack_name),
                    &args.midi_connect,
                )
                .map(|(client, receiver)| {
                    let port = client.port().to_owned();
                    (receiver, Some(client), port)
                }),
            };
            match jack {
                Ok((receiver, client, port)) => {
                    let input = super::midi_in::start(
                        receiver,
                        client,
                        router.clone(),
                        engine.clone(),
                        period,
                    );
                    return Ok(Some((input, line(&port))));
                }
                Err(e) if choice == MidiChoice::Jack => {
                    return Err(anyhow::anyhow!(e).context("--midi jack: no MIDI input"))
                }
                Err(e) => why.push(e.to_string()),
            }
        }
        #[cfg(not(feature = "jack"))]
        {
            let _ = opened;
            if choice == MidiChoice::Jack {
                bail!("this build of chronus has no JACK: --midi jack needs it (build with the feature `jack`)");
            }
            why.push("this build has no JACK".to_owned());
        }
    }
    if matches!(choice, MidiChoice::Alsa | MidiChoice::Auto) {
        #[cfg(feature = "alsa")]
        {
            use chronus_backend_alsa::midi;
            let (tx, rx) = std::sync::mpsc::channel();
            let alsa = match &args.midi_device {
                Some(device) => midi::open_raw(device, tx),
                None => midi::open_seq(&args.jack_name, &args.midi_connect, tx),
            };
            match alsa {
                Ok(input) => {
                    let port = input.port.clone();
                    let input = super::midi_in::start_alsa(
                        input,
                        rx,
                        router.clone(),
                        engine.clone(),
                        period,
                    );
                    return Ok(Some((input, line(&port))));
                }
                Err(e) if choice == MidiChoice::Alsa => {
                    return Err(anyhow::anyhow!(e).context("--midi alsa: no MIDI input"))
                }
                Err(e) => why.push(e.to_string()),
            }
        }
        #[cfg(not(feature = "alsa"))]
        {
            if choice == MidiChoice::Alsa {
                super::midi_in::alsa_unavailable()?;
            }
            why.push("this build has no ALSA".to_owned());
        }
    }
    // (Unused in a build with neither JACK nor ALSA.)
    let _ = (router, &line);
    tracing::warn!("no MIDI input: {}", why.join("; "));
    Ok(None)
}

/// Runs `chronus run`.
pub fn run(args: RunArgs) -> Result<()> {
    if !(1..=8).contains(&args.channels) {
        bail!("--channels must be 1..=8 (got {})", args.channels);
    }
    if !(args.horizon.is_finite() && args.horizon > 0.0) {
        bail!(
            "--horizon must be a positive number of seconds (got {})",
            args.horizon
        );
    }
    if let Some(s) = args.seconds {
        if !(s.is_finite() && s > 0.0) {
            bail!("--seconds must be a positive number (got {s})");
        }
    }
    let choice = super::backends::Choice {
        backend: args.backend,
        jack_name: args.jack_name.clone(),
        connect: args.connect.clone(),
        no_connect: args.no_connect,
        device: args.device.clone(),
        alsa_format: args.alsa_format.clone(),
        cpal_host: args.cpal_host.clone(),
        want: StreamConfig {
            sample_rate: args.sample_rate.unwrap_or(48_000),
            block: args.block,
            channels: args.channels,
        },
        midi: midi_wanted(&args).then(|| midi_sources(&args)),
    };

    let opened = super::backends::open(&choice)?;
    let sample_rate = match (opened.sample_rate, args.sample_rate) {
        (Some(dev), Some(asked)) if dev != asked => {
            bail!("the {} device runs at {dev} Hz; --sample-rate {asked} is impossible (omit it to follow the device)", opened.name)
        }
        (Some(dev), _) => dev,
        (None, asked) => asked.unwrap_or(48_000),
    };
    // Parse the score before starting anything, so a bad one changes nothing.
    // Its setup (instruments, buses, modules) is made before the first block.
    // The session first (the state it keeps), then the score's on top of it.
    let mut layout =
        Patch::default_patch_for(f64::from(sample_rate), args.block, args.channels >= 2)
            .context("invalid --sample-rate or --block")?;
    let session = match &args.session {
        Some(path) => Some(super::session::load(path, &mut layout)?),
        None => None,
    };
    let (mut setup, restored, kept, session_loads, session_midi) = match session {
        Some(s) => (s.edits, s.commands, s.text, s.loads, s.host),
        None => (
            Vec::new(),
            Vec::new(),
            String::new(),
            Vec::new(),
            Vec::new(),
        ),
    };
    let score = match &args.score {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the score {}", path.display()))?;
            let (edits, score) = Score::parse(&text)
                .and_then(|s| Ok((s.set_up(&mut layout)?, s.resolve(&layout)?)))
                .with_context(|| format!("{}: fix the score and try again", path.display()))?;
            setup.extend(edits);
            score
        }
        None => Vec::new(),
    };
    let config = EngineConfig {
        sample_rate: f64::from(sample_rate),
        block: args.block,
        channels: args.channels,
        lookahead: args.lookahead,
        seal: args.seal.into(),
        workers: args.workers,
        stall_blocks: args.stall_blocks,
        worker_exe: None,
        horizon_seconds: args.horizon,
        sample_memory: args.sample_memory << 20,
    }
    .for_device_period(opened.period.map(|p| p as usize));
    let lookahead = config.lookahead;
    // The score's first seconds go in before anything renders; the rest is fed as it plays.
    let (opening, mut player) = ScorePlayer::split(&score, f64::from(sample_rate));
    // The voice pool is set up at sample 0, before the score's first note.
    let opening: Vec<Command> = args
        .voices
        .action()
        .map(|a| Command::new(0, a))
        .into_iter()
        .chain(restored)
        .chain(opening)
        .collect();
    let (engine, output) =
        Engine::start_edited(config, &setup, &opening).context("the engine did not start")?;
    let engine = Arc::new(engine);
    if !session_loads.is_empty() {
        load_session_with_samples(&args, &engine, &session_loads, &kept)?;
    }
    // Armed before the first block plays: the recording starts at sample 0.
    if let Some(path) = &args.record {
        engine
            .start_recording(path, args.format)
            .with_context(|| format!("cannot record to {}", path.display()))?;
    }
    #[cfg(feature = "osc")]
    let osc = start_osc(&args, &engine)?;
    #[cfg(all(feature = "osc", feature = "jack"))]
    let opened_midi: OpenedMidi = opened.midi;
    #[cfg(all(feature = "osc", not(feature = "jack")))]
    let opened_midi: OpenedMidi = ();
    #[cfg(feature = "osc")]
    let osc_line = osc
        .as_ref()
        .map(|s| format!("; OSC on {} (udp+tcp)", s.udp_addr()))
        .unwrap_or_default();
    #[cfg(not(feature = "osc"))]
    let osc_line = String::new();
    // The router MIDI and the session's MIDI settings go through (the OSC server's, or one
    // of its own).
    #[cfg(feature = "osc")]
    let router = match &osc {
        Some(server) => server.router().clone(),
        None => Arc::new(chronus_osc::Router::new(engine.clone())),
    };
    #[cfg(feature = "osc")]
    if !session_midi.is_empty() {
        let path = args.session.as_deref().unwrap_or(std::path::Path::new("?"));
        let mapper = router
            .midi_from_lines(&session_midi)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        router.take_midi(mapper);
    }
    #[cfg(not(feature = "osc"))]
    let router = ();
    #[cfg(not(feature = "osc"))]
    if !session_midi.is_empty() {
        tracing::warn!(
            "the session's MIDI settings are not used: this chronus has no MIDI (the osc feature)"
        );
    }
    #[cfg(feature = "osc")]
    let midi = start_midi(&args, opened_midi, &router, &engine, opened.period)?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("cannot install the Ctrl-C handler")?;
    }
    let stream_config = StreamConfig {
        sample_rate,
        block: args.block,
        channels: args.channels,
    };
    let backend_name = opened.name;
    let stream = opened
        .backend
        .start(stream_config, output, engine.metrics_handle())
        .with_context(|| format!("the {backend_name} backend did not start"))?;
    let got = stream.obtained();
    let device_frames = stream.device_latency_frames().unwrap_or(0);
    let seal = chronus_engine::SealAt::from(args.seal);
    let latency_ms = seal.least_latency_blocks(lookahead) * args.block as f64 * 1000.0
        / f64::from(sample_rate)
        + device_frames as f64 * 1000.0 / f64::from(sample_rate);
    let pids = match args.workers {
        WorkerMode::Process => format!(
            "2 worker processes (pids {} {})",
            engine.worker_pid(0).unwrap_or(0),
            engine.worker_pid(1).unwrap_or(0)
        ),
        WorkerMode::Thread => "2 worker threads".to_owned(),
    };
    println!(
        "chronus: playing on {backend_name} at {} Hz, block {}, lookahead {} ({latency_ms:.1} ms); {pids}{osc_line}{}. Ctrl-C stops.",
        sample_rate,
        args.block,
        lookahead,
        args.record.as_ref().map(|p| format!("; recording to {}", p.display())).unwrap_or_default()
    );
    println!(
        "chronus: {backend_name}: asked {sample_rate} Hz, block {}, {} ch; got {} Hz, device buffer {} frames, {} ch; \
         latency {latency_ms:.1} ms at the least (the block's part after its seal, {} block + lookahead {} + device buffer)",
        args.block, args.channels, got.sample_rate, got.block, got.channels,
        // With no lookahead: what is left of the block after the seal point.
        seal.least_latency_blocks(0),
        lookahead
    );

    #[cfg(feature = "osc")]
    if let Some((_, line)) = &midi {
        println!("{line}");
    }
    #[cfg(feature = "osc")]
    if let Some(server) = &osc {
        let port = server.udp_addr().port();
        let flag = if port == 5005 {
            String::new()
        } else {
            format!(" --port {port}")
        };
        println!(
            "chronus: next: `chronus send{flag} /gate/adsr on` plays a note, `chronus say{flag} \"play C4\"` too; `chronus status{flag}` shows how it goes."
        );
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();

    let mut keeper = args
        .session
        .clone()
        .map(|path| super::session::Keeper::new(path, kept));
    let started = Instant::now();
    let sr = f64::from(sample_rate);
    let mut failure = None;
    while !stop.load(Ordering::SeqCst) {
        if let Some(e) = stream.error() {
            failure = Some(e);
            break;
        }
        if args
            .seconds
            .is_some_and(|s| started.elapsed().as_secs_f64() >= s)
        {
            break;
        }
        player.feed(&engine);
        if let Some(k) = keeper.as_mut() {
            k.tick(&engine, || session_midi_lines(&router));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    #[cfg(feature = "osc")]
    drop(midi);
    #[cfg(feature = "osc")]
    if let Some(server) = osc {
        server.stop();
    }
    if let Some(k) = keeper.as_mut() {
        k.save(&engine, &session_midi_lines(&router));
    }
    let report = stream.stop().context("stopping the backend")?;
    if args.report_first_block {
        println!("chronus: first block played at {} ns", engine.origin_ns());
    }
    let recorded = engine.stop_recording();
    let m = engine.metrics();
    engine.shutdown();
    println!(
        "chronus: stopped after {:.2} s: {} blocks, {} underruns ({} samples lost), {} failovers, {} respawns, {} backend xruns",
        m.played_blocks as f64 * args.block as f64 / sr,
        m.played_blocks,
        m.underruns,
        m.lost_samples,
        m.failovers,
        m.respawns,
        report.xruns
    );
    match recorded {
        Ok(Some(r)) => {
            println!(
                "chronus: recorded {:.2} s to {}",
                r.samples as f64 / sr,
                r.path.display()
            );
            if r.dropped > 0 {
                tracing::warn!(
                    "{} samples could not be recorded (the disk was too slow)",
                    r.dropped
                );
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!("the recording: {e}"),
    }
    if let Some(e) = failure {
        bail!("{e}; stopped (start the server again, or use --backend null)");
    }
    Ok(())
}

/// `--seal`: when each block's commands are fixed (`chronus_engine::SealAt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SealPoint {
    /// Three quarters of a period after the output's tick (the default).
    Late,
    /// Half a period after the output's tick.
    Mid,
    /// At the output's tick.
    Tick,
}

impl From<SealPoint> for chronus_engine::SealAt {
    fn from(p: SealPoint) -> Self {
        match p {
            SealPoint::Late => chronus_engine::SealAt::Late,
            SealPoint::Mid => chronus_engine::SealAt::MidPeriod,
            SealPoint::Tick => chronus_engine::SealAt::Tick,
        }
    }
}
