//! Damaged GGUF files: every kind of bad header the decoder could divide by, allocate from or
//! index with is an error that says what is wrong — never a panic, an abort or a wedged thread.
//! The files are the tests' own tiny models with one field broken.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::Value;
use common::tiny_gguf::{self, TinySpec};
use folio::llm::decoder::{open_decoder, DeviceChoice};
use folio::llm::gguf::GgufFile;
use folio::llm::native::config::Config;
use folio::llm::tokenizer::Tokenizer;
use folio::llm::{LoadOptions, LocalModel};

/// Everything loading does, step by step, without `LocalModel::load`'s own panic guard: a panic
/// here is a check that is missing. Returns the error text.
fn load_error(path: &Path) -> Result<String, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| -> folio::Result<()> {
        let file = GgufFile::open(path)?;
        Config::from_gguf(&file)?;
        Tokenizer::from_gguf(&file)?;
        let mut decoder = open_decoder(&file, DeviceChoice::Cpu, 256)?;
        decoder.forward(&[1, 2, 3])?;
        Ok(())
    }));
    match outcome {
        Ok(Ok(())) => Err("loaded and ran".into()),
        Ok(Err(e)) => Ok(e.to_string()),
        Err(panic) => Err(format!("panicked: {}", folio::error::panic_message(panic.as_ref()))),
    }
}

fn set(metadata: &mut Vec<(String, Value)>, key: &str, value: Value) {
    metadata.retain(|(k, _)| k != key);
    metadata.push((key.to_string(), value));
}

fn damaged(dir: &Path, name: &str, edit: &tiny_gguf::Edit) -> PathBuf {
    let path = dir.join(format!("{name}.gguf"));
    tiny_gguf::write_edited(&path, &TinySpec::default(), edit);
    path
}

