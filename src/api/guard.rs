//! Who may talk to the local API. Loopback is not enough: any web page the user opens can send
//! requests to `127.0.0.1`, and a DNS-rebinding page can even read the answers. So every request
//! must carry the bearer token (a page cannot know it), name this server in `Host` (a rebinding
//! page's requests name its own domain), and, when a browser sends an `Origin`, come from this
//! server's own origin (a page's cross-site request carries the page's).
//!
//! The token lives in the config directory, readable by its user only, generated at the first
//! start; `--token` or `FOLIO_API_TOKEN` replace it for scripts and tests.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// What the guard checks a request against.
#[derive(Clone)]
pub struct Guard {
    token: String,
    /// `host:port` values a request may name; empty when any is allowed (`--allow-remote`).
    hosts: Vec<String>,
    /// Origins a browser request may come from.
    origins: Vec<String>,
}

/// Why a request is refused: the HTTP status and a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 403: a foreign `Host` or `Origin`.
    Forbidden(&'static str),
    /// 401: no token, or the wrong one.
    Unauthorized,
}

impl Guard {
    /// For a server listening on `addr`. `remote`: the server was bound to a non-loopback address
    /// on purpose, so any `Host` is accepted (the token still is required).
    pub fn new(token: String, addr: SocketAddr, remote: bool) -> Guard {
        let port = addr.port();
        let names = ["127.0.0.1".to_string(), "localhost".to_string(), "[::1]".to_string()];
        let hosts: Vec<String> =
            if remote { Vec::new() } else { names.iter().map(|n| format!("{n}:{port}")).collect() };
        let origins = names.iter().map(|n| format!("http://{n}:{port}")).collect();
        Guard { token, hosts, origins }
    }

    /// Checks a request's `Host`, `Origin` and `Authorization` headers.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>, authorization: Option<&str>) -> Result<(), Refusal> {
        if !self.hosts.is_empty() && !host.is_some_and(|h| self.hosts.iter().any(|a| a.eq_ignore_ascii_case(h))) {
            return Err(Refusal::Forbidden("this server answers requests for its own loopback address only"));
        }
        if let Some(origin) = origin {
            if !self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return Err(Refusal::Forbidden("requests from web pages are refused"));
            }
        }
        let given = authorization.and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
        if !constant_time_eq(given.as_bytes(), self.token.as_bytes()) {
            return Err(Refusal::Unauthorized);
        }
        Ok(())
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where the API token is kept: beside the settings.
pub fn token_path() -> PathBuf {
    crate::settings::Settings::path().with_file_name("api-token")
}

/// The token in `path`, generated (32 random bytes, hex) and written readable by its user only
/// when there is none. An existing file readable by others is made private.
pub fn load_or_create_token(path: &Path) -> Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let token = text.trim().to_string();
        if token.len() >= 16 {
            make_private(path)?;
            return Ok(token);
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::InvalidInput(format!("no randomness for the API token: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).at(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).at(path)?;
    file.write_all(format!("{token}\n").as_bytes()).at(path)?;
    make_private(path)?;
    Ok(token)
}

fn make_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).at(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_servers_host_its_origin_and_the_token_pass() {
        let guard = Guard::new("t0ken-t0ken-t0ken".into(), "127.0.0.1:8765".parse().unwrap(), false);
        let ok = Some("Bearer t0ken-t0ken-t0ken");
        assert_eq!(guard.check(Some("127.0.0.1:8765"), None, ok), Ok(()));
        assert_eq!(guard.check(Some("localhost:8765"), Some("http://localhost:8765"), ok), Ok(()));
        // DNS rebinding: the page's own name in Host.
        assert!(matches!(guard.check(Some("evil.example:8765"), None, ok), Err(Refusal::Forbidden(_))));
        assert!(matches!(guard.check(None, None, ok), Err(Refusal::Forbidden(_))));
        // A cross-site request from a page in the user's browser.
        assert!(matches!(
            guard.check(Some("127.0.0.1:8765"), Some("https://evil.example"), ok),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(guard.check(Some("127.0.0.1:8765"), None, None), Err(Refusal::Unauthorized));
        assert_eq!(guard.check(Some("127.0.0.1:8765"), None, Some("Bearer t0ken")), Err(Refusal::Unauthorized));
        assert_eq!(guard.check(Some("127.0.0.1:8765"), None, Some("t0ken-t0ken-t0ken")), Err(Refusal::Unauthorized));
        let remote = Guard::new("t0ken-t0ken-t0ken".into(), "0.0.0.0:8765".parse().unwrap(), true);
        assert_eq!(remote.check(Some("files.lan:8765"), None, ok), Ok(()));
        assert_eq!(remote.check(Some("files.lan:8765"), None, None), Err(Refusal::Unauthorized));
    }

    #[test]
    fn the_token_is_generated_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("folio").join("api-token");
        let token = load_or_create_token(&path).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(load_or_create_token(&path).unwrap(), token);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            load_or_create_token(&path).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
