//! Chats and their messages, in the catalog: a conversation and its cited answers survive restarts.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::catalog::{now_secs, Catalog};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Chat {
    pub id: i64,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub messages: usize,
}

/// Who wrote a message of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    /// The word the catalog stores (its `CHECK` constraint names the same two).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    fn parse(stored: &str) -> Option<Role> {
        match stored {
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}

/// A message as the catalog keeps it. Faces read chats through `Library::chat_messages`, which
/// types the details.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: i64,
    pub chat_id: i64,
    pub role: Role,
    pub content: String,
    /// JSON details of an answer (`answer::MessageDetails`, which the store does not know);
    /// `None` for questions.
    pub details: Option<serde_json::Value>,
    pub created_at: i64,
}

impl Catalog {
    pub fn create_chat(&self, title: &str) -> Result<i64> {
        let now = now_secs();
        let conn = self.write();
        conn.execute("INSERT INTO chats(title, created_at, updated_at) VALUES (?1, ?2, ?2)", params![title, now])
            .map_err(|e| self.err(e))?;
        Ok(conn.last_insert_rowid())
    }

    pub fn chats(&self) -> Result<Vec<Chat>> {
        let conn = self.read();
        let rows = conn
            .prepare(
                "SELECT c.id, c.title, c.created_at, c.updated_at, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id)
                 FROM chats c ORDER BY c.updated_at DESC, c.id DESC",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(Chat { id: r.get(0)?, title: r.get(1)?, created_at: r.get(2)?, updated_at: r.get(3)?, messages: r.get::<_, i64>(4)? as usize })
                })?
                .collect()
            })
            .map_err(|e| self.err(e));
        rows
    }

    pub fn chat(&self, id: i64) -> Result<Chat> {
        self.chats()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| Error::InvalidInput(format!("there is no chat {id}")))
    }

    pub fn rename_chat(&self, id: i64, title: &str) -> Result<()> {
        self.write()
            .execute("UPDATE chats SET title = ?2 WHERE id = ?1", params![id, title])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn delete_chat(&self, id: i64) -> Result<()> {
        let mut conn = self.write();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM messages WHERE chat_id = ?1", [id]).map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM chats WHERE id = ?1", [id]).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    pub fn add_message(
        &self,
        chat_id: i64,
        role: Role,
        content: &str,
        details: Option<&serde_json::Value>,
    ) -> Result<i64> {
        let now = now_secs();
        let details = details.map(|d| d.to_string());
        let mut conn = self.write();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO messages(chat_id, role, content, details, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![chat_id, role.as_str(), content, details, now],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        tx.execute("UPDATE chats SET updated_at = ?2 WHERE id = ?1", params![chat_id, now]).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    pub fn messages(&self, chat_id: i64) -> Result<Vec<StoredMessage>> {
        let conn = self.read();
        let rows = conn
            .prepare(
                "SELECT id, chat_id, role, content, details, created_at FROM messages WHERE chat_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([chat_id], |r| {
                    let details: Option<String> = r.get(4)?;
                    let role: String = r.get(2)?;
                    let role = Role::parse(&role).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            2,
                            rusqlite::types::Type::Text,
                            format!("a message's role is '{role}'").into(),
                        )
                    })?;
                    Ok(StoredMessage {
                        id: r.get(0)?,
                        chat_id: r.get(1)?,
                        role,
                        content: r.get(3)?,
                        details: details.and_then(|d| serde_json::from_str(&d).ok()),
                        created_at: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.err(e));
        rows
    }

    pub fn last_message_id(&self, chat_id: i64) -> Result<Option<i64>> {
        self.read()
            .query_row("SELECT MAX(id) FROM messages WHERE chat_id = ?1", [chat_id], |r| r.get(0))
            .optional()
            .map(|v| v.flatten())
            .map_err(|e| self.err(e))
    }
}
