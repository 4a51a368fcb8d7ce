//! Cited answers end to end, on the real embedder and the real default model (qwen2.5-0.5b-instruct,
//! fetched by the test command): citations resolve to real chunks and pages, a follow-up question
//! retrieves the document of the conversation, nothing relevant gets the honest "not found", and
//! a stopped answer says so.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, OnceLock};

use common::{index, open, write_pdf, E5};
use folio::answer::{Answer, AskOptions, PromptStyle};
use folio::llm::{LoadOptions, LocalModel};
use folio::Library;

const MODEL: &str = "qwen2.5-0.5b-instruct.gguf";

/// One model for all tests: loading it is the slow part, and answers take turns on it anyway.
fn model() -> std::sync::MutexGuard<'static, LocalModel> {
    static MODEL_SLOT: OnceLock<Mutex<LocalModel>> = OnceLock::new();
    MODEL_SLOT
        .get_or_init(|| {
            let path = folio::models::models_dir().join(MODEL);
            assert!(
                path.is_file(),
                "{} is missing; run scripts/fetch-models (the README's test command does)",
                path.display()
            );
            Mutex::new(LocalModel::load(&path, &LoadOptions::default()).expect("the model loads"))
        })
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn options() -> AskOptions {
    // Short answers keep the tests quick; what is checked is retrieval and citations.
    AskOptions { max_answer_tokens: 48, ..AskOptions::default() }
}

fn ask(library: &Library, question: &str, options: &AskOptions) -> Answer {
    library.ask(&mut model(), question, options, &AtomicBool::new(false), &mut |_| {}).expect("the answer runs")
}

/// `ask` with the model's cache emptied first, so that the words do not depend on which test
/// used the model before (the cached prefix of another prompt changes them slightly).
fn ask_afresh(library: &Library, question: &str, options: &AskOptions) -> Answer {
    let mut model = model();
    model.reset();
    library.ask(&mut model, question, options, &AtomicBool::new(false), &mut |_| {}).expect("the answer runs")
}

fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

#[test]
fn citations_resolve_to_real_chunks_and_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write_pdf(
        &docs.join("field-guide.pdf"),
        &[
            "Lighthouses guide ships along rocky coasts.\nTheir lamps turn all night.",
            "Honey bees tell each other where flowers are\nby dancing on the comb: the waggle dance.\nThe angle of the dance shows the direction of the flowers.",
            "Green tea is brewed with water below boiling\nfor two to three minutes.",
        ],
        false,
    );
    write(&docs, "notes.txt", "Penguins cannot fly, but they swim very fast.");
    let library = open(&tmp.path().join("lib"), E5);
    index(&library, &[&docs]);

    let answer = ask(&library, "How do honey bees tell each other where the flowers are?", &options());
    assert!(!answer.nothing_relevant && !answer.sources.is_empty(), "{answer:?}");
    let best = &answer.sources[0];
    assert_eq!((name(&best.path), best.page), ("field-guide.pdf", Some(2)), "{:?}", answer.sources);

    // Every source is made of real chunks of its file and page, and shows their text.
    for source in &answer.sources {
        let chunks = library.catalog().chunks(&source.chunk_ids).unwrap();
        assert_eq!(chunks.len(), source.chunk_ids.len());
        for chunk in &chunks {
            assert_eq!((&chunk.path, chunk.page), (&source.path, source.page));
            let head: String = chunk.text.chars().take(40).collect();
            assert!(source.text.contains(head.trim()), "{:?} not in {:?}", chunk.text, source.text);
        }
    }
    // Every citation names a source that was given, with its file, page and chunks; the answer
    // cites the page that holds the answer.
    assert!(!answer.citations.is_empty(), "{answer:?}");
    for citation in &answer.citations {
        let source = answer.sources.iter().find(|s| s.number == citation.number).expect("a cited number was given");
        assert_eq!(
            (&citation.path, citation.page, &citation.chunk_ids),
            (&source.path, source.page, &source.chunk_ids)
        );
    }
    assert!(
        answer.citations.iter().any(|c| name(&c.path) == "field-guide.pdf" && c.page == Some(2)),
        "{:?}",
        answer.citations
    );
    assert!(answer.text.contains("[1]") || answer.inferred_citations > 0, "{}", answer.text);
}

