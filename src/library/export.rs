//! A chat as Markdown: questions, answers, and the sources each answer cites. Written by the
//! engine to a path the face got from the user, so the window itself never needs the right to
//! write files.

use std::path::Path;

use super::Library;
use crate::error::{Error, Result};
use crate::store::chats::{Chat, StoredMessage};

impl Library {
    /// Writes chat `chat_id` as Markdown to `path` (whole or not at all).
    pub fn export_chat(&self, chat_id: i64, path: &Path) -> Result<()> {
        if !path.is_absolute() {
            return Err(Error::InvalidInput(format!("{} is not an absolute path", path.display())));
        }
        let chat = self.catalog().chat(chat_id)?;
        let messages = self.catalog().messages(chat_id)?;
        crate::store::write_atomically(path, chat_markdown(&chat, &messages).as_bytes())
    }
}

fn chat_markdown(chat: &Chat, messages: &[StoredMessage]) -> String {
    let mut out = format!("# {}\n", chat.title);
    for m in messages {
        if m.role == "user" {
            out.push_str(&format!("\n**You:** {}\n", m.content.trim()));
            continue;
        }
        out.push_str(&format!("\n**Folio:** {}\n", m.content.trim()));
        let citations =
            m.details.as_ref().and_then(|d| d.get("citations")).and_then(|c| c.as_array()).cloned().unwrap_or_default();
        if !citations.is_empty() {
            out.push('\n');
        }
        for c in citations {
            let number = c.get("number").and_then(|v| v.as_u64()).unwrap_or(0);
            let path = c.get("path").and_then(|v| v.as_str()).unwrap_or("");
            let page = c.get("page").and_then(|v| v.as_u64()).map(|p| format!(", page {p}")).unwrap_or_default();
            let snippet = c.get("snippet").and_then(|v| v.as_str()).unwrap_or("");
            out.push_str(&format!("[{number}]: {path}{page} — \"{snippet}\"\n"));
        }
    }
    out
}
