//! Extraction in a separate process, so that no file can take Folio down.
//!
//! Parsers of untrusted formats panic, loop forever or allocate without bound on some inputs. Each
//! indexing thread drives one long-lived worker process (the same executable started with
//! [`WORKER_ARG`]) over a pipe: a request names a file, the reply carries its pages. The parent
//! enforces a time limit per file and kills a worker that exceeds it; the worker caps its own
//! address space, so a memory blow-up ends that worker only. Either way the file is reported as
//! failed with the reason, a fresh worker is started, and indexing goes on.

use std::ffi::OsString;
use std::io::{self, BufReader, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde::{Deserialize, Serialize};

use super::extract::{extractor_for, panic_message, ExtractError, Extraction};

/// First argument that turns a Folio executable into an extraction worker.
pub const WORKER_ARG: &str = "__extract-worker";
const MEMORY_ENV: &str = "FOLIO_WORKER_MEMORY";

/// Call first thing in `main` of every executable that can serve as a worker.
pub fn maybe_run_worker() {
    if std::env::args_os().nth(1).is_some_and(|a| a == WORKER_ARG) {
        std::process::exit(match worker_main() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("extraction worker: {e}");
                1
            }
        });
    }
}

/// How to start a worker process.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl WorkerCommand {
    /// This very executable; its `main` must call [`maybe_run_worker`].
    pub fn current_exe() -> io::Result<Self> {
        Ok(WorkerCommand { program: std::env::current_exe()?, args: vec![WORKER_ARG.into()] })
    }

    pub fn program(program: impl Into<PathBuf>) -> Self {
        WorkerCommand { program: program.into(), args: vec![WORKER_ARG.into()] }
    }
}

/// Where extraction runs.
#[derive(Debug, Clone)]
pub enum Isolation {
    /// In worker processes: panics, hangs and memory blow-ups are contained.
    Process(WorkerCommand),
    /// In the calling thread: panics are caught, hangs are not. For tests and tools only.
    InProcess,
}

/// Bounds on one file's extraction.
#[derive(Debug, Clone)]
pub struct ExtractLimits {
    /// Time allowed for any file, plus `timeout_per_mib` for each MiB of it.
    pub timeout_base: Duration,
    pub timeout_per_mib: Duration,
    /// Address-space limit of a worker process.
    pub worker_memory_bytes: u64,
    /// Text kept from one file; the rest is dropped with a warning.
    pub max_text_bytes: usize,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            timeout_base: Duration::from_secs(30),
            timeout_per_mib: Duration::from_secs(3),
            worker_memory_bytes: WorkerPlan::for_machine(&crate::machine::Machine::this()).memory_bytes,
            max_text_bytes: 64 << 20,
        }
    }
}

/// How many extraction workers run at once and how much address space each may take, from the
/// machine: together they stay within three quarters of its memory (the app, the embedder and the
/// user's other programs need the rest), each gets between 1 and 3 GiB, and there are no more than
/// cores (nor eight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPlan {
    pub workers: usize,
    pub memory_bytes: u64,
}

impl WorkerPlan {
    const MIN: u64 = 1 << 30;
    const MAX: u64 = 3 << 30;

    pub fn for_machine(machine: &crate::machine::Machine) -> WorkerPlan {
        // Unknown memory: the old fixed plan's 3 GiB, for as many workers as a modest laptop holds.
        let budget = machine.memory_bytes.unwrap_or(8 << 30) / 4 * 3;
        let fit = (budget / Self::MIN).max(1) as usize;
        let workers = machine.cores.clamp(1, 8).min(fit);
        let memory_bytes = (budget / workers as u64).clamp(Self::MIN, Self::MAX);
        WorkerPlan { workers, memory_bytes }
    }
}

impl ExtractLimits {
    fn timeout_for(&self, size: u64) -> Duration {
        let per_mib = self.timeout_per_mib.as_secs_f64() * size as f64 / (1 << 20) as f64;
        (self.timeout_base + Duration::from_secs_f64(per_mib)).min(Duration::from_secs(900))
    }
}