#[test]
fn a_follow_up_retrieves_the_document_of_the_conversation() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write(
        &docs,
        "bees.txt",
        "Honey bees tell each other where flowers are by dancing. A honey bee worker lives about six weeks in summer.",
    );
    // Without the conversation, the follow-up's words match this one better.
    write(&docs, "ants.txt", "How long do workers live? Ant workers live long: a worker ant lives up to seven years, and a queen ant up to thirty.");
    let library = open(&tmp.path().join("lib"), E5);
    index(&library, &[&docs]);

    let first = ask(&library, "How do honey bees communicate?", &options());
    assert_eq!(name(&first.sources[0].path), "bees.txt", "{:?}", first.sources);
    let chat = first.chat_id.expect("the exchange is kept");

    let follow_up = AskOptions { chat_id: Some(chat), ..options() };
    let second = ask(&library, "How long do their workers live?", &follow_up);
    assert!(second.query.contains("bees"), "the query keeps the conversation's subject: {}", second.query);
    assert_eq!(name(&second.sources[0].path), "bees.txt", "{:?}", second.sources);
    assert_eq!(library.chat_history(chat).unwrap().len(), 2);

    // The chat exported by the engine (the window only picks the path): both turns, their sources.
    let exported = tmp.path().join("chat.md");
    library.export_chat(chat, &exported).unwrap();
    let markdown = std::fs::read_to_string(&exported).unwrap();
    assert!(markdown.contains("**You:** How do honey bees communicate?"), "{markdown}");
    assert!(
        markdown.contains("**You:** How long do their workers live?") && markdown.contains("bees.txt"),
        "{markdown}"
    );
    assert!(library.export_chat(chat, std::path::Path::new("chat.md")).is_err(), "a relative path is refused");

    // The same question outside the conversation goes to the ants: the difference is the follow-up.
    let alone = ask(&library, "How long do their workers live?", &options());
    assert_eq!(name(&alone.sources[0].path), "ants.txt", "{:?}", alone.sources);
}

#[test]
fn an_empty_library_and_an_unrelated_question_get_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let library = open(&tmp.path().join("lib"), E5);
    let empty = ask(&library, "How do honey bees communicate?", &options());
    assert!(empty.nothing_relevant && empty.refused && empty.citations.is_empty(), "{empty:?}");
    assert_eq!(empty.text, "I could not find this in your documents.");

    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write(&docs, "tea.txt", "Green tea is brewed with water below boiling for two to three minutes.");
    write(&docs, "bees.txt", "Honey bees tell each other where flowers are by dancing on the comb.");
    index(&library, &[&docs]);
    let unrelated = ask(&library, "Which team won the football World Cup in 1998?", &options());
    assert!(unrelated.refused && unrelated.citations.is_empty(), "{unrelated:?}");
    // In Russian too, answered in Russian.
    let russian = ask(&library, "Какая команда выиграла чемпионат мира по футболу в 1998 году?", &options());
    assert!(russian.refused && russian.citations.is_empty(), "{russian:?}");
    assert!(russian.text.contains("документах"), "{}", russian.text);
}

#[test]
fn a_model_refusal_reads_as_the_apps_sentence_with_the_closest_passages() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write(&docs, "tea.txt", "Green tea is brewed with water below boiling for two to three minutes.");
    write(&docs, "bees.txt", "Honey bees tell each other where flowers are by dancing on the comb.");
    let library = open(&tmp.path().join("lib"), E5);
    index(&library, &[&docs]);
    // Past the gate whatever the similarity: the model itself must find no answer. The prompt
    // that also shows a refused question, since with the default one this 0.5B model answers
    // from unrelated text (the answers issue's figures); what is tested is what follows a refusal.
    let asked = AskOptions { min_similarity: Some(-1.0), prompt: Some(PromptStyle::ShortExamples), ..options() };
    for (question, sentence) in [
        ("Which team won the football World Cup in 1998?", "I could not find this in your documents."),
        (
            "Какая команда выиграла чемпионат мира по футболу в 1998 году?",
            "В ваших документах ответа на этот вопрос нет.",
        ),
    ] {
        let answer = ask_afresh(&library, question, &asked);
        assert!(answer.refused && !answer.nothing_relevant, "{answer:?}");
        // The app's own sentence in the question's language, never the model's wording.
        assert_eq!(answer.text, sentence);
        assert!(answer.citations.is_empty() && answer.lead.is_empty(), "{answer:?}");
        let closest: Vec<&str> = answer.closest.iter().map(|c| name(&c.path)).collect();
        assert!(!closest.is_empty() && closest.iter().all(|f| ["tea.txt", "bees.txt"].contains(f)), "{closest:?}");
    }
}

