//! The OSC server: a UDP socket and a TCP listener on the same port, their threads, and the
//! thread that delivers delayed replies (`/synced`, `/event`).

use crate::router::{Peer, Router};
use crate::{slip, Cidr, OscError};
use chronus_engine::Engine;
use rosc::{OscMessage, OscPacket};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The seed system's port.
pub const DEFAULT_PORT: u16 = 5005;

/// How OSC packets are framed on TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpFraming {
    /// OSC 1.1: SLIP (the default).
    Slip,
    /// OSC 1.0: a big-endian int32 length before each packet.
    LengthPrefix,
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind (UDP and TCP). Default 127.0.0.1:5005.
    pub addr: SocketAddr,
    /// Also listen on TCP.
    pub tcp: bool,
    /// TCP framing.
    pub framing: TcpFraming,
    /// Sources allowed to control chronus (empty: any source that can reach the address).
    pub allow: Vec<Cidr>,
    /// Largest packet accepted, in bytes.
    pub max_packet: usize,
    /// The folder `/record/start` writes new WAV files into (`None`: recording over OSC off).
    pub recordings: Option<std::path::PathBuf>,
    /// The folder `/inst/save` writes preset files into and `/inst/load` reads them from
    /// (`None`: built-in presets only).
    pub presets: Option<std::path::PathBuf>,
    /// The folder `/state/save` writes sessions into and `/state/load` and `/state/list` read
    /// (`None`: off).
    pub sessions: Option<std::path::PathBuf>,
    /// Where `/sample/load` reads sample files, and their limits (`None`: built-in kits only).
    pub samples: Option<crate::SampleFiles>,
    /// Packets per second each source may send (0: no limit).
    pub rate_limit: u32,
    /// `/fault/inject` on (for tests and demonstrations). Refused unless `addr` is loopback.
    pub fault_injection: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            tcp: true,
            framing: TcpFraming::Slip,
            allow: Vec::new(),
            max_packet: 16 * 1024,
            recordings: None,
            presets: None,
            sessions: None,
            samples: None,
            rate_limit: crate::router::DEFAULT_RATE_LIMIT,
            fault_injection: false,
        }
    }
}

type TcpClients = Arc<Mutex<HashMap<u64, Sender>>>;

/// Frames waiting to go out on one TCP connection, at most; a client that lets them pile up
/// (it does not read) is disconnected.
pub const TCP_SEND_QUEUE: usize = 1024;
/// How long one frame may take to go out before its client counts as not reading.
pub const TCP_SEND_TIMEOUT: Duration = Duration::from_secs(2);

/// One TCP connection as its writers see it: closing it from any thread (shutdown does not
/// block), counting it once as stalled.
#[derive(Clone)]
struct Conn {
    stream: Arc<TcpStream>,
    stalled: Arc<AtomicBool>,
    router: Arc<Router>,
}

impl Conn {
    /// The client stopped reading its replies: disconnected, and counted once.
    fn stall(&self) {
        if !self.stalled.swap(true, AcqRel) {
            self.router.stats().tcp_stalled.fetch_add(1, Relaxed);
            tracing::warn!("OSC: a TCP client stopped reading its replies; disconnected");
        }
        self.close();
    }

