//! `folio models`: the catalog, what is installed, and which model this machine should run.

use anyhow::Result;
use clap::Subcommand;
use folio::llm::{DeviceChoice, LoadOptions};
use folio::models::known;
use folio::models::ladder::{self, Choice};
use folio::sizes::human_size;

use crate::output::print_json;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// The catalog's models and whether each is installed
    List,
    /// Measure this machine with a small installed model and say which model it should run, and why
    Choose {
        /// auto, cpu, cuda or metal
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
    },
}

pub fn run(what: &ModelsCommand, json: bool) -> Result<()> {
    match what {
        ModelsCommand::List => {
            let models = known::all();
            if json {
                print_json(&models);
            } else {
                for m in &models {
                    let size = m.size_bytes.map(human_size).unwrap_or_else(|| "?".into());
                    let state = if m.installed {
                        "installed"
                    } else if m.url.is_some() {
                        "download"
                    } else {
                        "fetch-models"
                    };
                    println!("{:<32} {:<9} {:>8}  {:<12} {}", m.id, m.kind, size, state, m.name);
                }
            }
        }
        ModelsCommand::Choose { device } => {
            let (choice, _) = ladder::first_choice(&LoadOptions { device: *device, ..LoadOptions::default() }, &[])?;
            if json {
                print_json(&choice);
            } else {
                print_choice(&choice);
            }
        }
    }
    Ok(())
}

fn print_choice(choice: &Choice) {
    let seconds = |s: Option<f64>| s.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "–".into());
    println!("{:<32} {:>6} {:>9} {:>10} {:>10}  why", "model", "rung", "installed", "first word", "answer");
    for v in &choice.verdicts {
        println!(
            "{:<32} {:>6} {:>9} {:>10} {:>10}  {}{}",
            v.id,
            v.ladder.map(|l| l.to_string()).unwrap_or_else(|| "–".into()),
            if v.installed { "yes" } else { "no" },
            seconds(v.first_word_seconds),
            seconds(v.answer_seconds),
            if v.usable { "usable: " } else { "" },
            v.why
        );
    }
    println!();
    println!("Choice: {}", choice.model.as_deref().unwrap_or("none"));
    println!("{}", choice.reason);
}
