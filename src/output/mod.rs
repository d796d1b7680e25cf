//! The last step of the data path: formatted lines, buffered and written to
//! stdout once per batch of events.

pub mod args;
pub mod clock;
pub mod columns;
pub mod escape;
pub mod json;

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Whether the event loop goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Flow {
    Continue,
    Stop,
}

/// What the flush in progress has yet to write: if stdout blocks and a
/// stop signal comes, the watchdog (runtime::signals) says how much was lost.
static UNWRITTEN_BYTES: AtomicUsize = AtomicUsize::new(0);
static UNWRITTEN_LINES: AtomicUsize = AtomicUsize::new(0);

/// (lines, bytes) of output the flush in progress has not written.
pub fn unwritten() -> (usize, usize) {
    (
        UNWRITTEN_LINES.load(Ordering::SeqCst),
        UNWRITTEN_BYTES.load(Ordering::SeqCst),
    )
}

/// Whether a write(2) to stdout is under way, and the bytes written so far:
/// the watchdog tells a blocked stdout from a tool busy finishing.
static WRITING: AtomicBool = AtomicBool::new(false);
static WRITTEN_BYTES: AtomicU64 = AtomicU64::new(0);

/// While a flush is under way, the bytes written to stdout so far.
pub fn write_progress() -> Option<u64> {
    WRITING
        .load(Ordering::SeqCst)
        .then(|| WRITTEN_BYTES.load(Ordering::SeqCst))
}

fn set_unwritten(rest: &[u8]) {
    UNWRITTEN_BYTES.store(rest.len(), Ordering::SeqCst);
    let lines = rest.iter().filter(|&&b| b == b'\n').count();
    UNWRITTEN_LINES.store(lines, Ordering::SeqCst);
}

/// Lines waiting for the next flush. Written in one write(2) per batch (per
/// 4 KiB of it), so a pipe or file gets every event promptly without a
/// syscall per line.
#[derive(Debug, Default)]
pub struct Output {
    pending: Vec<u8>,
    /// What a flush within the batch ended in, when not `Continue`: the
    /// batch's own flush returns it.
    stopped: Option<io::Result<Flow>>,
}

/// Pending lines are written once they reach this, even within a batch: the
/// buffer's pages a storm's batches touch stay resident for the tool's life,
/// so they are bounded here, at one write(2) per 4 KiB, as upstream's stdio
/// writes. (At 16 KiB a storm left 12 KiB more resident, for no tool CPU a
/// connect storm of 40,000 could tell apart.)
const FLUSH_AT: usize = 4 * 1024;

impl Output {
    pub fn new() -> Self {
        Self {
            // Room for a flush's worth and one long line more.
            pending: Vec::with_capacity(2 * FLUSH_AT),
            stopped: None,
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

    /// Within a batch, after each event: flushes once FLUSH_AT bytes are
    /// pending. A stop or an error is kept for the batch's flush to return.
    pub fn flush_if_full(&mut self) {
        if self.pending.len() >= FLUSH_AT && self.stopped.is_none() {
            match self.flush() {
                Ok(Flow::Continue) => {}
                stopped => self.stopped = Some(stopped),
            }
        }
    }

    /// Whether a flush within this batch has stopped the output: what is
    /// formatted before the batch's flush would be thrown away.
    pub fn stopped(&self) -> bool {
        self.stopped.is_some()
    }

    /// Writes what is pending, straight to fd 1 (no buffer in between, so
    /// what is unwritten is known exactly). A reader that went away
    /// (`| head`) ends the tool quietly; any other write error is reported.
    pub fn flush(&mut self) -> io::Result<Flow> {
        if let Some(stopped) = self.stopped.take() {
            self.pending.clear();
            return stopped;
        }
        let result = write_all(&self.pending);
        self.pending.clear();
        match result {
            Ok(()) => Ok(Flow::Continue),
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(Flow::Stop),
            Err(err) => Err(err),
        }
    }
}

fn write_all(rest: &[u8]) -> io::Result<()> {
    WRITING.store(true, Ordering::SeqCst);
    let result = write_rest(rest);
    WRITING.store(false, Ordering::SeqCst);
    result
}

/// The most one write(2) is given: a pipe's capacity. A blocking write
/// returns only once all it was given is in the pipe, so a bigger one (the
/// thousands of pending connects listed at exit) would hide a slow reader's
/// progress from the watchdog until it is done.
const WRITE_MAX: usize = 64 * 1024;

fn write_rest(mut rest: &[u8]) -> io::Result<()> {
    let stdout = io::stdout();
    let stdout = std::os::fd::AsFd::as_fd(&stdout);
    while !rest.is_empty() {
        set_unwritten(rest);
        match nix::unistd::write(stdout, &rest[..rest.len().min(WRITE_MAX)]) {
            Ok(written) => {
                WRITTEN_BYTES.fetch_add(written as u64, Ordering::SeqCst);
                rest = &rest[written..];
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(errno) => {
                set_unwritten(&[]);
                return Err(errno.into());
            }
        }
    }
    set_unwritten(rest);
    Ok(())
}
