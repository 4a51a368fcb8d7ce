//! User settings, kept as TOML in the platform's config dir (`$FOLIO_CONFIG` overrides the file).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Settings {
    /// The answering model: a catalog id or a GGUF path. `None` until one is installed.
    pub model: Option<String>,
    /// Why that model: the first start's measured choice, or the user's own.
    pub model_reason: Option<String>,
    /// auto, cpu or gpu.
    pub device: String,
    /// Embedder of new libraries.
    pub embedder: String,
    /// Which encoder computes the vectors: auto (native where it runs), native or reference.
    pub encoder: crate::embed::EncoderPath,
    /// Context length of the answering model, in tokens.
    pub context: usize,
    pub temperature: f32,
    /// Where the library lives (default: the platform data dir).
    pub library_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model: None,
            model_reason: None,
            device: "auto".into(),
            embedder: crate::models::DEFAULT_EMBEDDER.into(),
            encoder: crate::embed::EncoderPath::Auto,
            context: 4096,
            temperature: 0.0,
            library_dir: None,
        }
    }
}

impl Settings {
    pub fn path() -> PathBuf {
        if let Some(p) = std::env::var_os("FOLIO_CONFIG").filter(|v| !v.is_empty()) {
            return PathBuf::from(p);
        }
        dirs::config_dir().unwrap_or_else(|| PathBuf::from(".")).join("folio").join("settings.toml")
    }

    /// The saved settings, for a face that must start whatever the file holds. A damaged file is
    /// moved aside (kept for the user, never written over), every setting that still reads is
    /// kept, and the second value says what happened, for the window to show: a custom library
    /// location that cannot be read is said plainly, never swapped for the default silently.
    pub fn load_or_recover() -> (Settings, Option<String>) {
        load_or_recover_at(&Self::path())
    }

    pub fn save(&self) -> Result<()> {
        self.save_at(&Self::path())
    }

    fn save_at(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        self.validate()?;
        let text = toml::to_string_pretty(self).map_err(|e| Error::InvalidInput(e.to_string()))?;
        crate::store::write_atomically(path, text.as_bytes())
    }

    pub fn validate(&self) -> Result<()> {
        if !matches!(self.device.as_str(), "auto" | "cpu" | "gpu") {
            return Err(Error::InvalidInput(format!("device '{}' is not one of auto, cpu, gpu", self.device)));
        }
        if !(256..=131_072).contains(&self.context) {
            return Err(Error::InvalidInput(format!("context {} is outside 256..131072 tokens", self.context)));
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(Error::InvalidInput(format!("temperature {} is outside 0..2", self.temperature)));
        }
        crate::models::embedder_spec(&self.embedder)?;
        Ok(())
    }

    pub fn library_dir(&self) -> PathBuf {
        if let Some(p) = std::env::var_os("FOLIO_LIBRARY").filter(|v| !v.is_empty()) {
            return PathBuf::from(p);
        }
        self.library_dir.clone().unwrap_or_else(crate::library::default_library_dir)
    }

    pub fn device_choice(&self) -> crate::llm::DeviceChoice {
        match self.device.as_str() {
            "cpu" => crate::llm::DeviceChoice::Cpu,
            "gpu" if cfg!(feature = "metal") => crate::llm::DeviceChoice::Metal,
            "gpu" => crate::llm::DeviceChoice::Cuda,
            _ => crate::llm::DeviceChoice::Auto,
        }
    }
}

fn load_or_recover_at(path: &Path) -> (Settings, Option<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
        Err(e) => {
            return (Settings::default(), Some(format!("The settings file {} cannot be read ({e}): Folio started with its defaults and will not change the file.", path.display())))
        }
    };
    let damage = match toml::from_str::<Settings>(&text) {
        Ok(settings) => match settings.validate() {
            Ok(()) => return (settings, None),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    };
    let salvaged = salvage(&text);
    let aside = set_aside(path);
    let kept = match &aside {
        Ok(aside) => format!("it was kept as {}", aside.display()),
        Err(e) => format!("it could not be moved aside ({e}) and is left as it is"),
    };
    let mut message = format!(
        "The settings file {} is damaged ({}); {kept}. Folio started with every setting that could still be read.",
        path.display(),
        damage.lines().next().unwrap_or_default().trim()
    );
    if salvaged.library_dir.is_none() && text.contains("library_dir") {
        message.push_str(&format!(
            " Your library's location could not be read: this is the default library at {}. If yours is elsewhere, quit Folio and set library_dir in the kept file, then rename it back.",
            salvaged.library_dir().display()
        ));
    }
    if aside.is_ok() {
        // The salvaged settings are saved in the damaged file's place (the original is kept).
        let _ = salvaged.save_at(path);
    }
    (salvaged, Some(message))
}

