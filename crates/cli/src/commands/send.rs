//! `chronus send`: OSC messages to a running chronus (or any OSC server): one, or several
//! separated by `,` from one socket (staged patch edits and their commit come from one
//! sender).

use anyhow::{bail, Context, Result};
use rosc::{OscMessage, OscPacket, OscType};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

/// Arguments of `chronus send`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
EXAMPLES
  chronus send /mod/sine/freq 440
  chronus send /gate/adsr on
  chronus send /mod/sine*/gain 0.3              every oscillator
  chronus send --types s /mod/sine/freq 440     force types: i int, f float, s string
  chronus send --wait-reply /status
  chronus send --wait-reply /get sine freq
  chronus send /patch/create hall reverb , /patch/connect pan hall , /patch/connect hall out , /patch/commit
                                                several messages, in order, from one sender

Types are inferred: 440 is an int, 0.5 a float, anything else a string. Patch edits are
staged per sender: stage and commit them in one `chronus send` (separated by `,`); each
`chronus send` is a sender of its own.")]
pub struct SendArgs {
    /// OSC address, e.g. /mod/sine/freq.
    address: String,
    /// Arguments; a lone `,` starts another message (`, /patch/commit`).
    #[arg(allow_hyphen_values = true)]
    args: Vec<String>,
    /// Host of the OSC server.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port of the OSC server [default: $CHRONUS_OSC_PORT or 5005].
    #[arg(long)]
    port: Option<u16>,
    /// Send over TCP (SLIP framing) instead of UDP.
    #[arg(long)]
    tcp: bool,
    /// Force the argument types, one letter each: i, f, d, s, T/F (bool).
    #[arg(long)]
    types: Option<String>,
    /// Wait for and print the reply.
    #[arg(long)]
    wait_reply: bool,
    /// How long to wait for a reply, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
}

/// The port: --port, else $CHRONUS_OSC_PORT, else 5005.
pub fn port(arg: Option<u16>) -> Result<u16> {
    if let Some(p) = arg {
        return Ok(p);
    }
    match std::env::var("CHRONUS_OSC_PORT") {
        Ok(v) => v
            .parse()
            .with_context(|| format!("CHRONUS_OSC_PORT='{v}' is not a port number")),
        Err(_) => Ok(chronus_osc::DEFAULT_PORT),
    }
}

fn infer(arg: &str) -> OscType {
    if let Ok(i) = arg.parse::<i32>() {
        OscType::Int(i)
    } else if let Some(f) = arg.parse::<f32>().ok().filter(|f| f.is_finite()) {
        OscType::Float(f)
    } else {
        OscType::String(arg.to_owned())
    }
}

fn typed(arg: &str, t: char) -> Result<OscType> {
    Ok(match t {
        'i' => OscType::Int(
            arg.parse()
                .with_context(|| format!("'{arg}' is not an int"))?,
        ),
        'f' => OscType::Float(
            arg.parse()
                .with_context(|| format!("'{arg}' is not a float"))?,
        ),
        'd' => OscType::Double(
            arg.parse()
                .with_context(|| format!("'{arg}' is not a double"))?,
        ),
        's' => OscType::String(arg.to_owned()),
        'T' => OscType::Bool(true),
        'F' => OscType::Bool(false),
        _ => bail!("unknown type letter '{t}' (use i, f, d, s, T, F)"),
    })
}

/// Formats a message for people: `/value sine freq 440`.
pub fn show(m: &OscMessage) -> String {
    let mut s = m.addr.clone();
    for a in &m.args {
        s.push(' ');
        s.push_str(&match a {
            OscType::Int(i) => i.to_string(),
            OscType::Long(i) => i.to_string(),
            OscType::Float(f) => f.to_string(),
            OscType::Double(d) => d.to_string(),
            OscType::String(t) => t.clone(),
            OscType::Bool(b) => b.to_string(),
            other => format!("{other:?}"),
        });
    }
    s
}

/// A connection to an OSC server, UDP or TCP.
pub struct Client {
    udp: Option<(UdpSocket, SocketAddr)>,
    tcp: Option<(TcpStream, chronus_osc::slip::Decoder)>,
}

