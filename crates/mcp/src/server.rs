//! The MCP server: chronus's tools and resources over stdio, each call answered by the
//! running synth (OSC on loopback) or, for previews, by an offline render.

use crate::remote::{Outgoing, Remote};
use crate::schema::{self, Layout, ModuleInfo};
use crate::ToolError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use rosc::OscType;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The OSC address space, as the resource `chronus://osc` serves it.
const OSC_DOC: &str = include_str!("../../../docs/osc.md");
/// The phrases `say` knows, as the resource `chronus://nl` serves it.
const NL_DOC: &str = include_str!("../../../docs/nl.md");

/// chronus as an MCP server: tools that play the chronus at one OSC address.
#[derive(Clone)]
pub struct ChronusMcp {
    remote: Arc<Mutex<Remote>>,
}

impl ChronusMcp {
    /// A server for the chronus listening on `osc` (UDP).
    pub fn new(osc: SocketAddr) -> Result<Self, ToolError> {
        Ok(ChronusMcp {
            remote: Arc::new(Mutex::new(Remote::new(osc)?)),
        })
    }

    /// Serves MCP on this process's stdin and stdout until the client leaves.
    pub async fn serve_stdio(self) -> Result<(), std::io::Error> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(std::io::Error::other)?;
        running.waiting().await.map_err(std::io::Error::other)?;
        Ok(())
    }

    /// Runs `f` with the OSC client on a blocking thread (requests wait for replies).
    async fn with_remote<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Remote) -> T + Send + 'static,
    ) -> T {
        let remote = self.remote.clone();
        let run = move || {
            let mut guard = remote.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        };
        match tokio::task::spawn_blocking(run).await {
            Ok(v) => v,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// The running patch's modules and sample rate, or the default patch's when chronus does not
/// answer (the schemas are still right for a fresh `chronus run`).
pub fn layout_of(remote: &mut Remote) -> Layout {
    let modules = remote
        .ask(Outgoing::now("/modules", vec![]), "/modules.reply")
        .ok()
        .map(|r| {
            r.args
                .chunks(2)
                .filter_map(|c| match c {
                    [OscType::String(name), OscType::String(kind)] => {
                        chronus_dsp::ModuleKind::parse(kind)
                            .ok()
                            .map(|kind| ModuleInfo {
                                name: name.clone(),
                                kind,
                            })
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        });
    let Some(modules) = modules.filter(|m| !m.is_empty()) else {
        return Layout::default_patch();
    };
    let sample_rate = remote
        .ask(Outgoing::now("/status", vec![]), "/status.reply")
        .ok()
        .and_then(|r| {
            r.args.chunks(2).find_map(|c| match c {
                [OscType::String(k), v] if k == "sample_rate" => match v {
                    OscType::Int(i) => Some(f64::from(*i)),
                    OscType::Float(f) => Some(f64::from(*f)),
                    _ => None,
                },
                _ => None,
            })
        })
        .unwrap_or(48_000.0);
    Layout {
        modules,
        sample_rate,
    }
}

fn tool_result(result: Result<Value, ToolError>) -> CallToolResult {
    match result {
        Ok(v) => {
            let text = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
            let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
            if v.is_object() {
                r.structured_content = Some(v);
            }
            r
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

impl ServerHandler for ChronusMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("chronus", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "chronus is a fault-tolerant modular synthesizer (sine > adsr > filter > delay > \
             reverb > out) running beside you. Play it with note_on/note_off, gate, set_param, \
             sequence and say; hear what a score sounds like with render_preview. Resources: \
             chronus://osc (every address), chronus://patch (the patch now), chronus://nl.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let layout = self.with_remote(layout_of).await;
        let tools = schema::tools(&layout)
            .into_iter()
            .map(|t| Tool::new(t.name, t.description, Arc::new(t.input_schema)))
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let args = request.arguments.unwrap_or_default();
        let result = self
            .with_remote(move |r| {
                let layout = if name == "set_param" {
                    layout_of(r)
                } else {
                    Layout::default_patch()
                };
                crate::tools::call(r, &layout, &name, &args)
            })
            .await;
        Ok(tool_result(result).into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new("chronus://osc", "osc")
                .with_title("The OSC address space")
                .with_description("Every address chronus takes, its arguments and replies (docs/osc.md)")
                .with_mime_type("text/markdown"),
            Resource::new("chronus://patch", "patch")
                .with_title("The current patch")
                .with_description("The running patch's modules, their kinds and every parameter's value and range")
                .with_mime_type("application/json"),
            Resource::new("chronus://nl", "nl")
                .with_title("Plain language")
                .with_description("The phrases the say tool understands (docs/nl.md)")
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let text = match uri.as_str() {
            "chronus://osc" => OSC_DOC.to_owned(),
            "chronus://nl" => NL_DOC.to_owned(),
            "chronus://patch" => self
                .with_remote(|r| patch_json(r).map(|v| v.to_string()))
                .await
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?,
            other => {
                return Err(ErrorData::resource_not_found(
                    format!("no resource {other}: chronus://osc, chronus://patch, chronus://nl"),
                    None,
                ))
            }
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri)]).into())
    }
}

/// The running patch: modules, kinds, and every parameter's value (asked with `/get`) and range.
fn patch_json(remote: &mut Remote) -> Result<Value, ToolError> {
    remote.request(&[])?;
    let layout = layout_of(remote);
    let mut modules = Vec::new();
    for m in &layout.modules {
        let mut params = serde_json::Map::new();
        for p in m.kind.params() {
            let value = remote
                .ask(
                    Outgoing::now(
                        "/get",
                        vec![
                            OscType::String(m.name.clone()),
                            OscType::String(p.name.into()),
                        ],
                    ),
                    "/value",
                )
                .ok()
                .and_then(|r| r.args.get(2).map(crate::remote::to_json));
            let (min, max) = p.range(layout.sample_rate);
            params.insert(
                p.name.into(),
                json!({"value": value, "min": min, "max": max, "unit": schema::unit_name(p.unit)}),
            );
        }
        modules.push(json!({"name": m.name, "kind": m.kind.name(), "params": params}));
    }
    Ok(json!({"sample_rate": layout.sample_rate, "modules": modules}))
}
