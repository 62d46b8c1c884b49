//! `chronus mcp`: chronus as tools for AI assistants, an MCP server on stdin/stdout that plays
//! a running `chronus run` by OSC.

use super::send::port;
use anyhow::{Context, Result};
use std::net::ToSocketAddrs;

/// Arguments of `chronus mcp`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
An assistant starts it and speaks MCP (JSON-RPC) on its stdin and stdout; logs go to stderr.
Start the synth first (`chronus run`), then add chronus to the assistant's MCP servers:

  {\"mcpServers\": {\"chronus\": {\"command\": \"chronus\", \"args\": [\"mcp\"]}}}

Tools: status, get_param, set_param, gate, note_on, note_off, say, patch, sequence, record,
render_preview. Resources: chronus://osc, chronus://patch, chronus://nl. See docs/mcp.md.")]
pub struct McpArgs {
    /// Host of the chronus OSC server.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port [default: $CHRONUS_OSC_PORT or 5005].
    #[arg(long)]
    port: Option<u16>,
}

/// Runs `chronus mcp` until the client closes stdin.
pub fn run(args: McpArgs) -> Result<()> {
    let port = port(args.port)?;
    let addr = (args.host.as_str(), port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", args.host))?
        .next()
        .with_context(|| format!("no address for {}", args.host))?;
    let server = chronus_mcp::ChronusMcp::new(addr)?;
    tracing::info!("chronus mcp: serving MCP on stdio for the chronus at {addr}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime
        .block_on(server.serve_stdio())
        .context("the MCP session ended with an error")
}
