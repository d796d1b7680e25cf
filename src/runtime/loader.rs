//! Preparing a BPF object before load: libbpf's log, the event channel, and
//! the operator's pinned filter maps.

use std::os::fd::AsFd;
use std::path::Path;

use libbpf_rs::{MapCore, MapHandle, MapType, OpenMapMut, PrintLevel};

use crate::cli::PinnedFilters;
use crate::error::{Error, Result};

fn print_libbpf_message(_level: PrintLevel, message: String) {
    eprint!("{message}");
}

/// libbpf's own messages go to stderr with -v and nowhere otherwise: failures
/// reach the operator as our one-line errors.
pub fn set_libbpf_logging(verbose: bool) {
    let callback = verbose.then_some((PrintLevel::Debug, print_libbpf_message as _));
    libbpf_rs::set_print(callback);
}

/// How events travel from the kernel: a BPF ring buffer (Linux >= 5.8, one
/// buffer shared by all CPUs, events in order) or per-CPU perf buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventChannel {
    RingBuffer,
    PerfBuffer,
}

/// Ring buffer size in bytes (a power of two, a multiple of the page size).
pub const RING_BUFFER_BYTES: u32 = 2 << 20;
/// Perf buffer size per CPU, in pages (a power of two).
pub const PERF_BUFFER_PAGES: usize = 64;

impl EventChannel {
    /// The best channel the running kernel supports, unless the environment
    /// variable BPFTOOLS_EVENT_CHANNEL says `perf` (to test the fallback).
    pub fn detect() -> Self {
        if std::env::var_os("BPFTOOLS_EVENT_CHANNEL").is_some_and(|v| v == "perf") {
            return Self::PerfBuffer;
        }
        match MapType::RingBuf.is_supported() {
            Ok(true) => Self::RingBuffer,
            _ => Self::PerfBuffer,
        }
    }

    pub fn is_ring_buffer(self) -> bool {
        self == Self::RingBuffer
    }
}

/// The maps every tool's BPF object has (src/bpf/common.bpf.h), before load.
pub struct CommonOpenMaps<'a, 'obj> {
    pub events_ringbuf: &'a mut OpenMapMut<'obj>,
    pub events_perfbuf: &'a mut OpenMapMut<'obj>,
    pub cgroup_filter: &'a mut OpenMapMut<'obj>,
    pub mntns_filter: &'a mut OpenMapMut<'obj>,
}

/// Creates only the event channel in use and plugs in the pinned filter maps.
/// The caller sets the matching read-only flags (use_ringbuf, filter_by_*).
pub fn configure_common_maps(
    maps: CommonOpenMaps<'_, '_>,
    channel: EventChannel,
    filters: &PinnedFilters,
) -> Result<()> {
    let setup = |err: libbpf_rs::Error| Error::from_libbpf("setting up the event channel", &err);
    match channel {
        EventChannel::RingBuffer => {
            maps.events_perfbuf.set_autocreate(false).map_err(setup)?;
            maps.events_ringbuf
                .set_max_entries(RING_BUFFER_BYTES)
                .map_err(setup)?;
        }
        EventChannel::PerfBuffer => maps.events_ringbuf.set_autocreate(false).map_err(setup)?,
    }
    if let Some(path) = &filters.cgroupmap {
        reuse_pinned_filter(maps.cgroup_filter, path, "--cgroupmap", "cgroup ids")?;
    }
    if let Some(path) = &filters.mntnsmap {
        reuse_pinned_filter(maps.mntns_filter, path, "--mntnsmap", "mount namespace ids")?;
    }
    Ok(())
}

/// Checks that `path` is a pinned hash map with u64 keys and makes the
/// program look its ids up there.
fn reuse_pinned_filter(map: &mut OpenMapMut<'_>, path: &Path, flag: &str, keys: &str) -> Result<()> {
    let shown = path.display();
    let pinned = MapHandle::from_pinned_path(path).map_err(|err| {
        Error::new(format!(
            "{flag} {shown}: not a pinned BPF map ({}); pin a hash map of {keys} there, \
             e.g. with bpftool map create {shown} type hash key 8 value 8 entries 128 name filter",
            err.to_string().replace('\n', ": ")
        ))
    })?;
    let is_hash = matches!(pinned.map_type(), MapType::Hash | MapType::LruHash);
    if !is_hash || pinned.key_size() != 8 {
        return Err(Error::new(format!(
            "{flag} {shown}: the pinned map is a {:?} map with {}-byte keys; \
             it must be a hash map with 8-byte keys ({keys})",
            pinned.map_type(),
            pinned.key_size()
        )));
    }
    map.reuse_fd(pinned.as_fd())
        .map_err(|err| Error::from_libbpf(&format!("{flag} {shown}"), &err))
}

/// Opens a cgroup v2 directory for a BPF_MAP_TYPE_CGROUP_ARRAY slot.
pub fn open_cgroup_dir(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|err| {
        Error::new(format!(
            "cannot open cgroup {}: {err}; give a cgroup v2 directory (e.g. under /sys/fs/cgroup)",
            path.display()
        ))
    })
}

/// Puts the cgroup directory in slot 0 of a cgroup array map.
pub fn set_cgroup_slot(map: &impl MapCore, dir: &std::fs::File, path: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let fd = dir.as_raw_fd() as u32;
    map.update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), libbpf_rs::MapFlags::ANY)
        .map_err(|err| {
            Error::new(format!(
                "{} is not a cgroup v2 directory ({}); give one under a cgroup2 mount \
                 (see 'mount -t cgroup2')",
                path.display(),
                err.to_string().replace('\n', ": ")
            ))
        })
}
