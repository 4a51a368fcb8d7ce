//! `folio eval retrieval`: BEIR-style retrieval evaluation through the product's own path;
//! `folio eval qa`: cited answers scored as the field scores them;
//! `folio eval gate`: calibration of the answers' relevance gate.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use folio::answer::AskOptions;
use folio::embed::EncoderPath;
use folio::eval::qa::QaOptions;
use folio::eval::retrieval::{evaluate, load_beir, load_doc_questions, EvalOptions, RetrievalReport};
use folio::library::LibraryOptions;
use folio::SearchMode;

/// Documents and questions about them, some documents held out of the index (`eval qa`, `eval gate`).
#[derive(Args)]
pub struct QaSetArgs {
    #[arg(long)]
    pub docs: PathBuf,
    /// jsonl with `id`, `question`, `answers`, `doc`
    #[arg(long)]
    pub questions: PathBuf,
    /// Ask at most this many questions (spread over all documents)
    #[arg(long)]
    pub limit: Option<usize>,
    /// Leave this many documents out of the index: their questions should not be answered
    #[arg(long, default_value_t = 0)]
    pub holdout: usize,
    #[arg(long, default_value = folio::models::DEFAULT_EMBEDDER)]
    pub embedder: String,
    /// Keep the evaluation library here and reuse it (default: a temporary one)
    #[arg(long)]
    pub work: Option<PathBuf>,
}

impl QaSetArgs {
    pub fn library(&self, encoder: EncoderPath) -> LibraryOptions {
        LibraryOptions { embedder: Some(self.embedder.clone()), encoder, ..LibraryOptions::default() }
    }
}

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Cited answers on documents + questions: context_hit, cited_hit, answer_hit, refused, latency
    Qa {
        #[command(flatten)]
        set: QaSetArgs,
        /// Also measure follow-up rewrites on this many question pairs
        #[arg(long, default_value_t = 0)]
        followups: usize,
        /// Tokens of sources packed into the prompt at most
        #[arg(long, default_value_t = folio::answer::DEFAULT_SOURCE_TOKENS)]
        source_tokens: usize,
        /// One relevance line for every question instead of the gate's own (`folio eval gate`)
        #[arg(long)]
        min_similarity: Option<f32>,
        /// How the model is asked: sentence, short, short-example or short-examples (default:
        /// the style for the model's size)
        #[arg(long)]
        prompt: Option<folio::answer::PromptStyle>,
        /// Which language answers are written in: auto (the question's: from English sources
        /// written in English and translated, from others written directly), sources (the
        /// sources' when they all share one other than the question's), question, or translate
        /// (the sources', then translated into the question's)
        #[arg(long, default_value = "auto")]
        answer_in: folio::answer::AnswerIn,
        /// Give the model the paragraph that holds the answer instead of retrieving (the model's
        /// ceiling; no documents are held out)
        #[arg(long)]
        gold_context: bool,
        /// Questions file whose answers (joined by id) are accepted too: the documents' language's
        /// answers when the questions are in another
        #[arg(long)]
        also_accept: Option<PathBuf>,
        /// Write one JSON line per question (question, answers, answer, sources, scores, timings)
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        model: crate::llm_cmd::ModelArgs,
    },
    /// The relevance gate: best-passage similarity of questions about indexed and held-out
    /// documents, what the gate decides, and a sweep of lines (no model is run)
    Gate {
        #[command(flatten)]
        set: QaSetArgs,
        /// Write one JSON line per question: what the gate saw of it and what it decided
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// nDCG@10, recall@100 (BEIR) or hit@1, hit@5 (documents + questions) per search mode
    Retrieval {
        /// BEIR corpus.jsonl
        #[arg(long, requires_all = ["queries", "qrels"], conflicts_with_all = ["docs", "questions"])]
        corpus: Option<PathBuf>,
        #[arg(long)]
        queries: Option<PathBuf>,
        #[arg(long)]
        qrels: Option<PathBuf>,
        /// A folder of documents; with --questions (jsonl with `question` and `doc`)
        #[arg(long, requires = "questions")]
        docs: Option<PathBuf>,
        #[arg(long)]
        questions: Option<PathBuf>,
        #[arg(long, default_value = folio::models::DEFAULT_EMBEDDER)]
        embedder: String,
        /// all, bm25, dense or hybrid
        #[arg(long, default_value = "all")]
        mode: String,
        /// Keep the evaluation library here and reuse it on the next run (default: a temporary one)
        #[arg(long)]
        work: Option<PathBuf>,
    },
}

