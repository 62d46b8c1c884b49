//! SLIP framing (RFC 1055), as OSC 1.1 uses over TCP.

const END: u8 = 0xC0;
const ESC: u8 = 0xDB;
const ESC_END: u8 = 0xDC;
const ESC_ESC: u8 = 0xDD;

/// Frames a packet: END, the escaped bytes, END.
pub fn encode(packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packet.len() + 2);
    out.push(END);
    for &b in packet {
        match b {
            END => out.extend_from_slice(&[ESC, ESC_END]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            _ => out.push(b),
        }
    }
    out.push(END);
    out
}

/// Incremental decoder: feed bytes as they arrive, take whole packets out.
#[derive(Debug, Default)]
pub struct Decoder {
    current: Vec<u8>,
    escaped: bool,
    overflow: bool,
    max: usize,
}

/// What the decoder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole packet.
    Packet(Vec<u8>),
    /// A packet longer than the limit (dropped).
    TooLarge,
    /// A bad escape sequence (the packet is dropped).
    BadEscape,
}

impl Decoder {
    /// A decoder that refuses packets over `max` bytes.
    pub fn new(max: usize) -> Self {
        Decoder {
            max,
            ..Default::default()
        }
    }

    /// Feeds bytes, returning every frame they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        let mut bad = false;
        for &b in bytes {
            if b == END {
                if self.overflow {
                    frames.push(Frame::TooLarge);
                } else if bad {
                    frames.push(Frame::BadEscape);
                } else if !self.current.is_empty() {
                    frames.push(Frame::Packet(std::mem::take(&mut self.current)));
                }
                self.current.clear();
                self.escaped = false;
                self.overflow = false;
                bad = false;
                continue;
            }
            let byte = if self.escaped {
                self.escaped = false;
                match b {
                    ESC_END => END,
                    ESC_ESC => ESC,
                    _ => {
                        bad = true;
                        continue;
                    }
                }
            } else if b == ESC {
                self.escaped = true;
                continue;
            } else {
                b
            };
            if self.current.len() >= self.max {
                self.overflow = true;
            } else {
                self.current.push(byte);
            }
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_escapes_in_any_chunking() {
        let packet = vec![1, END, 2, ESC, 3, END, END];
        let wire = [encode(&packet), encode(b"abc")].concat();
        for split in 0..wire.len() {
            let mut d = Decoder::new(1024);
            let mut frames = d.feed(&wire[..split]);
            frames.extend(d.feed(&wire[split..]));
            assert_eq!(
                frames,
                vec![
                    Frame::Packet(packet.clone()),
                    Frame::Packet(b"abc".to_vec())
                ]
            );
        }
    }

    #[test]
    fn oversize_and_bad_escapes_are_reported() {
        let mut d = Decoder::new(4);
        assert_eq!(d.feed(&encode(&[0; 10])), vec![Frame::TooLarge]);
        assert_eq!(d.feed(&[END, 1, ESC, 7, END]), vec![Frame::BadEscape]);
        assert_eq!(d.feed(&encode(b"ok")), vec![Frame::Packet(b"ok".to_vec())]);
    }
}
