//! The tests' runner: libtest-mimic, so that whether a test can run is
//! decided at run time and said in the runner's own summary. A test that
//! loads BPF programs runs as root; otherwise it is reported as ignored,
//! except under CI (CI=true), where not being root fails it.
//!
//! One lock, the host's, keeps the tests that flood every tracer on the host
//! (filling their channels, or their tables of connects) from the others: a
//! BPF test shares the host ([`bpf_test`]) or runs alone on it
//! ([`bpf_test_alone`]), so that no tool of a run is starved of CPU, or sees
//! its buffer fill, because of another test's storm. A tool that patches
//! kernel functions to trace them has its tests run one at a time
//! ([`run_one_at_a_time`]).

use std::process::ExitCode;
use std::sync::{PoisonError, RwLock};

use libtest_mimic::{Arguments, Failed, Trial};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Held for reading by every BPF test, for writing by one that floods.
static HOST: RwLock<()> = RwLock::new(());

/// A test that loads BPF programs, sharing the host with the others.
pub fn bpf_test(name: impl Into<String>, test: impl FnOnce() + Send + 'static) -> Trial {
    root_test(name, move || {
        let _shared = HOST.read().unwrap_or_else(PoisonError::into_inner);
        test()
    })
}

/// A test that loads BPF programs and floods every tracer on the host: it
/// runs alone.
pub fn bpf_test_alone(name: impl Into<String>, test: impl FnOnce() + Send + 'static) -> Trial {
    root_test(name, move || {
        let _alone = HOST.write().unwrap_or_else(PoisonError::into_inner);
        test()
    })
}

fn root_test(name: impl Into<String>, test: impl FnOnce() + Send + 'static) -> Trial {
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
    run_with(Arguments::from_args(), trials)
}

/// Runs the trials one at a time (as `--test-threads 1` would), for a tool
/// that attaches by patching the entry of the kernel functions it traces
/// (fentry, kprobe). Each start and stop of such a tool re-patches those
/// functions for every tracer on them, and the kernel (or the emulator of
/// the test VMs: not yet told apart) can miss a call made meanwhile
/// (docs/kernels.md). Tests starting and stopping tools beside each other
/// would fail on that miss, which is not the tool's.
pub fn run_one_at_a_time(trials: Vec<Trial>) -> ExitCode {
    let mut arguments = Arguments::from_args();
    arguments.test_threads = Some(1);
    run_with(arguments, trials)
}

fn run_with(arguments: Arguments, trials: Vec<Trial>) -> ExitCode {
    if !is_root() && !under_ci() {
        eprintln!("not root: the tests that load BPF programs are ignored (run as root for all)");
    }
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// `bpf_tests![a, b]`: a BPF trial for each test function, named after it.
#[macro_export]
macro_rules! bpf_tests {
    ($($test:ident),* $(,)?) => {
        vec![$($crate::common::trials::bpf_test(stringify!($test), $test)),*]
    };
}