/// Not `Debug`: it can carry passwords, which no log line may print.
#[derive(Serialize, Deserialize)]
struct Request {
    path: PathBuf,
    /// If the file's content hash equals this, the worker answers `Unchanged` without extracting.
    known_hash: Option<String>,
    max_text_bytes: usize,
    /// The time limit the parent enforces, so extractors can stop in time and keep what they have.
    #[serde(default)]
    time_limit_ms: Option<u64>,
    /// Passwords to try on a password-protected file (over the worker's pipe, never its
    /// command line or environment, which other users' processes can read).
    #[serde(default)]
    passwords: Vec<String>,
}

/// A reply on the wire, with the worker's peak memory so far (the parent cannot measure it:
/// its own accounting of children counts pages shared before `exec`).
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    reply: Reply,
    peak_rss_kib: u64,
}

/// The largest resident size any extraction worker of this process reached, in KiB.
static WORKER_PEAK_RSS_KIB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn worker_peak_rss_mib() -> f64 {
    WORKER_PEAK_RSS_KIB.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
}

/// What became of one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    Unchanged { hash: String },
    Extracted { hash: String, extractor: String, extraction: Extraction },
    Failed { hash: Option<String>, error: ExtractError },
}

/// Extracts files one at a time, in a worker process or in-process.
pub struct FileExtractor {
    isolation: Isolation,
    limits: ExtractLimits,
    worker: Option<Worker>,
}

impl FileExtractor {
    pub fn new(isolation: Isolation, limits: ExtractLimits) -> Self {
        FileExtractor { isolation, limits, worker: None }
    }

    /// Reads one file; `passwords` are tried if it turns out to be password-protected.
    pub fn extract(&mut self, path: &Path, size: u64, known_hash: Option<&str>, passwords: &[String]) -> Reply {
        let timeout = self.limits.timeout_for(size);
        let request = Request {
            path: path.to_path_buf(),
            known_hash: known_hash.map(str::to_string),
            max_text_bytes: self.limits.max_text_bytes,
            time_limit_ms: matches!(self.isolation, Isolation::Process(_)).then(|| timeout.as_millis() as u64),
            passwords: passwords.to_vec(),
        };
        let command = match &self.isolation {
            Isolation::InProcess => return serve(&request),
            Isolation::Process(command) => command.clone(),
        };
        let failed = |message: String| Reply::Failed { hash: None, error: ExtractError::Unreadable(message) };
        if self.worker.is_none() {
            match Worker::spawn(&command, &self.limits) {
                Ok(worker) => self.worker = Some(worker),
                Err(e) => {
                    return failed(format!("could not start the extraction worker {}: {e}", command.program.display()))
                }
            }
        }
        let worker = self.worker.as_mut().expect("worker started above");
        match worker.call(&request, timeout) {
            Ok(reply) => reply,
            Err(WorkerFailure::TimedOut) => {
                self.worker = None; // dropping kills it
                failed(format!("reading took longer than {} s; the file was skipped", timeout.as_secs()))
            }
            Err(WorkerFailure::Died(why)) => {
                self.worker = None;
                let limit_mib = self.limits.worker_memory_bytes >> 20;
                let reason = if why.contains("memory allocation") || why.contains("out of memory") {
                    format!("reading it needed more than {limit_mib} MiB of memory")
                } else {
                    format!("the reader crashed on it ({why})")
                };
                failed(reason)
            }
        }
    }
}

enum WorkerFailure {
    TimedOut,
    Died(String),
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<io::Result<Reply>>,
    stderr_tail: Arc<Mutex<String>>,
}