impl Client {
    /// Connects (TCP) or prepares a socket (UDP).
    pub fn connect(host: &str, port: u16, tcp: bool, timeout: Duration) -> Result<Client> {
        let addr = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {host}"))?
            .next()
            .with_context(|| format!("no address for {host}"))?;
        if tcp {
            let s = TcpStream::connect_timeout(&addr, timeout)
                .with_context(|| format!("cannot connect to {addr}: is `chronus run` running?"))?;
            s.set_read_timeout(Some(timeout))?;
            Ok(Client {
                udp: None,
                tcp: Some((s, chronus_osc::slip::Decoder::new(65_536))),
            })
        } else {
            let bind: SocketAddr = if addr.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                ([0u16; 8], 0).into()
            };
            let s = UdpSocket::bind(bind)?;
            s.set_read_timeout(Some(timeout))?;
            Ok(Client {
                udp: Some((s, addr)),
                tcp: None,
            })
        }
    }

    /// Sends a packet.
    pub fn send(&mut self, packet: &OscPacket) -> Result<()> {
        let bytes = rosc::encoder::encode(packet).context("cannot encode the message")?;
        if let Some((s, addr)) = &self.udp {
            s.send_to(&bytes, *addr)
                .with_context(|| format!("cannot send to {addr}"))?;
        } else if let Some((s, _)) = &mut self.tcp {
            s.write_all(&chronus_osc::slip::encode(&bytes))
                .context("cannot send over TCP")?;
        }
        Ok(())
    }

    /// One parameter's value from the server (`/get`), or `None` (no such module, no answer).
    pub fn get(&mut self, module: &str, param: &str) -> Option<f32> {
        let ask = OscMessage {
            addr: "/get".into(),
            args: vec![
                OscType::String(module.into()),
                OscType::String(param.into()),
            ],
        };
        self.send(&OscPacket::Message(ask)).ok()?;
        match self.receive() {
            Ok(r) if r.addr == "/value" => match r.args.get(2) {
                Some(OscType::Float(v)) => Some(*v),
                _ => None,
            },
            _ => None,
        }
    }

    /// The names of the modules in the server's patch (`/modules`; empty without an answer).
    pub fn modules(&mut self) -> Vec<String> {
        let ask = OscMessage {
            addr: "/modules".into(),
            args: vec![],
        };
        if self.send(&OscPacket::Message(ask)).is_err() {
            return Vec::new();
        }
        match self.receive() {
            Ok(r) if r.addr == "/modules.reply" => r
                .args
                .chunks(2)
                .filter_map(|c| match c.first() {
                    Some(OscType::String(name)) => Some(name.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Waits for the next message (until the timeout).
    pub fn receive(&mut self) -> Result<OscMessage> {
        let mut buf = vec![0u8; 65_536];
        loop {
            let bytes = if let Some((s, _)) = &self.udp {
                let (n, _) = s
                    .recv_from(&mut buf)
                    .context("no reply (is `chronus run` running, on this port?)")?;
                buf[..n].to_vec()
            } else if let Some((s, dec)) = &mut self.tcp {
                let n = s.read(&mut buf).context("no reply over TCP")?;
                if n == 0 {
                    bail!("the server closed the connection");
                }
                match dec.feed(&buf[..n]).into_iter().find_map(|f| match f {
                    chronus_osc::slip::Frame::Packet(p) => Some(p),
                    _ => None,
                }) {
                    Some(p) => p,
                    None => continue,
                }
            } else {
                bail!("not connected");
            };
            if let Ok((_, OscPacket::Message(m))) = rosc::decoder::decode_udp(&bytes) {
                return Ok(m);
            }
        }
    }
}

/// Runs `chronus send`.
pub fn run(args: SendArgs) -> Result<()> {
    // The messages: the address and its arguments, then after each lone `,` another.
    let mut messages: Vec<(String, Vec<String>)> = vec![(args.address.clone(), Vec::new())];
    let mut words = args.args.iter();
    while let Some(w) = words.next() {
        if w == "," {
            let Some(address) = words.next() else {
                bail!("a ',' must be followed by another message's address");
            };
            messages.push((address.clone(), Vec::new()));
        } else if let Some((_, a)) = messages.last_mut() {
            a.push(w.clone());
        }
    }
    if args.types.is_some() && messages.len() > 1 {
        bail!("--types applies to one message; send typed messages one at a time");
    }
    let mut packets = Vec::new();
    for (address, words) in &messages {
        if !address.starts_with('/') {
            bail!(
                "'{address}' is not an OSC address: it must start with '/' (e.g. /mod/sine/freq)"
            );
        }
        let osc_args = match &args.types {
            Some(t) => {
                let letters: Vec<char> = t.chars().collect();
                if letters.len() != words.len() {
                    bail!(
                        "--types has {} letters for {} arguments",
                        letters.len(),
                        words.len()
                    );
                }
                words
                    .iter()
                    .zip(letters)
                    .map(|(a, t)| typed(a, t))
                    .collect::<Result<Vec<_>>>()?
            }
            None => words.iter().map(|a| infer(a)).collect(),
        };
        packets.push(OscPacket::Message(OscMessage {
            addr: address.clone(),
            args: osc_args,
        }));
    }
    let timeout = Duration::from_millis(args.timeout_ms);
    let mut client = Client::connect(&args.host, port(args.port)?, args.tcp, timeout)?;
    for packet in &packets {
        client.send(packet)?;
    }
    if args.wait_reply {
        // The first answer: an /error for any of them, else the last one's reply.
        let reply = client.receive()?;
        println!("{}", show(&reply));
        if reply.addr == "/error" {
            bail!("the server answered with an error");
        }
    }
    Ok(())
}
