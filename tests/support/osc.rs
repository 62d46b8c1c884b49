//! A plain OSC client over UDP for the end-to-end tests: messages, bundles timetagged for a
//! sample, replies, `/status` counters.

use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::net::UdpSocket;
use std::time::{Duration, SystemTime};

/// The rate the tests run chronus at.
const SR: f64 = 48_000.0;

/// A client of the chronus on `port`.
pub struct Client {
    /// Its socket.
    pub sock: UdpSocket,
    /// The synth's port.
    pub port: u16,
}

/// A message.
pub fn m(addr: &str, args: Vec<OscType>) -> OscPacket {
    OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    })
}

impl Client {
    /// A client on 127.0.0.1 of the chronus on `port`; replies wait 3 s at most.
    pub fn connect(port: u16) -> Client {
        let sock = UdpSocket::bind(("127.0.0.1", 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        Client { sock, port }
    }
    /// Sends a packet.
    pub fn send(&self, p: &OscPacket) {
        self.send_raw(&rosc::encoder::encode(p).unwrap());
    }
    /// Sends raw bytes.
    pub fn send_raw(&self, bytes: &[u8]) {
        self.sock.send_to(bytes, ("127.0.0.1", self.port)).unwrap();
    }
    /// The next reply (a message).
    pub fn recv(&self) -> OscMessage {
        let mut buf = vec![0u8; 65_536];
        let (n, _) = self.sock.recv_from(&mut buf).expect("a reply");
        match rosc::decoder::decode_udp(&buf[..n]).unwrap().1 {
            OscPacket::Message(m) => m,
            OscPacket::Bundle(_) => panic!("a bundle reply"),
        }
    }
    /// Sends and waits for the reply.
    pub fn ask(&self, p: &OscPacket) -> OscMessage {
        self.send(p);
        self.recv()
    }
    /// `/sync id` and wait for `/synced id` (the earlier commands have been played).
    pub fn sync(&self, id: i32) {
        self.send(&m("/sync", vec![OscType::Int(id)]));
        let reply = self.recv();
        assert_eq!(
            (reply.addr.as_str(), reply.args.clone()),
            ("/synced", vec![OscType::Int(id)])
        );
    }
    pub fn status(&self) -> Vec<(String, OscType)> {
        let r = self.ask(&m("/status", vec![]));
        assert_eq!(r.addr, "/status.reply", "{r:?}");
        r.args
            .chunks(2)
            .map(|c| match c {
                [OscType::String(k), v] => (k.clone(), v.clone()),
                _ => panic!("status pairs"),
            })
            .collect()
    }
    pub fn stat(&self, key: &str) -> f64 {
        self.stats(&[key])[0]
    }
    /// Several counters from one `/status` reply.
    pub fn stats(&self, keys: &[&str]) -> Vec<f64> {
        let status = self.status();
        keys.iter()
            .map(|key| {
                value(
                    status
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone()),
                    key,
                )
            })
            .collect()
    }
    /// Sends `content` in a bundle timetagged `ms` from now; returns the sample it is due at
    /// (from the server's `origin_unix`).
    pub fn send_timed(&self, ms: u64, content: Vec<OscPacket>) -> i64 {
        let origin = self.stat("origin_unix");
        let at = SystemTime::now() + Duration::from_millis(ms);
        self.send(&OscPacket::Bundle(OscBundle {
            timetag: OscTime::try_from(at).unwrap(),
            content,
        }));
        let at_unix = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        ((at_unix - origin) * SR).round() as i64
    }
    /// Samples the output has played.
    pub fn played_samples(&self) -> usize {
        self.stat("played_blocks") as usize * 64
    }
}

/// A `/status` value as a number.
pub fn value(v: Option<OscType>, key: &str) -> f64 {
    {
        match v {
            Some(OscType::Long(v)) => v as f64,
            Some(OscType::Int(v)) => f64::from(v),
            Some(OscType::Float(v)) => f64::from(v),
            Some(OscType::Double(v)) => v,
            other => panic!("{key}: {other:?}"),
        }
    }
}
