//! How events travel from the kernel: one BPF ring buffer shared by all
//! CPUs (Linux >= 5.8, events in order), or per-CPU perf buffers before it.

use libbpf_rs::MapType;

use crate::error::{Error, Result};
use crate::runtime::object::OpenBpf;
use crate::runtime::switches;

/// Ring buffer size in bytes (a power of two, a multiple of the page size).
/// Its pages are mapped twice and count fully in the tool's RSS; 1 MiB holds
/// about a second of a 25,000/s connect storm, far more than one batch.
pub const RING_BUFFER_BYTES: u32 = 1 << 20;
/// Perf buffer size per CPU, in pages (a power of two).
pub const PERF_BUFFER_PAGES: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventChannel {
    RingBuffer,
    PerfBuffer,
}

impl EventChannel {
    /// The best channel the running kernel supports, unless the perf buffer
    /// is forced (BPFTOOLS_EVENT_CHANNEL=perf, to test the fallback).
    pub fn detect() -> Self {
        if switches::perf_buffer_forced() {
            return Self::PerfBuffer;
        }
        match MapType::RingBuf.is_supported() {
            Ok(true) => Self::RingBuffer,
            _ => Self::PerfBuffer,
        }
    }

    /// Tells the programs which channel to send to (`use_ringbuf`, so the
    /// verifier drops the other branch) and creates only that channel.
    pub fn configure(self, object: &mut OpenBpf) -> Result<()> {
        let setup = |err| Error::from_libbpf("setting up the event channel", &err);
        object.set_flag("use_ringbuf", self == Self::RingBuffer)?;
        match self {
            Self::RingBuffer => {
                object
                    .map_mut("events_perfbuf")?
                    .set_autocreate(false)
                    .map_err(setup)?;
                let mut ring = object.map_mut("events_ringbuf")?;
                ring.set_max_entries(RING_BUFFER_BYTES).map_err(setup)
            }
            Self::PerfBuffer => object
                .map_mut("events_ringbuf")?
                .set_autocreate(false)
                .map_err(setup),
        }
    }

    /// The map the event loop reads.
    pub fn map_name(self) -> &'static str {
        match self {
            Self::RingBuffer => "events_ringbuf",
            Self::PerfBuffer => "events_perfbuf",
        }
    }
}
