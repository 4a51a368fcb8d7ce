//! User settings, kept as TOML in the platform's config dir (`$FOLIO_CONFIG` overrides the file).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The answering model: a catalog id or a GGUF path. `None` until one is installed.
    pub model: Option<String>,
    /// auto, cpu or gpu.
    pub device: String,
    /// Embedder of new libraries.
    pub embedder: String,
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
            device: "auto".into(),
            embedder: crate::models::DEFAULT_EMBEDDER.into(),
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

    /// The saved settings, or the defaults when there are none. A damaged file is an error that
    /// names it (the faces show it and fall back to defaults without overwriting it).
    pub fn load() -> Result<Settings> {
        let path = Self::path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| Error::InvalidInput(format!("settings file {} is damaged: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    pub fn save(&self) -> Result<()> {
        let path = Self::path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        self.validate()?;
        let text = toml::to_string_pretty(self).map_err(|e| Error::InvalidInput(e.to_string()))?;
        crate::store::write_atomically(&path, text.as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

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
