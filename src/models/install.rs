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
    crate::llm::gguf::without_panics(path, check)
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

/// What a download must turn out to be: its sha256 and size when the catalog knows them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expected<'a> {
    pub sha256: Option<&'a str>,
    pub size: Option<u64>,
}

/// No model file is larger than this; a server that says otherwise is not believed.
const MAX_DOWNLOAD_BYTES: u64 = 64 << 30;

/// Downloads `url` to `target`. A `.part` file left by an earlier attempt is continued with a range
/// request that names the version it holds (`If-Range`, with the ETag or Last-Modified the server
/// gave), and the server's `Content-Range` must start where the part ends: a file that changed on
/// the server starts over instead of being spliced. A part that is already whole (the server
/// answers 416) is verified, not requested again. The size is capped (the catalog's, else 64 GiB).
/// The sha256 is checked when one is given; otherwise it is recorded beside the file
/// (`NAME.gguf.sha256`) at this first verified download, and later downloads must match it. On a
/// mismatch the part is deleted.
pub fn download(
    url: &str,
    target: &Path,
    expected: Expected,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf> {
    let part = target.with_extension("part");
    let validator_file = target.with_extension("part.validator");
    let recorded_file = sha_record(target);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let recorded = std::fs::read_to_string(&recorded_file).ok().map(|s| s.trim().to_string());
    let sha256 = expected.sha256.map(str::to_string).or(recorded);
    let cap = expected.size.unwrap_or(MAX_DOWNLOAD_BYTES).min(MAX_DOWNLOAD_BYTES);
    let fail = |e: String| {
        Error::InvalidInput(format!(
            "downloading {url} failed: {e}; check the connection and try again (the download resumes)"
        ))
    };
    let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if have > cap {
        let _ = std::fs::remove_file(&part);
        have = 0;
    }
    let validator = std::fs::read_to_string(&validator_file).ok().filter(|v| !v.is_empty());
    // Statuses are answered here (416 is how a server says the part is already whole).
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", &format!("bytes={have}-"));
        if let Some(v) = &validator {
            request = request.header("If-Range", v);
        }
    }
    let response = request.call().map_err(|e| fail(e.to_string()))?;
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if status == 416 && have > 0 {
        // The part holds every byte already: check it instead of asking again.
        return finish(&part, target, sha256.as_deref(), &recorded_file, &validator_file, url);
    }
    let resumed = match status {
        206 => {
            let range = header("content-range").unwrap_or_default();
            match parse_content_range(&range) {
                Some((start, _)) if start == have => true,
                _ => {
                    let _ = std::fs::remove_file(&part);
                    return Err(fail(format!(
                        "the server resumed at the wrong place ({range:?} for a part of {have} bytes); the part was deleted"
                    )));
                }
            }
        }
        200 => false,
        other => return Err(fail(format!("the server answered HTTP {other}"))),
    };
    let total = if resumed {
        parse_content_range(&header("content-range").unwrap_or_default()).and_then(|(_, total)| total)
    } else {
        header("content-length").and_then(|v| v.parse().ok())
    };
    if let Some(total) = total.filter(|&t| t > cap) {
        return Err(fail(format!("the file is {total} bytes, more than the {cap} expected")));
    }
    // The version this part holds, for resuming it later.
    let _ = std::fs::write(&validator_file, header("etag").or_else(|| header("last-modified")).unwrap_or_default());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(resumed)
        .write(true)
        .truncate(!resumed)
        .open(&part)
        .map_err(|e| Error::io(&part, e))?;
    let mut done = if resumed { have } else { 0 };
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
        done += n as u64;
        if done > cap {
            drop(file);
            let _ = std::fs::remove_file(&part);
            return Err(fail(format!("the server sent more than the {cap} bytes expected; the part was deleted")));
        }
        file.write_all(&buf[..n]).map_err(|e| Error::io(&part, e))?;
        progress(Progress { done, total });
    }
    file.flush().map_err(|e| Error::io(&part, e))?;
    drop(file);
    if let Some(total) = total {
        if done != total {
            return Err(fail(format!("the connection closed after {done} of {total} bytes")));
        }
    }
    finish(&part, target, sha256.as_deref(), &recorded_file, &validator_file, url)
}

/// Where the sha256 of a download without a pinned hash is kept.
fn sha_record(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy().into_owned();
    target.with_file_name(format!("{name}.sha256"))
}

/// `bytes START-END/TOTAL` → (START, TOTAL when known).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

/// Verifies a whole part and moves it into place; records its hash when none was known.
fn finish(
    part: &Path,
    target: &Path,
    sha256: Option<&str>,
    recorded_file: &Path,
    validator_file: &Path,
    url: &str,
) -> Result<PathBuf> {
    let actual = sha256_file(part)?;
    match sha256 {
        Some(expected) if !actual.eq_ignore_ascii_case(expected) => {
            let _ = std::fs::remove_file(part);
            let _ = std::fs::remove_file(validator_file);
            return Err(Error::InvalidInput(format!(
                "the download of {url} is damaged (sha256 {actual}, expected {expected}); it was deleted, try again"
            )));
        }
        Some(_) => {}
        None => std::fs::write(recorded_file, format!("{actual}\n")).map_err(|e| Error::io(recorded_file, e))?,
    }
    std::fs::rename(part, target).map_err(|e| Error::io(target, e))?;
    let _ = std::fs::remove_file(validator_file);
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
