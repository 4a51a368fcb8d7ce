//! The local decoder: loading, tokenizer, templates, generation control, agreement with
//! candle-transformers on tiny random models, and with llama.cpp on a real model.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::quantized::GgmlDType;
use common::tiny_gguf::{self, TinySpec};
use folio::llm::decoder::{open_decoder, DeviceChoice};
use folio::llm::gguf::GgufFile;
use folio::llm::sampling::SamplingOptions;
use folio::llm::tokenizer::{StreamDecoder, Tokenizer};
use folio::llm::{GenerateOptions, LoadOptions, LocalModel, Message, StopReason};

fn tiny(dir: &std::path::Path, spec: TinySpec) -> std::path::PathBuf {
    let path = dir.join(format!("tiny-{}-{:?}.gguf", spec.arch, spec.matrix_type));
    tiny_gguf::write(&path, &spec);
    path
}

fn load(path: &std::path::Path, device: DeviceChoice) -> LocalModel {
    LocalModel::load(path, &LoadOptions { device, context: 256 }).unwrap()
}

/// Our decoder and candle-transformers' agree on the logits of random models, for the prompt and
/// for tokens decoded one at a time after it.
#[test]
fn native_decoder_matches_candle_transformers() {
    let dir = tempfile::tempdir().unwrap();
    for matrix_type in [GgmlDType::F32, GgmlDType::Q8_0, GgmlDType::Q4_0] {
        let path = tiny(dir.path(), TinySpec { matrix_type, ..TinySpec::default() });
        let file = GgufFile::open(&path).unwrap();
        let mut native = open_decoder(&file, DeviceChoice::Cpu, 256).unwrap();
        let mut candle = open_decoder(&file, DeviceChoice::CandleCpu, 256).unwrap();
        let prompt: Vec<u32> = (0..24).map(|i| (i * 37 % 250) as u32).collect();
        let mut steps = vec![(native.forward(&prompt).unwrap(), candle.forward(&prompt).unwrap())];
        for t in [5u32, 77, 140] {
            steps.push((native.forward(&[t]).unwrap(), candle.forward(&[t]).unwrap()));
        }
        for (step, (a, b)) in steps.iter().enumerate() {
            let range = b.iter().fold(0f32, |m, v| m.max(v.abs()));
            let diff = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            // f16 keys/values and int8 activations (llama.cpp's arithmetic) against candle's f32.
            let tolerance = if matrix_type == GgmlDType::F32 { 0.01 } else { 0.05 };
            assert!(diff <= tolerance * range, "{matrix_type:?} step {step}: max diff {diff} of range {range}");
        }
    }
}

#[test]
fn tiny_model_loads_renders_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path(), TinySpec::default());
    let mut model = load(&path, DeviceChoice::Cpu);
    let prompt = model.render(&[Message::new("system", "S"), Message::new("user", "the a")]).unwrap();
    assert_eq!(prompt, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nthe a<|im_end|>\n<|im_start|>assistant\n");
    let ids = model.encode_prompt(&prompt);
    assert_eq!(ids.iter().filter(|&&t| t == model.tokenizer.token_id("<|im_start|>").unwrap()).count(), 3);
    let cancel = AtomicBool::new(false);

    // Max tokens.
    let options = GenerateOptions { max_tokens: 7, sampling: SamplingOptions::greedy(), stop: vec![] };
    let g = model.chat(&[Message::new("user", "hello")], &options, &cancel, &mut |_| {}).unwrap();
    assert_eq!(g.stop, StopReason::MaxTokens);
    assert_eq!(g.generated_tokens, 7);

    // A stop string taken from what the model does say: the answer ends before it.
    let long = GenerateOptions { max_tokens: 40, ..options.clone() };
    let free = model.chat(&[Message::new("user", "hello")], &long, &cancel, &mut |_| {}).unwrap().text;
    let chars: Vec<char> = free.chars().collect();
    if chars.len() >= 6 {
        let stop: String = chars[3..5].iter().collect();
        let first = free.find(&stop).unwrap();
        let stopped = GenerateOptions { stop: vec![stop.clone()], ..long.clone() };
        let g = model.chat(&[Message::new("user", "hello")], &stopped, &cancel, &mut |_| {}).unwrap();
        assert_eq!(g.stop, StopReason::StopString);
        assert_eq!(g.text, free[..first], "stop {stop:?}");
    }

    // Cancellation takes effect before the next token.
    let mut seen = 0;
    let g = model
        .chat(&[Message::new("user", "hello")], &long, &cancel, &mut |_| {
            seen += 1;
            cancel.store(true, Ordering::SeqCst);
        })
        .unwrap();
    assert_eq!(g.stop, StopReason::Cancelled);
    assert!(g.generated_tokens <= 2, "{} tokens after cancelling", g.generated_tokens);
    assert_eq!(seen, 1);
}

