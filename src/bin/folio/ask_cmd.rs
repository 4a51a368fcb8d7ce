//! `folio ask`, `folio chats` and `folio summarize`: cited answers from the command line.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use folio::answer::{AskEvent, AskOptions, Rewrite};
use folio::store::chats::Role;
use folio::Library;

use crate::llm_cmd::{load, ModelArgs};
use crate::output::{print_json, snippet};

pub fn ask(
    library: &Library,
    model_args: &ModelArgs,
    question: &str,
    chat: Option<i64>,
    rewrite: Rewrite,
    within: Vec<std::path::PathBuf>,
    json: bool,
) -> Result<()> {
    // A scope that holds nothing is refused before the model loads.
    if !within.is_empty() {
        library.scope(&within)?;
    }
    let mut model = load(model_args)?;
    let cancel = crate::llm_cmd::cancel_on_ctrl_c();
    let options = AskOptions { chat_id: chat, rewrite, within, ..AskOptions::default() };
    let mut out = std::io::stdout();
    let answer = library.ask(&mut model, question, &options, &cancel, &mut |event| {
        if json {
            return;
        }
        if let AskEvent::Text(t) = event {
            let _ = out.write_all(t.as_bytes());
            let _ = out.flush();
        }
    })?;
    if json {
        print_json(&answer);
        return Ok(());
    }
    println!();
    if !answer.citations.is_empty() {
        println!("\nSources:");
        for c in &answer.citations {
            let page = c.page.map(|p| format!(", page {p}")).unwrap_or_default();
            println!("  [{}] {}{page}", c.number, c.path.display());
            println!("      {}", snippet(&c.snippet, 160));
        }
    } else if !answer.closest.is_empty() {
        println!("\nThe closest passages:");
        for c in &answer.closest {
            let page = c.page.map(|p| format!(", page {p}")).unwrap_or_default();
            println!("  [{}] {}{page}", c.number, c.path.display());
            println!("      {}", snippet(&c.snippet, 160));
        }
    } else if !answer.nothing_relevant && !answer.sources.is_empty() && !answer.refused {
        println!("\n(The answer cites no source; the passages given to the model were:)");
        for s in answer.sources.iter().take(3) {
            println!(
                "  [{}] {}{}",
                s.number,
                s.path.display(),
                s.page.map(|p| format!(", page {p}")).unwrap_or_default()
            );
        }
    }
    eprintln!(
        "[chat {}; first token after {:.1} s, {:.1} s in all; {} prompt tokens]",
        answer.chat_id.map(|c| c.to_string()).unwrap_or("-".into()),
        answer.first_token_seconds,
        answer.total_seconds,
        answer.prompt_tokens
    );
    Ok(())
}

pub fn chats(library: &Library, show: Option<i64>, json: bool) -> Result<()> {
    if let Some(id) = show {
        let messages = library.chat_messages(id)?;
        if json {
            print_json(&messages);
        } else {
            println!("{}", library.catalog().chat(id)?.title);
            for m in messages {
                println!(
                    "\n{}: {}",
                    match m.role {
                        Role::User => "You",
                        Role::Assistant => "Folio",
                    },
                    m.content
                );
            }
        }
        return Ok(());
    }
    let chats = library.catalog().chats()?;
    if json {
        print_json(&chats);
    } else if chats.is_empty() {
        println!("No chats yet. Ask something: folio ask \"…\"");
    } else {
        for c in chats {
            println!("{:>5}  {:>3} messages  {}", c.id, c.messages, c.title);
        }
    }
    Ok(())
}

/// Writes a chat as Markdown (the window's export), to a path relative to the working folder or
/// absolute.
pub fn export_chat(library: &Library, chat_id: i64, to: &Path) -> Result<()> {
    let to = std::path::absolute(to).with_context(|| format!("cannot resolve {}", to.display()))?;
    library.export_chat(chat_id, &to)?;
    eprintln!("wrote {}", to.display());
    Ok(())
}

pub fn summarize(library: &Library, model_args: &ModelArgs, file: &Path, json: bool) -> Result<()> {
    let mut model = load(model_args)?;
    let cancel = crate::llm_cmd::cancel_on_ctrl_c();
    let mut out = std::io::stdout();
    let summary = library.summarize(&mut model, file, &cancel, &mut |t| {
        if !json {
            let _ = out.write_all(t.as_bytes());
            let _ = out.flush();
        }
    })?;
    if json {
        print_json(&summary);
    } else {
        println!();
        eprintln!("[{} passages, {} model calls, {:.1} s]", summary.passages, summary.calls, summary.seconds);
    }
    Ok(())
}