#[test]
fn a_stopped_answer_says_so_and_keeps_what_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write(
        &docs,
        "bees.txt",
        "Honey bees tell each other where flowers are by dancing on the comb. The round dance says that \
         flowers are close to the hive. The waggle dance gives the direction and the distance of flowers \
         further away. A colony holds tens of thousands of workers and a single queen.",
    );
    let library = open(&tmp.path().join("lib"), E5);
    index(&library, &[&docs]);

    let cancel = AtomicBool::new(false);
    let mut streamed = String::new();
    // A question whose answer runs past its first sentence, so there is something left to stop.
    let question = "Describe everything the documents say about how honey bees communicate, in detail.";
    let mut model = model();
    // Afresh: what another test left in the model's cache would change the words, and this test
    // needs an answer that goes on past its first sentence.
    model.reset();
    let answer = library
        .ask(&mut model, question, &options(), &cancel, &mut |event| {
            if let folio::answer::AskEvent::Text(text) = event {
                streamed.push_str(&text);
                // Stop after the first words, as the stop button does.
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .unwrap();
    assert!(answer.stopped && !answer.refused, "{answer:?}");
    // The first words reach the reader once the first sentence is whole (a refusal is held back
    // until then); the model stops right after them.
    let shown = model.count_tokens(&streamed);
    assert!(!streamed.is_empty() && answer.generated_tokens <= shown + 2, "{shown} shown: {answer:?}");
    let chat = library.chat_history(answer.chat_id.unwrap()).unwrap();
    assert_eq!(chat[0].1, answer.text);
}

#[test]
fn a_russian_question_about_english_documents_is_answered_from_them() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write(&docs, "bees.txt", "Honey bees tell each other where flowers are by dancing on the comb: the waggle dance.");
    write(&docs, "tea.txt", "Green tea is brewed with water below boiling for two to three minutes.");
    let library = open(&tmp.path().join("lib"), E5);
    index(&library, &[&docs]);

    let question = "Как медоносные пчёлы сообщают друг другу, где находятся цветы?";
    let ranked = library.retrieve(question, folio::SearchMode::Hybrid, 24).unwrap();
    let gate = folio::answer::gate::judge(&library, question, &ranked, folio::answer::Language::Russian, None).unwrap();
    // The passage is further from the question than one in the same language would be, and holds
    // none of its words: the cross-lingual line lets it through, the same-language one would not.
    assert!(gate.cross_lingual && gate.relevant(), "{gate:?}");
    let same_language = folio::answer::gate::Gate { line: folio::answer::gate::line(E5, false), ..gate };
    assert!(!same_language.relevant(), "{gate:?}");

    let answer = ask(&library, question, &options());
    assert!(!answer.nothing_relevant && !answer.refused, "{answer:?}");
    assert_eq!(name(&answer.sources[0].path), "bees.txt", "{:?}", answer.sources);
    assert!(answer.citations.iter().any(|c| name(&c.path) == "bees.txt"), "{answer:?}");
    // Written from the English passage in English, then translated: the reader gets Russian.
    let original = answer.translated_from.as_deref().expect("the answer was translated");
    assert_eq!(folio::answer::Language::detect(original), folio::answer::Language::English, "{original}");
    assert_eq!(folio::answer::Language::detect(&answer.text), folio::answer::Language::Russian, "{}", answer.text);
}

#[test]
fn the_gate_calibration_separates_indexed_from_held_out_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    write(&docs, "a-bees.txt", "Honey bees tell each other where flowers are by dancing on the comb.");
    write(&docs, "b-tea.txt", "Green tea is brewed with water below boiling for two to three minutes.");
    // Held out (last by name): its questions should be stopped.
    write(&docs, "z-volcano.txt", "Mount Etna in Sicily is the most active volcano in Europe.");
    let questions = tmp.path().join("questions.jsonl");
    let line = |q: &str, doc: &str| {
        format!("{{\"id\": \"{doc}\", \"question\": \"{q}\", \"answers\": [], \"doc\": \"{doc}\"}}\n")
    };
    let text = [
        line("How do honey bees show where flowers are?", "a-bees.txt"),
        line("How long should green tea be brewed?", "b-tea.txt"),
        line("Which is the most active volcano in Europe?", "z-volcano.txt"),
    ]
    .concat();
    std::fs::write(&questions, text).unwrap();

    let set = folio::eval::qa::prepare(&docs, &questions, None, 1, &tmp.path().join("work"), common::options(E5), true)
        .unwrap();
    assert_eq!((set.answerable.len(), set.unanswerable.len()), (2, 1));
    let report = folio::eval::gate::evaluate(&set).unwrap();
    let (answerable, unanswerable) = (&report.answerable, report.unanswerable.as_ref().unwrap());
    assert_eq!((answerable.passed, unanswerable.passed), (1.0, 0.0), "{report:?}");
    assert!(answerable.best_p05 > unanswerable.best_p95, "{report:?}");
    // The sweep runs from lines that pass everything to lines that stop everything.
    let (first, last) = (report.sweep.first().unwrap(), report.sweep.last().unwrap());
    assert_eq!((first.answerable_passed, first.unanswerable_stopped), (1.0, 0.0), "{first:?}");
    assert_eq!((last.answerable_passed, last.unanswerable_stopped), (0.0, 1.0), "{last:?}");
}
