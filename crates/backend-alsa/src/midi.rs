//! ALSA MIDI in: a sequencer port any ALSA MIDI client can connect to (`<name>:midi_in`), or a
//! raw MIDI device (`hw:1,0,0`), read in a thread of its own. Each message is handed on with
//! the moment it arrived (the monotonic clock, in ns): ALSA gives no frame time to stamp by,
//! so the host turns the moment into a sample.

use alsa::seq;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;

/// A MIDI message and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrivedMidi {
    /// Monotonic time (ns) it was read.
    pub ns: u64,
    /// The message's bytes (a raw device's: whatever a read gave, for a stream decoder).
    pub bytes: Vec<u8>,
    /// Whether `bytes` are a piece of a raw byte stream (not one whole message).
    pub stream: bool,
}

/// Why ALSA MIDI could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlsaMidiError {
    /// No ALSA sequencer (no `/dev/snd/seq`: the kernel's snd-seq is not there).
    #[error("no ALSA sequencer ({0}): load snd-seq (`modprobe snd-seq`), or use --midi jack")]
    NoSequencer(alsa::Error),
    /// A source that could not be connected.
    #[error("cannot connect the ALSA MIDI source '{source_name}' ({detail}); list them with `aconnect -i`")]
    Connect {
        /// The source as given.
        source_name: String,
        /// What ALSA said.
        detail: String,
    },
    /// A raw MIDI device that could not be opened.
    #[error("cannot open the raw MIDI device '{device}' ({detail}); list them with `amidi -l`")]
    Raw {
        /// The device as given.
        device: String,
        /// What ALSA said.
        detail: String,
    },
}

/// A running ALSA MIDI input; dropping it stops its thread.
pub struct AlsaMidiIn {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Where MIDI goes in (`128:0 chronus:midi_in`, or the raw device).
    pub port: String,
}

impl Drop for AlsaMidiIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The bytes of a sequencer event as a MIDI message (`None` for an event that is none: a
/// port subscription, …). Uses `encoder`'s buffer; allocates nothing.
pub fn event_bytes<'b>(
    encoder: &seq::MidiEvent,
    ev: &mut seq::Event<'_>,
    buf: &'b mut [u8],
) -> Option<&'b [u8]> {
    encoder.reset_decode();
    match encoder.decode(buf, ev) {
        Ok(n) if n > 0 => Some(&buf[..n]),
        _ => None,
    }
}

/// Opens a sequencer client `name` with a port `midi_in`, connects each of `sources`
/// (`20:0`, or a client's name), and sends what arrives to `tx`.
pub fn open_seq(
    name: &str,
    sources: &[String],
    tx: Sender<ArrivedMidi>,
) -> Result<AlsaMidiIn, AlsaMidiError> {
    let s = seq::Seq::open(None, Some(alsa::Direction::Capture), true)
        .map_err(AlsaMidiError::NoSequencer)?;
    let cname = CString::new(name).unwrap_or_default();
    let _ = s.set_client_name(&cname);
    let port = s
        .create_simple_port(
            c"midi_in",
            seq::PortCap::WRITE | seq::PortCap::SUBS_WRITE,
            seq::PortType::MIDI_GENERIC | seq::PortType::APPLICATION,
        )
        .map_err(AlsaMidiError::NoSequencer)?;
    let me = s.client_id().map_err(AlsaMidiError::NoSequencer)?;
    for source in sources {
        let connect = || -> Result<(), String> {
            let from: seq::Addr = source.parse().map_err(|e| format!("{e}"))?;
            let sub = seq::PortSubscribe::empty().map_err(|e| e.to_string())?;
            sub.set_sender(from);
            sub.set_dest(seq::Addr { client: me, port });
            s.subscribe_port(&sub).map_err(|e| e.to_string())
        };
        connect().map_err(|detail| AlsaMidiError::Connect {
            source_name: source.clone(),
            detail,
        })?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("chronus-alsa-midi".into())
            .spawn(move || read_seq(s, &stop, &tx))
            .ok()
    };
    Ok(AlsaMidiIn {
        stop,
        thread,
        port: format!("{me}:{port} {name}:midi_in"),
    })
}

fn read_seq(s: seq::Seq, stop: &AtomicBool, tx: &Sender<ArrivedMidi>) {
    use alsa::PollDescriptors;
    let Ok(encoder) = seq::MidiEvent::new(256) else {
        return;
    };
    let mut buf = [0u8; 256];
    let mut fds = match (&s, Some(alsa::Direction::Capture)).get() {
        Ok(f) => f,
        Err(_) => return,
    };
    let mut input = s.input();
    while !stop.load(Ordering::Relaxed) {
        // Woken by an event, or every 50 ms to see whether to stop.
        let _ = alsa::poll::poll(&mut fds, 50);
        while let Ok(mut ev) = input.event_input() {
            let ns = chronus_engine::rt::monotonic_ns();
            if let Some(bytes) = event_bytes(&encoder, &mut ev, &mut buf) {
                let arrived = ArrivedMidi {
                    ns,
                    bytes: bytes.to_vec(),
                    stream: false,
                };
                if tx.send(arrived).is_err() {
                    return;
                }
            }
        }
    }
}

