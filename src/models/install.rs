//! Getting a GGUF into the model directory: importing a file the user has, or downloading one
//! (resumable: a partial download continues with an HTTP range request; checked against the
//! catalog's sha256 before it is moved into place).

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::models_dir;
use crate::error::{Error, Result};
use crate::llm::gguf::GgufFile;
use crate::llm::tokenizer::Tokenizer;

/// A model id from a file name: lower-case letters, digits, dots and dashes.
pub fn id_from_path(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let id: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect();
    id.trim_matches('-').to_string()
}

/// Checks that a file is a GGUF decoder Folio can run (metadata, architecture, hyperparameters,
/// tokenizer); a damaged file is an error that says so, never a panic.
pub fn validate_gguf(path: &Path) -> Result<()> {
    let check = || -> Result<()> {
        let file = GgufFile::open(path)?;
        crate::llm::native::config::Config::from_gguf(&file)?;
        Tokenizer::from_gguf(&file)?;
        Ok(())
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or_else(|panic| {
        Err(Error::model(
            path.display().to_string(),
            format!("damaged model: reading it failed ({})", crate::error::panic_message(panic.as_ref())),
        ))
    })
}

/// Copies a GGUF the user picked into the model directory, after checking it. Returns its id.
pub fn import(path: &Path) -> Result<String> {
    validate_gguf(path)?;
    let id = id_from_path(path);
    if id.is_empty() {
        return Err(Error::InvalidInput(format!("{} has no usable file name", path.display())));
    }
    let dir = models_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let target = dir.join(format!("{id}.gguf"));
    let partial = target.with_extension("gguf.importing");
    std::fs::copy(path, &partial).map_err(|e| Error::io(&partial, e))?;
    std::fs::rename(&partial, &target).map_err(|e| Error::io(&target, e))?;
    Ok(id)
}

/// Progress of a download.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    pub total: Option<u64>,
}

/// Downloads `url` to `target`, continuing a `.part` file left by an earlier attempt, and checks
/// the sha256 when one is given. On a mismatch the partial file is deleted.
pub fn download(
    url: &str,
    target: &Path,
    sha256: Option<&str>,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf> {
    let part = target.with_extension("part");
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let agent = ureq::Agent::new_with_defaults();
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", &format!("bytes={have}-"));
    }
    let fail = |e: String| {
        Error::InvalidInput(format!(
            "downloading {url} failed: {e}; check the connection and try again (the download resumes)"
        ))
    };
    let response = request.call().map_err(|e| fail(e.to_string()))?;
    let resumed = response.status() == 206;
    let length: Option<u64> =
        response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(resumed)
        .write(true)
        .truncate(!resumed)
        .open(&part)
        .map_err(|e| Error::io(&part, e))?;
    let mut done = if resumed { have } else { 0 };
    let total = length.map(|l| l + done);
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let n = body.read(&mut buf).map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n]).map_err(|e| Error::io(&part, e))?;
        done += n as u64;
        progress(Progress { done, total });
    }
    file.flush().map_err(|e| Error::io(&part, e))?;
    drop(file);
    if let Some(total) = total {
        if done != total {
            return Err(fail(format!("the connection closed after {done} of {total} bytes")));
        }
    }
    if let Some(expected) = sha256 {
        let actual = sha256_file(&part)?;
        if !actual.eq_ignore_ascii_case(expected) {
            let _ = std::fs::remove_file(&part);
            return Err(Error::InvalidInput(format!(
                "the download of {url} is damaged (sha256 {actual}, expected {expected}); it was deleted, try again"
            )));
        }
    }
    std::fs::rename(&part, target).map_err(|e| Error::io(target, e))?;
    Ok(target.to_path_buf())
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.rewind().map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
