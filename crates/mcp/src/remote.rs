//! The OSC side: a UDP client of a running `chronus run`. Every request ends with `/sync`, so
//! its replies (values, `/clamped`, `/error`) are all in before the answer is given.

use crate::ToolError;
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

/// How long a request waits for chronus's `/synced`.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// A message to send: at once, or `at_ms` after the request starts (a timetagged bundle,
/// played on its sample).
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The message.
    pub message: OscMessage,
    /// Milliseconds from now (0: at once).
    pub at_ms: u32,
}

impl Outgoing {
    /// A message sent at once.
    pub fn now(addr: &str, args: Vec<OscType>) -> Self {
        Outgoing {
            message: OscMessage {
                addr: addr.to_owned(),
                args,
            },
            at_ms: 0,
        }
    }
}

/// A UDP client of one chronus.
#[derive(Debug)]
pub struct Remote {
    socket: UdpSocket,
    to: SocketAddr,
    next_sync: i32,
}

impl Remote {
    /// A client of the chronus at `to` (nothing is sent yet).
    pub fn new(to: SocketAddr) -> Result<Self, ToolError> {
        let bind: SocketAddr = if to.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(bind).map_err(|e| ToolError::Send {
            reason: format!("cannot open a UDP socket: {e}"),
        })?;
        Ok(Remote {
            socket,
            to,
            next_sync: 1,
        })
    }

    /// Where chronus is.
    pub fn addr(&self) -> SocketAddr {
        self.to
    }

    fn send(&self, packet: &OscPacket) -> Result<(), ToolError> {
        let bytes = rosc::encoder::encode(packet).map_err(|e| ToolError::Send {
            reason: e.to_string(),
        })?;
        self.socket
            .send_to(&bytes, self.to)
            .map_err(|e| ToolError::Send {
                reason: format!("{}: {e}", self.to),
            })?;
        Ok(())
    }

    /// Sends `messages` in order, then `/sync`, and returns every reply that came before
    /// `/synced` (once all of them were played). An `/error` reply is the request's error.
    pub fn request(&mut self, messages: &[Outgoing]) -> Result<Vec<OscMessage>, ToolError> {
        let start = SystemTime::now();
        for m in messages {
            let packet = if m.at_ms == 0 {
                OscPacket::Message(m.message.clone())
            } else {
                let at = start + Duration::from_millis(u64::from(m.at_ms));
                OscPacket::Bundle(OscBundle {
                    timetag: OscTime::try_from(at).unwrap_or(OscTime::from((0, 1))),
                    content: vec![OscPacket::Message(m.message.clone())],
                })
            };
            self.send(&packet)?;
        }
        let id = self.next_sync;
        self.next_sync = self.next_sync.wrapping_add(1);
        self.send(&OscPacket::Message(OscMessage {
            addr: "/sync".into(),
            args: vec![OscType::Int(id)],
        }))?;
        let replies = self.collect(id)?;
        if let Some(e) = replies.iter().find(|m| m.addr == "/error") {
            let text = |i: usize| match e.args.get(i) {
                Some(OscType::String(s)) => s.clone(),
                _ => String::new(),
            };
            return Err(ToolError::Refused {
                address: text(0),
                reason: text(1),
            });
        }
        Ok(replies)
    }

    /// Asks one thing and returns the reply with address `want`.
    pub fn ask(&mut self, message: Outgoing, want: &str) -> Result<OscMessage, ToolError> {
        let replies = self.request(std::slice::from_ref(&message))?;
        replies
            .into_iter()
            .find(|m| m.addr == want)
            .ok_or_else(|| ToolError::Refused {
                address: message.message.addr.clone(),
                reason: format!("no {want} reply came"),
            })
    }

    fn collect(&mut self, id: i32) -> Result<Vec<OscMessage>, ToolError> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut replies = Vec::new();
        let mut buf = vec![0u8; 65_536];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ToolError::NoAnswer {
                    addr: self.to,
                    reason: format!("no /synced within {REPLY_TIMEOUT:?}"),
                });
            }
            let _ = self.socket.set_read_timeout(Some(left));
            let n = match self.socket.recv_from(&mut buf) {
                Ok((n, from)) if from == self.to => n,
                Ok(_) => continue,
                Err(e) => {
                    return Err(ToolError::NoAnswer {
                        addr: self.to,
                        reason: e.to_string(),
                    })
                }
            };
            let Ok((_, packet)) = rosc::decoder::decode_udp(&buf[..n]) else {
                continue;
            };
            let mut flat = Vec::new();
            flatten(packet, &mut flat);
            for m in flat {
                if m.addr == "/synced" && m.args.first() == Some(&OscType::Int(id)) {
                    return Ok(replies);
                }
                replies.push(m);
            }
        }
    }
}

fn flatten(packet: OscPacket, out: &mut Vec<OscMessage>) {
    match packet {
        OscPacket::Message(m) => out.push(m),
        OscPacket::Bundle(b) => b.content.into_iter().for_each(|p| flatten(p, out)),
    }
}

/// An OSC argument as JSON.
pub fn to_json(arg: &OscType) -> serde_json::Value {
    use serde_json::Value;
    match arg {
        OscType::Int(i) => Value::from(*i),
        OscType::Long(i) => Value::from(*i),
        OscType::Float(f) => {
            serde_json::Number::from_f64(f64::from(*f)).map_or(Value::Null, Value::Number)
        }
        OscType::Double(d) => serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number),
        OscType::String(s) => Value::from(s.clone()),
        OscType::Bool(b) => Value::from(*b),
        other => Value::from(format!("{other:?}")),
    }
}
