//! A chat as Markdown: questions, answers, and the sources each answer cites.

use folio::store::chats::{Chat, StoredMessage};

pub fn chat_markdown(chat: &Chat, messages: &[StoredMessage]) -> String {
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
