//! The `ctapkit` command-line tool: parse arguments, run, map the outcome to an exit code
//! (0 success, 1 a check failed, 2 usage or I/O error).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
