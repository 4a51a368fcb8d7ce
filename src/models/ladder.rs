//! Which answering model this machine should run: the best one on the catalog's ladder that fits in
//! memory and answers within the speed budget, judged from a short measured run of a small model.
//!
//! Why measure instead of reading core counts: the same "8 cores" is a fast desktop or a throttled
//! laptop, and a GPU build changes everything. A few hundred tokens through an installed model tell
//! how fast this machine reads a prompt and writes an answer; bigger models are then predicted from
//! that. Reading a prompt costs compute, which grows with the parameter count; writing costs memory
//! bandwidth, which grows with the file's bytes (every weight is read once per token). Checked on
//! two cores (`folio bench llm --prompt 256`): qwen2.5-0.5b read 234 tokens/s and wrote 35; from
//! those, the 1.5B model is predicted at 83 and 15, and measured 79 and 13.

use std::time::Instant;

use serde::Serialize;

use super::known::KnownModel;
use crate::error::Result;
use crate::llm::gguf::GgufFile;
use crate::llm::{LoadOptions, LocalModel};
use crate::machine::Machine;

/// The speed budget of an answer (issue "answers"): the first word within 4 s, a short answer
/// within 8 s.
pub const FIRST_WORD_BUDGET_SECONDS: f64 = 4.0;
pub const ANSWER_BUDGET_SECONDS: f64 = 8.0;
/// What an answer costs: the packed sources, the instructions and the question (XQuAD medians at
/// a 600-token source budget: 589 tokens in English, 614 in Russian)…
pub const ANSWER_PROMPT_TOKENS: usize = crate::answer::DEFAULT_SOURCE_TOKENS + 50;
/// …and a short answer with a sentence of support.
pub const ANSWER_TOKENS: usize = 40;
/// A model may take at most this share of the machine's memory: the user's other programs and the
/// library's indexes need the rest.
const MEMORY_SHARE: f64 = 0.6;
/// Languages every automatically chosen model must read and write (Folio's own).
const REQUIRED_LANGUAGES: [&str; 2] = ["en", "ru"];

/// How fast a model ran here.
#[derive(Debug, Clone, Serialize)]
pub struct Speed {
    pub model: String,
    pub device: String,
    pub parameters: u64,
    pub file_bytes: u64,
    pub prompt_tokens_per_second: f64,
    pub generate_tokens_per_second: f64,
}

impl Speed {
    /// This speed carried over to a model of `parameters` weights in a file of `file_bytes`.
    fn predict(&self, parameters: u64, file_bytes: u64) -> (f64, f64) {
        let read = self.prompt_tokens_per_second * self.parameters as f64 / parameters.max(1) as f64;
        let write = self.generate_tokens_per_second * self.file_bytes as f64 / file_bytes.max(1) as f64;
        let first_word = ANSWER_PROMPT_TOKENS as f64 / read;
        (first_word, first_word + ANSWER_TOKENS as f64 / write)
    }
}

/// Runs a short prompt and a few generated tokens through `model` (its cache is emptied before and
/// after). About a second for a 0.5B model on two cores.
pub fn measure(model: &mut LocalModel) -> Result<Speed> {
    const PROMPT: usize = 256;
    const GENERATE: usize = 16;
    // Within the context the model was loaded with, the generated tokens included.
    let room = model.context_length().saturating_sub(GENERATE + 1).max(8);
    let prompt = crate::llm::bench::prompt_tokens(model, PROMPT.min(room));
    model.reset();
    // Pages the weights in and grows the buffers, so the timing is of the work, not of the disk.
    model.decoder_forward(&prompt[..prompt.len().min(8)])?;
    model.reset();
    let started = Instant::now();
    let mut token = crate::llm::sampling::argmax(&model.decoder_forward(&prompt)?);
    let read = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..GENERATE {
        token = crate::llm::sampling::argmax(&model.decoder_forward(&[token])?);
    }
    let write = started.elapsed().as_secs_f64();
    model.reset();
    let file = GgufFile::open(&model.path)?;
    Ok(Speed {
        model: model.name.clone(),
        device: model.device_name(),
        parameters: file.parameter_count(),
        file_bytes: std::fs::metadata(&model.path).map(|m| m.len()).unwrap_or(0),
        prompt_tokens_per_second: prompt.len() as f64 / read.max(1e-9),
        generate_tokens_per_second: GENERATE as f64 / write.max(1e-9),
    })
}

