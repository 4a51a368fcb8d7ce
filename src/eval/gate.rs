//! Calibration of the relevance gate (`answer::gate`): for questions whose document is indexed and
//! for questions whose document is held out, the best passage's similarity, what the gate decides
//! with its present lines, and what a single threshold on the gate's score (similarity plus the
//! weighted word support) would decide across a range. No model is run, so a sweep over a
//! thousand questions takes seconds.

use serde::Serialize;

use super::metrics::quantile;
use super::qa::{QaSet, Question};
use crate::answer::{gate, Language};
use crate::error::Result;
use crate::search::SearchMode;

/// As many passages as an answer retrieves (`AskOptions::retrieve_k`).
const RETRIEVE_K: usize = 24;

#[derive(Debug, Clone, Default, Serialize)]
pub struct GateScores {
    pub questions: usize,
    /// Share of questions whose best passage is in another language.
    pub cross_lingual: f64,
    pub best_p05: f64,
    pub best_p25: f64,
    pub best_median: f64,
    pub best_p75: f64,
    pub best_p95: f64,
    /// Share the gate lets through to the model with its present lines.
    pub passed: f64,
}

/// One threshold on the gate's score for every question: the share of answerable questions it lets through and the share
/// of unanswerable ones it stops.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    pub threshold: f32,
    pub answerable_passed: f64,
    pub unanswerable_stopped: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub embedder: String,
    pub answerable: GateScores,
    pub unanswerable: Option<GateScores>,
    pub sweep: Vec<SweepPoint>,
    /// Every question's judgement, answerable ones first (`folio eval gate --out`).
    #[serde(skip)]
    pub questions: Vec<QuestionGate>,
}

/// One question and what the gate saw of it.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionGate {
    pub id: String,
    pub question: String,
    pub answerable: bool,
    pub relevant: bool,
    #[serde(flatten)]
    pub gate: gate::Gate,
}

pub fn evaluate(set: &QaSet) -> Result<GateReport> {
    let answerable = judge_all(set, &set.answerable)?;
    let unanswerable = judge_all(set, &set.unanswerable)?;
    // Scores reach 1 + the support weight: the sweep runs past that.
    let sweep = (0..=60)
        .map(|i| {
            let threshold = 0.65 + i as f32 * 0.01;
            let share = |gates: &[gate::Gate], pass: bool| {
                let hits = gates.iter().filter(|g| g.score().is_some_and(|s| s >= threshold) == pass).count();
                hits as f64 / gates.len().max(1) as f64
            };
            SweepPoint {
                threshold,
                answerable_passed: share(&answerable, true),
                unanswerable_stopped: share(&unanswerable, false),
            }
        })
        .collect();
    let record = |(q, g): (&Question, &gate::Gate), answerable: bool| QuestionGate {
        id: q.id.clone(),
        question: q.question.clone(),
        answerable,
        relevant: g.relevant(),
        gate: *g,
    };
    let questions = (set.answerable.iter().zip(&answerable).map(|p| record(p, true)))
        .chain(set.unanswerable.iter().zip(&unanswerable).map(|p| record(p, false)))
        .collect();
    Ok(GateReport {
        embedder: set.library.embedder().id().to_string(),
        answerable: scores(&answerable),
        unanswerable: (!unanswerable.is_empty()).then(|| scores(&unanswerable)),
        sweep,
        questions,
    })
}

fn judge_all(set: &QaSet, questions: &[Question]) -> Result<Vec<gate::Gate>> {
    questions
        .iter()
        .map(|q| {
            let ranked = set.library.retrieve(&q.question, SearchMode::Hybrid, RETRIEVE_K)?;
            gate::judge(&set.library, &q.question, &ranked, Language::detect(&q.question), None)
        })
        .collect()
}

fn scores(gates: &[gate::Gate]) -> GateScores {
    let n = gates.len().max(1) as f64;
    // A question without any passage by meaning counts as similarity −1 (the cosine's floor).
    let best: Vec<f64> = gates.iter().map(|g| g.best.map_or(-1.0, f64::from)).collect();
    GateScores {
        questions: gates.len(),
        cross_lingual: gates.iter().filter(|g| g.cross_lingual).count() as f64 / n,
        best_p05: quantile(&best, 0.05),
        best_p25: quantile(&best, 0.25),
        best_median: quantile(&best, 0.5),
        best_p75: quantile(&best, 0.75),
        best_p95: quantile(&best, 0.95),
        passed: gates.iter().filter(|g| g.relevant()).count() as f64 / n,
    }
}
