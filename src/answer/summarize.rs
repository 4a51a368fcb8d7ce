//! Summaries of long documents by map-reduce: the file's passages are grouped into windows that
//! fit the context, each window is summarised with page citations, and the partial summaries are
//! combined into one (recursively, if they do not fit together).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::language::Language;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::llm::sampling::SamplingOptions;
use crate::llm::{GenerateOptions, LocalModel, Message};

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub path: std::path::PathBuf,
    pub text: String,
    pub passages: usize,
    /// Model calls: one per window, plus the combining steps.
    pub calls: usize,
    pub seconds: f64,
}

fn page_label(page: Option<u32>) -> String {
    page.map(|p| format!("(p. {p})")).unwrap_or_default()
}

impl Library {
    /// Summarises an indexed file. `on_text` streams the final combining step.
    pub fn summarize(
        &self,
        model: &mut LocalModel,
        file: &Path,
        cancel: &AtomicBool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Summary> {
        let started = std::time::Instant::now();
        let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        let row = self.catalog().file_by_path(&path)?.ok_or_else(|| {
            Error::InvalidInput(format!("{} is not in the library; index its folder first", file.display()))
        })?;
        let chunks = self.catalog().chunks_of_file(row.id)?;
        if chunks.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{} has no indexed text ({})",
                file.display(),
                row.reason.unwrap_or_default()
            )));
        }
        let language = Language::detect(&chunks.iter().take(5).map(|c| c.text.as_str()).collect::<String>());
        let answer_tokens = 300;
        let budget = model.context_length().saturating_sub(answer_tokens + 300).min(2500);
        let options = GenerateOptions {
            max_tokens: answer_tokens,
            sampling: SamplingOptions { repeat_penalty: 1.1, ..SamplingOptions::greedy() },
            stop: vec![],
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();

        // Map: windows of consecutive passages (overlaps trimmed), each summarised.
        let mut windows: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut last_end: Option<(Option<u32>, usize)> = None;
        for c in &chunks {
            let text = match last_end {
                Some((page, end)) if page == c.page && c.start < end => {
                    c.text.chars().skip(end - c.start).collect::<String>()
                }
                _ => c.text.clone(),
            };
            let piece = format!("{} {}\n", page_label(c.page), text.trim());
            if !current.is_empty() && model.count_tokens(&current) + model.count_tokens(&piece) > budget {
                windows.push(std::mem::take(&mut current));
            }
            current.push_str(&piece);
            last_end = Some((c.page, c.end));
        }
        if !current.is_empty() {
            windows.push(current);
        }
        let mut calls = 0;
        let instruction = |what: &str| {
            format!(
                "Summarise {what} of the document \"{name}\" in at most five bullet points, in {}. \
                 Keep the page markers like (p. 3) of the passages each point comes from.",
                language.name()
            )
        };
        let cancel_flag = cancel;
        let mut partials: Vec<String> = Vec::new();
        let single = windows.len() == 1;
        for window in &windows {
            let prompt = format!("{}\n\nPassages:\n{window}", instruction("these passages"));
            calls += 1;
            let mut sink = |t: &str| {
                if single {
                    on_text(t)
                }
            };
            let g = model.chat(&[Message::new("user", prompt)], &options, cancel_flag, &mut sink)?;
            partials.push(g.text.trim().to_string());
        }
        // Reduce until one summary is left.
        while partials.len() > 1 {
            let mut groups: Vec<String> = Vec::new();
            let mut group = String::new();
            for p in &partials {
                if !group.is_empty() && model.count_tokens(&group) + model.count_tokens(p) > budget {
                    groups.push(std::mem::take(&mut group));
                }
                group.push_str(p);
                group.push_str("\n\n");
            }
            groups.push(group);
            if groups.len() >= partials.len() {
                // Each partial summary alone fills the budget: combine them two at a time.
                groups = partials.chunks(2).map(|pair| pair.join("\n\n")).collect();
            }
            let last_round = groups.len() == 1;
            let mut next = Vec::new();
            for g in groups {
                let prompt = format!(
                    "{}\n\nPartial summaries:\n{g}",
                    instruction("these partial summaries, which cover consecutive parts")
                );
                calls += 1;
                let mut sink = |t: &str| {
                    if last_round {
                        on_text(t)
                    }
                };
                next.push(
                    model
                        .chat(&[Message::new("user", prompt)], &options, cancel_flag, &mut sink)?
                        .text
                        .trim()
                        .to_string(),
                );
            }
            partials = next;
        }
        Ok(Summary {
            path,
            text: partials.pop().unwrap_or_default(),
            passages: chunks.len(),
            calls,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