/// One catalog model judged for this machine.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: String,
    pub name: String,
    pub ladder: Option<u32>,
    pub installed: bool,
    pub downloadable: bool,
    /// Predicted seconds to the first word and to the end of a short answer.
    pub first_word_seconds: Option<f64>,
    pub answer_seconds: Option<f64>,
    pub fits_memory: bool,
    pub speaks_languages: bool,
    /// On the ladder, fits, speaks Folio's languages and answers within the budget.
    pub usable: bool,
    pub why: String,
}

/// The model to run, why, and a better one to download if there is one.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// An installed model to load now; `None` when no decoder is installed.
    pub model: Option<String>,
    /// A better model this machine runs within the budget that is not installed yet.
    pub better_download: Option<String>,
    pub reason: String,
    pub machine: Machine,
    pub speed: Option<Speed>,
    pub verdicts: Vec<Verdict>,
}

/// Whether `model` is one Folio may pick by itself: on the ladder and covering its languages.
fn pickable(model: &KnownModel) -> bool {
    model.ladder.is_some() && speaks_languages(model)
}

fn speaks_languages(model: &KnownModel) -> bool {
    REQUIRED_LANGUAGES.iter().all(|l| model.languages.iter().any(|m| m == l))
}

fn judge(model: &KnownModel, machine: &Machine, speed: Option<&Speed>) -> Verdict {
    let speaks_languages = speaks_languages(model);
    let ram = model.ram_bytes.unwrap_or(u64::MAX);
    // Unknown memory: assume a modest laptop (8 GiB) rather than refuse everything.
    let memory = machine.memory_bytes.unwrap_or(8 << 30);
    let fits_memory = (ram as f64) <= memory as f64 * MEMORY_SHARE;
    let predicted = match (speed, model.parameters, model.size_bytes) {
        (Some(speed), Some(parameters), Some(bytes)) => Some(speed.predict(parameters, bytes)),
        _ => None,
    };
    let fast_enough =
        predicted.is_some_and(|(first, all)| first <= FIRST_WORD_BUDGET_SECONDS && all <= ANSWER_BUDGET_SECONDS);
    let usable = pickable(model) && fits_memory && fast_enough;
    let why = if model.ladder.is_none() {
        "not picked automatically".to_string()
    } else if !speaks_languages {
        format!("does not cover {}", REQUIRED_LANGUAGES.join(" and "))
    } else if !fits_memory {
        format!(
            "needs {} of memory, more than {:.0}% of this machine's",
            crate::sizes::human_size(ram),
            MEMORY_SHARE * 100.0
        )
    } else {
        match predicted {
            None => "speed unknown".to_string(),
            Some((first, all)) => format!(
                "about {first:.1} s to the first word, {all:.1} s to a short answer{}",
                if fast_enough { "" } else { ": too slow here" }
            ),
        }
    };
    Verdict {
        id: model.id.clone(),
        name: model.name.clone(),
        ladder: model.ladder,
        installed: model.installed,
        downloadable: model.url.is_some(),
        first_word_seconds: predicted.map(|p| p.0),
        answer_seconds: predicted.map(|p| p.1),
        fits_memory,
        speaks_languages,
        usable,
        why,
    }
}