pub fn run(command: &EvalCommand, json: bool, encoder: EncoderPath) -> Result<()> {
    let (corpus, queries, qrels, docs, questions, embedder, mode, work) = match command {
        EvalCommand::Retrieval { corpus, queries, qrels, docs, questions, embedder, mode, work } => {
            (corpus, queries, qrels, docs, questions, embedder, mode, work)
        }
        EvalCommand::Qa {
            set,
            followups,
            source_tokens,
            min_similarity,
            prompt,
            answer_in,
            gold_context,
            also_accept,
            out,
            model,
        } => {
            let ask = AskOptions {
                source_tokens: *source_tokens,
                min_similarity: *min_similarity,
                prompt: *prompt,
                answer_in: *answer_in,
                ..AskOptions::default()
            };
            let extra = QaExtras { followups: *followups, gold_context: *gold_context, also_accept, out };
            return eval_qa(model, set, extra, ask, json, encoder);
        }
        EvalCommand::Gate { set, out } => return gate(set, out.as_deref(), json, encoder),
    };
    let modes = match mode.as_str() {
        "all" => SearchMode::ALL.to_vec(),
        m => vec![m.parse::<SearchMode>().map_err(anyhow::Error::msg)?],
    };
    let temp = WorkDir::new(work.as_deref())?;
    let work_dir = temp.path().to_path_buf();
    let dataset = match (corpus, queries, qrels, docs, questions) {
        (Some(c), Some(q), Some(r), None, None) => load_beir(c, q, r, &work_dir.join("corpus"))?,
        (None, None, None, Some(d), Some(q)) => load_doc_questions(d, q)?,
        _ => bail!("give either --corpus, --queries and --qrels, or --docs and --questions"),
    };
    eprintln!("indexing {} and asking {} queries…", dataset.docs_dir.display(), dataset.queries.len());
    let options = EvalOptions {
        modes,
        library_dir: work_dir.join(format!("library-{embedder}")),
        library: LibraryOptions { embedder: Some(embedder.clone()), encoder, ..LibraryOptions::default() },
    };
    let report = evaluate(&dataset, options, &|_| {})?;
    if json {
        print_json(&report);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn print_json(report: &RetrievalReport) {
    let mut object = serde_json::Map::new();
    for (mode, scores) in &report.modes {
        object.insert(mode.name().to_string(), serde_json::to_value(scores).expect("serialisable"));
    }
    object.insert("embedder".into(), report.embedder.clone().into());
    object.insert("queries".into(), report.queries.into());
    object.insert("throughput".into(), serde_json::to_value(&report.throughput).expect("serialisable"));
    crate::output::print_json(&serde_json::Value::Object(object));
}

fn print_table(report: &RetrievalReport) {
    println!("embedder {}, {} queries", report.embedder, report.queries);
    println!(
        "{:<8} {:>8} {:>10} {:>7} {:>7} {:>7} {:>12} {:>9}",
        "mode", "nDCG@10", "recall@100", "hit@1", "hit@5", "MRR@10", "median ms", "p95 ms"
    );
    for (mode, s) in &report.modes {
        println!(
            "{:<8} {:>8.4} {:>10.4} {:>7.4} {:>7.4} {:>7.4} {:>12.2} {:>9.2}",
            mode.name(),
            s.ndcg_10,
            s.recall_100,
            s.hit_1,
            s.hit_5,
            s.mrr_10,
            s.latency_ms_median,
            s.latency_ms_p95
        );
    }
    let t = &report.throughput;
    println!(
        "indexing: {} documents, {} passages in {:.1} s ({:.1} docs/s, {:.1} passages/s); embedding alone {:.1} passages/s ({:.0} tokens/s)",
        t.documents, t.chunks, t.index_seconds, t.documents_per_second, t.chunks_per_second, t.embed_chunks_per_second, t.embed_tokens_per_second
    );
    println!(
        "peak RSS {:.0} MiB (extraction workers {:.0} MiB); HNSW recall@10 vs exact {:.4}",
        t.peak_rss_mib, t.peak_worker_rss_mib, t.hnsw_recall_10
    );
}

/// The folder an evaluation keeps its library in: the one given, or a temporary one removed after.
pub enum WorkDir {
    Given(PathBuf),
    Temporary(tempfile::TempDir),
}

impl WorkDir {
    pub fn new(given: Option<&Path>) -> Result<Self> {
        Ok(match given {
            Some(dir) => WorkDir::Given(dir.to_path_buf()),
            None => WorkDir::Temporary(tempfile::tempdir().context("creating a temporary folder")?),
        })
    }

    pub fn path(&self) -> &Path {
        match self {
            WorkDir::Given(dir) => dir,
            WorkDir::Temporary(temp) => temp.path(),
        }
    }
}

fn gate(args: &QaSetArgs, out: Option<&Path>, json: bool, encoder: EncoderPath) -> Result<()> {
    let work = WorkDir::new(args.work.as_deref())?;
    eprintln!("indexing {} less {} held-out documents…", args.docs.display(), args.holdout);
    let set = folio::eval::qa::prepare(
        &args.docs,
        &args.questions,
        args.limit,
        args.holdout,
        work.path(),
        args.library(encoder),
        true,
    )?;
    let report = folio::eval::gate::evaluate(&set)?;
    if let Some(out) = out {
        crate::output::write_json_lines(out, &report.questions)?;
    }
    if json {
        crate::output::print_json(&report);
        return Ok(());
    }
    println!("embedder {}", report.embedder);
    println!(
        "{:<14} {:>9} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}",
        "questions", "", "p05", "p25", "median", "p75", "p95", "cross", "passed"
    );
    let row = |name: &str, s: &folio::eval::gate::GateScores| {
        println!(
            "{:<14} {:>9} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.2} {:>7.3}",
            name, s.questions, s.best_p05, s.best_p25, s.best_median, s.best_p75, s.best_p95, s.cross_lingual, s.passed
        );
    };
    row("answerable", &report.answerable);
    if let Some(u) = &report.unanswerable {
        row("unanswerable", u);
    }
    println!("\none score line for all: {:>9} {:>18} {:>20}", "threshold", "answerable passed", "unanswerable stopped");
    for p in &report.sweep {
        println!("{:>28.2} {:>18.3} {:>20.3}", p.threshold, p.answerable_passed, p.unanswerable_stopped);
    }
    Ok(())
}

/// What `eval qa` adds to the question set.
struct QaExtras<'a> {
    followups: usize,
    gold_context: bool,
    also_accept: &'a Option<PathBuf>,
    out: &'a Option<PathBuf>,
}

fn eval_qa(
    model_args: &crate::llm_cmd::ModelArgs,
    set: &QaSetArgs,
    extra: QaExtras,
    ask: AskOptions,
    json: bool,
    encoder: EncoderPath,
) -> Result<()> {
    let mut model = crate::llm_cmd::load(model_args)?;
    let work = WorkDir::new(set.work.as_deref())?;
    let options = QaOptions {
        docs: set.docs.clone(),
        questions: set.questions.clone(),
        limit: set.limit,
        holdout: set.holdout,
        work_dir: work.path().to_path_buf(),
        library: set.library(encoder),
        ask,
        followups: extra.followups,
        gold_context: extra.gold_context,
        also_accept: extra.also_accept.clone(),
    };
    let mut out = match extra.out {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => None,
    };
    let mut write_error = None;
    let report = folio::eval::qa::evaluate(
        &mut model,
        &options,
        &mut |done, total| {
            eprint!("\r{done}/{total} questions");
            let _ = std::io::stderr().flush();
        },
        &mut |record| {
            if let Some(out) = out.as_mut() {
                let line = serde_json::to_string(record).expect("a record serialises");
                if let Err(e) = writeln!(out, "{line}") {
                    write_error.get_or_insert(e);
                }
            }
        },
    )?;
    eprintln!();
    if let Some(mut out) = out {
        out.flush()?;
    }
    if let Some(e) = write_error {
        bail!("writing the per-question records failed: {e}");
    }
    if json {
        crate::output::print_json(&report);
        return Ok(());
    }
    let a = &report.answerable;
    let context = if report.gold_context { "gold paragraph" } else { "retrieval" };
    println!(
        "{} with {}, prompt {:?}, {context}: {} questions",
        report.model, report.embedder, report.prompt, a.questions
    );
    println!(
        "exact_match {:.3}  f1 {:.3}  contains {:.3}  refused {:.3}  cited_gold {:.3}  context_hit {:.3}  in_language {:.3}  dropped citations {}",
        a.exact_match, a.f1, a.answer_hit, a.refused, a.cited_hit, a.context_hit, a.in_language, a.dropped_citations
    );
    println!(
        "latency median {:.1} s, p95 {:.1} s; first token median {:.1} s, p95 {:.1} s; prompt {} tokens (median)",
        a.latency_median, a.latency_p95, a.first_token_median, a.first_token_p95, a.prompt_tokens_median
    );
    if let Some(u) = &report.unanswerable {
        println!("unanswerable (documents not indexed): {} questions, refused {:.3}", u.questions, u.refused);
    }
    if let Some(f) = &report.followups {
        println!(
            "follow-ups ({} pairs), document in the top 5 by rewrite: {:?}; rewrite seconds {:?}",
            f.pairs, f.context_hit, f.rewrite_seconds
        );
    }
    Ok(())
}
