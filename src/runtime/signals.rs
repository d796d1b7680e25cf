//! SIGINT, SIGTERM and SIGHUP end the event loop; the tool then detaches,
//! flushes and exits 0.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

pub fn install_stop_handler() -> Result<()> {
    ctrlc::set_handler(|| STOP_REQUESTED.store(true, Ordering::SeqCst))
        .map_err(|err| Error::new(format!("cannot install the signal handler: {err}")))
}

pub fn stop_requested() -> bool {
    STOP_REQUESTED.load(Ordering::SeqCst)
}