/// Picks from the catalog's decoders, with `installed` the decoders on disk (catalog and imported
/// ones, in the order they were installed) for when none of the ladder's is.
pub fn choose(catalog: &[KnownModel], installed: &[String], machine: &Machine, speed: Option<&Speed>) -> Choice {
    let mut verdicts: Vec<Verdict> =
        catalog.iter().filter(|m| m.kind == "decoder").map(|m| judge(m, machine, speed)).collect();
    // Best first: higher on the ladder, then installed before downloadable, then faster.
    verdicts.sort_by(|a, b| {
        b.ladder
            .cmp(&a.ladder)
            .then(b.installed.cmp(&a.installed))
            .then(a.first_word_seconds.unwrap_or(f64::MAX).total_cmp(&b.first_word_seconds.unwrap_or(f64::MAX)))
    });
    let measured = match speed {
        Some(s) => format!(
            "{}; measured with {}: {:.0} tokens/s reading, {:.1} tokens/s writing",
            machine.describe(),
            s.model,
            s.prompt_tokens_per_second,
            s.generate_tokens_per_second
        ),
        None => format!("{}; speed not measured", machine.describe()),
    };
    let best_installed = verdicts.iter().find(|v| v.usable && v.installed);
    let (model, mut reason) = if let Some(v) = best_installed {
        (Some(v.id.clone()), format!("{} is the best installed model that answers within {FIRST_WORD_BUDGET_SECONDS:.0} s here ({measured}).", v.name))
    } else if let Some(v) = verdicts
        .iter()
        .filter(|v| v.installed && v.ladder.is_some() && v.speaks_languages && v.fits_memory)
        .min_by(|a, b| a.first_word_seconds.unwrap_or(f64::MAX).total_cmp(&b.first_word_seconds.unwrap_or(f64::MAX)))
    {
        (
            Some(v.id.clone()),
            format!("{} is the fastest installed model, though slower than the budget here ({measured}).", v.name),
        )
    } else if let Some(id) = installed.first() {
        (
            Some(id.clone()),
            format!("{id} is the only kind of model installed; it may answer poorly in Russian ({measured})."),
        )
    } else {
        (None, format!("No answering model is installed ({measured})."))
    };
    let chosen_rung = model.as_ref().and_then(|id| verdicts.iter().find(|v| &v.id == id)).and_then(|v| v.ladder);
    let better_download = verdicts
        .iter()
        .find(|v| v.usable && !v.installed && v.downloadable && v.ladder > chosen_rung)
        .map(|v| v.id.clone());
    if let Some(id) = &better_download {
        let v = verdicts.iter().find(|v| &v.id == id).expect("listed");
        reason.push_str(&format!(
            " {} would answer better and runs within the budget ({}): download it in Settings.",
            v.name, v.why
        ));
    } else if let Some(slower) =
        verdicts.iter().rev().find(|v| v.ladder > chosen_rung && v.speaks_languages && !v.usable)
    {
        // The next rung up, and what keeps it out.
        reason.push_str(&format!(" {}: {}.", slower.name, slower.why));
    }
    Choice { model, better_download, reason, machine: *machine, speed: speed.cloned(), verdicts }
}

