//! Answer evaluation: index a folder of documents, ask its questions through `Library::ask`, and
//! score retrieval into the context, citations, answers (SQuAD's exact match and F1 on the
//! answer's lead, containment in the whole answer), refusals and the answer's language; questions
//! about held-out documents (not indexed) measure honest refusals. With the gold paragraph given
//! to the model directly (`gold_context`), what the model loses is told apart from what retrieval
//! loses. Every question's record can be written out for a person to read the failures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::metrics::quantile;
use super::squad;
use crate::answer::{compose, Answer, AskOptions, Language, Rewrite, Source};
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
    /// Give the model the paragraph that holds the answer instead of retrieving.
    pub gold_context: bool,
    /// Questions (joined by id) whose answers are accepted too: the documents' language's answers
    /// when the questions are asked in another.
    pub also_accept: Option<PathBuf>,
}

/// One question's outcome, as `--out` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionRecord {
    pub id: String,
    pub question: String,
    pub answers: Vec<String>,
    pub doc: String,
    pub answerable: bool,
    pub answer: String,
    pub lead: String,
    pub refused: bool,
    pub nothing_relevant: bool,
    /// Sources given to the model: file and page.
    pub sources: Vec<String>,
    pub cited: Vec<String>,
    pub exact_match: f64,
    pub f1: f64,
    pub contains: bool,
    pub context_hit: bool,
    pub cited_hit: bool,
    /// Whether the answer is in the question's language; `None` for refusals and answers with too
    /// few letters to tell (a number).
    pub in_language: Option<bool>,
    pub first_token_seconds: f64,
    pub total_seconds: f64,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub dropped_citations: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QaScores {
    pub questions: usize,
    pub context_hit: f64,
    pub cited_hit: f64,
    /// The answer contains an accepted answer.
    pub answer_hit: f64,
    /// SQuAD exact match and token F1 of the answer's lead.
    pub exact_match: f64,
    pub f1: f64,
    pub refused: f64,
    /// Share of the answers (refusals and letterless answers aside) in the question's language.
    pub in_language: f64,
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
    pub prompt: crate::answer::PromptStyle,
    pub answer_in: crate::answer::AnswerIn,
    pub gold_context: bool,
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
    index: bool,
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
    if index {
        library.index(std::slice::from_ref(&folder), &|_| {}, &AtomicBool::new(false))?;
    }

    // Questions about documents the folder does not have at all are neither: a folder of a few
    // articles is evaluated on their questions alone.
    let all = load_questions(questions)?.into_iter().filter(|q| docs.contains(&q.doc));
    let (unanswerable, answerable): (Vec<Question>, Vec<Question>) = all.partition(|q| held.contains(&q.doc));
    let answerable = spread(&answerable, limit);
    let unanswerable = spread(&unanswerable, limit.map(|n| n / 2).or(Some(unanswerable.len())));
    Ok(QaSet { library, answerable, unanswerable })
}

pub fn evaluate(
    model: &mut LocalModel,
    options: &QaOptions,
    progress: &mut dyn FnMut(usize, usize),
    record: &mut dyn FnMut(&QuestionRecord),
) -> Result<QaReport> {
    let mut set = prepare(
        &options.docs,
        &options.questions,
        options.limit,
        if options.gold_context { 0 } else { options.holdout },
        &options.work_dir,
        options.library.clone(),
        !options.gold_context,
    )?;
    if let Some(other) = &options.also_accept {
        accept_answers_of(&mut set, &load_questions(other)?);
    }
    let QaSet { library, answerable, unanswerable } = set;
    let total = answerable.len() + unanswerable.len();
    let mut done = 0;
    // The model is not reset between questions: as in the app, the instructions' cached prefix
    // is reused, and the first-token figures are the ones a user meets after the first question.
    let mut ask_all = |questions: &[Question], answerable: bool, model: &mut LocalModel| -> Result<QaScores> {
        let mut records = Vec::with_capacity(questions.len());
        for q in questions {
            let answer = if options.gold_context {
                answer_from_gold(model, &options.docs, q, &options.ask)?
            } else {
                let ask = AskOptions { persist: false, chat_id: None, ..options.ask.clone() };
                library.ask(model, &q.question, &ask, &AtomicBool::new(false), &mut |_| {})?
            };
            let r = score(q, answerable, &answer);
            record(&r);
            records.push(r);
            done += 1;
            progress(done, total);
        }
        Ok(summarise(&records))
    };
    let answerable_scores = ask_all(&answerable, true, model)?;
    let unanswerable_scores = if unanswerable.is_empty() { None } else { Some(ask_all(&unanswerable, false, model)?) };
    let followups = if options.followups > 0 && !options.gold_context {
        Some(followup_scores(&library, model, &answerable, options.followups)?)
    } else {
        None
    };
    Ok(QaReport {
        model: model.name.clone(),
        embedder: library.embedder().id().to_string(),
        prompt: crate::answer::prompt_style(model, &options.ask),
        answer_in: options.ask.answer_in,
        gold_context: options.gold_context,
        answerable: answerable_scores,
        unanswerable: unanswerable_scores,
        followups,
    })
}

