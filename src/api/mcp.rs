//! The library over the Model Context Protocol, with rmcp (the official Rust SDK): tools to search,
//! ask (a cited answer), list the documents and read a passage or a page. `folio mcp` serves it
//! over stdio (an agent starts it as a program); `folio serve` at `/mcp` over streamable HTTP,
//! behind the same guard as the rest of the API.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ErrorData, ServerHandler};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::answerer::{Answerer, Job, Task, Update};
use super::{blocking, Shared};
use crate::answer::AskOptions;
use crate::library::Library;
use crate::search::SearchMode;

/// Passages one search returns at most.
const MAX_K: usize = 50;

#[derive(Clone)]
pub struct FolioMcp {
    library: Arc<Library>,
    /// `None` when no answering model is installed: `ask` says so, the other tools work.
    answerer: Option<Answerer>,
    #[allow(dead_code)] // read by the code `tool_handler` generates
    tool_router: ToolRouter<Self>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    #[schemars(description = "what to look for, in any language the documents are in")]
    query: String,
    #[schemars(description = "how many passages (1 to 50, default 8)")]
    k: Option<usize>,
    #[schemars(description = "search only these folders or documents (absolute paths, as list_documents gives them)")]
    within: Option<Vec<String>>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct AskArgs {
    #[schemars(description = "a question about the user's documents")]
    question: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct PassageArgs {
    #[schemars(description = "a passage's chunk id, as search returns it")]
    chunk_id: i64,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct PageArgs {
    #[schemars(description = "the document's path, as search or list_documents return it")]
    path: String,
    #[schemars(description = "the page number (omit for documents without pages)")]
    page: Option<u32>,
}

fn failed(message: impl Into<String>) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::error(vec![ContentBlock::text(message.into())]))
}

fn json_result(value: serde_json::Value) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(value.to_string())]))
}

#[tool_router]
impl FolioMcp {
    pub fn new(library: Arc<Library>, answerer: Option<Answerer>) -> FolioMcp {
        FolioMcp { library, answerer, tool_router: Self::tool_router() }
    }

    #[tool(description = "Search the user's documents (hybrid keyword and meaning search). Returns passages \
                          with their file, page, chunk id and score.")]
    async fn search(&self, Parameters(args): Parameters<SearchArgs>) -> Result<CallToolResult, ErrorData> {
        let k = args.k.unwrap_or(8);
        if args.query.trim().is_empty() || !(1..=MAX_K).contains(&k) {
            return failed(format!("a search has a query and k of 1 to {MAX_K}"));
        }
        let library = self.library.clone();
        let within: Vec<std::path::PathBuf> = args.within.unwrap_or_default().into_iter().map(Into::into).collect();
        let search = move || {
            let scope = if within.is_empty() { None } else { Some(library.scope(&within)?) };
            library.search_in(&args.query, SearchMode::Hybrid, k, scope.as_ref())
        };
        match blocking(search).await {
            Ok(hits) => json_result(json!(hits
                .iter()
                .map(|h| json!({ "chunk_id": h.chunk_id, "path": h.path, "page": h.page, "score": h.score, "text": h.text }))
                .collect::<Vec<_>>())),
            Err(e) => failed(e),
        }
    }

    #[tool(description = "Answer a question from the user's documents with a local model. The answer cites \
                          its sources as [n]; the sources (file, page, passage) follow it.")]
    async fn ask(&self, Parameters(args): Parameters<AskArgs>) -> Result<CallToolResult, ErrorData> {
        let Some(answerer) = &self.answerer else {
            return failed("no answering model is installed; search and read the passages instead");
        };
        if let Err(e) = crate::answer::chats::checked_question(&args.question) {
            return failed(e.to_string());
        }
        let (updates, mut receiver) = mpsc::channel(256);
        let options = AskOptions { persist: false, ..AskOptions::default() };
        let job = Job {
            model: None,
            task: Task::Ask { question: args.question, options },
            updates,
            cancel: Arc::new(AtomicBool::new(false)),
        };
        if answerer.submit(job).is_err() {
            return failed("the model is busy with other questions; try again shortly");
        }
        while let Some(update) = receiver.recv().await {
            match update {
                Update::Text(_) => {}
                Update::Done(Ok(finished)) => {
                    return json_result(json!({
                        "answer": finished.text,
                        "refused": finished.refused,
                        "citations": finished.citations,
                    }))
                }
                Update::Done(Err(e)) => return failed(e),
            }
        }
        failed("the answering thread stopped")
    }

