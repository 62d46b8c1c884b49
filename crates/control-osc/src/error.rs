//! The one error type of chronus-osc.

/// What can go wrong in the control plane.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OscError {
    /// A socket could not be bound or used.
    #[error("{what} {addr}: {source}")]
    Socket {
        /// What was being done.
        what: &'static str,
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// An `--allow` value that is not a CIDR block.
    #[error("'{text}' is not an address block (use e.g. 192.168.1.0/24 or ::1/128)")]
    BadCidr {
        /// The text given.
        text: String,
    },
    /// A testing aid asked for on an address other machines can reach.
    #[error("{what} is for loopback only, and OSC would listen on {addr}: bind 127.0.0.1 (--osc 127.0.0.1:PORT) or leave it off")]
    Unsafe {
        /// The aid.
        what: &'static str,
        /// The address.
        addr: std::net::SocketAddr,
    },
    /// A thread could not be started.
    #[error("starting the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
}