/// Adds the answers of `other` (the same questions in another language, joined by id).
fn accept_answers_of(set: &mut QaSet, other: &[Question]) {
    let by_id: HashMap<&str, &Question> = other.iter().map(|q| (q.id.as_str(), q)).collect();
    for q in set.answerable.iter_mut().chain(set.unanswerable.iter_mut()) {
        if let Some(o) = by_id.get(q.id.as_str()) {
            for a in &o.answers {
                if !q.answers.contains(a) {
                    q.answers.push(a.clone());
                }
            }
        }
    }
}

/// The answer the model writes when given the paragraph of `q.doc` that holds an accepted answer
/// (the first such paragraph; the whole document if none does).
fn answer_from_gold(model: &mut LocalModel, docs: &Path, q: &Question, options: &AskOptions) -> Result<Answer> {
    let path = docs.join(&q.doc);
    let text = std::fs::read_to_string(&path).at(&path)?;
    let paragraph = text
        .split("\n\n")
        .find(|p| contains_answer(p, &q.answers))
        .unwrap_or(&text)
        .trim_start_matches('\u{feff}')
        .trim()
        .to_string();
    let source = Source {
        number: 1,
        path,
        page: None,
        start: 0,
        end: paragraph.chars().count(),
        text: paragraph,
        chunk_ids: Vec::new(),
        score: 1.0,
    };
    let started = std::time::Instant::now();
    let mut answer = Answer::new(q.question.clone(), Language::detect(&q.question), None);
    compose(model, &[], vec![source], &q.question, options, &AtomicBool::new(false), &mut |_| {}, &mut answer)?;
    answer.total_seconds = started.elapsed().as_secs_f64();
    Ok(answer)
}

fn score(q: &Question, answerable: bool, answer: &Answer) -> QuestionRecord {
    let place = |path: &Path, page: Option<u32>| match page {
        Some(p) => format!("{} p{p}", file_name(path)),
        None => file_name(path),
    };
    let in_language = (!answer.refused)
        .then(|| {
            let letters = answer.text.chars().filter(|c| c.is_alphabetic()).count();
            (letters >= 3).then(|| Language::detect(&answer.text) == Language::detect(&q.question))
        })
        .flatten();
    QuestionRecord {
        id: q.id.clone(),
        question: q.question.clone(),
        answers: q.answers.clone(),
        doc: q.doc.clone(),
        answerable,
        answer: answer.text.clone(),
        lead: answer.lead.clone(),
        refused: answer.refused,
        nothing_relevant: answer.nothing_relevant,
        sources: answer.sources.iter().map(|s| place(&s.path, s.page)).collect(),
        cited: answer.citations.iter().map(|c| place(&c.path, c.page)).collect(),
        exact_match: if answer.refused { 0.0 } else { squad::exact_match(&answer.lead, &q.answers) },
        f1: if answer.refused { 0.0 } else { squad::f1(&answer.lead, &q.answers) },
        contains: !answer.refused && contains_answer(&answer.text, &q.answers),
        context_hit: answer.sources.iter().any(|s| file_name(&s.path) == q.doc),
        cited_hit: answer.citations.iter().any(|c| file_name(&c.path) == q.doc),
        in_language,
        first_token_seconds: answer.first_token_seconds,
        total_seconds: answer.total_seconds,
        prompt_tokens: answer.prompt_tokens,
        generated_tokens: answer.generated_tokens,
        dropped_citations: answer.dropped_citations,
    }
}

fn summarise(records: &[QuestionRecord]) -> QaScores {
    let n = records.len().max(1) as f64;
    let share = |f: &dyn Fn(&QuestionRecord) -> bool| records.iter().filter(|r| f(r)).count() as f64 / n;
    let mean = |f: &dyn Fn(&QuestionRecord) -> f64| records.iter().map(f).sum::<f64>() / n;
    let judged: Vec<bool> = records.iter().filter_map(|r| r.in_language).collect();
    let latency: Vec<f64> = records.iter().map(|r| r.total_seconds).collect();
    let ttft: Vec<f64> = records.iter().map(|r| r.first_token_seconds).collect();
    let prompt: Vec<f64> = records.iter().map(|r| r.prompt_tokens as f64).collect();
    QaScores {
        questions: records.len(),
        context_hit: share(&|r| r.context_hit),
        cited_hit: share(&|r| r.cited_hit),
        answer_hit: share(&|r| r.contains),
        exact_match: mean(&|r| r.exact_match),
        f1: mean(&|r| r.f1),
        refused: share(&|r| r.refused),
        in_language: judged.iter().filter(|j| **j).count() as f64 / judged.len().max(1) as f64,
        latency_median: quantile(&latency, 0.5),
        latency_p95: quantile(&latency, 0.95),
        first_token_median: quantile(&ttft, 0.5),
        first_token_p95: quantile(&ttft, 0.95),
        prompt_tokens_median: quantile(&prompt, 0.5),
        dropped_citations: records.iter().map(|r| r.dropped_citations).sum(),
    }
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
