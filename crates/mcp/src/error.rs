//! What can go wrong in a tool call, said so that an assistant knows what to do next.

/// An error of a chronus MCP tool: returned to the client as a tool error with this message.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The running chronus did not answer.
    #[error("chronus does not answer on {addr} ({reason}): start it with `chronus run` (and the same --port), then try again")]
    NoAnswer {
        /// Where it was asked.
        addr: std::net::SocketAddr,
        /// What the socket said.
        reason: String,
    },
    /// chronus refused a message: its own `/error` reply.
    #[error("chronus refused {address}: {reason}")]
    Refused {
        /// The address it names.
        address: String,
        /// Its reason, as chronus gave it.
        reason: String,
    },
    /// The tool's arguments are wrong.
    #[error("bad arguments for {tool}: {reason}")]
    BadArguments {
        /// The tool.
        tool: &'static str,
        /// What is wrong, and what is expected.
        reason: String,
    },
    /// A phrase `say` did not understand.
    #[error(
        "not understood: {reason} (see the chronus://nl resource for the phrases chronus knows)"
    )]
    NotUnderstood {
        /// The planner's explanation.
        reason: String,
    },
    /// The score of a preview does not parse or does not fit the default patch.
    #[error("the score does not render: {reason}")]
    Score {
        /// The engine's message (with the line).
        reason: String,
    },
    /// An OSC packet could not be encoded or sent.
    #[error("cannot send to chronus: {reason}")]
    Send {
        /// What failed.
        reason: String,
    },
}
