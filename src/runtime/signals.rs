//! SIGINT, SIGTERM and SIGHUP end the event loop; the tool then detaches,
//! flushes and exits 0. Whatever stdout does: a watchdog ends the tool if it
//! has not finished shortly after the signal (a reader that stopped reading
//! leaves it blocked in write(2)), saying how much output was not written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::thread;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::output;

/// How long a stopping tool may take to drain, print and exit.
const STOP_GRACE: Duration = Duration::from_millis(700);

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

pub fn install_stop_handler(tool: &'static str) -> Result<()> {
    static WATCHDOG: Once = Once::new();
    ctrlc::set_handler(move || {
        STOP_REQUESTED.store(true, Ordering::SeqCst);
        WATCHDOG.call_once(|| {
            thread::spawn(move || end_after_grace(tool));
        });
    })
    .map_err(|err| Error::new(format!("cannot install the signal handler: {err}")))
}

pub fn stop_requested() -> bool {
    STOP_REQUESTED.load(Ordering::SeqCst)
}

/// Runs on its own thread: still running after the grace, the tool is
/// stuck writing to a stdout nobody reads.
fn end_after_grace(tool: &str) {
    thread::sleep(STOP_GRACE);
    let (lines, bytes) = output::unwritten();
    eprintln!(
        "{tool}: stdout is not being read: {lines} lines ({bytes} bytes) of output were not written"
    );
    std::process::exit(0);
}