#[test]
fn prompt_longer_than_the_context_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path(), TinySpec::default());
    let mut model = load(&path, DeviceChoice::Cpu);
    let long = "the ".repeat(400);
    let err = model
        .chat(&[Message::new("user", long)], &GenerateOptions::default(), &AtomicBool::new(false), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("context holds 256"), "{err}");
}

#[test]
fn kv_cache_reuse_gives_the_same_answer_as_a_fresh_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path(), TinySpec::default());
    let mut model = load(&path, DeviceChoice::Cpu);
    let options = GenerateOptions { max_tokens: 12, sampling: SamplingOptions::greedy(), stop: vec![] };
    let cancel = AtomicBool::new(false);
    let mut messages = vec![Message::new("user", "the a the")];
    let first = model.chat(&messages, &options, &cancel, &mut |_| {}).unwrap();
    messages.push(Message::new("assistant", first.text));
    messages.push(Message::new("user", "a the a"));
    let reused = model.chat(&messages, &options, &cancel, &mut |_| {}).unwrap();
    assert!(
        reused.reused_tokens > first.prompt_tokens / 2,
        "reused {} of {}",
        reused.reused_tokens,
        reused.prompt_tokens
    );
    model.reset();
    let fresh = model.chat(&messages, &options, &cancel, &mut |_| {}).unwrap();
    assert_eq!(fresh.reused_tokens, 0);
    assert_eq!(reused.text, fresh.text);
}

/// The opening of a conversation (every message before the last) is kept: a later prompt with
/// the same opening reuses it after an unrelated request took the live cache, and answers as a
/// run from scratch does. `prefill_opening` keeps one before any request.
#[test]
fn a_kept_opening_serves_later_prompts_and_changes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path(), TinySpec::default());
    let mut model = load(&path, DeviceChoice::Cpu);
    let options = GenerateOptions { max_tokens: 10, sampling: SamplingOptions::greedy(), stop: vec![] };
    let cancel = AtomicBool::new(false);
    let instructions = Message::new("system", "the a ".repeat(20));
    let ask = |question: &str| vec![instructions.clone(), Message::new("user", question)];
    let unrelated = [Message::new("user", "a a a the")];

    let first = model.chat(&ask("the the a"), &options, &cancel, &mut |_| {}).unwrap();
    assert_eq!(first.reused_tokens, 0);
    model.chat(&unrelated, &options, &cancel, &mut |_| {}).unwrap();
    let kept = model.chat(&ask("a the the"), &options, &cancel, &mut |_| {}).unwrap();
    assert!(kept.reused_tokens >= 40, "reused {}", kept.reused_tokens);
    assert_eq!(model.kept_openings(), 1);
    model.reset();
    assert_eq!(model.kept_openings(), 0);
    let fresh = model.chat(&ask("a the the"), &options, &cancel, &mut |_| {}).unwrap();
    assert_eq!(fresh.reused_tokens, 0);
    assert_eq!(kept.text, fresh.text);

    // Prefilled before the first request.
    model.reset();
    let prefilled = model.prefill_opening(&ask("anything")).unwrap();
    assert_eq!(prefilled, kept.reused_tokens);
    model.chat(&unrelated, &options, &cancel, &mut |_| {}).unwrap();
    let after = model.chat(&ask("a the the"), &options, &cancel, &mut |_| {}).unwrap();
    assert_eq!(after.reused_tokens, prefilled);
    assert_eq!(after.text, fresh.text);
    // A conversation of one message has no opening to keep.
    assert_eq!(model.prefill_opening(&unrelated).unwrap(), 0);
}

/// candle's decoders cannot copy their caches: nothing is kept, and answers are unchanged.
#[test]
fn decoders_without_snapshots_keep_no_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path(), TinySpec::default());
    let mut model = load(&path, DeviceChoice::CandleCpu);
    let options = GenerateOptions { max_tokens: 6, sampling: SamplingOptions::greedy(), stop: vec![] };
    let messages = [Message::new("system", "the a ".repeat(20)), Message::new("user", "a the")];
    assert_eq!(model.prefill_opening(&messages).unwrap(), 0);
    model.chat(&[Message::new("user", "a a")], &options, &AtomicBool::new(false), &mut |_| {}).unwrap();
    let g = model.chat(&messages, &options, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!((g.reused_tokens, model.kept_openings()), (0, 0));
}

#[test]
fn unsupported_and_damaged_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let rwkv = tiny(dir.path(), TinySpec { arch: "rwkv6", ..TinySpec::default() });
    let err = LocalModel::load(&rwkv, &LoadOptions::default()).err().unwrap().to_string();
    assert!(err.contains("rwkv6") && err.contains("not supported") && err.contains("tiny-rwkv6"), "{err}");

    let good = tiny(dir.path(), TinySpec::default());
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    let err = LocalModel::load(&truncated, &LoadOptions::default()).err().unwrap().to_string();
    assert!(err.contains("truncated.gguf") && err.contains("truncated"), "{err}");

    let garbage = dir.path().join("garbage.gguf");
    std::fs::write(&garbage, b"not a model at all").unwrap();
    let err = LocalModel::load(&garbage, &LoadOptions::default()).err().unwrap().to_string();
    assert!(err.contains("garbage.gguf") && err.contains("GGUF"), "{err}");
}