    fn close(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// The sending side of one TCP connection: a bounded queue to its writer thread, so nobody
/// ever blocks on a client (least of all while holding the client list).
#[derive(Clone)]
struct Sender {
    queue: std::sync::mpsc::SyncSender<Vec<u8>>,
    conn: Conn,
}

impl Sender {
    /// Queues a frame; a full queue means the client stopped reading: it is disconnected
    /// (and counted once). Never blocks.
    fn send(&self, frame: Vec<u8>) -> bool {
        match self.queue.try_send(frame) {
            Ok(()) => true,
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                self.conn.stall();
                false
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => false,
        }
    }
}

/// A running OSC server. Dropping it stops it.
pub struct Server {
    router: Arc<Router>,
    udp_addr: SocketAddr,
    tcp_addr: Option<SocketAddr>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Asks for an 8 MiB receive buffer so a burst of small datagrams waits in the kernel rather
/// than being dropped (the kernel counts ~1 KiB per queued datagram). Best effort: without the
/// privilege to exceed the system maximum, the maximum is used.
fn grow_receive_buffer(udp: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 8 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid socket fd and a pointer to a c_int of the stated length.
        let r = unsafe {
            libc::setsockopt(
                udp.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 {
            return;
        }
    }
}

fn allowed(allow: &[Cidr], ip: std::net::IpAddr) -> bool {
    allow.is_empty() || allow.iter().any(|c| c.contains(ip))
}

fn encode(m: &OscMessage) -> Option<Vec<u8>> {
    rosc::encoder::encode(&OscPacket::Message(m.clone())).ok()
}

fn frame(bytes: &[u8], framing: TcpFraming) -> Vec<u8> {
    match framing {
        TcpFraming::Slip => slip::encode(bytes),
        TcpFraming::LengthPrefix => [&(bytes.len() as u32).to_be_bytes()[..], bytes].concat(),
    }
}

/// TCP connections open at once; one more is answered with an `/error` and closed (counted
/// as `tcp_refused` in `/status`).
pub const MAX_TCP_CONNECTIONS: usize = 64;

/// Counts an open TCP connection for as long as it lives.
struct Open(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// How many ports `bind` tries when asked for any port (port 0).
const ANY_PORT_TRIES: usize = 64;

/// Binds UDP at `addr` and, with `tcp`, TCP on the same port. Port 0 means any port free for
/// both: the kernel picks one for UDP, and when its TCP twin is taken (by some client's
/// connection, say) another is picked, up to [`ANY_PORT_TRIES`] times.
fn bind(addr: SocketAddr, tcp: bool) -> Result<(UdpSocket, Option<TcpListener>), OscError> {
    let tries = if addr.port() == 0 { ANY_PORT_TRIES } else { 1 };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let udp = UdpSocket::bind(addr).map_err(|source| OscError::Socket {
            what: "cannot bind UDP",
            addr,
            source,
        })?;
        if !tcp {
            return Ok((udp, None));
        }
        let port = udp.local_addr().unwrap_or(addr);
        match TcpListener::bind(port) {
            Ok(listener) => return Ok((udp, Some(listener))),
            Err(_) if attempt < tries => continue,
            Err(source) => {
                return Err(OscError::Socket {
                    what: "cannot bind TCP",
                    addr: port,
                    source,
                })
            }
        }
    }
}

impl Server {
    /// Binds the sockets and starts serving `engine`.
    pub fn start(engine: Arc<Engine>, config: ServerConfig) -> Result<Server, OscError> {
        let router = Arc::new(
            Router::new(engine)
                .with_recordings(config.recordings.clone())
                .with_presets(config.presets.clone())
                .with_sessions(config.sessions.clone())
                .with_samples(config.samples.clone())
                .with_rate_limit(config.rate_limit)
                .with_fault_injection(config.fault_injection),
        );
        if config.fault_injection && !config.addr.ip().is_loopback() {
            return Err(OscError::Unsafe {
                what: "fault injection",
                addr: config.addr,
            });
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (udp, listener) = bind(config.addr, config.tcp)?;
        let udp_addr = udp.local_addr().map_err(|source| OscError::Socket {
            what: "UDP",
            addr: config.addr,
            source,
        })?;
        grow_receive_buffer(&udp);
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|source| OscError::Socket {
                what: "UDP",
                addr: udp_addr,
                source,
            })?;
        let udp = Arc::new(udp);
        let clients: TcpClients = Arc::new(Mutex::new(HashMap::new()));
        let mut threads = Vec::new();
        let spawn = |name: &'static str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|source| OscError::Thread { what: name, source })
        };

        // UDP: one datagram, one packet.
        {
            let (router, udp, stop, cfg) =
                (router.clone(), udp.clone(), stop.clone(), config.clone());
            threads.push(spawn(
                "chronus-osc-udp",
                Box::new(move || {
                    let mut buf = vec![0u8; 65_536];
                    while !stop.load(Acquire) {
                        let Ok((n, from)) = udp.recv_from(&mut buf) else {
                            continue;
                        };
                        if !allowed(&cfg.allow, from.ip()) {
                            router.stats().refused_sources.fetch_add(1, Relaxed);
                            continue;
                        }
                        for reply in router.handle_bytes(&buf[..n], Peer::Udp(from), cfg.max_packet)
                        {
                            if let Some(bytes) = encode(&reply) {
                                let _ = udp.send_to(&bytes, from);
                            }
                        }
                    }
                }),
            )?);
        }

        // TCP: a listener and a thread per client.
        let tcp_addr = if let Some(listener) = listener {
            listener
                .set_nonblocking(true)
                .map_err(|source| OscError::Socket {
                    what: "TCP",
                    addr: udp_addr,
                    source,
                })?;
            let addr = listener.local_addr().ok();
            let (router, stop, cfg, clients) = (
                router.clone(),
                stop.clone(),
                config.clone(),
                clients.clone(),
            );
            threads.push(spawn(
                "chronus-osc-tcp",
                Box::new(move || {
                    let next_id = AtomicU64::new(1);
                    let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                    while !stop.load(Acquire) {
                        match listener.accept() {
                            Ok((mut stream, from)) => {
                                if !allowed(&cfg.allow, from.ip()) {
                                    router.stats().refused_sources.fetch_add(1, Relaxed);
                                    continue;
                                }
                                if open.load(Relaxed) >= MAX_TCP_CONNECTIONS {
                                    router.stats().tcp_refused.fetch_add(1, Relaxed);
                                    refuse(&mut stream, cfg.framing);
                                    continue;
                                }
                                open.fetch_add(1, Relaxed);
                                let guard = Open(open.clone());
                                let id = next_id.fetch_add(1, Relaxed);
                                router.tcp_host(id, Some(from.ip()));
                                let (r, stop, cfg, clients) =
                                    (router.clone(), stop.clone(), cfg.clone(), clients.clone());
                                let spawned = std::thread::Builder::new()
                                    .name("chronus-osc-client".into())
                                    .spawn(move || {
                                        let _open = guard;
                                        serve_tcp(stream, id, r.clone(), stop, cfg, clients);
                                        r.tcp_host(id, None);
                                    });
                                if spawned.is_err() {
                                    router.tcp_host(id, None);
                                }
                            }
                            Err(_) => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                }),
            )?);
            addr
        } else {
            None
        };

        // Delayed replies: /synced and /event.
        {
            let (router, udp, stop, clients, framing) = (
                router.clone(),
                udp.clone(),
                stop.clone(),
                clients.clone(),
                config.framing,
            );
            threads.push(spawn(
                "chronus-osc-notify",
                Box::new(move || {
                    while !stop.load(Acquire) {
                        for (peer, m) in router.poll() {
                            let Some(bytes) = encode(&m) else { continue };
                            match peer {
                                Peer::Udp(addr) => {
                                    let _ = udp.send_to(&bytes, addr);
                                }
                                Peer::Tcp(id) => {
                                    // try_send and shutdown never block: fine under the lock.
                                    if let Some(s) =
                                        clients.lock().unwrap_or_else(|e| e.into_inner()).get(&id)
                                    {
                                        s.send(frame(&bytes, framing));
                                    }
                                }
                            }
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }),
            )?);
        }
        Ok(Server {
            router,
            udp_addr,
            tcp_addr,
            stop,
            threads,
        })
    }

    /// The UDP address bound.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The TCP address bound, if TCP is on.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    /// The router (and its counters).
    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// Stops every thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Tells a connection over the limit why it is closed (best effort, never blocking long).
fn refuse(stream: &mut TcpStream, framing: TcpFraming) {
    let m = OscMessage {
        addr: "/error".into(),
        args: vec![
            rosc::OscType::String("/".into()),
            rosc::OscType::String(format!(
                "limit: at most {MAX_TCP_CONNECTIONS} TCP connections (tcp connections); \
                 close one, or send over UDP"
            )),
        ],
    };
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    if let Some(bytes) = encode(&m) {
        let _ = stream.write_all(&frame(&bytes, framing));
    }
}

fn serve_tcp(
    mut stream: TcpStream,
    id: u64,
    router: Arc<Router>,
    stop: Arc<AtomicBool>,
    cfg: ServerConfig,
    clients: TcpClients,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.set_nodelay(true);
    let (Ok(writer), Ok(closer)) = (stream.try_clone(), stream.try_clone()) else {
        return;
    };
    let (queue, frames) = std::sync::mpsc::sync_channel::<Vec<u8>>(TCP_SEND_QUEUE);
    let conn = Conn {
        stream: Arc::new(closer),
        stalled: Arc::new(AtomicBool::new(false)),
        router: router.clone(),
    };
    // The writer: one frame at a time, each within TCP_SEND_TIMEOUT. It holds no sending
    // side of the queue, so it ends once this thread and the client list drop theirs.
    let writing = {
        let conn = conn.clone();
        std::thread::Builder::new()
            .name("chronus-osc-send".into())
            .spawn(move || write_frames(writer, frames, conn))
    };
    let sender = Sender { queue, conn };
    if writing.is_err() {
        return;
    }
    clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, sender.clone());
    let peer = Peer::Tcp(id);
    let mut slip = slip::Decoder::new(cfg.max_packet);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 65_536];
    let reply = |_: &mut TcpStream, replies: Vec<OscMessage>| -> bool {
        replies
            .iter()
            .filter_map(encode)
            .all(|bytes| sender.send(frame(&bytes, cfg.framing)))
    };
    'conn: while !stop.load(Acquire) {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => break,
        };
        match cfg.framing {
            TcpFraming::Slip => {
                for f in slip.feed(&buf[..n]) {
                    let replies = match f {
                        slip::Frame::Packet(p) => router.handle_bytes(&p, peer, cfg.max_packet),
                        slip::Frame::TooLarge => {
                            router.handle_bytes(&vec![0; cfg.max_packet + 1], peer, cfg.max_packet)
                        }
                        slip::Frame::BadEscape => {
                            router.handle_bytes(&[0xFF], peer, cfg.max_packet)
                        }
                    };
                    if !reply(&mut stream, replies) {
                        break 'conn;
                    }
                }
            }
            TcpFraming::LengthPrefix => {
                pending.extend_from_slice(&buf[..n]);
                while pending.len() >= 4 {
                    let len = u32::from_be_bytes([pending[0], pending[1], pending[2], pending[3]])
                        as usize;
                    if len > cfg.max_packet {
                        let replies =
                            router.handle_bytes(&vec![0; cfg.max_packet + 1], peer, cfg.max_packet);
                        reply(&mut stream, replies);
                        break 'conn; // the stream cannot be resynchronised
                    }
                    if pending.len() < 4 + len {
                        break;
                    }
                    let packet: Vec<u8> = pending.drain(..4 + len).skip(4).collect();
                    let replies = router.handle_bytes(&packet, peer, cfg.max_packet);
                    if !reply(&mut stream, replies) {
                        break 'conn;
                    }
                }
            }
        }
    }
    clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    // The writer ends once the last queue handle is gone (this one; the list's went above).
    let _ = sender.conn.stream.shutdown(std::net::Shutdown::Read);
    drop(sender);
    if let Ok(w) = writing {
        let _ = w.join();
    }
}

/// Writes one connection's frames in order; a frame that cannot go out within
/// [`TCP_SEND_TIMEOUT`] marks the client as not reading and closes the connection.
fn write_frames(mut stream: TcpStream, frames: std::sync::mpsc::Receiver<Vec<u8>>, conn: Conn) {
    let _ = stream.set_write_timeout(Some(TCP_SEND_TIMEOUT));
    for f in frames {
        if let Err(e) = stream.write_all(&f) {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                conn.stall();
            } else {
                conn.close();
            }
            break;
        }
    }
}
