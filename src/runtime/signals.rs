//! SIGINT, SIGTERM and SIGHUP end the event loop; the tool then detaches,
//! flushes and exits 0. Whatever stdout does: after the signal, a watchdog
//! ends the tool when a write(2) to stdout makes no progress for a while (a
//! reader that stopped reading), saying how much output was not written. A
//! tool busy with its final report (many connects to list) is let finish.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::output;

/// How long a write to stdout may make no progress once the tool stops.
const STOP_GRACE: Duration = Duration::from_millis(700);
/// How often the watchdog looks.
const WATCH_INTERVAL: Duration = Duration::from_millis(50);

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

pub fn install_stop_handler(tool: &'static str) -> Result<()> {
    static WATCHDOG: Once = Once::new();
    ctrlc::set_handler(move || {
        STOP_REQUESTED.store(true, Ordering::SeqCst);
        WATCHDOG.call_once(|| {
            thread::spawn(move || end_when_stdout_is_stuck(tool));
        });
    })
    .map_err(|err| Error::new(format!("cannot install the signal handler: {err}")))
}

pub fn stop_requested() -> bool {
    STOP_REQUESTED.load(Ordering::SeqCst)
}

/// Runs on its own thread: a write that made no progress for STOP_GRACE
/// is stuck on a stdout nobody reads.
fn end_when_stdout_is_stuck(tool: &str) {
    let mut stalled: Option<(u64, Instant)> = None;
    loop {
        thread::sleep(WATCH_INTERVAL);
        stalled = match (output::write_progress(), stalled) {
            (Some(written), Some((before, since))) if written == before => {
                if since.elapsed() >= STOP_GRACE {
                    break;
                }
                Some((before, since))
            }
            (Some(written), _) => Some((written, Instant::now())),
            (None, _) => None,
        };
    }
    let (lines, bytes) = output::unwritten();
    eprintln!(
        "{tool}: stdout is not being read: {lines} lines ({bytes} bytes) of output were not written"
    );
    std::process::exit(0);
}