    #[tool(description = "List the documents in the user's library: each file's path, status, pages and passages.")]
    async fn list_documents(&self) -> Result<CallToolResult, ErrorData> {
        let library = self.library.clone();
        let listed = blocking(move || {
            let mut documents = Vec::new();
            for folder in library.folders()? {
                for file in library.files(&folder)? {
                    documents.push(json!({
                        "path": file.path, "status": file.status, "pages": file.pages, "passages": file.chunks,
                    }));
                }
            }
            Ok(documents)
        })
        .await;
        match listed {
            Ok(documents) => json_result(json!(documents)),
            Err(e) => failed(e),
        }
    }

    #[tool(description = "Read one passage by its chunk id, with its file and page.")]
    async fn read_passage(&self, Parameters(args): Parameters<PassageArgs>) -> Result<CallToolResult, ErrorData> {
        let library = self.library.clone();
        match blocking(move || library.catalog().chunks(&[args.chunk_id])).await {
            Ok(rows) => match rows.first() {
                Some(c) => json_result(json!({ "chunk_id": c.id, "path": c.path, "page": c.page, "text": c.text })),
                None => failed(format!("there is no passage {}", args.chunk_id)),
            },
            Err(e) => failed(e),
        }
    }

    #[tool(description = "Read the indexed text of one page of a document (or of a whole document without pages).")]
    async fn read_page(&self, Parameters(args): Parameters<PageArgs>) -> Result<CallToolResult, ErrorData> {
        let library = self.library.clone();
        let path = std::path::PathBuf::from(&args.path);
        let read = blocking(move || {
            let Some(file) = library.catalog().file_by_path(&path)? else { return Ok(None) };
            let chunks = library.catalog().chunks_of_file(file.id)?;
            let on_page: Vec<String> = chunks.into_iter().filter(|c| c.page == args.page).map(|c| c.text).collect();
            Ok(Some(on_page))
        })
        .await;
        match read {
            Ok(Some(texts)) if !texts.is_empty() => {
                json_result(json!({ "path": args.path, "page": args.page, "text": texts.join("\n") }))
            }
            Ok(Some(_)) => failed(format!("{} has no indexed text on that page", args.path)),
            Ok(None) => failed(format!("{} is not a document of the library", args.path)),
            Err(e) => failed(e),
        }
    }
}

#[tool_handler]
impl ServerHandler for FolioMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_instructions(
            "Folio: the user's own documents, searched and answered offline. Search first; cite file and page.",
        )
    }
}

/// Serves over stdio until the client closes it.
pub fn serve_stdio(library: Arc<Library>, answerer: Option<Answerer>) -> crate::Result<()> {
    use rmcp::ServiceExt;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| crate::Error::io("the MCP server's runtime", e))?;
    runtime.block_on(async move {
        let running = FolioMcp::new(library, answerer)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| crate::Error::InvalidInput(format!("the MCP client did not start a session: {e}")))?;
        running.waiting().await.map_err(|e| crate::Error::InvalidInput(format!("the MCP session failed: {e}")))?;
        Ok(())
    })
}

/// The same tools over streamable HTTP, for `folio serve` (its guard has checked the request).
pub fn http_service(
    shared: Arc<Shared>,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    FolioMcp,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
    let config = StreamableHttpServerConfig::default().disable_allowed_hosts();
    StreamableHttpService::new(
        move || Ok(FolioMcp::new(shared.library.clone(), Some(shared.answerer.clone()))),
        Default::default(),
        config,
    )
}
