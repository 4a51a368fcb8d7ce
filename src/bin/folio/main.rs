//! `folio`: the command-line face of the engine.

mod ask_cmd;
mod eval_cmd;
mod index_cmd;
mod llm_cmd;
mod models_cmd;
mod output;
mod scale_cmd;
mod serve_cmd;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use folio::library::{default_library_dir, Library, LibraryOptions};
use folio::SearchMode;

/// Tensors of every size come and go on the hot paths; mimalloc keeps freed pages for reuse where
/// the system allocator returns them to the kernel and takes page faults to get them back (1.6×
/// faster embedding, measured with examples/embed_speed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "folio", version, about = "Ask your documents, offline")]
struct Cli {
    /// Library directory (default: the platform data dir)
    #[arg(long, global = true, env = "FOLIO_LIBRARY")]
    library: Option<PathBuf>,
    /// Machine-readable JSON output
    #[arg(long, global = true)]
    json: bool,
    /// Worker threads for models (default: one per core)
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Which encoder computes vectors: auto (native where it runs), native or reference (candle f32)
    #[arg(long, global = true, env = "FOLIO_ENCODER", default_value = "auto")]
    encoder: folio::embed::EncoderPath,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add folders (or files) to the library and index them; re-indexes what changed
    Index {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Embedder of a new library (multilingual-e5-small or all-minilm-l6-v2)
        #[arg(long)]
        embedder: Option<String>,
        #[command(flatten)]
        passwords: PasswordArgs,
    },
    /// Re-index every folder of the library (changed, new and deleted files)
    Refresh {
        #[command(flatten)]
        passwords: PasswordArgs,
    },
    /// Forget a folder and everything indexed from it
    Remove { path: PathBuf },
    /// Search the library
    Search {
        query: String,
        #[arg(long, default_value = "hybrid")]
        mode: SearchMode,
        #[arg(short, default_value_t = 10)]
        k: usize,
        /// Search only these folders or documents of the library (repeatable)
        #[arg(long = "in", value_name = "PATH")]
        within: Vec<PathBuf>,
    },
    /// Serve the library to other programs: an OpenAI-compatible API and MCP over HTTP
    Serve {
        #[command(flatten)]
        args: serve_cmd::ServeArgs,
    },
    /// Serve the library over the Model Context Protocol on stdin and stdout (for agents)
    Mcp {
        #[command(flatten)]
        model: llm_cmd::ModelArgs,
    },
    /// Folders, files per status, chunks, embedder and index sizes
    Status,
    /// Show the text Folio reads from a file, page by page, and its warnings (nothing is indexed)
    Extract {
        path: PathBuf,
        #[command(flatten)]
        passwords: PasswordArgs,
    },
    /// Ask a question about the library: a streamed answer citing file, page and passage
    Ask {
        question: String,
        /// Continue this chat (see `folio chats`)
        #[arg(long)]
        chat: Option<i64>,
        /// How a follow-up becomes a search query: none, heuristic or model
        #[arg(long, default_value = "heuristic")]
        rewrite: folio::answer::Rewrite,
        /// Answer from these folders or documents of the library only (repeatable)
        #[arg(long = "in", value_name = "PATH")]
        within: Vec<PathBuf>,
        #[command(flatten)]
        model: llm_cmd::ModelArgs,
    },
    /// List chats, show one, or export one as Markdown
    Chats {
        #[arg(long, conflicts_with = "export")]
        show: Option<i64>,
        /// Write this chat as Markdown, with its citations, to --to
        #[arg(long, requires = "to")]
        export: Option<i64>,
        /// Where --export writes the chat
        #[arg(long, requires = "export")]
        to: Option<PathBuf>,
        /// Give this chat the title --title
        #[arg(long, requires = "title", conflicts_with_all = ["show", "export", "delete"])]
        rename: Option<i64>,
        /// The new title of --rename (1 to 200 characters)
        #[arg(long, requires = "rename")]
        title: Option<String>,
        /// Delete this chat and its messages
        #[arg(long, conflicts_with_all = ["show", "export"])]
        delete: Option<i64>,
    },
    /// Summarise an indexed document, citing pages
    Summarize {
        file: PathBuf,
        #[command(flatten)]
        model: llm_cmd::ModelArgs,
    },
    /// Generate text from a prompt with a local model (streamed)
    Generate {
        prompt: String,
        #[command(flatten)]
        model: llm_cmd::ModelArgs,
        #[command(flatten)]
        sampling: llm_cmd::SamplingArgs,
        /// Send the prompt as is, without the model's chat template
        #[arg(long)]
        raw: bool,
    },
    /// Chat with a local model in the terminal
    Chat {
        #[command(flatten)]
        model: llm_cmd::ModelArgs,
        #[command(flatten)]
        sampling: llm_cmd::SamplingArgs,
        /// System prompt
        #[arg(long)]
        system: Option<String>,
    },
    /// Benchmarks
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// The model catalog, and which model this machine should run
    Models {
        #[command(subcommand)]
        what: models_cmd::ModelsCommand,
    },
    /// Evaluate on public datasets
    Eval {
        #[command(subcommand)]
        what: eval_cmd::EvalCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Prompt processing and generation speed of a local model
    Llm {
        #[command(flatten)]
        model: llm_cmd::ModelArgs,
        /// Prompt length in tokens
        #[arg(long, default_value_t = 512)]
        prompt: usize,
        /// Tokens to generate
        #[arg(long, default_value_t = 128)]
        generate: usize,
        #[arg(long, default_value_t = 3)]
        repetitions: usize,
    },
    /// Seconds to the first word of an answer over sources of a given size, with nothing cached
    /// and with the answer's instructions kept by the prefix cache
    FirstToken {
        #[command(flatten)]
        model: llm_cmd::ModelArgs,
        /// Tokens of sources in the prompt
        #[arg(long, default_value_t = 1400)]
        source_tokens: usize,
        /// Where the sources' text comes from (as for `bench embed`; default: the bundled samples)
        #[arg(long)]
        sample: Vec<PathBuf>,
        #[arg(long, default_value_t = 3)]
        repetitions: usize,
    },
    /// Embedding speed of the native encoder against candle's f32 reference, and their agreement
    Embed {
        #[arg(long, default_value = folio::models::DEFAULT_EMBEDDER)]
        embedder: String,
        /// Passages to embed (at most what the sample holds)
        #[arg(long, default_value_t = 256)]
        passages: usize,
        /// Where passages come from: a BEIR corpus.jsonl, a text file, or a folder of text files
        /// (repeatable; default: the bundled sample documents)
        #[arg(long)]
        sample: Vec<PathBuf>,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// A library of N synthetic passages: build time, disk size, open time, memory, hybrid search
    /// latency and the vector graph's recall against exact search
    Scale {
        #[arg(long, default_value_t = 100_000)]
        passages: usize,
        /// Real text the synthetic passages and vectors are drawn from (as for `bench embed`)
        #[arg(long)]
        sample: Vec<PathBuf>,
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Build the library here and keep it (default: a temporary folder, removed afterwards)
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Only open and search a library this benchmark built (what the build runs in a fresh
        /// process)
        #[arg(long, hide = true)]
        measure: Option<PathBuf>,
    },
}

fn main() {
    folio::ingest::worker::maybe_run_worker();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FOLIO_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(threads) = cli.threads {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build_global();
    }
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        if let Some(remedy) = remedy(&e) {
            eprintln!("{remedy}");
        }
        std::process::exit(1);
    }
}

/// What a command-line user can do about an engine error (the engine's messages name no face's
/// means; the window gives its own remedies).
fn remedy(error: &anyhow::Error) -> Option<String> {
    let engine = error.chain().find_map(|e| e.downcast_ref::<folio::Error>())?;
    match engine {
        folio::Error::LibraryLocked { .. } => Some("or pick another library with --library DIR".into()),
        folio::Error::EmbedderMismatch { stored, .. } => Some(format!(
            "leave out --embedder (the library keeps '{stored}'), or build a new library with --library DIR"
        )),
        folio::Error::ModelMissing { model, .. } => Some(format!(
            "run scripts/fetch-models {model} (`folio models list` shows what is installed), or give the path \
             of a GGUF file; FOLIO_MODELS names another model folder"
        )),
        _ => None,
    }
}

/// Passwords for password-protected files, from a file (never the command line, which every
/// user of the machine can read in the process list).
#[derive(clap::Args)]
struct PasswordArgs {
    /// A file of passwords, one per line, tried on password-protected PDFs
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl PasswordArgs {
    fn read(&self) -> Result<Vec<String>> {
        let Some(path) = &self.password_file else { return Ok(Vec::new()) };
        Ok(folio::library::read_password_file(path)?)
    }
}

/// Paths as given on the command line, made absolute against the working folder.
fn absolute_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    paths.iter().map(|p| std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))).collect()
}