impl Worker {
    fn spawn(command: &WorkerCommand, limits: &ExtractLimits) -> io::Result<Worker> {
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .env(MEMORY_ENV, limits.worker_memory_bytes.to_string())
            // The memory limit is on address space. mimalloc (the `folio` binary's allocator)
            // reserves 1 GiB arenas at its first allocation, before the worker sets the limit,
            // and later allocations inside that reservation would escape it: without arenas,
            // every large allocation is a fresh mapping the limit counts.
            .env("MIMALLOC_ARENA_RESERVE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (tx, replies) = crossbeam_channel::bounded(1);
        std::thread::Builder::new().name("extract-reply".into()).spawn(move || loop {
            let reply = read_frame(&mut stdout).and_then(|bytes| {
                let envelope = serde_json::from_slice::<Envelope>(&bytes)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                WORKER_PEAK_RSS_KIB.fetch_max(envelope.peak_rss_kib, std::sync::atomic::Ordering::Relaxed);
                Ok(envelope.reply)
            });
            let stop = reply.is_err();
            if tx.send(reply).is_err() || stop {
                break;
            }
        })?;
        // Parsers print to stderr; keep the last lines to explain a crash, pass the rest to the log.
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        let tail = stderr_tail.clone();
        std::thread::Builder::new().name("extract-stderr".into()).spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]);
                tracing::debug!(target: "folio::extract_worker", "{}", text.trim_end());
                let mut tail = tail.lock().unwrap();
                tail.push_str(&text);
                if tail.len() > 4096 {
                    let cut = tail.len() - 2048;
                    let cut = (cut..tail.len()).find(|i| tail.is_char_boundary(*i)).unwrap_or(0);
                    tail.drain(..cut);
                }
            }
        })?;
        Ok(Worker { child, stdin, replies, stderr_tail })
    }

    fn call(&mut self, request: &Request, timeout: Duration) -> Result<Reply, WorkerFailure> {
        let bytes = serde_json::to_vec(request).expect("request serialises");
        if write_frame(&mut self.stdin, &bytes).is_err() {
            return Err(WorkerFailure::Died(self.death_reason()));
        }
        match self.replies.recv_timeout(timeout) {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => Err(WorkerFailure::Died(self.death_reason())),
            Err(RecvTimeoutError::Timeout) => Err(WorkerFailure::TimedOut),
        }
    }

    fn death_reason(&mut self) -> String {
        // A worker that sent garbage may still be running: end it before waiting for it.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let status = self.child.wait().map(describe_exit).unwrap_or_else(|e| e.to_string());
        // Give the stderr thread a moment to collect the last words.
        std::thread::sleep(Duration::from_millis(50));
        let tail = self.stderr_tail.lock().unwrap();
        // The allocator's own message names the cause; otherwise the last line said most.
        let telling = tail
            .lines()
            .find(|l| l.contains("memory allocation"))
            .or_else(|| tail.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("")
            .trim();
        if telling.is_empty() {
            status
        } else {
            format!("{status}: {telling}")
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    format!("exited with {status}")
}

fn write_frame(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("frame larger than 4 GiB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)?;
    out.flush()
}

fn read_frame(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The worker process: answers requests on stdin until it closes.
fn worker_main() -> io::Result<()> {
    super::sandbox::confine();
    let mut replies = protocol_output()?;
    if let Some(bytes) = std::env::var(MEMORY_ENV).ok().and_then(|v| v.parse::<u64>().ok()) {
        limit_memory(bytes);
    }
    // Panics are answered as failures; the default hook's message would only add noise.
    std::panic::set_hook(Box::new(|_| {}));
    let mut stdin = io::stdin().lock();
    loop {
        let bytes = match read_frame(&mut stdin) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let request: Request =
            serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let reply = serve(&request);
        let envelope = Envelope { reply, peak_rss_kib: own_peak_rss_kib() };
        write_frame(&mut replies, &serde_json::to_vec(&envelope).expect("reply serialises"))?;
    }
}

/// The pipe to the parent. Stdout itself is pointed at stderr, so that a parser that prints cannot
/// corrupt the protocol.
#[cfg(unix)]
fn protocol_output() -> io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain descriptor duplication on descriptors this process owns.
    unsafe {
        let fd = libc::dup(1);
        if fd < 0 || libc::dup2(2, 1) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(std::fs::File::from_raw_fd(fd))
    }
}

#[cfg(not(unix))]
fn protocol_output() -> io::Result<std::io::Stdout> {
    Ok(io::stdout())
}

fn own_peak_rss_kib() -> u64 {
    // The high-water mark of this process image. getrusage's figure would not do: a child
    // inherits its parent's peak at fork, and the indexer has the embedder loaded by then.
    #[cfg(target_os = "linux")]
    if let Some(kib) = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("VmHWM:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()))
    }) {
        return kib;
    }
    #[cfg(unix)]
    {
        // SAFETY: getrusage fills the struct we pass.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            return usage.ru_maxrss as u64;
        }
    }
    0
}

#[cfg(unix)]
fn limit_memory(bytes: u64) {
    let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
    // SAFETY: setrlimit with a valid struct; failure only leaves the limit unset.
    unsafe {
        libc::setrlimit(libc::RLIMIT_AS, &limit);
    }
}

#[cfg(not(unix))]
fn limit_memory(_bytes: u64) {}

/// Reads, hashes and extracts one file. Runs inside the worker (or in-process).
fn serve(request: &Request) -> Reply {
    super::extract::set_time_limit(request.time_limit_ms.map(Duration::from_millis));
    let bytes = match std::fs::read(&request.path) {
        Ok(bytes) => bytes,
        Err(e) => return Reply::Failed { hash: None, error: ExtractError::Unreadable(format!("cannot read it: {e}")) },
    };
    let hash = blake3::hash(&bytes).to_hex().to_string();
    if request.known_hash.as_deref() == Some(hash.as_str()) {
        return Reply::Unchanged { hash };
    }
    let Some(extractor) = extractor_for(&request.path) else {
        return Reply::Failed { hash: Some(hash), error: ExtractError::Unreadable("unsupported format".into()) };
    };
    let read = || super::extract::with_passwords(&request.passwords, || extractor.extract(&request.path, &bytes));
    match catch_unwind(AssertUnwindSafe(read)) {
        Ok(Ok(mut extraction)) => {
            cap_text(&mut extraction, request.max_text_bytes);
            Reply::Extracted { hash, extractor: extractor.name().to_string(), extraction }
        }
        Ok(Err(error)) => Reply::Failed { hash: Some(hash), error },
        Err(panic) => Reply::Failed {
            hash: Some(hash),
            error: ExtractError::Malformed {
                format: extractor.name().to_string(),
                detail: format!("the reader panicked: {}", panic_message(panic.as_ref())),
            },
        },
    }
}

/// Keeps at most `max` bytes of text, cut at a character boundary, and says so.
fn cap_text(extraction: &mut Extraction, max: usize) {
    let mut total = 0usize;
    let mut cut_at = None;
    for (i, page) in extraction.pages.iter_mut().enumerate() {
        if total + page.text.len() > max {
            let mut keep = max - total;
            while !page.text.is_char_boundary(keep) {
                keep -= 1;
            }
            page.text.truncate(keep);
            cut_at = Some(i + 1);
            break;
        }
        total += page.text.len();
    }
    if let Some(keep_pages) = cut_at {
        extraction.pages.truncate(keep_pages);
        extraction.warnings.push(format!("only the first {} MiB of text were indexed", max >> 20));
    }
}

#[cfg(test)]
mod plan_tests {
    use super::WorkerPlan;
    use crate::machine::Machine;

    fn plan(cores: usize, gib: u64) -> (usize, u64) {
        let p = WorkerPlan::for_machine(&Machine { cores, memory_bytes: Some(gib << 30), available_bytes: None });
        (p.workers, p.memory_bytes >> 20)
    }

    #[test]
    fn workers_fit_in_the_machine() {
        // 8 cores, 8 GiB: eight 3 GiB workers (24 GiB) were allowed; now six of 1 GiB.
        assert_eq!(plan(8, 8), (6, 1024));
        assert_eq!(plan(8, 16), (8, 1536));
        assert_eq!(plan(2, 24), (2, 3072));
        assert_eq!(plan(16, 64), (8, 3072));
        // A tiny machine still gets one worker of the smallest size.
        assert_eq!(plan(4, 1), (1, 1024));
    }
}
