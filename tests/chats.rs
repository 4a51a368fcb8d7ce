//! Chats as the faces read them: an answer's details always in the shape of `MessageDetails`, old
//! chats included, and `folio chats --export` writing what the window's export writes.

mod common;

use common::{open, MINILM};

#[test]
fn a_chat_saved_before_later_fields_reads_with_all_of_them_and_exports_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    let chat = {
        let library = open(&dir, MINILM);
        let chat = library.catalog().create_chat("Pumps").unwrap();
        library.catalog().add_message(chat, "user", "What about pumps?", None).unwrap();
        // As an early version kept it: no `closest`, no `stopped`.
        let early = serde_json::json!({
            "query": "pumps",
            "citations": [{"number": 1, "path": "/docs/pumps.pdf", "page": 3, "snippet": "Never run dry.",
                           "score": 0.5, "chunk_ids": [7]}],
            "refused": false,
            "dropped_citations": 0,
        });
        library.catalog().add_message(chat, "assistant", "Never run them dry [1].", Some(&early)).unwrap();

        let messages = library.chat_messages(chat).unwrap();
        let details = messages[1].details.as_ref().unwrap();
        assert_eq!(details["closest"], serde_json::json!([]), "{details}");
        assert_eq!(details["stopped"], serde_json::json!(false), "{details}");
        assert_eq!(details["citations"][0]["page"], 3, "{details}");
        assert!(messages[0].details.is_none());
        chat
    };

    // The CLI writes a path relative to where it runs.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .current_dir(tmp.path())
        .args(["--library", dir.to_str().unwrap(), "chats", "--export", &chat.to_string(), "--to", "pumps.md"])
        .status()
        .unwrap();
    assert!(status.success());
    let markdown = std::fs::read_to_string(tmp.path().join("pumps.md")).unwrap();
    assert!(markdown.starts_with("# Pumps"), "{markdown}");
    assert!(markdown.contains("**You:** What about pumps?"), "{markdown}");
    assert!(markdown.contains("[1]: /docs/pumps.pdf, page 3 — \"Never run dry.\""), "{markdown}");

    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .current_dir(tmp.path())
        .args(["--library", dir.to_str().unwrap(), "chats", "--export", "999", "--to", "none.md"])
        .output()
        .unwrap();
    assert!(!missing.status.success() && !tmp.path().join("none.md").exists());
}