/// Every `key = value` line that still reads as a valid setting on its own.
fn salvage(text: &str) -> Settings {
    let mut table = toml::Table::new();
    for line in text.lines() {
        let Ok(one) = toml::from_str::<toml::Table>(line) else { continue };
        for (key, value) in one {
            let mut alone = toml::Table::new();
            alone.insert(key.clone(), value.clone());
            let valid = toml::Value::Table(alone).try_into::<Settings>().is_ok_and(|s| s.validate().is_ok());
            if valid {
                table.insert(key, value);
            }
        }
    }
    toml::Value::Table(table).try_into::<Settings>().unwrap_or_default()
}

/// Renames a damaged file to `NAME.damaged` (or `NAME.damaged-N` when that is taken).
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let target = (0..1000)
        .map(|n| {
            if n == 0 {
                path.with_file_name(format!("{name}.damaged"))
            } else {
                path.with_file_name(format!("{name}.damaged-{n}"))
            }
        })
        .find(|p| !p.exists())
        .ok_or_else(|| std::io::Error::other("too many damaged copies are kept already"))?;
    std::fs::rename(path, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_kept_aside_and_what_still_reads_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let library = dir.path().join("my library");
        let text = format!(
            "model = \"qwen2.5-1.5b-instruct\"\ndevice = \"tpu\"\ncontext = 2048\nlibrary_dir = {:?}\ntemperature = [oops\n",
            library.display().to_string()
        );
        std::fs::write(&path, &text).unwrap();
        let (settings, problem) = load_or_recover_at(&path);
        let problem = problem.expect("the user is told");
        assert!(problem.contains("damaged") && problem.contains("settings.toml.damaged"), "{problem}");
        // The damaged original is kept byte for byte; the readable settings survive.
        assert_eq!(std::fs::read_to_string(dir.path().join("settings.toml.damaged")).unwrap(), text);
        assert_eq!(settings.model.as_deref(), Some("qwen2.5-1.5b-instruct"));
        assert_eq!(settings.context, 2048);
        assert_eq!(settings.library_dir.as_deref(), Some(library.as_path()), "the library is the user's own");
        assert_eq!(settings.device, "auto", "an invalid value takes its default");
        // What was saved in its place reads back cleanly.
        assert_eq!(load_or_recover_at(&path), (settings, None));
    }

    #[test]
    fn an_unreadable_library_location_is_said_not_swapped_silently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, "library_dir = \"/unterminated\ncontext = 1024\n").unwrap();
        let (settings, problem) = load_or_recover_at(&path);
        assert_eq!(settings.library_dir, None);
        assert_eq!(settings.context, 1024);
        assert!(problem.unwrap().contains("library's location could not be read"));
        // A second damaged file does not overwrite the first kept copy.
        std::fs::write(&path, "context = \"x\"").unwrap();
        let _ = load_or_recover_at(&path);
        assert!(
            dir.path().join("settings.toml.damaged").exists() && dir.path().join("settings.toml.damaged-1").exists()
        );
    }

    #[test]
    fn no_file_is_the_defaults_and_no_problem() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_or_recover_at(&dir.path().join("none.toml")), (Settings::default(), None));
    }

    #[test]
    fn round_trip_and_validation() {
        let s = Settings { model: Some("x".into()), context: 2048, ..Settings::default() };
        let text = toml::to_string_pretty(&s).unwrap();
        assert_eq!(toml::from_str::<Settings>(&text).unwrap(), s);
        // Missing fields take defaults: old files keep working.
        assert_eq!(toml::from_str::<Settings>("context = 1024").unwrap().device, "auto");
        assert!(Settings { device: "tpu".into(), ..Settings::default() }.validate().is_err());
    }
}
