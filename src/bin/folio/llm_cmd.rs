//! `folio generate`, `folio chat` and `folio bench llm`: the local decoder from the command line.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use folio::llm::sampling::SamplingOptions;
use folio::llm::{resolve_model, DeviceChoice, GenerateOptions, LoadOptions, LocalModel, Message};

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// Model id (see `folio models list`) or path to a GGUF file. Without it: the model the
    /// window answers with (its settings), else the one this machine runs best
    #[arg(long)]
    pub model: Option<String>,
    /// auto, cpu, cuda or metal
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Context length in tokens
    #[arg(long, default_value_t = 4096)]
    pub context: usize,
}

#[derive(Args, Clone)]
pub struct SamplingArgs {
    /// Always pick the most likely token
    #[arg(long)]
    pub greedy: bool,
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f32,
    #[arg(long, default_value_t = 40)]
    pub top_k: usize,
    #[arg(long, default_value_t = 0.9)]
    pub top_p: f32,
    #[arg(long, default_value_t = 1.1)]
    pub repeat_penalty: f32,
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// Stop when the answer contains this text (repeatable)
    #[arg(long)]
    pub stop: Vec<String>,
}

impl SamplingArgs {
    fn options(&self) -> GenerateOptions {
        let sampling = if self.greedy {
            SamplingOptions::greedy()
        } else {
            SamplingOptions {
                temperature: self.temperature,
                top_k: self.top_k,
                top_p: self.top_p,
                repeat_penalty: self.repeat_penalty,
                seed: self.seed,
                ..SamplingOptions::default()
            }
        };
        GenerateOptions { max_tokens: self.max_tokens, sampling, stop: self.stop.clone() }
    }
}

pub fn load(args: &ModelArgs) -> Result<LocalModel> {
    Ok(load_with_id(args)?.1)
}

/// The model and the id it goes by: the one given, or the engine's choice.
pub fn load_with_id(args: &ModelArgs) -> Result<(String, LocalModel)> {
    let options = args.load_options();
    if let Some(model) = &args.model {
        let path = resolve_model(model)?;
        let loaded = LocalModel::load(&path, &options).with_context(|| format!("loading {}", path.display()))?;
        return Ok((model.clone(), loaded));
    }
    // The engine's choice, as the window makes it: the settings' model, or the best installed one.
    let (settings, _) = folio::settings::Settings::load_or_recover();
    let Some(loaded) = folio::models::startup::load_for_answering(settings.model.as_deref(), &options)? else {
        anyhow::bail!("no answering model is installed: run scripts/fetch-models, or give --model FILE.gguf");
    };
    if let Some(problem) = &loaded.problem {
        eprintln!("{problem}");
    }
    eprintln!("[model {}{}]", loaded.id, loaded.reason.map(|r| format!(": {r}")).unwrap_or_default());
    Ok((loaded.id, loaded.model))
}

impl ModelArgs {
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions { device: self.device, context: self.context }
    }
}

/// Ctrl-C sets the flag instead of ending the program while an answer streams.
pub fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C while the first is pending: the user really wants out.
            std::process::exit(130);
        }
    });
    flag
}