fn real_model(id: &str) -> std::path::PathBuf {
    let path = folio::models::models_dir().join(format!("{id}.gguf"));
    assert!(path.is_file(), "{} is missing; run scripts/fetch-models", path.display());
    path
}

/// A Cyrillic letter split across byte-level tokens is never emitted half.
#[test]
fn streamed_text_is_always_whole_characters() {
    let file = GgufFile::open(&real_model("smollm2-135m-instruct")).unwrap();
    let tokenizer = Tokenizer::from_gguf(&file).unwrap();
    let text = "ЁЖИК в Тумане 🦔!";
    let ids = tokenizer.encode(text, false, false);
    // SmolLM's vocabulary spells Ё as two byte tokens: a split character is really exercised.
    assert!(tokenizer.piece_bytes(ids[0], false).len() == 1);
    let mut stream = StreamDecoder::default();
    let mut pieces: Vec<String> = ids.iter().map(|&id| stream.push(&tokenizer, id)).collect();
    pieces.push(stream.finish());
    assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{pieces:?}");
    assert_eq!(pieces.concat(), text);
}

/// Greedy generation against llama.cpp's greedy tokens (recorded from llama.cpp with the same
/// GGUF). Tokens must agree until the end, or at least 32 of them, unless llama.cpp's own choice
/// was a near tie (its top-2 logit margin below the noise level of int8 activations, measured
/// between two independent implementations at about 0.3): from there on either token is right.
fn greedy_matches_llama_cpp(id: &str) {
    let path = real_model(id);
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("tests/fixtures/greedy/{id}.json")).unwrap()).unwrap();
    let file = GgufFile::open(&path).unwrap();
    let tokenizer = Tokenizer::from_gguf(&file).unwrap();
    let mut decoder = open_decoder(&file, DeviceChoice::Cpu, 1024).unwrap();
    for case in fixture["cases"].as_array().unwrap() {
        let list =
            |k: &str| -> Vec<u32> { case[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect() };
        let margins: Vec<f64> =
            case["top1_top2_logit_margin"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let prompt = tokenizer.encode(case["prompt"].as_str().unwrap(), true, true);
        assert_eq!(prompt, list("prompt_ids"), "{id} {}: prompt tokens", case["name"]);
        let expected = list("generated_ids");
        decoder.truncate(0);
        let mut logits = decoder.forward(&prompt).unwrap();
        let mut agreed = 0;
        for (step, &want) in expected.iter().enumerate() {
            let got = folio::llm::sampling::argmax(&logits);
            if got != want {
                let near_tie = margins[step] < 0.3;
                assert!(
                    near_tie && step >= 8,
                    "{id} {}: step {step} chose {got}, llama.cpp {want} (its margin {:.3})",
                    case["name"],
                    margins[step]
                );
                eprintln!(
                    "{id} {}: {agreed} tokens agree, then a near tie (llama.cpp margin {:.3})",
                    case["name"], margins[step]
                );
                break;
            }
            agreed += 1;
            if tokenizer.is_eog(got) {
                break;
            }
            logits = decoder.forward(&[got]).unwrap();
        }
        if agreed == expected.len() {
            eprintln!("{id} {}: all {agreed} tokens agree", case["name"]);
        }
    }
}

#[test]
fn smollm2_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("smollm2-135m-instruct");
}

#[test]
fn qwen25_greedy_matches_llama_cpp() {
    greedy_matches_llama_cpp("qwen2.5-0.5b-instruct");
}

/// Every answer's opening (instructions in each language) is kept on the real chat template, whose
/// rendering of the opening alone must be a token prefix of the whole prompt's.
#[test]
fn answer_openings_are_kept_with_a_real_chat_template() {
    let mut model = LocalModel::load(&real_model("qwen2.5-0.5b-instruct"), &LoadOptions::default()).unwrap();
    let tokens = folio::answer::prepare(&mut model, &folio::answer::AskOptions::default()).unwrap();
    assert_eq!(model.kept_openings(), 2, "an opening for each language");
    assert!(tokens >= 2 * 60, "{tokens} tokens of instructions");
    // Prepared twice, nothing is run again.
    let again = folio::answer::prepare(&mut model, &folio::answer::AskOptions::default()).unwrap();
    assert_eq!((again, model.kept_openings()), (tokens, 2));
}

/// Without `--model`, the command line answers with the model the window's settings name: the
/// engine decides which model runs (`models::startup`), the faces only pass on what they were told.
#[test]
fn the_command_line_uses_the_settings_model_when_none_is_named() {
    real_model("smollm2-135m-instruct");
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, "model = \"smollm2-135m-instruct\"\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .env("FOLIO_CONFIG", &settings)
        .args(["generate", "--greedy", "--max-tokens", "4", "Hello"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("[model smollm2-135m-instruct]"), "{stderr}");
}