fn open(cli: &Cli, embedder: Option<String>) -> Result<Library> {
    let dir = cli.library.clone().unwrap_or_else(default_library_dir);
    let options = LibraryOptions { embedder, encoder: cli.encoder, ..LibraryOptions::default() };
    Library::open(&dir, options).with_context(|| format!("opening the library at {}", dir.display()))
}

fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Index { paths, embedder, passwords } => {
            let library = open(&cli, embedder.clone())?;
            library.add_passwords(passwords.read()?)?;
            index_cmd::index(&library, paths, cli.json)
        }
        Command::Refresh { passwords } => {
            let library = open(&cli, None)?;
            library.add_passwords(passwords.read()?)?;
            let folders: Vec<PathBuf> = library.folders()?.into_iter().map(|f| f.path).collect();
            index_cmd::index(&library, &folders, cli.json)
        }
        Command::Remove { path } => {
            let library = open(&cli, None)?;
            let chunks = library.remove_folder(path)?;
            if cli.json {
                output::print_json(&serde_json::json!({ "removed_folder": path, "removed_chunks": chunks }));
            } else {
                println!("Removed {} and its {chunks} passages from the library.", path.display());
            }
            Ok(())
        }
        Command::Search { query, mode, k, within } => {
            let library = open(&cli, None)?;
            let scope = if within.is_empty() { None } else { Some(library.scope(&absolute_paths(within)?)?) };
            let hits = library.search_in(query, *mode, *k, scope.as_ref())?;
            if cli.json {
                output::print_json(&hits);
            } else {
                output::print_hits(&hits);
            }
            Ok(())
        }
        Command::Extract { path, passwords } => index_cmd::extract(path, &passwords.read()?, cli.json),
        Command::Serve { args } => serve_cmd::serve(open(&cli, None)?, args, cli.json),
        Command::Mcp { model } => serve_cmd::mcp_stdio(open(&cli, None)?, model),
        Command::Status => {
            let library = open(&cli, None)?;
            let status = library.status()?;
            if cli.json {
                output::print_json(&status);
            } else {
                output::print_status(&status);
            }
            Ok(())
        }
        Command::Eval { what } => eval_cmd::run(what, cli.json, cli.encoder),
        Command::Models { what } => models_cmd::run(what, cli.json),
        Command::Ask { question, chat, rewrite, within, model } => {
            let within = absolute_paths(within)?;
            ask_cmd::ask(&open(&cli, None)?, model, question, *chat, *rewrite, within, cli.json)
        }
        Command::Chats { export: Some(id), to: Some(to), .. } => ask_cmd::export_chat(&open(&cli, None)?, *id, to),
        Command::Chats { rename: Some(id), title: Some(title), .. } => {
            open(&cli, None)?.rename_chat(*id, title)?;
            eprintln!("chat {id} is now \"{}\"", title.trim());
            Ok(())
        }
        Command::Chats { delete: Some(id), .. } => {
            open(&cli, None)?.delete_chat(*id)?;
            eprintln!("deleted chat {id}");
            Ok(())
        }
        Command::Chats { show, .. } => ask_cmd::chats(&open(&cli, None)?, *show, cli.json),
        Command::Summarize { file, model } => ask_cmd::summarize(&open(&cli, None)?, model, file, cli.json),
        Command::Generate { prompt, model, sampling, raw } => {
            llm_cmd::generate(model, sampling, *raw, prompt, cli.json)
        }
        Command::Chat { model, sampling, system } => llm_cmd::chat(model, sampling, system.as_deref()),
        Command::Bench { what: BenchCommand::Llm { model, prompt, generate, repetitions } } => {
            llm_cmd::bench(model, *prompt, *generate, *repetitions, cli.json)
        }
        Command::Bench { what: BenchCommand::FirstToken { model, source_tokens, sample, repetitions } } => {
            llm_cmd::bench_first_token(model, *source_tokens, sample, *repetitions, cli.json)
        }
        Command::Bench { what: BenchCommand::Embed { embedder, passages, sample, rounds } } => {
            bench_embed(embedder, *passages, sample, *rounds, cli.json)
        }
        Command::Bench { what: BenchCommand::Scale { passages, sample, queries, keep, measure } } => {
            let options = LibraryOptions { encoder: cli.encoder, ..LibraryOptions::default() };
            match measure {
                Some(dir) => {
                    output::print_json(&folio::library::scale::measure(dir, options)?);
                    Ok(())
                }
                None => scale_cmd::run(options, *passages, sample, *queries, keep.as_deref(), cli.json),
            }
        }
    }
}

fn bench_embed(embedder: &str, passages: usize, sample: &[PathBuf], rounds: usize, json: bool) -> Result<()> {
    let texts = folio::embed::bench::sample_passages(sample, passages)?;
    let report = folio::embed::bench::run(&folio::models::models_dir(), embedder, &texts, rounds)?;
    if json {
        output::print_json(&report);
        return Ok(());
    }
    println!(
        "{}: {} passages, {} tokens, {} threads, {} rounds",
        report.embedder, report.passages, report.tokens, report.threads, report.rounds
    );
    for (name, f) in [(report.native_encoder.as_str(), &report.native), ("reference (candle f32)", &report.reference)] {
        println!(
            "{name:<34} {:>8.1} passages/s {:>9.0} tokens/s   runs {:?} s",
            f.passages_per_s,
            f.tokens_per_s,
            f.seconds_runs.iter().map(|s| (s * 100.0).round() / 100.0).collect::<Vec<_>>()
        );
    }
    println!("speedup {:.2}×   cosine min {:.5} mean {:.5}", report.speedup, report.cosine_min, report.cosine_mean);
    Ok(())
}