/// Opens raw MIDI device `device` (`hw:1,0,0`) for input and sends what it reads to `tx`, in
/// pieces of the byte stream.
pub fn open_raw(device: &str, tx: Sender<ArrivedMidi>) -> Result<AlsaMidiIn, AlsaMidiError> {
    let raw = alsa::rawmidi::Rawmidi::new(device, alsa::Direction::Capture, true).map_err(|e| {
        AlsaMidiError::Raw {
            device: device.into(),
            detail: e.to_string(),
        }
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("chronus-rawmidi".into())
            .spawn(move || {
                use alsa::PollDescriptors;
                use std::io::Read;
                let mut fds = match raw.get() {
                    Ok(f) => f,
                    Err(_) => return,
                };
                let mut io = raw.io();
                let mut buf = [0u8; 256];
                while !stop.load(Ordering::Relaxed) {
                    let _ = alsa::poll::poll(&mut fds, 50);
                    while let Ok(n) = io.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        let arrived = ArrivedMidi {
                            ns: chronus_engine::rt::monotonic_ns(),
                            bytes: buf[..n].to_vec(),
                            stream: true,
                        };
                        if tx.send(arrived).is_err() {
                            return;
                        }
                    }
                }
            })
            .ok()
    };
    Ok(AlsaMidiIn {
        stop,
        thread,
        port: device.to_owned(),
    })
}

/// The ALSA sequencer's MIDI sources (ports others can read from): (address `20:0`, name
/// `client: port`). Empty without a sequencer.
pub fn sources() -> Vec<(String, String)> {
    if !has_sequencer() {
        return Vec::new();
    }
    let Ok(s) = seq::Seq::open(None, None, true) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for client in seq::ClientIter::new(&s) {
        let cname = client.get_name().unwrap_or("?").to_owned();
        for port in seq::PortIter::new(&s, client.get_client()) {
            let caps = port.get_capability();
            if caps.contains(seq::PortCap::READ | seq::PortCap::SUBS_READ)
                && port.get_type().contains(seq::PortType::MIDI_GENERIC)
            {
                out.push((
                    format!("{}:{}", port.get_client(), port.get_port()),
                    format!("{cname}: {}", port.get_name().unwrap_or("?")),
                ));
            }
        }
    }
    out
}

/// Whether this machine has an ALSA sequencer to open (its device is there: ALSA's library
/// would print an error of its own on a failed open).
pub fn has_sequencer() -> bool {
    std::path::Path::new("/dev/snd/seq").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sequencer events become the MIDI messages they stand for (no device needed: the
    /// encoder is ALSA's library alone).
    #[test]
    fn sequencer_events_become_midi_bytes() {
        let encoder = seq::MidiEvent::new(256).unwrap();
        let mut buf = [0u8; 256];
        let note = seq::EvNote {
            channel: 2,
            note: 69,
            velocity: 100,
            off_velocity: 0,
            duration: 0,
        };
        let mut ev = seq::Event::new(seq::EventType::Noteon, &note);
        assert_eq!(
            event_bytes(&encoder, &mut ev, &mut buf),
            Some(&[0x92, 69, 100][..])
        );
        let mut ev = seq::Event::new(seq::EventType::Noteoff, &note);
        assert_eq!(
            event_bytes(&encoder, &mut ev, &mut buf),
            Some(&[0x82, 69, 100][..])
        );
        let cc = seq::EvCtrl {
            channel: 0,
            param: 64,
            value: 127,
        };
        let mut ev = seq::Event::new(seq::EventType::Controller, &cc);
        assert_eq!(
            event_bytes(&encoder, &mut ev, &mut buf),
            Some(&[0xB0, 64, 127][..])
        );
        let bend = seq::EvCtrl {
            channel: 0,
            param: 0,
            value: 8191,
        };
        let mut ev = seq::Event::new(seq::EventType::Pitchbend, &bend);
        assert_eq!(
            event_bytes(&encoder, &mut ev, &mut buf),
            Some(&[0xE0, 0x7F, 0x7F][..])
        );
    }

    /// The sequencer path itself, where this machine has one; these VMs have no
    /// `/dev/snd/seq`, and say so.
    #[test]
    fn a_sequencer_port_opens_where_there_is_a_sequencer() {
        if !has_sequencer() {
            println!("SKIPPED: no ALSA sequencer on this machine (no /dev/snd/seq; snd-seq is not loaded): the port itself is not tested here");
            return;
        }
        let (tx, _rx) = std::sync::mpsc::channel();
        let input = open_seq("chronus-test", &[], tx).unwrap();
        assert!(
            input.port.ends_with("chronus-test:midi_in"),
            "{}",
            input.port
        );
    }
}
