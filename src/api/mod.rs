//! The library as a local service (`folio serve`): an OpenAI-compatible HTTP API (`openai.rs`) and
//! the Model Context Protocol over streamable HTTP at `/mcp` (`mcp.rs`, which `folio mcp` also
//! serves over stdio). Every request passes the guard (`guard.rs`: token, `Host`, `Origin`); the
//! model answers one request at a time from a short queue (`answerer.rs`).

pub mod answerer;
pub mod guard;
pub mod mcp;
mod openai;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::error::{Error, Result};
use crate::library::Library;
use answerer::Answerer;
use guard::{Guard, Refusal};

/// Requests at most in one body (a chat with long pasted messages fits; a file upload does not).
const MAX_BODY_BYTES: usize = 4 << 20;

pub struct ServeOptions {
    pub host: IpAddr,
    /// 0: any free port (the address is reported to `ready`).
    pub port: u16,
    pub token: String,
    /// Binding to a non-loopback address exposes the library to the network: only on request.
    pub allow_remote: bool,
}

/// What every handler shares.
pub struct Shared {
    pub library: Arc<Library>,
    pub answerer: Answerer,
    guard: Guard,
    ids: AtomicU64,
}

impl Shared {
    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// Runs blocking library work off the server's threads; any failure as its message.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> std::result::Result<T, String> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Serves until Ctrl-C. `ready` is told the address once the server listens.
pub fn serve(
    library: Arc<Library>,
    answerer: Answerer,
    options: ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    if !options.host.is_loopback() && !options.allow_remote {
        return Err(Error::InvalidInput(format!(
            "{} is not a loopback address: every computer that reaches it could search and read the library \
             (with the token); say so explicitly to bind there",
            options.host
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("the server's runtime", e))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((options.host, options.port))
            .await
            .map_err(|e| Error::io(format!("{}:{}", options.host, options.port), e))?;
        let addr = listener.local_addr().map_err(|e| Error::io("the server's address", e))?;
        let shared = Arc::new(Shared {
            library,
            answerer,
            guard: Guard::new(options.token, addr, options.allow_remote),
            ids: AtomicU64::new(1),
        });
        let app = router(shared);
        ready(addr);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Error::io("serving", e))
    })
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/models", get(openai::models))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/search", post(openai::search))
        .nest_service("/mcp", mcp::http_service(shared.clone()))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), check))
        .with_state(shared)
}

/// The guard, before any handler runs.
async fn check(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let verdict = {
        let headers = request.headers();
        let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        shared.guard.check(text(header::HOST), text(header::ORIGIN), text(header::AUTHORIZATION))
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err(Refusal::Forbidden(why)) => openai::error(StatusCode::FORBIDDEN, "forbidden", why),
        Err(Refusal::Unauthorized) => {
            let mut response = openai::error(
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "a bearer token is required (the api-token file beside Folio's settings)",
            );
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            response
        }
    }
}