pub fn generate(model_args: &ModelArgs, sampling: &SamplingArgs, raw: bool, prompt: &str, json: bool) -> Result<()> {
    let mut model = load(model_args)?;
    let cancel = cancel_on_ctrl_c();
    let options = sampling.options();
    let mut out = std::io::stdout();
    let mut print = |text: &str| {
        if !json {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    };
    let generation = if raw {
        let ids = model.encode_prompt(prompt);
        model.generate(&ids, &options, &cancel, &mut print)?
    } else {
        model.chat(&[Message::new("user", prompt)], &options, &cancel, &mut print)?
    };
    if json {
        crate::output::print_json(&generation);
    } else {
        println!();
        eprintln!(
            "[{} prompt tokens at {:.1} t/s, {} generated at {:.1} t/s, first token after {:.2} s, stopped: {:?}]",
            generation.prompt_tokens,
            generation.prompt_tokens_per_second(),
            generation.generated_tokens,
            generation.generate_tokens_per_second(),
            generation.first_token_seconds,
            generation.stop
        );
    }
    Ok(())
}

pub fn chat(model_args: &ModelArgs, sampling: &SamplingArgs, system: Option<&str>) -> Result<()> {
    let mut model = load(model_args)?;
    eprintln!(
        "{} on {}. Enter sends; Ctrl-C stops an answer; Ctrl-D or /exit quits; /reset starts over.",
        model.name,
        model.device_name()
    );
    let cancel = cancel_on_ctrl_c();
    let options = sampling.options();
    let mut messages: Vec<Message> = system.map(|s| vec![Message::new("system", s)]).unwrap_or_default();
    let stdin = std::io::stdin();
    loop {
        eprint!("> ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        // A Ctrl-C at the prompt (not during an answer) quits.
        if cancel.swap(false, Ordering::SeqCst) {
            break;
        }
        let line = line.trim();
        match line {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                messages.retain(|m| m.role == "system");
                model.reset();
                continue;
            }
            _ => {}
        }
        messages.push(Message::new("user", line));
        // Keep the conversation inside the context: drop the oldest turns (not the system prompt).
        while messages.len() > 2
            && model.encode_prompt(&model.render(&messages)?).len() + options.max_tokens > model.context_length()
        {
            let first_turn = messages.iter().position(|m| m.role != "system").unwrap_or(0);
            messages.remove(first_turn);
        }
        let mut out = std::io::stdout();
        let generation = model.chat(&messages, &options, &cancel, &mut |text| {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        })?;
        println!();
        if cancel.swap(false, Ordering::SeqCst) {
            eprintln!("[stopped]");
        }
        messages.push(Message::new("assistant", generation.text.trim()));
    }
    Ok(())
}

pub fn bench(model_args: &ModelArgs, prompt: usize, generate: usize, repetitions: usize, json: bool) -> Result<()> {
    let mut model = load(model_args)?;
    let report = folio::llm::bench::run(&mut model, prompt, generate, repetitions)?;
    if json {
        crate::output::print_json(&report);
    } else {
        println!("{} on {} ({} threads)", report.model, report.device, report.threads);
        println!(
            "prompt processing  pp{:<4} {:>8.1} t/s   runs {:?}",
            report.prompt_tokens,
            report.prompt_tokens_per_second,
            rounded(&report.prompt_tokens_per_second_runs)
        );
        println!(
            "generation         tg{:<4} {:>8.1} t/s   runs {:?}",
            report.generated_tokens,
            report.generate_tokens_per_second,
            rounded(&report.generate_tokens_per_second_runs)
        );
        println!(
            "generation after the {}-token prompt {:.1} t/s",
            report.prompt_tokens, report.generate_after_prompt_tokens_per_second
        );
        println!(
            "time to first token ({} prompt tokens) {:.2} s",
            report.prompt_tokens, report.time_to_first_token_seconds
        );
        println!(
            "second chat turn: first token after {:.2} s reusing {} cached tokens, {:.2} s from scratch",
            report.second_turn_first_token_seconds_reused,
            report.second_turn_reused_tokens,
            report.second_turn_first_token_seconds_fresh
        );
        println!("peak RSS {:.0} MiB", report.peak_rss_mib);
    }
    Ok(())
}

pub fn bench_first_token(
    model_args: &ModelArgs,
    source_tokens: usize,
    sample: &[std::path::PathBuf],
    repetitions: usize,
    json: bool,
) -> Result<()> {
    let passages = folio::embed::bench::sample_passages(sample, usize::MAX)?;
    let mut model = load(model_args)?;
    let report = folio::answer::bench::first_token(&mut model, &passages, source_tokens, repetitions)?;
    if json {
        crate::output::print_json(&report);
    } else {
        println!("{} on {} ({} threads)", report.model, report.device, report.threads);
        println!("answer prompt of {} tokens, medians of {} runs:", report.prompt_tokens, report.cold_runs.len());
        println!(
            "  first token, nothing cached         {:>6.2} s   runs {:?}",
            report.cold_seconds,
            rounded(&report.cold_runs)
        );
        println!(
            "  first token, instructions kept      {:>6.2} s   runs {:?}   ({} tokens reused, {:.0}% saved)",
            report.kept_seconds,
            rounded(&report.kept_runs),
            report.reused_tokens,
            report.saved_share * 100.0
        );
    }
    Ok(())
}

fn rounded(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| (x * 10.0).round() / 10.0).collect()
}
