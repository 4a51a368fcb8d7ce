//! What an extraction worker gives up before it reads a file (Linux), best effort: each step the
//! platform refuses is skipped, and the address-space and time limits still hold.
//!
//! - No new privileges (setuid programs cannot raise it; seccomp needs this too).
//! - No network, twice over: a network namespace of its own, holding only a loopback that is down
//!   (a user namespace first when unprivileged; files stay readable, the kernel checks the real
//!   user), and a seccomp filter that refuses every socket but a local (Unix) one and io_uring
//!   (which can open sockets past the filter). The filter holds where an administrator switched
//!   unprivileged user namespaces off; the namespace holds where seccomp is missing.
//! - The OOM killer's first choice (`oom_score_adj` 1000), so memory pressure ends a worker, not
//!   the app.
//!
//! Not done: a filter on every system call a reader might make (file systems, threads and the
//! OCR programs it runs make that list long and brittle), and no mount namespace hiding the
//! user's other files: a worker must read the file it was given, wherever it is.

/// Confines the calling process. Runs first in the worker, while it has a single thread, as
/// `unshare` requires and so that the filter covers every thread started later.
pub fn confine() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl and unshare with constant flags; a failure only leaves that step undone.
        unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let flags =
                if libc::geteuid() == 0 { libc::CLONE_NEWNET } else { libc::CLONE_NEWUSER | libc::CLONE_NEWNET };
            libc::unshare(flags);
        }
        if let Err(e) = deny_network_sockets() {
            tracing::debug!("the worker's socket filter is not installed: {e}");
        }
        // Last, so that a worker seen with this score has given up the network already (raising
        // one's own score needs no privilege, in a user namespace too).
        let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    }
}

/// Installs a seccomp filter on the calling thread (and the threads and programs it starts from
/// then on): `socket` fails with `EACCES` for every family but `AF_UNIX`, `io_uring_setup` too,
/// and system calls of another ABI (32-bit or x32 on x86-64) with `ENOSYS`. Needs no privilege
/// once `PR_SET_NO_NEW_PRIVS` is set.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn deny_network_sockets() -> std::io::Result<()> {
    use libc::{sock_filter, sock_fprog};

    // Classic BPF over `struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }`.
    const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JUMP_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JUMP_AT_LEAST: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    const RETURN: u16 = 0x06; // BPF_RET | BPF_K
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    const FIRST_ARG: u32 = 16; // the low half of args[0] (both targets are little-endian)
    const ALLOW: u32 = 0x7fff_0000;
    const ERRNO: u32 = 0x0005_0000;
    #[cfg(target_arch = "x86_64")]
    const NATIVE_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
    #[cfg(target_arch = "aarch64")]
    const NATIVE_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
    const X32_BIT: u32 = 0x4000_0000;

    let op = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    // Jumps count the instructions to skip.
    let program = [
        op(LOAD_WORD, 0, 0, ARCH),                             // 0
        op(JUMP_EQUAL, 0, 7, NATIVE_ARCH),                     // 1: else 9
        op(LOAD_WORD, 0, 0, NR),                               // 2
        op(JUMP_AT_LEAST, 5, 0, X32_BIT),                      // 3: x32 → 9
        op(JUMP_EQUAL, 5, 0, libc::SYS_io_uring_setup as u32), // 4: → 10
        op(JUMP_EQUAL, 0, 2, libc::SYS_socket as u32),         // 5: other calls → 8
        op(LOAD_WORD, 0, 0, FIRST_ARG),                        // 6
        op(JUMP_EQUAL, 0, 2, libc::AF_UNIX as u32),            // 7: other families → 10
        op(RETURN, 0, 0, ALLOW),                               // 8
        op(RETURN, 0, 0, ERRNO | libc::ENOSYS as u32),         // 9
        op(RETURN, 0, 0, ERRNO | libc::EACCES as u32),         // 10
    ];
    let fprog = sock_fprog { len: program.len() as u16, filter: program.as_ptr() as *mut sock_filter };
    // SAFETY: the program outlives the call (the kernel copies it); without PR_SET_NO_NEW_PRIVS
    // an unprivileged caller gets EACCES, which is returned.
    let result = unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog as *const sock_fprog)
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
pub fn deny_network_sockets() -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "socket filters are built for Linux on x86-64 and arm64"))
}

#[cfg(all(test, target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use std::io::ErrorKind;

    #[test]
    fn a_filtered_thread_opens_local_sockets_only() {
        // Its own thread: the filter binds the thread that installs it, not the test's others.
        std::thread::spawn(|| {
            // Before: the test process itself may use the network.
            assert!(std::net::UdpSocket::bind("127.0.0.1:0").is_ok());
            super::deny_network_sockets().expect("seccomp filter installed");
            for attempt in [
                std::net::UdpSocket::bind("127.0.0.1:0").map(drop),
                std::net::TcpListener::bind("127.0.0.1:0").map(drop),
                std::net::TcpListener::bind("[::1]:0").map(drop),
                std::net::TcpStream::connect("127.0.0.1:9").map(drop),
            ] {
                assert_eq!(attempt.unwrap_err().kind(), ErrorKind::PermissionDenied);
            }
            let (a, b) = std::os::unix::net::UnixStream::pair().expect("local sockets stay");
            drop((a, b));
            assert!(std::os::unix::net::UnixDatagram::unbound().is_ok());
            // Files and threads are untouched.
            assert!(std::fs::read("/proc/self/status").is_ok());
            assert!(std::thread::spawn(|| 1).join().is_ok());
        })
        .join()
        .unwrap();
    }
}
