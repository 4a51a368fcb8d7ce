//! Chats as the faces see them: messages with typed details, the exchange an answer adds, a title
//! within its limits, and a chat written out as Markdown. The catalog keeps the rows; this module
//! owns what they mean.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{truncate_chars, Answer, MessageDetails};
use crate::error::{Error, Result};
use crate::library::Library;
use crate::store::chats::{Chat, Role, StoredMessage};

/// The longest question the engine takes, in characters: far beyond any question a person types,
/// short enough that a pasted book cannot crowd the sources out of the model's context.
pub const MAX_QUESTION_CHARS: usize = 4000;
/// The longest chat title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// A new chat's title: the start of its first question.
const NEW_TITLE_CHARS: usize = 60;

/// One message of a chat, its details typed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ChatMessage {
    pub id: i64,
    pub chat_id: i64,
    pub role: Role,
    pub content: String,
    /// What an answer kept beside its text; `None` for questions.
    pub details: Option<MessageDetails>,
    pub created_at: i64,
}

impl ChatMessage {
    fn from_stored(m: StoredMessage) -> ChatMessage {
        // Chats saved by earlier versions lack later fields (`MessageDetails` reads them as empty);
        // details that do not parse at all are dropped rather than failing the whole chat.
        let details = match m.role {
            Role::Assistant => m.details.and_then(|d| serde_json::from_value(d).ok()),
            Role::User => None,
        };
        ChatMessage {
            id: m.id,
            chat_id: m.chat_id,
            role: m.role,
            content: m.content,
            details,
            created_at: m.created_at,
        }
    }
}

/// The question with its surrounding blanks removed, or why the engine does not take it.
pub fn checked_question(question: &str) -> Result<&str> {
    let question = question.trim();
    if question.is_empty() {
        return Err(Error::InvalidInput("the question is empty".into()));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(Error::InvalidInput(format!("the question is longer than {MAX_QUESTION_CHARS} characters")));
    }
    Ok(question)
}

impl Library {
    /// A chat's messages, oldest first.
    pub fn chat_messages(&self, chat_id: i64) -> Result<Vec<ChatMessage>> {
        self.catalog().chat(chat_id)?;
        Ok(self.catalog().messages(chat_id)?.into_iter().map(ChatMessage::from_stored).collect())
    }

    /// Earlier (question, answer) pairs of a chat.
    pub fn chat_history(&self, chat_id: i64) -> Result<Vec<(String, String)>> {
        Ok(question_answer_pairs(&self.chat_messages(chat_id)?))
    }

    /// Renames a chat; the title is trimmed and must have 1 to `MAX_TITLE_CHARS` characters.
    pub fn rename_chat(&self, chat_id: i64, title: &str) -> Result<()> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(Error::InvalidInput(format!("a chat title has 1 to {MAX_TITLE_CHARS} characters")));
        }
        self.catalog().chat(chat_id)?;
        self.catalog().rename_chat(chat_id, title)
    }

    /// Deletes a chat and its messages.
    pub fn delete_chat(&self, chat_id: i64) -> Result<()> {
        self.catalog().chat(chat_id)?;
        self.catalog().delete_chat(chat_id)
    }

    /// Writes chat `chat_id` as Markdown to `path` (whole or not at all). Written by the engine to
    /// a path the face got from the user, so the window itself never needs the right to write files.
    pub fn export_chat(&self, chat_id: i64, path: &Path) -> Result<()> {
        if !path.is_absolute() {
            return Err(Error::InvalidInput(format!("{} is not an absolute path", path.display())));
        }
        let chat = self.catalog().chat(chat_id)?;
        let messages = self.chat_messages(chat_id)?;
        crate::store::write_atomically(path, chat_markdown(&chat, &messages).as_bytes())
    }

    /// Keeps the question and its answer in the answer's chat, starting one if needed.
    pub(super) fn keep_exchange(&self, question: &str, answer: &mut Answer) -> Result<()> {
        let chat_id = match answer.chat_id {
            Some(id) => id,
            None => self.catalog().create_chat(&truncate_chars(question.trim(), NEW_TITLE_CHARS))?,
        };
        self.catalog().add_message(chat_id, Role::User, question, None)?;
        let details = serde_json::to_value(MessageDetails {
            query: answer.query.clone(),
            citations: answer.citations.clone(),
            closest: answer.closest.clone(),
            refused: answer.refused,
            dropped_citations: answer.dropped_citations,
            stopped: answer.stopped,
        })
        .expect("details serialise");
        self.catalog().add_message(chat_id, Role::Assistant, &answer.text, Some(&details))?;
        answer.chat_id = Some(chat_id);
        Ok(())
    }
}

/// A chat's (question, answer) pairs, oldest first.
pub(super) fn question_answer_pairs(messages: &[ChatMessage]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut question: Option<&str> = None;
    for m in messages {
        match m.role {
            Role::User => question = Some(&m.content),
            Role::Assistant => {
                if let Some(q) = question.take() {
                    pairs.push((q.to_string(), m.content.clone()));
                }
            }
        }
    }
    pairs
}

/// The files the chat's last answer cited.
pub(super) fn files_cited_last(messages: &[ChatMessage]) -> Vec<PathBuf> {
    let last = messages.iter().rev().find(|m| m.role == Role::Assistant);
    let details = last.and_then(|m| m.details.as_ref());
    details.map(|d| d.citations.iter().map(|c| c.path.clone()).collect()).unwrap_or_default()
}

/// Questions, answers, and the sources each answer cites.
fn chat_markdown(chat: &Chat, messages: &[ChatMessage]) -> String {
    let mut out = format!("# {}\n", chat.title);
    for m in messages {
        if m.role == Role::User {
            out.push_str(&format!("\n**You:** {}\n", m.content.trim()));
            continue;
        }
        out.push_str(&format!("\n**Folio:** {}\n", m.content.trim()));
        let citations = m.details.as_ref().map(|d| d.citations.as_slice()).unwrap_or_default();
        if !citations.is_empty() {
            out.push('\n');
        }
        for c in citations {
            let page = c.page.map(|p| format!(", page {p}")).unwrap_or_default();
            out.push_str(&format!("[{}]: {}{page} — \"{}\"\n", c.number, c.path.display(), c.snippet));
        }
    }
    out
}
