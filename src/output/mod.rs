//! The last step of the data path: formatted lines, buffered and written to
//! stdout once per batch of events.

pub mod clock;
pub mod escape;
pub mod json;

use std::io::{self, Write};

/// Whether the event loop goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Flow {
    Continue,
    Stop,
}

/// Lines waiting for the next flush. Written in one write(2) per batch, so a
/// pipe or file gets every event promptly without a syscall per line.
#[derive(Debug, Default)]
pub struct Output {
    pending: Vec<u8>,
}

impl Output {
    pub fn new() -> Self {
        Self {
            pending: Vec::with_capacity(64 * 1024),
        }
    }

    /// The buffer the formatters append complete lines to.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    /// Tracing has begun: writes the header waiting in the buffer or, for
    /// output without one (JSON Lines, a table at the end), says so on stderr
    /// so that stdout carries only data.
    pub fn announce_start(&mut self, traced: &str) -> io::Result<Flow> {
        if self.pending.is_empty() {
            eprintln!("Tracing {traced}... Hit Ctrl-C to end.");
        }
        self.flush()
    }

    /// Writes what is pending. A reader that went away (`| head`) ends the
    /// tool quietly; any other write error is reported.
    pub fn flush(&mut self) -> io::Result<Flow> {
        if self.pending.is_empty() {
            return Ok(Flow::Continue);
        }
        let mut stdout = io::stdout().lock();
        let result = stdout
            .write_all(&self.pending)
            .and_then(|()| stdout.flush());
        self.pending.clear();
        match result {
            Ok(()) => Ok(Flow::Continue),
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(Flow::Stop),
            Err(err) => Err(err),
        }
    }
}
