//! The `ctapkit` command-line tool: parse arguments, run, map the outcome to an exit code
//! (0 success, 1 a check failed, 2 usage or I/O error).

mod cli;

fn main() -> std::process::ExitCode {
    restore_sigpipe();
    cli::main()
}

/// Output piped into `head` and closed early ends the process quietly, as for other Unix
/// tools, instead of a "failed printing to stdout" panic (Rust ignores SIGPIPE by default).
#[allow(unsafe_code)]
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE and no handler code runs in this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
