//! Tiny GGUF decoders with random weights and known shapes, written by the tests themselves: a
//! byte-level BPE vocabulary (the 256 byte symbols, a few merges, ChatML specials) and a llama
//! architecture small enough to run in milliseconds.

use std::path::Path;

use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

pub struct TinySpec {
    pub arch: &'static str,
    pub matrix_type: GgmlDType,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub n_ff: usize,
}

impl Default for TinySpec {
    fn default() -> Self {
        TinySpec {
            arch: "llama",
            matrix_type: GgmlDType::Q8_0,
            n_embd: 64,
            n_layer: 2,
            n_head: 4,
            n_head_kv: 2,
            n_ff: 128,
        }
    }
}

/// GPT-2's printable stand-ins for the 256 byte values.
fn byte_symbols() -> Vec<String> {
    let mut next = 256u32;
    (0..=255u8)
        .map(|b| {
            let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
            if printable {
                (b as char).to_string()
            } else {
                let c = char::from_u32(next).unwrap();
                next += 1;
                c.to_string()
            }
        })
        .collect()
}

pub const SPECIALS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// Vocabulary: 256 bytes, then merged pieces, then the specials.
pub fn vocabulary() -> (Vec<String>, Vec<String>, Vec<i32>) {
    let mut tokens = byte_symbols();
    let merges = vec!["Ġ t".to_string(), "h e".to_string(), "Ġt he".to_string(), "Ġ a".to_string()];
    tokens.extend(["Ġt", "he", "Ġthe", "Ġa"].iter().map(|s| s.to_string()));
    let mut types = vec![1; tokens.len()];
    for s in SPECIALS {
        tokens.push(s.to_string());
        types.push(3);
    }
    (tokens, merges, types)
}

fn random(shape: &[usize], seed: u64, scale: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let mut state = seed;
    let values: Vec<f32> = (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 2.0 * scale
        })
        .collect();
    Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
}

pub fn write(path: &Path, spec: &TinySpec) {
    write_edited(path, spec, &|_, _| {});
}

/// Metadata and tensors as `write` makes them, edited before they are written (damaged files).
pub type Edit = dyn Fn(&mut Vec<(String, Value)>, &mut Vec<(String, QTensor)>);

pub fn write_edited(path: &Path, spec: &TinySpec, edit: &Edit) {
    let (tokens, merges, types) = vocabulary();
    let vocab = tokens.len();
    let head_dim = spec.n_embd / spec.n_head;
    let arch = spec.arch;
    let strings = |v: &[String]| Value::Array(v.iter().map(|s| Value::String(s.clone())).collect());
    let mut metadata: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(arch.into())),
        ("general.name".into(), Value::String("tiny test model".into())),
        (format!("{arch}.context_length"), Value::U32(256)),
        (format!("{arch}.embedding_length"), Value::U32(spec.n_embd as u32)),
        (format!("{arch}.block_count"), Value::U32(spec.n_layer as u32)),
        (format!("{arch}.feed_forward_length"), Value::U32(spec.n_ff as u32)),
        (format!("{arch}.attention.head_count"), Value::U32(spec.n_head as u32)),
        (format!("{arch}.attention.head_count_kv"), Value::U32(spec.n_head_kv as u32)),
        (format!("{arch}.attention.layer_norm_rms_epsilon"), Value::F32(1e-5)),
        (format!("{arch}.rope.dimension_count"), Value::U32(head_dim as u32)),
        (format!("{arch}.rope.freq_base"), Value::F32(10000.0)),
        ("tokenizer.ggml.model".into(), Value::String("gpt2".into())),
        ("tokenizer.ggml.pre".into(), Value::String("qwen2".into())),
        ("tokenizer.ggml.tokens".into(), strings(&tokens)),
        ("tokenizer.ggml.merges".into(), strings(&merges)),
        ("tokenizer.ggml.token_type".into(), Value::Array(types.iter().map(|t| Value::I32(*t)).collect())),
        ("tokenizer.ggml.bos_token_id".into(), Value::U32((vocab - 3) as u32)),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32((vocab - 1) as u32)),
        ("tokenizer.ggml.add_bos_token".into(), Value::Bool(false)),
        ("tokenizer.chat_template".into(), Value::String(folio::llm::template::CHATML.into())),
    ];
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    let mut seed = 1u64;
    let mut add = |name: String, shape: &[usize], dtype: GgmlDType, scale: f32| {
        seed += 1;
        let t = random(shape, seed, scale);
        tensors.push((name, QTensor::quantize(&t, dtype).unwrap()));
    };
    let ones = |n: usize| Tensor::ones(n, candle_core::DType::F32, &Device::Cpu).unwrap();
    add("token_embd.weight".into(), &[vocab, spec.n_embd], GgmlDType::F32, 1.0);
    let mut norms: Vec<(String, usize)> = vec![("output_norm.weight".into(), spec.n_embd)];
    let q_dim = spec.n_head * head_dim;
    let kv_dim = spec.n_head_kv * head_dim;
    let m = spec.matrix_type;
    for l in 0..spec.n_layer {
        let p = format!("blk.{l}");
        norms.push((format!("{p}.attn_norm.weight"), spec.n_embd));
        norms.push((format!("{p}.ffn_norm.weight"), spec.n_embd));
        add(format!("{p}.attn_q.weight"), &[q_dim, spec.n_embd], m, 0.3);
        add(format!("{p}.attn_k.weight"), &[kv_dim, spec.n_embd], m, 0.3);
        add(format!("{p}.attn_v.weight"), &[kv_dim, spec.n_embd], m, 0.3);
        add(format!("{p}.attn_output.weight"), &[spec.n_embd, q_dim], m, 0.3);
        add(format!("{p}.ffn_gate.weight"), &[spec.n_ff, spec.n_embd], m, 0.3);
        add(format!("{p}.ffn_up.weight"), &[spec.n_ff, spec.n_embd], m, 0.3);
        add(format!("{p}.ffn_down.weight"), &[spec.n_embd, spec.n_ff], m, 0.3);
    }
    for (name, n) in norms {
        tensors.push((name, QTensor::quantize(&ones(n), GgmlDType::F32).unwrap()));
    }
    edit(&mut metadata, &mut tensors);
    let meta_refs: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut file = std::fs::File::create(path).unwrap();
    candle_core::quantized::gguf_file::write(&mut file, &meta_refs, &tensor_refs).unwrap();
}
