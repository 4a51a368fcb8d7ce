//! Chats as the faces read them: typed roles and details (old chats included), the engine's limits
//! on what a face passes in, typed errors a face can act on, and `folio chats --export` writing
//! what the window's export writes.

mod common;

use common::{open, E5, MINILM};
use folio::answer::chats::{checked_question, MAX_QUESTION_CHARS, MAX_TITLE_CHARS};
use folio::store::chats::Role;
use folio::{Error, Library, LibraryOptions};

#[test]
fn a_chat_saved_before_later_fields_reads_with_all_of_them_and_exports_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    let chat = {
        let library = open(&dir, MINILM);
        let chat = library.catalog().create_chat("Pumps").unwrap();
        library.catalog().add_message(chat, Role::User, "What about pumps?", None).unwrap();
        // As an early version kept it: no `closest`, no `stopped`.
        let early = serde_json::json!({
            "query": "pumps",
            "citations": [{"number": 1, "path": "/docs/pumps.pdf", "page": 3, "snippet": "Never run dry.",
                           "score": 0.5, "chunk_ids": [7]}],
            "refused": false,
            "dropped_citations": 0,
        });
        library.catalog().add_message(chat, Role::Assistant, "Never run them dry [1].", Some(&early)).unwrap();

        let messages = library.chat_messages(chat).unwrap();
        assert_eq!((messages[0].role, messages[1].role), (Role::User, Role::Assistant));
        let details = messages[1].details.as_ref().unwrap();
        assert!(details.closest.is_empty() && !details.stopped, "{details:?}");
        assert_eq!(details.citations[0].page, Some(3), "{details:?}");
        assert!(messages[0].details.is_none());
        // The window reads the same shape: roles as words, every field of the details present.
        let json = serde_json::to_value(&messages).unwrap();
        assert_eq!(json[0]["role"], "user");
        assert_eq!(json[1]["details"]["closest"], serde_json::json!([]), "{json}");
        assert_eq!(json[1]["details"]["citations"][0]["page"], 3, "{json}");
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

    // What the window does to a chat, the command line does too.
    let folio = |args: &[&str]| {
        let mut all = vec!["--library", dir.to_str().unwrap()];
        all.extend_from_slice(args);
        std::process::Command::new(env!("CARGO_BIN_EXE_folio")).args(all).output().unwrap()
    };
    let id = chat.to_string();
    assert!(!folio(&["chats", "--rename", &id, "--title", " "]).status.success(), "an empty title");
    assert!(folio(&["chats", "--rename", &id, "--title", "Pumps, spring"]).status.success());
    let listed = String::from_utf8(folio(&["chats"]).stdout).unwrap();
    assert!(listed.contains("Pumps, spring"), "{listed}");
    assert!(folio(&["chats", "--delete", &id]).status.success());
    assert!(!folio(&["chats", "--delete", &id]).status.success(), "a chat deleted twice");
    let listed = String::from_utf8(folio(&["chats"]).stdout).unwrap();
    assert!(listed.contains("No chats yet"), "{listed}");
}

#[test]
fn the_engine_refuses_what_no_face_should_pass_in() {
    let tmp = tempfile::tempdir().unwrap();
    let library = open(&tmp.path().join("lib"), MINILM);
    assert_eq!(checked_question("  What pumps?\n").unwrap(), "What pumps?");
    for question in [String::new(), " \n\t ".into(), "я".repeat(MAX_QUESTION_CHARS + 1)] {
        assert!(matches!(checked_question(&question), Err(Error::InvalidInput(_))), "{} chars", question.len());
    }
    // Counted in characters, not bytes: a Russian question at the limit is taken.
    assert!(checked_question(&"я".repeat(MAX_QUESTION_CHARS)).is_ok());

    let chat = library.catalog().create_chat("Pumps").unwrap();
    for title in ["", "   ", &"t".repeat(MAX_TITLE_CHARS + 1)] {
        assert!(matches!(library.rename_chat(chat, title), Err(Error::InvalidInput(_))), "{title:?}");
    }
    library.rename_chat(chat, "  Pumps, spring  ").unwrap();
    assert_eq!(library.catalog().chat(chat).unwrap().title, "Pumps, spring");
    assert!(library.rename_chat(chat + 1, "Nothing").is_err(), "a chat that does not exist");
    // An export path a face did not resolve is refused, not written relative to wherever the app runs.
    assert!(matches!(library.export_chat(chat, std::path::Path::new("chat.md")), Err(Error::InvalidInput(_))));
}

#[test]
fn errors_a_face_acts_on_are_typed_and_name_no_face() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    let library = open(&dir, MINILM);
    let options = |embedder: &str| LibraryOptions { embedder: Some(embedder.into()), ..LibraryOptions::default() };
    let locked = Library::open(&dir, options(MINILM)).err().expect("a second open of a library in use");
    assert!(matches!(locked, Error::LibraryLocked { .. }), "{locked}");
    drop(library);
    let mismatch = Library::open(&dir, options(E5)).err().expect("another embedder");
    match &mismatch {
        Error::EmbedderMismatch { stored, requested, .. } => {
            assert_eq!((stored.as_str(), requested.as_str()), (MINILM, E5))
        }
        other => panic!("{other}"),
    }
    let missing = folio::llm::resolve_model("no-such-model-0b").unwrap_err();
    assert!(matches!(missing, Error::ModelMissing { ref model, .. } if model == "no-such-model-0b"), "{missing}");
    let missing_installed = folio::models::installed_model_file("no-such-model-0b").unwrap_err();
    assert!(matches!(missing_installed, Error::ModelMissing { .. }), "{missing_installed}");
    // The engine speaks to every face: no command-line flag, no script, no menu in its messages.
    for error in [locked, mismatch, missing, missing_installed] {
        let message = error.to_string();
        assert!(!message.contains("--") && !message.contains("scripts/"), "{message}");
    }

    // The command line adds its own remedy.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["--library", dir.to_str().unwrap(), "index", "--embedder", E5, tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("was built with the embedder") && stderr.contains("leave out --embedder"), "{stderr}");
}
