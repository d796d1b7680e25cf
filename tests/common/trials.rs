//! The tests' runner: libtest-mimic, so that whether a test can run is
//! decided at run time and said in the runner's own summary. A test that
//! loads BPF programs runs as root; otherwise it is reported as ignored,
//! except under CI (CI=true), where not being root fails it.

use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A test that loads BPF programs.
pub fn bpf_test(name: impl Into<String>, test: impl FnOnce() + Send + 'static) -> Trial {
    let skipped = !is_root() && !under_ci();
    Trial::test(name, move || {
        if !is_root() {
            return Err(Failed::from(
                "this test loads BPF programs and must run as root under CI (CI=true)",
            ));
        }
        test();
        Ok(())
    })
    .with_ignored_flag(skipped)
}

/// A test that needs no privileges.
pub fn plain_test(name: impl Into<String>, test: impl FnOnce() + Send + 'static) -> Trial {
    Trial::test(name, move || {
        test();
        Ok(())
    })
}

/// Runs the trials with the command line's filters and options (as
/// `cargo test -- NAME` passes them).
pub fn run(trials: Vec<Trial>) -> ExitCode {
    if !is_root() && !under_ci() {
        eprintln!("not root: the tests that load BPF programs are ignored (run as root for all)");
    }
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

/// `bpf_tests![a, b]`: a BPF trial for each test function, named after it.
#[macro_export]
macro_rules! bpf_tests {
    ($($test:ident),* $(,)?) => {
        vec![$($crate::common::trials::bpf_test(stringify!($test), $test)),*]
    };
}
