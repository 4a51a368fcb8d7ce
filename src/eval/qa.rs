//! Answer evaluation: index a folder of documents, ask its questions through `Library::ask`, and
//! score retrieval into the context, citations, answers and refusals; questions about held-out
//! documents (not indexed) measure honest refusals.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::metrics::quantile;
use crate::answer::{AskOptions, Rewrite};
use crate::error::{Error, IoContext, Result};
use crate::library::{Library, LibraryOptions};
use crate::llm::LocalModel;

#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub answers: Vec<String>,
    pub doc: String,
}

pub fn load_questions(path: &Path) -> Result<Vec<Question>> {
    let text = std::fs::read_to_string(path).at(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|e| Error::InvalidInput(format!("{} line {}: {e}", path.display(), n + 1)))
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct QaOptions {
    pub docs: PathBuf,
    pub questions: PathBuf,
    pub limit: Option<usize>,
    /// Documents left out of the index (the last ones by name); their questions must be refused.
    pub holdout: usize,
    pub work_dir: PathBuf,
    pub library: LibraryOptions,
    pub ask: AskOptions,
    /// Also ask follow-up versions of questions and measure the query rewrites.
    pub followups: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QaScores {
    pub questions: usize,
    pub context_hit: f64,
    pub cited_hit: f64,
    pub answer_hit: f64,
    pub refused: f64,
    pub latency_median: f64,
    pub latency_p95: f64,
    pub first_token_median: f64,
    pub first_token_p95: f64,
    pub prompt_tokens_median: f64,
    pub dropped_citations: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowupScores {
    pub pairs: usize,
    /// Share of follow-ups whose document reached the context, per rewrite.
    pub context_hit: HashMap<String, f64>,
    /// Seconds the rewrite itself took (median).
    pub rewrite_seconds: HashMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QaReport {
    pub model: String,
    pub embedder: String,
    #[serde(flatten)]
    pub answerable: QaScores,
    pub unanswerable: Option<QaScores>,
    pub followups: Option<FollowupScores>,
}

/// Case- and whitespace-insensitive containment.
pub fn contains_answer(text: &str, answers: &[String]) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect::<String>();
    let t = norm(text);
    answers.iter().any(|a| {
        let a = norm(a);
        !a.is_empty() && t.contains(&a)
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Every n-th question so that a limit still covers all documents.
fn spread<T: Clone>(items: &[T], limit: Option<usize>) -> Vec<T> {
    match limit {
        Some(n) if n < items.len() => (0..n).map(|i| items[i * items.len() / n].clone()).collect(),
        _ => items.to_vec(),
    }
}

/// A library of the documents (less the held-out ones) and the questions to ask it: those about
/// indexed documents and those about held-out ones, each spread over all documents.
pub struct QaSet {
    pub library: Library,
    pub answerable: Vec<Question>,
    pub unanswerable: Vec<Question>,
}

/// Indexes `docs` less the last `holdout` documents by name (into a copy under `work_dir`) and
/// splits the questions; `limit` bounds the answerable ones, half of it the others.
pub fn prepare(
    docs_dir: &Path,
    questions: &Path,
    limit: Option<usize>,
    holdout: usize,
    work_dir: &Path,
    library: LibraryOptions,
) -> Result<QaSet> {
    let mut docs: Vec<String> = std::fs::read_dir(docs_dir)
        .at(docs_dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| file_name(&e.path()))
        .collect();
    docs.sort();
    let held: Vec<String> = docs.iter().rev().take(holdout).cloned().collect();
    // The indexed folder: all documents, or a copy without the held-out ones.
    let folder = if held.is_empty() {
        docs_dir.to_path_buf()
    } else {
        let subset = work_dir.join(format!("docs-without-{}", held.len()));
        std::fs::create_dir_all(&subset).at(&subset)?;
        for d in &docs {
            let target = subset.join(d);
            if !held.contains(d) && !target.exists() {
                std::fs::copy(docs_dir.join(d), &target).at(&target)?;
            }
        }
        subset
    };
    let library = Library::open(&work_dir.join("library"), library)?;
    library.index(std::slice::from_ref(&folder), &|_| {}, &AtomicBool::new(false))?;

    let all = load_questions(questions)?;
    let (unanswerable, answerable): (Vec<Question>, Vec<Question>) =
        all.into_iter().partition(|q| held.contains(&q.doc));
    let answerable = spread(&answerable, limit);
    let unanswerable = spread(&unanswerable, limit.map(|n| n / 2).or(Some(unanswerable.len())));
    Ok(QaSet { library, answerable, unanswerable })
}

pub fn evaluate(
    model: &mut LocalModel,
    options: &QaOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<QaReport> {
    let QaSet { library, answerable, unanswerable } = prepare(
        &options.docs,
        &options.questions,
        options.limit,
        options.holdout,
        &options.work_dir,
        options.library.clone(),
    )?;
    let total = answerable.len() + unanswerable.len();
    let mut done = 0;
    let mut ask_all = |questions: &[Question], model: &mut LocalModel| -> Result<QaScores> {
        let mut s = QaScores { questions: questions.len(), ..QaScores::default() };
        let (mut latency, mut ttft, mut prompt) = (Vec::new(), Vec::new(), Vec::new());
        for q in questions {
            model.reset();
            let ask = AskOptions { persist: false, chat_id: None, ..options.ask.clone() };
            let answer = library.ask(model, &q.question, &ask, &AtomicBool::new(false), &mut |_| {})?;
            s.context_hit += answer.sources.iter().any(|src| file_name(&src.path) == q.doc) as u8 as f64;
            s.cited_hit += answer.citations.iter().any(|c| file_name(&c.path) == q.doc) as u8 as f64;
            s.answer_hit += contains_answer(&answer.text, &q.answers) as u8 as f64;
            s.refused += answer.refused as u8 as f64;
            s.dropped_citations += answer.dropped_citations;
            latency.push(answer.total_seconds);
            ttft.push(answer.first_token_seconds);
            prompt.push(answer.prompt_tokens as f64);
            done += 1;
            progress(done, total);
        }
        let n = questions.len().max(1) as f64;
        s.context_hit /= n;
        s.cited_hit /= n;
        s.answer_hit /= n;
        s.refused /= n;
        s.latency_median = quantile(&latency, 0.5);
        s.latency_p95 = quantile(&latency, 0.95);
        s.first_token_median = quantile(&ttft, 0.5);
        s.first_token_p95 = quantile(&ttft, 0.95);
        s.prompt_tokens_median = quantile(&prompt, 0.5);
        Ok(s)
    };
    let answerable_scores = ask_all(&answerable, model)?;
    let unanswerable_scores = if unanswerable.is_empty() { None } else { Some(ask_all(&unanswerable, model)?) };
    let followups = if options.followups > 0 {
        Some(followup_scores(&library, model, &answerable, options.followups)?)
    } else {
        None
    };
    Ok(QaReport {
        model: model.name.clone(),
        embedder: library.embedder().id().to_string(),
        answerable: answerable_scores,
        unanswerable: unanswerable_scores,
        followups,
    })
}

/// Follow-ups made from pairs of questions about one document: the second question's words
/// shared with the first (its subject, typically a capitalised name) become a pronoun, as people
/// ask follow-ups. Measures which rewrite brings the document back into the context.
fn followup_scores(
    library: &Library,
    model: &mut LocalModel,
    questions: &[Question],
    limit: usize,
) -> Result<FollowupScores> {
    let mut pairs: Vec<(Question, String)> = Vec::new();
    for (i, a) in questions.iter().enumerate() {
        for b in questions.iter().skip(i + 1).filter(|b| b.doc == a.doc) {
            if let Some(follow) = pronoun_followup(&a.question, &b.question) {
                pairs.push((a.clone(), follow));
                break;
            }
        }
        if pairs.len() >= limit {
            break;
        }
    }
    let mut context_hit = HashMap::new();
    let mut rewrite_seconds = HashMap::new();
    for how in [Rewrite::None, Rewrite::Heuristic, Rewrite::Model] {
        let (mut hits, mut times) = (0usize, Vec::new());
        for (first, follow) in &pairs {
            model.reset();
            let history = vec![(first.question.clone(), first.answers.first().cloned().unwrap_or_default())];
            let t = std::time::Instant::now();
            let query = crate::answer::rewrite::standalone_query(Some(model), &history, follow, how)?;
            times.push(t.elapsed().as_secs_f64());
            let ranked = library.retrieve(&query, crate::search::SearchMode::Hybrid, 8)?;
            let hits_rows = library.hits(&ranked)?;
            hits += hits_rows.iter().take(5).any(|h| file_name(&h.path) == first.doc) as usize;
        }
        let key = format!("{how:?}").to_lowercase();
        context_hit.insert(key.clone(), hits as f64 / pairs.len().max(1) as f64);
        rewrite_seconds.insert(key, quantile(&times, 0.5));
    }
    Ok(FollowupScores { pairs: pairs.len(), context_hit, rewrite_seconds })
}

/// `b` with the capitalised words it shares with `a` replaced by a pronoun; `None` if they share none.
fn pronoun_followup(a: &str, b: &str) -> Option<String> {
    let words_a: std::collections::HashSet<String> = a
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .map(str::to_string)
        .collect();
    let mut replaced = false;
    let mut out = Vec::new();
    for (i, word) in b.split(' ').enumerate() {
        let bare: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
        if i > 0 && words_a.contains(&bare) && !bare.is_empty() {
            if !replaced {
                if out.last().is_some_and(|w: &String| w.eq_ignore_ascii_case("the")) {
                    out.pop();
                }
                let ru = crate::answer::Language::detect(b) == crate::answer::Language::Russian;
                out.push(word.replace(&bare, if ru { "они" } else { "it" }));
                replaced = true;
            }
            continue;
        }
        out.push(word.to_string());
    }
    replaced.then(|| out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_match_ignoring_case_and_spaces() {
        assert!(contains_answer("It had 1 3 6 sacks.", &["136".into()]));
        assert!(contains_answer("Москва — столица", &["москва".into()]));
        assert!(!contains_answer("none", &["136".into()]));
    }

    #[test]
    fn followups_use_pronouns() {
        assert_eq!(
            pronoun_followup(
                "How many points did the Panthers defense surrender?",
                "How many sacks did the Panthers record?"
            )
            .as_deref(),
            Some("How many sacks did it record?")
        );
        assert!(pronoun_followup("What is x?", "What is y?").is_none());
    }
}
