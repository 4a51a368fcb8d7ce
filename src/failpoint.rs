//! Faults injected on purpose, so that tests can prove a failure stays with the file it happened to.
//!
//! Debug builds only (the tests' builds): `FOLIO_FAILPOINTS=chunk:poison,embed:bad,commit:late`
//! panics in the named stage for files whose name contains the pattern after the colon. Release
//! builds compile every call to nothing.

use std::path::Path;

#[cfg(debug_assertions)]
pub fn hit(stage: &str, path: &Path) {
    let Ok(spec) = std::env::var("FOLIO_FAILPOINTS") else {
        return;
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let hit = spec
        .split(',')
        .filter_map(|item| item.split_once(':'))
        .any(|(at, pattern)| at == stage && !pattern.is_empty() && name.contains(pattern));
    if hit {
        panic!("failpoint {stage} hit for {}", path.display());
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn hit(_stage: &str, _path: &Path) {}
