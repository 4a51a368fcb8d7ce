//! What this computer has: cores and memory. Choices that depend on the machine (which model to
//! run, how many extraction workers) ask here instead of guessing.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Threads the process may run at once (cgroup and affinity limits included).
    pub cores: usize,
    /// Physical memory, when the platform says.
    pub memory_bytes: Option<u64>,
    /// Memory free for new work now (free, reclaimable cache included), when the platform says.
    pub available_bytes: Option<u64>,
}

impl Machine {
    pub fn this() -> Machine {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let (memory_bytes, available_bytes) = memory();
        Machine { cores, memory_bytes, available_bytes }
    }

    /// A short description for the user: "8 cores, 16.0 GiB memory".
    pub fn describe(&self) -> String {
        let cores = if self.cores == 1 { "1 core".to_string() } else { format!("{} cores", self.cores) };
        match self.memory_bytes {
            Some(bytes) => format!("{cores}, {} memory", crate::sizes::human_size(bytes)),
            None => format!("{cores}, memory unknown"),
        }
    }
}

/// Peak resident memory of this process in MiB.
pub fn peak_rss_mib() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage fills the struct we pass.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let who = libc::RUSAGE_SELF;
        if unsafe { libc::getrusage(who, &mut usage) } == 0 {
            return usage.ru_maxrss as f64 / 1024.0;
        }
    }
    0.0
}

/// Resident memory of this process now, in MiB (0 where the platform does not say).
pub fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU seconds (user and system) this process has used, with its children that have ended and
/// been waited for (extraction workers once a run is over).
pub fn cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let seconds = |who| {
            // SAFETY: getrusage fills the struct we pass.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            if unsafe { libc::getrusage(who, &mut usage) } != 0 {
                return 0.0;
            }
            let time = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
            time(usage.ru_utime) + time(usage.ru_stime)
        };
        return seconds(libc::RUSAGE_SELF) + seconds(libc::RUSAGE_CHILDREN);
    }
    #[allow(unreachable_code)]
    0.0
}

#[cfg(target_os = "linux")]
fn memory() -> (Option<u64>, Option<u64>) {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    parse_meminfo(&text)
}

#[cfg(target_os = "macos")]
fn memory() -> (Option<u64>, Option<u64>) {
    // `sysctl` is part of every macOS; the available figure needs vm_stat arithmetic that is not
    // worth its parsing here (the total is what the choices use).
    let total = std::process::Command::new("sysctl")
        .args(["-n", "hw.memsize"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok());
    (total, None)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn memory() -> (Option<u64>, Option<u64>) {
    (None, None)
}

/// `MemTotal` and `MemAvailable` of `/proc/meminfo` (given in KiB), in bytes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_meminfo(text: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            kib.checked_mul(1024)
        })
    };
    (field("MemTotal"), field("MemAvailable"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read_in_bytes() {
        let text = "MemTotal:       16318480 kB\nMemFree:          123 kB\nMemAvailable:   8000000 kB\n";
        assert_eq!(parse_meminfo(text), (Some(16_318_480 * 1024), Some(8_000_000 * 1024)));
        assert_eq!(parse_meminfo("garbage"), (None, None));
    }

    #[test]
    fn this_machine_has_a_core_and_says_so() {
        let machine = Machine::this();
        assert!(machine.cores >= 1);
        assert!(machine.describe().contains("core"));
        #[cfg(target_os = "linux")]
        assert!(machine.memory_bytes.unwrap() > machine.available_bytes.unwrap_or(0) / 2);
    }
}