/// The first start's choice: measures this machine with the smallest installed ladder model (or
/// the smallest installed decoder), then chooses. Models in `exclude` (ones that failed to load)
/// are treated as not installed. Returns the measured model too when it is the one chosen, so it
/// is not loaded twice.
pub fn first_choice(options: &LoadOptions, exclude: &[&str]) -> Result<(Choice, Option<LocalModel>)> {
    let mut catalog = super::known::all();
    for m in catalog.iter_mut().filter(|m| exclude.contains(&m.id.as_str())) {
        m.installed = false;
    }
    let installed: Vec<String> =
        super::known::installed_decoders().into_iter().filter(|id| !exclude.contains(&id.as_str())).collect();
    let machine = Machine::this();
    let path_of = super::decoder_file;
    let size_of = |id: &str| std::fs::metadata(path_of(id)).map(|m| m.len()).unwrap_or(u64::MAX);
    let on_ladder = |id: &str| catalog.iter().any(|m| m.id == id && pickable(m));
    let probe = installed
        .iter()
        .filter(|id| on_ladder(id))
        .min_by_key(|id| size_of(id))
        .or_else(|| installed.iter().min_by_key(|id| size_of(id)));
    let Some(probe) = probe else {
        return Ok((choose(&catalog, &installed, &machine, None), None));
    };
    let mut model = LocalModel::load(&path_of(probe), options)?;
    let speed = measure(&mut model)?;
    let choice = choose(&catalog, &installed, &machine, Some(&speed));
    let keep = (choice.model.as_deref() == Some(probe.as_str())).then_some(model);
    Ok((choice, keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, ladder: Option<u32>, parameters: u64, bytes: u64, ram_gib: u64, installed: bool) -> KnownModel {
        KnownModel {
            id: id.into(),
            name: id.into(),
            kind: "decoder".into(),
            size_bytes: Some(bytes),
            sha256: None,
            source: String::new(),
            url: (!installed).then(|| format!("https://example.org/{id}.gguf")),
            description: String::new(),
            parameters: Some(parameters),
            ram_bytes: Some(ram_gib << 30),
            languages: vec!["en".into(), "ru".into()],
            ladder,
            installed,
        }
    }

    fn ladder() -> Vec<KnownModel> {
        vec![
            model("small", Some(1), 500_000_000, 500_000_000, 1, true),
            model("medium", Some(2), 1_500_000_000, 1_100_000_000, 2, false),
            model("large", Some(5), 7_600_000_000, 4_700_000_000, 6, false),
            model("tiny-english", None, 135_000_000, 100_000_000, 1, true),
        ]
    }

    fn speed(read: f64, write: f64) -> Speed {
        Speed {
            model: "small".into(),
            device: "cpu".into(),
            parameters: 500_000_000,
            file_bytes: 500_000_000,
            prompt_tokens_per_second: read,
            generate_tokens_per_second: write,
        }
    }

    /// Reading speeds that put the small model (0.5B) at 3 s to its first word, or the large one
    /// (7.6B) at about 3 s.
    fn slow() -> Speed {
        speed(ANSWER_PROMPT_TOKENS as f64 / 3.0, 40.0)
    }
    fn fast() -> Speed {
        speed(ANSWER_PROMPT_TOKENS as f64 * 5.0, 200.0)
    }

    const LAPTOP: Machine = Machine { cores: 2, memory_bytes: Some(16 << 30), available_bytes: None };

    #[test]
    fn a_slow_machine_keeps_the_small_model_and_says_what_the_next_would_cost() {
        // The 1.5B model reads three times slower: 9 s to its first word.
        let choice = choose(&ladder(), &["small".into()], &LAPTOP, Some(&slow()));
        assert_eq!(choice.model.as_deref(), Some("small"));
        assert_eq!(choice.better_download, None);
        assert!(choice.reason.contains("medium") && choice.reason.contains("too slow"), "{}", choice.reason);
    }

    #[test]
    fn a_fast_machine_is_offered_the_best_model_it_runs_within_the_budget() {
        // The 1.5B and 7.6B models both answer within the budget; the 7.6B is better.
        let choice = choose(&ladder(), &["small".into()], &LAPTOP, Some(&fast()));
        assert_eq!(choice.model.as_deref(), Some("small"), "only installed models load");
        assert_eq!(choice.better_download.as_deref(), Some("large"));
        let large = choice.verdicts.iter().find(|v| v.id == "large").unwrap();
        assert!(large.usable && large.first_word_seconds.unwrap() < FIRST_WORD_BUDGET_SECONDS);
    }

    #[test]
    fn memory_rules_out_what_speed_would_allow() {
        let small_memory = Machine { memory_bytes: Some(8 << 30), ..LAPTOP };
        let choice = choose(&ladder(), &["small".into()], &small_memory, Some(&fast()));
        assert_eq!(choice.better_download.as_deref(), Some("medium"));
        let large = choice.verdicts.iter().find(|v| v.id == "large").unwrap();
        assert!(!large.fits_memory && large.why.contains("memory"), "{}", large.why);
    }

    #[test]
    fn an_installed_better_model_is_loaded() {
        let mut catalog = ladder();
        catalog[1].installed = true;
        let choice = choose(&catalog, &["small".into(), "medium".into()], &LAPTOP, Some(&fast()));
        assert_eq!(choice.model.as_deref(), Some("medium"));
    }

    #[test]
    fn models_off_the_ladder_or_without_russian_are_never_picked_while_a_ladder_model_is_installed() {
        let mut catalog = ladder();
        catalog.push(KnownModel { languages: vec!["en".into()], ..model("english-best", Some(9), 1, 1, 1, false) });
        let choice = choose(&catalog, &["tiny-english".into(), "small".into()], &LAPTOP, Some(&fast()));
        assert_eq!(choice.model.as_deref(), Some("small"));
        assert_ne!(choice.better_download.as_deref(), Some("english-best"));
    }

    #[test]
    fn with_only_an_off_ladder_model_installed_it_is_used_and_the_reason_says_so() {
        let mut catalog = ladder();
        catalog[0].installed = false;
        let choice = choose(&catalog, &["tiny-english".into()], &LAPTOP, None);
        assert_eq!(choice.model.as_deref(), Some("tiny-english"));
        assert!(choice.reason.contains("Russian"), "{}", choice.reason);
        let none = choose(&catalog, &[], &LAPTOP, None);
        assert_eq!(none.model, None);
    }

    #[test]
    fn the_shipped_catalog_pins_every_hub_download_and_describes_every_ladder_model() {
        for m in super::super::known::all().iter().filter(|m| m.kind == "decoder") {
            if let Some(url) = &m.url {
                let revision = url.split("/resolve/").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("");
                assert!(
                    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{}: {url} is not pinned to a commit",
                    m.id
                );
                assert!(m.sha256.is_some() && m.size_bytes.is_some(), "{}: a hub file needs its size and sha256", m.id);
            }
            if m.ladder.is_some() {
                assert!(m.parameters.is_some() && m.ram_bytes.is_some() && !m.languages.is_empty(), "{}", m.id);
            }
        }
    }
}