#[test]
fn every_damaged_hyperparameter_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let u32_field = |key: &'static str, value: u32, expect: &'static str| {
        (
            format!("{key}={value}"),
            Box::new(move |m: &mut Vec<(String, Value)>, _: &mut Vec<_>| {
                set(m, &format!("llama.{key}"), Value::U32(value))
            }) as Box<tiny_gguf::Edit>,
            expect,
        )
    };
    let cases: Vec<(String, Box<tiny_gguf::Edit>, &str)> = vec![
        u32_field("attention.head_count", 0, "attention heads"),
        u32_field("attention.head_count_kv", 0, "key-value heads"),
        u32_field("attention.head_count_kv", 3, "do not divide"),
        u32_field("embedding_length", 0, "embedding width"),
        u32_field("block_count", u32::MAX, "block count"),
        u32_field("block_count", 0, "block count"),
        u32_field("block_count", 1000, "blocks declared"),
        u32_field("block_count", 3, "blk.2"),
        u32_field("feed_forward_length", 0, "feed-forward"),
        u32_field("context_length", 0, "context length"),
        u32_field("rope.dimension_count", 1000, "rope dimensions"),
        u32_field("rope.dimension_count", 7, "rope dimensions"),
        u32_field("attention.key_length", 0, "head width"),
        u32_field("attention.key_length", u32::MAX, "head width"),
        (
            "head_count=3 without key_length".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| {
                set(m, "llama.attention.head_count", Value::U32(3));
                set(m, "llama.attention.head_count_kv", Value::U32(3));
            }),
            "do not divide the embedding width",
        ),
        (
            "epsilon NaN".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| {
                set(m, "llama.attention.layer_norm_rms_epsilon", Value::F32(f32::NAN))
            }),
            "norm epsilon",
        ),
        (
            "rope base negative".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| set(m, "llama.rope.freq_base", Value::F32(-1.0))),
            "rope base",
        ),
        (
            "alignment 0".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| set(m, "general.alignment", Value::U32(0))),
            "GGUF",
        ),
        (
            "alignment 24".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| set(m, "general.alignment", Value::U32(24))),
            "alignment",
        ),
        (
            "no token embeddings".into(),
            Box::new(|_: &mut Vec<(String, Value)>, t: &mut Vec<(String, _)>| {
                t.retain(|(n, _)| n != "token_embd.weight")
            }),
            "token_embd.weight",
        ),
        (
            "a query matrix of the wrong shape".into(),
            Box::new(|_: &mut Vec<(String, Value)>, t: &mut Vec<(String, candle_core::quantized::QTensor)>| {
                let zeros = candle_core::Tensor::zeros((3, 64), candle_core::DType::F32, &candle_core::Device::Cpu);
                let wrong =
                    candle_core::quantized::QTensor::quantize(&zeros.unwrap(), candle_core::quantized::GgmlDType::F32);
                t.iter_mut().find(|(n, _)| n == "blk.0.attn_q.weight").unwrap().1 = wrong.unwrap();
            }),
            "attn_q.weight has shape",
        ),
        (
            "no architecture".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| m.retain(|(k, _)| k != "general.architecture")),
            "architecture",
        ),
        (
            "no vocabulary".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| m.retain(|(k, _)| k != "tokenizer.ggml.tokens")),
            "token",
        ),
        (
            "token types shorter than the vocabulary".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| {
                set(m, "tokenizer.ggml.token_type", Value::Array(vec![Value::I32(1); 3]))
            }),
            "",
        ),
        (
            "a start token beyond the vocabulary".into(),
            Box::new(|m: &mut Vec<(String, Value)>, _: &mut Vec<_>| {
                set(m, "tokenizer.ggml.bos_token_id", Value::U32(1 << 30));
                set(m, "tokenizer.ggml.add_bos_token", Value::Bool(true));
            }),
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (i, (name, edit, expect)) in cases.iter().enumerate() {
        let path = damaged(dir.path(), &format!("case{i}"), edit.as_ref());
        match load_error(&path) {
            Ok(message) if message.contains(expect) => {}
            Ok(message) => failures.push(format!("{name}: the error does not name it ({expect:?}): {message}")),
            // Two damaged tokenizer fields may still make a usable model: what matters is no panic.
            Err(what) if what == "loaded and ran" && expect.is_empty() => {}
            Err(what) => failures.push(format!("{name}: {what}")),
        }
        // The app's own entry points answer with an error too (and never panic).
        let guarded = catch_unwind(|| {
            let _ = folio::models::install::validate_gguf(&path);
            let _ = LocalModel::load(&path, &LoadOptions { device: DeviceChoice::Cpu, context: 256 });
        });
        if guarded.is_err() {
            failures.push(format!("{name}: LocalModel::load or validate_gguf panicked"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A tensor's byte offset, found after its name in the header (name, rank, dims, type, offset).
fn tensor_info_at(bytes: &[u8], name: &str) -> usize {
    let needle = name.as_bytes();
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("tensor name in header");
    at + needle.len()
}

#[test]
fn offsets_and_dimensions_that_point_outside_the_file_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = damaged(dir.path(), "good", &|_, _| {});
    let bytes = std::fs::read(&good).unwrap();
    // output_norm.weight: rank 1 (u32), one u64 dimension, type (u32), offset (u64).
    let info = tensor_info_at(&bytes, "output_norm.weight");
    let (dims_at, offset_at) = (info + 4, info + 4 + 8 + 4);

    let patch = |name: &str, at: usize, value: u64| {
        let mut b = bytes.clone();
        b[at..at + 8].copy_from_slice(&value.to_le_bytes());
        let path = dir.path().join(format!("{name}.gguf"));
        std::fs::write(&path, b).unwrap();
        path
    };
    for (name, path, expect) in [
        ("offset far away", patch("far", offset_at, 1 << 40), "truncated"),
        ("offset near u64::MAX", patch("wrap", offset_at, u64::MAX - 31), "beyond"),
        ("unaligned offset", patch("unaligned", offset_at, 3), "aligned"),
        ("a huge dimension", patch("huge", dims_at, 1 << 62), ""),
    ] {
        match load_error(&path) {
            Ok(message) => assert!(message.contains(expect), "{name}: {message}"),
            Err(what) => panic!("{name}: {what}"),
        }
    }

    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    assert!(load_error(&truncated).unwrap().contains("truncated"));
    let header_only = dir.path().join("header.gguf");
    std::fs::write(&header_only, &bytes[..64]).unwrap();
    assert!(load_error(&header_only).is_ok(), "a cut header is an error");
}

/// Random damage to a real header (bytes flipped, fields overwritten with extreme values), many
/// times: loading answers with an error or a working model, never a panic. Reproducible: the
/// iteration number seeds the damage; FOLIO_FUZZ_ITERATIONS runs more.
#[test]
fn random_header_damage_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let good = damaged(dir.path(), "good", &|_, _| {});
    let bytes = std::fs::read(&good).unwrap();
    // scripts/fuzz seeds the coverage-guided GGUF target with this valid file.
    if let Some(seeds) = std::env::var_os("FOLIO_FUZZ_SEEDS_TO") {
        let corpus = Path::new(&seeds).join("gguf");
        std::fs::create_dir_all(&corpus).unwrap();
        std::fs::write(corpus.join("tiny.gguf"), &bytes).unwrap();
    }
    // The header: everything before the first tensor's data (the tensors are the last ~90%).
    let header = bytes.len().min(bytes.windows(4).rposition(|w| w == b"ffn_").unwrap_or(4096) + 64);
    let iterations: u64 = std::env::var("FOLIO_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let path = dir.path().join("mutant.gguf");
    let mut panics = Vec::new();
    for i in 0..iterations {
        let mut state = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % header;
            match next() % 3 {
                0 => b[at] ^= 1 << (next() % 8),
                1 => b[at] = [0x00, 0xFF, 0x7F, 0x80][(next() % 4) as usize],
                _ => {
                    let value = [0u64, u64::MAX, 1 << 31, 1 << 32, 3][(next() % 5) as usize];
                    let end = (at + 8).min(b.len());
                    b[at..end].copy_from_slice(&value.to_le_bytes()[..end - at]);
                }
            }
        }
        std::fs::write(&path, &b).unwrap();
        if let Err(what) = load_error(&path) {
            if what != "loaded and ran" {
                panics.push(format!("iteration {i}: {what}"));
            }
        }
    }
    assert!(panics.is_empty(), "{} of {iterations} damaged headers panicked:\n{}", panics.len(), panics.join("\n"));
}
