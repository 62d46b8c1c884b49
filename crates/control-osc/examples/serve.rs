//! Serves an engine over OSC: the null backend plays it, a `Server` listens on a port, and
//! this program talks to it once as a client would (`/mod`, then `/status`).
//! `cargo run -p chronus-osc --example serve -- 5 127.0.0.1:5005` serves for 5 seconds on
//! the seed's port (defaults: 1 second, a free port); send it `/gate/adsr on` meanwhile.

use chronus_engine::backend::{Backend, NullBackend, StreamConfig};
use chronus_engine::{Engine, EngineConfig, WorkerMode};
use chronus_osc::{Server, ServerConfig};
use rosc::{OscMessage, OscPacket, OscType};
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(1.0), |s| s.parse())?;
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()?;

    let config = EngineConfig {
        workers: WorkerMode::Thread,
        ..EngineConfig::default()
    };
    let stream_config = StreamConfig::for_engine(&config, 1);
    let (engine, output) = Engine::start(config)?;
    let engine = Arc::new(engine);
    let stream =
        Box::new(NullBackend::default()).start(stream_config, output, engine.metrics_handle())?;
    let server = Server::start(
        engine.clone(),
        ServerConfig {
            addr,
            tcp: false,
            ..ServerConfig::default()
        },
    )?;
    let at = server.udp_addr();
    println!("serving OSC on {at}");

    // A client: set the pitch, then ask for the status (the reply comes back to us).
    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.set_read_timeout(Some(Duration::from_secs(2)))?;
    for (addr, args) in [
        ("/mod/sine/freq", vec![OscType::Float(330.0)]),
        ("/status", vec![]),
    ] {
        let packet = OscPacket::Message(OscMessage {
            addr: addr.into(),
            args,
        });
        client.send_to(&rosc::encoder::encode(&packet)?, at)?;
    }
    let mut buf = [0u8; 4096];
    let (n, _) = client.recv_from(&mut buf)?;
    if let (_, OscPacket::Message(reply)) = rosc::decoder::decode_udp(&buf[..n])? {
        println!("{} with {} values", reply.addr, reply.args.len());
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    server.stop();
    stream.stop()?;
    println!("{} commands applied", engine.metrics().commands);
    engine.shutdown();
    Ok(())
}
