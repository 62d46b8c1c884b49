//! chronus-mcp: chronus as tools for AI assistants. An MCP server (over stdio, with the `rmcp`
//! crate) that plays a running `chronus run` by OSC: typed tools whose JSON schemas come from
//! chronus-dsp's module and parameter tables (`status`, `get_param`, `set_param`, `gate`,
//! `note_on`, `note_off`, `say`, `patch`, `sequence`, `record`, `render_preview`), and
//! resources for the OSC address space and the current patch. chronus's own `/error` replies
//! come back as tool errors, word for word.
//!
//! The binary's `chronus mcp` serves it; to use it in a program of your own:
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! let server = chronus_mcp::ChronusMcp::new(([127, 0, 0, 1], 5005).into())
//!     .map_err(std::io::Error::other)?;
//! server.serve_stdio().await
//! # }
//! ```
//!
//! The tools' schemas, without any server (a pure function of the patch's layout):
//!
//! ```
//! let tools = chronus_mcp::schema::tools(&chronus_mcp::schema::Layout::default_patch());
//! assert!(tools.iter().any(|t| t.name == "set_param"));
//! ```

mod error;
pub mod preview;
pub mod remote;
pub mod schema;
mod server;
pub mod tools;

pub use error::ToolError;
pub use server::{layout_of, ChronusMcp};
