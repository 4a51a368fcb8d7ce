//! `folio serve` and `folio mcp`: the library as a local service for other programs (an
//! OpenAI-compatible API and MCP over HTTP; MCP over stdio).

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;
use folio::api::answerer::Answerer;
use folio::api::guard::{load_or_create_token, token_path};
use folio::api::{mcp, ServeOptions};
use folio::Library;

use crate::llm_cmd::{load_with_id, ModelArgs};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; a non-loopback one also needs --allow-remote
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free one, printed at start)
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// The bearer token clients must send (default: the api-token file beside the settings,
    /// generated at the first start)
    #[arg(long, env = "FOLIO_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Listen on a non-loopback address: every computer that reaches it can use the library with
    /// the token
    #[arg(long)]
    allow_remote: bool,
    /// Requests that may wait while the model answers another (more are refused with 429)
    #[arg(long, default_value_t = 4)]
    queue: usize,
    #[command(flatten)]
    model: ModelArgs,
}

/// The model's thread, or `None` when no answering model is installed (search still works).
fn answerer(library: &Arc<Library>, model: &ModelArgs, queue: usize) -> Result<Option<Answerer>> {
    match load_with_id(model) {
        Ok((id, loaded)) => Ok(Some(Answerer::start(library.clone(), id, loaded, model.load_options(), queue))),
        Err(e) if model.model.is_none() => {
            eprintln!("no answering model ({e:#}); search, embeddings and reading work, answers do not");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub fn serve(library: Library, args: &ServeArgs, json: bool) -> Result<()> {
    let token = match &args.token {
        Some(token) => token.clone(),
        None => load_or_create_token(&token_path())?,
    };
    if token.len() < 16 {
        bail!("an API token has at least 16 characters");
    }
    if args.allow_remote && !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {}: anyone who can reach this address and has the token can search, read and \
             ask the whole library",
            args.host
        );
    }
    let library = Arc::new(library);
    let Some(answerer) = answerer(&library, &args.model, args.queue)? else {
        bail!("`folio serve` needs an answering model: run scripts/fetch-models, or give --model FILE.gguf");
    };
    let options = ServeOptions { host: args.host, port: args.port, token, allow_remote: args.allow_remote };
    let from_settings = args.token.is_none();
    folio::api::serve(library, answerer, options, |addr| {
        if json {
            println!("{}", serde_json::json!({ "listening": format!("http://{addr}") }));
        } else {
            println!("Folio's API on http://{addr}/v1 (MCP at http://{addr}/mcp)");
            if from_settings {
                println!("Clients send the token in {} as a bearer token.", token_path().display());
            }
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    })?;
    Ok(())
}

pub fn mcp_stdio(library: Library, model: &ModelArgs) -> Result<()> {
    let library = Arc::new(library);
    let answerer = answerer(&library, model, 2)?;
    mcp::serve_stdio(library, answerer)?;
    Ok(())
}
