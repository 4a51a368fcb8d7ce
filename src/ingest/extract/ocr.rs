//! OCR of scanned PDF pages with Tesseract, when it and a page renderer (`pdftoppm`, from
//! poppler-utils) are installed. Both run as child processes under the extraction's time limit
//! and die with the worker if it is killed. Without them, pages without a text layer are reported
//! with what to install.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Languages tried, in this order, among those installed.
const WANTED_LANGUAGES: &[&str] = &["rus", "eng"];
/// Rendering resolution: enough for body text, small enough to OCR a page in seconds.
const DPI: &str = "200";
/// Set to `0` or `off` to never run OCR (the pages are then reported as needing it).
pub const DISABLE_ENV: &str = "FOLIO_OCR";

/// What to tell the user when scanned pages cannot be read here.
pub const HOW_TO_ENABLE: &str =
    "install tesseract-ocr (and tesseract-ocr-rus for Russian) and poppler-utils to read them";

pub struct Ocr {
    tesseract: PathBuf,
    renderer: PathBuf,
    /// "rus+eng", or whichever of them are installed.
    pub languages: String,
}

/// The installed OCR tools, looked up once per process.
pub fn find() -> Option<&'static Ocr> {
    static FOUND: OnceLock<Option<Ocr>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            if std::env::var(DISABLE_ENV).is_ok_and(|v| matches!(v.as_str(), "0" | "off" | "no" | "false")) {
                return None;
            }
            let tesseract = on_path("tesseract")?;
            let renderer = on_path("pdftoppm")?;
            let listed = run(Command::new(&tesseract).arg("--list-langs"), Duration::from_secs(10)).ok()?;
            let installed: Vec<&str> = listed.lines().map(str::trim).collect();
            let mut languages: Vec<&str> = WANTED_LANGUAGES.iter().copied().filter(|l| installed.contains(l)).collect();
            if languages.is_empty() {
                // Some other language pack only: better than nothing.
                languages.extend(installed.iter().copied().find(|l| !l.is_empty() && !l.contains(' ') && *l != "osd"));
            }
            if languages.is_empty() {
                return None;
            }
            Some(Ocr { tesseract, renderer, languages: languages.join("+") })
        })
        .as_ref()
}

impl Ocr {
    /// The text of page `page` (1-based) of the PDF at `pdf`, within `limit`.
    pub fn page(&self, pdf: &Path, page: u32, limit: Duration) -> Result<String, String> {
        let started = Instant::now();
        let dir = tempfile::tempdir().map_err(|e| format!("no temporary folder for OCR: {e}"))?;
        let image = dir.path().join("page");
        let number = page.to_string();
        run(
            Command::new(&self.renderer)
                .args(["-r", DPI, "-gray", "-png", "-singlefile", "-f", &number, "-l", &number])
                .arg(pdf)
                .arg(&image),
            limit,
        )
        .map_err(|e| format!("rendering failed: {e}"))?;
        let left = limit.saturating_sub(started.elapsed());
        run(
            Command::new(&self.tesseract)
                .arg(image.with_extension("png"))
                .arg("stdout")
                .args(["-l", &self.languages])
                // One worker per core already: Tesseract's own threads would only compete.
                .env("OMP_THREAD_LIMIT", "1"),
            left,
        )
        .map_err(|e| format!("Tesseract failed: {e}"))
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            candidate.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            candidate.is_file()
        }
    })
}

/// Runs a command to completion within `limit`, returning its standard output.
fn run(command: &mut Command, limit: Duration) -> Result<String, String> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; it only asks for SIGKILL when the worker dies, so
        // a worker killed at its time limit leaves no renderer or OCR engine behind.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = (&mut stderr).take(64 << 10).read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("stopped after {} s (time limit)", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if !status.success() {
        let why = String::from_utf8_lossy(&err);
        return Err(format!("{status}: {}", why.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim()));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}
