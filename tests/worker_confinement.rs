//! What an extraction worker gives up before it reads a file (Linux): it is the OOM killer's first
//! choice and it has no network (a namespace of its own and a seccomp filter on sockets; the
//! filter's effect is proven in `ingest::sandbox`'s unit test). The real worker: the `folio`
//! binary in its worker mode.
#![cfg(target_os = "linux")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn net_namespace(pid: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap().display().to_string()
}

#[test]
fn a_worker_is_the_oom_killers_first_choice_and_has_no_network() {
    let mut worker = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg(folio::ingest::worker::WORKER_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = worker.id().to_string();
    // It confines itself first thing, then waits for a request on stdin.
    let started = Instant::now();
    let score = loop {
        let score = std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap();
        if score.trim() == "1000" || started.elapsed() > Duration::from_secs(10) {
            break score;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let worker_net = net_namespace(&pid);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    drop(worker.stdin.take());
    let _ = worker.wait();
    assert_eq!(score.trim(), "1000");
    // Seccomp in filter mode (2), with no new privileges; kernels without seccomp say nothing.
    if status.contains("Seccomp:") {
        assert!(status.lines().any(|l| l.split_whitespace().eq(["Seccomp:", "2"])), "{status}");
    }
    assert!(status.lines().any(|l| l.split_whitespace().eq(["NoNewPrivs:", "1"])), "{status}");
    // Unprivileged user namespaces can be switched off by the administrator; then the worker runs
    // with the network (the other limits still hold), and there is nothing to check here.
    let userns = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").map_or(true, |n| n.trim() != "0");
    if userns {
        assert_ne!(worker_net, net_namespace("self"), "the worker has a network namespace of its own");
    }
}
