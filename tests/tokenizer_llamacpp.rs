//! Token ids of our GGUF tokenizer against ids recorded from llama.cpp for the same files.

use folio::llm::gguf::GgufFile;
use folio::llm::tokenizer::Tokenizer;
use serde_json::Value;

fn check(model: &str) {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("tests/fixtures/tokenizer/{model}.json")).unwrap())
            .unwrap();
    let path = folio::models::models_dir().join(format!("{model}.gguf"));
    assert!(path.is_file(), "{} missing; run scripts/fetch-models", path.display());
    let file = GgufFile::open(&path).unwrap();
    let tokenizer = Tokenizer::from_gguf(&file).unwrap();
    let mut failures = Vec::new();
    for case in fixture["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let ids = |key: &str| -> Vec<u32> {
            case[key].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect()
        };
        let plain = tokenizer.encode(text, false, false);
        if plain != ids("ids_plain") {
            failures.push(format!("plain {text:?}\n  ours   {plain:?}\n  llama  {:?}", ids("ids_plain")));
        }
        let special = tokenizer.encode(text, true, true);
        if special != ids("ids_special") {
            failures.push(format!("special {text:?}\n  ours   {special:?}\n  llama  {:?}", ids("ids_special")));
        }
        // Decoding the ids gives the text back (control tokens aside).
        if !text.contains('<') {
            assert_eq!(tokenizer.decode(&plain, false), text, "{model}: round trip");
        }
    }
    assert!(failures.is_empty(), "{model}: {} mismatches\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn smollm2_ids_equal_llama_cpp() {
    check("smollm2-135m-instruct");
}

#[test]
fn qwen25_ids_equal_llama_cpp() {
    check("qwen2.5-0.5b-instruct");
}

#[test]
fn gemma3_ids_equal_llama_cpp() {
    check("gemma-3-270m");
}
