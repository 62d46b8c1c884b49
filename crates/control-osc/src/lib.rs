//! chronus-osc: the OSC control plane of chronus.
//!
//! A [`Server`] listens on UDP (and TCP, SLIP-framed or length-prefixed) and turns each OSC
//! message into typed engine actions once, at the edge ([`router`]); replies (`/status.reply`,
//! `/value`, `/error`…) go back to the sender. The address space is documented in `docs/osc.md`.
//!
//! Serving an engine (`examples/serve.rs` plays it on the null backend too):
//!
//! ```no_run
//! use chronus_engine::{Engine, EngineConfig};
//! use chronus_osc::{Server, ServerConfig};
//! use std::sync::Arc;
//!
//! let (engine, output) = Engine::start(EngineConfig::default())?;
//! // … hand `output` to a backend …
//! let server = Server::start(Arc::new(engine), ServerConfig::default())?; // 127.0.0.1:5005
//! println!("send /gate/adsr on to {}", server.udp_addr());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(clippy::unwrap_used)]

pub mod cidr;
mod error;
/// OSC address patterns (they live with the engine's address table).
pub use chronus_engine::control::pattern;
mod ratelimit;
pub mod recordings;
pub mod router;
pub mod samples;
mod server;
pub mod slip;
mod synth;

pub use cidr::Cidr;
pub use error::OscError;
pub use router::{Router, Stats};
pub use samples::SampleFiles;
pub use server::{Server, ServerConfig, TcpFraming, DEFAULT_PORT, MAX_TCP_CONNECTIONS};
pub use synth::Synth;
