//! Follow-up questions ("and the second one?") made into standalone retrieval queries, either by
//! a cheap heuristic (the previous question joined to this one) or by asking the model.

use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::llm::sampling::SamplingOptions;
use crate::llm::{GenerateOptions, LocalModel, Message};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rewrite {
    /// The question as asked.
    None,
    /// The previous question and this one, together.
    Heuristic,
    /// The model rewrites the question with the conversation in view.
    Model,
}

impl std::str::FromStr for Rewrite {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(Rewrite::None),
            "heuristic" => Ok(Rewrite::Heuristic),
            "model" => Ok(Rewrite::Model),
            other => Err(format!("unknown rewrite '{other}' (none, heuristic, model)")),
        }
    }
}

/// The retrieval query for `question` after `history` (earlier questions and answers).
pub fn standalone_query(
    model: Option<&mut LocalModel>,
    history: &[(String, String)],
    question: &str,
    how: Rewrite,
) -> Result<String> {
    let Some((previous, previous_answer)) = history.last() else {
        return Ok(question.to_string());
    };
    match (how, model) {
        (Rewrite::None, _) => Ok(question.to_string()),
        (Rewrite::Heuristic, _) | (Rewrite::Model, None) => Ok(format!("{previous} {question}")),
        (Rewrite::Model, Some(model)) => {
            let prompt = format!(
                "Conversation:\nUser: {previous}\nAssistant: {}\n\nFollow-up question: {question}\n\n\
                 Rewrite the follow-up question so that it can be understood without the conversation: \
                 replace pronouns and references with what they refer to. Keep its language. Reply with the rewritten question only.",
                super::truncate_chars(previous_answer, 400)
            );
            let options =
                GenerateOptions { max_tokens: 48, sampling: SamplingOptions::greedy(), stop: vec!["\n".into()] };
            let g = model.chat(&[Message::new("user", prompt)], &options, &AtomicBool::new(false), &mut |_| {})?;
            let rewritten = g.text.trim().trim_matches('"').trim();
            Ok(if rewritten.is_empty() { format!("{previous} {question}") } else { rewritten.to_string() })
        }
    }
}
