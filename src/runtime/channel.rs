//! How events travel from the kernel: one BPF ring buffer shared by all
//! CPUs (Linux >= 5.8, events in order), or per-CPU perf buffers before it;
//! sized for the host, and with a wake-up policy that batches reads without
//! letting the ring overflow.

use std::time::Duration;

use libbpf_rs::{MapMut, MapType};

use crate::error::{Error, Result};
use crate::runtime::object::{SharedMaps, SharedOpen};
use crate::runtime::switches;

/// Channel capacity per online CPU by default: events come from every CPU,
/// so a bigger host gets a bigger channel (see docs/guide.md's arithmetic).
pub const BYTES_PER_CPU: usize = 64 << 10;
/// The default is never smaller than this.
const DEFAULT_MIN_BYTES: usize = 128 << 10;
/// What --buffer-size accepts: room for a few of the largest records
/// (an exec with 16 KiB of arguments), and what a kernel allocates readily.
pub const MIN_BYTES: usize = 64 << 10;
pub const MAX_BYTES: usize = 1 << 30;
/// The ring wakes user space once this share of it is filled (1/4), leaving
/// the rest to absorb the time it takes user space to run.
const WAKEUP_FILL_DIVISOR: usize = 4;
/// Otherwise records gather, and user space is woken at most this often,
/// except for the first record after a quiet spell, which wakes it at once.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    RingBuffer,
    PerfBuffer,
}

/// The channel in use and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventChannel {
    pub kind: ChannelKind,
    /// Total bytes (a ring buffer's size; the perf buffers' sum).
    pub bytes: usize,
    /// The kernel wakes user space by the policy above (ring buffer only);
    /// otherwise user space gathers records by sleeping between batches.
    pub kernel_batches: bool,
}

impl EventChannel {
    /// The best channel the running kernel supports (unless the perf buffer
    /// is forced, to test the fallback), of `requested` bytes (--buffer-size)
    /// or sized for the host.
    pub fn choose(requested: Option<usize>) -> Self {
        let ring_supported = matches!(MapType::RingBuf.is_supported(), Ok(true));
        let kind = match ring_supported && !switches::perf_buffer_forced() {
            true => ChannelKind::RingBuffer,
            false => ChannelKind::PerfBuffer,
        };
        let bytes =
            requested.unwrap_or_else(|| (online_cpus() * BYTES_PER_CPU).max(DEFAULT_MIN_BYTES));
        Self {
            kind,
            bytes: bytes.clamp(MIN_BYTES, MAX_BYTES).next_power_of_two(),
            kernel_batches: kind == ChannelKind::RingBuffer && !switches::timer_batching_forced(),
        }
    }

    /// Pages of each CPU's perf buffer (a power of two, at least two).
    pub fn perf_pages_per_cpu(self) -> usize {
        let per_cpu = self.bytes / online_cpus() / page_size();
        per_cpu.next_power_of_two().max(2)
    }

    /// Tells the programs which channel to send to (`use_ringbuf`, so the
    /// verifier drops the other branch) and how to wake user space, and
    /// creates only that channel.
    pub fn configure(self, shared: &mut SharedOpen<'_, '_>) -> Result<()> {
        let setup = |err| Error::from_libbpf("setting up the event channel", &err);
        let (globals, maps) = (&mut shared.globals, &mut shared.maps);
        *globals.use_ringbuf = self.kind == ChannelKind::RingBuffer;
        match self.kind {
            ChannelKind::RingBuffer => {
                maps.events_perfbuf.set_autocreate(false).map_err(setup)?;
                let ring = &mut maps.events_ringbuf;
                ring.set_max_entries(self.bytes as u32).map_err(setup)?;
                if self.kernel_batches {
                    *globals.ringbuf_wakeup_bytes = (self.bytes / WAKEUP_FILL_DIVISOR) as u64;
                    *globals.ringbuf_quiet_ns = BATCH_INTERVAL.as_nanos() as u64;
                }
                Ok(())
            }
            ChannelKind::PerfBuffer => maps.events_ringbuf.set_autocreate(false).map_err(setup),
        }
    }

    /// The map the event loop reads.
    pub fn map<'a, 'obj>(self, shared: &SharedMaps<'a, 'obj>) -> &'a MapMut<'obj> {
        match self.kind {
            ChannelKind::RingBuffer => shared.events_ringbuf,
            ChannelKind::PerfBuffer => shared.events_perfbuf,
        }
    }
}

pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(cpus).unwrap_or(1).max(1)
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_grows_with_the_host() {
        let channel = EventChannel::choose(None);
        let expected = (online_cpus() * BYTES_PER_CPU).max(DEFAULT_MIN_BYTES);
        assert_eq!(channel.bytes, expected.next_power_of_two());
        let requested = EventChannel::choose(Some(100 << 10));
        assert_eq!(requested.bytes, 128 << 10);
    }
}
