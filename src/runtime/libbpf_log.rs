//! libbpf's own messages: on stderr with -v, nowhere otherwise (failures
//! reach the operator as our one-line errors, which then point to -v).

use std::sync::atomic::{AtomicBool, Ordering};

use libbpf_rs::PrintLevel;

static SHOWN: AtomicBool = AtomicBool::new(false);

/// Whether libbpf's log goes to stderr.
pub fn shown() -> bool {
    SHOWN.load(Ordering::Relaxed)
}

pub fn show(verbose: bool) {
    SHOWN.store(verbose, Ordering::Relaxed);
    let callback = verbose.then_some((PrintLevel::Debug, print_message as _));
    libbpf_rs::set_print(callback);
}

fn print_message(_level: PrintLevel, message: String) {
    eprint!("{message}");
}
