//! The native encoder against candle's f32 BERT on the real embedders: the same vectors to within
//! int8 rounding, in English and Russian, for queries and passages of every length; a model shape
//! the native path does not implement falls back to the reference under `auto` and is a named
//! error under `native`.

mod common;

use folio::embed::{Embedder, EncoderPath};
use folio::models::{embedder_spec, models_dir};

const TEXTS: &[&str] = &[
    "Honeybees communicate the direction of food with a waggle dance.",
    "Байкал — самое глубокое озеро на Земле, его глубина достигает 1642 метров.",
    "ok",
    "The mitochondrion is the powerhouse of the cell; it produces ATP through oxidative phosphorylation, \
     and its own small genome is inherited from the mother in most animals.",
    "Озеро Байкал содержит около двадцати процентов мировых запасов пресной поверхностной воды. \
     В нём обитает байкальская нерпа, единственный вид тюленей в озере.",
];

fn both(id: &str) -> (Embedder, Embedder) {
    common::options(id); // asserts the model is installed, with the fetch command to run
    let native = Embedder::load(&models_dir(), id, EncoderPath::Native).expect("native encoder loads");
    let reference = Embedder::load(&models_dir(), id, EncoderPath::Reference).expect("reference loads");
    (native, reference)
}

fn cosines(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| folio::embed::dot(x, y)).collect()
}

#[test]
fn native_vectors_match_the_reference_for_both_embedders() {
    // A long text: more tokens than one native batch holds per sequence limit, cut to the
    // model's positions like every other.
    let long = "Lake Baikal is a rift lake in Siberia. ".repeat(120);
    let mut texts: Vec<&str> = TEXTS.to_vec();
    texts.push(&long);
    for id in [common::E5, common::MINILM] {
        let (native, reference) = both(id);
        assert!(native.encoder_name().starts_with("native"), "{}", native.encoder_name());
        assert!(reference.encoder_name().starts_with("reference"));
        let passages = cosines(&native.embed_passages(&texts).unwrap(), &reference.embed_passages(&texts).unwrap());
        let queries: Vec<f32> = texts
            .iter()
            .map(|t| folio::embed::dot(&native.embed_query(t).unwrap(), &reference.embed_query(t).unwrap()))
            .collect();
        for (kind, values) in [("passage", &passages), ("query", &queries)] {
            let min = values.iter().cloned().fold(f32::INFINITY, f32::min);
            let mean = values.iter().sum::<f32>() / values.len() as f32;
            assert!(min >= 0.995 && mean >= 0.999, "{id} {kind}: cosine min {min}, mean {mean} ({values:?})");
        }
    }
}

#[test]
fn a_batch_gives_each_text_the_vector_it_gets_alone() {
    // Sequences share a batch end to end without padding: attention must stay inside each one.
    let (native, _) = both(common::E5);
    let together = native.embed_passages(TEXTS).unwrap();
    for (text, vector) in TEXTS.iter().zip(&together) {
        let alone = native.embed_passages(&[text]).unwrap().remove(0);
        let cosine = folio::embed::dot(&alone, vector);
        assert!(cosine > 0.9999, "'{text}': {cosine}");
    }
}

#[test]
fn a_shape_the_native_encoder_lacks_falls_back_or_is_named() {
    // A copy of MiniLM whose config says RoBERTa (positions offset by the padding index, which
    // the native encoder does not implement; candle's BERT loads it regardless).
    let source = models_dir().join(common::MINILM);
    common::options(common::MINILM);
    let dir = tempfile::tempdir().unwrap();
    for file in ["model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(source.join(file), dir.path().join(file)).unwrap();
    }
    let config = std::fs::read_to_string(source.join("config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&config).unwrap();
    config["model_type"] = "roberta".into();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let spec = embedder_spec(common::MINILM).unwrap().clone();

    let auto = Embedder::load_dir(dir.path(), spec.clone(), EncoderPath::Auto).expect("auto falls back");
    assert!(auto.encoder_name().starts_with("reference"), "{}", auto.encoder_name());
    let Err(error) = Embedder::load_dir(dir.path(), spec, EncoderPath::Native) else {
        panic!("the native encoder must refuse a RoBERTa config")
    };
    assert!(error.to_string().contains("model type roberta"), "{error}");
}

#[test]
fn encoder_names_parse_and_unknown_ones_are_refused() {
    for (text, path) in
        [("auto", EncoderPath::Auto), ("native", EncoderPath::Native), ("reference", EncoderPath::Reference)]
    {
        assert_eq!(text.parse::<EncoderPath>().unwrap(), path);
        assert_eq!(path.to_string(), text);
    }
    assert!("fast".parse::<EncoderPath>().unwrap_err().to_string().contains("auto, native or reference"));
}
