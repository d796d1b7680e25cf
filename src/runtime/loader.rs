//! Preparing a BPF object around its load: libbpf's log, the event channel,
//! the operator's pinned filter maps and cgroup directory.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::statfs::{fstatfs, statfs, BPF_FS_MAGIC, CGROUP2_SUPER_MAGIC};
use std::path::Path;

use libbpf_rs::{
    MapCore, MapFlags, MapHandle, MapType, ObjectBuilder, OpenMapMut, OpenObject, PrintLevel,
};

use crate::cli::PinnedFilters;
use crate::error::{Error, Result};

/// Whether libbpf's log goes to stderr (-v); error lines point to it otherwise.
static LIBBPF_LOG_SHOWN: AtomicBool = AtomicBool::new(false);

pub fn libbpf_log_shown() -> bool {
    LIBBPF_LOG_SHOWN.load(Ordering::Relaxed)
}

fn print_libbpf_message(_level: PrintLevel, message: String) {
    eprint!("{message}");
}

/// libbpf's own messages go to stderr with -v and nowhere otherwise: failures
/// reach the operator as our one-line errors.
pub fn set_libbpf_logging(verbose: bool) {
    LIBBPF_LOG_SHOWN.store(verbose, Ordering::Relaxed);
    let callback = verbose.then_some((PrintLevel::Debug, print_libbpf_message as _));
    libbpf_rs::set_print(callback);
}

/// False when BPFTOOLS_TRACEPOINT=classic asks the tools to skip BTF
/// tracepoints (tp_btf), so the tests can exercise the classic fallback.
pub fn btf_tracepoints_allowed() -> bool {
    std::env::var_os("BPFTOOLS_TRACEPOINT").is_none_or(|value| value != "classic")
}

/// What `first_that_works` found: the candidate that loaded with its
/// skeleton, if any, and each earlier candidate with why it failed.
pub struct Attempts<C, S> {
    pub loaded: Option<(C, S)>,
    pub failures: Vec<(C, Error)>,
}

impl<C: Copy, S> Attempts<C, S> {
    /// For -v: why each candidate before the one used failed, and which one
    /// is used, as `describe` names them.
    pub fn tell(&self, tool: &str, describe: impl Fn(C) -> String) {
        for (candidate, err) in &self.failures {
            eprintln!("{tool}: {} not usable: {err}", describe(*candidate));
        }
        if let Some((candidate, _)) = &self.loaded {
            eprintln!("{tool}: attached with {}", describe(*candidate));
        }
    }

    /// Every failure as `name: reason`, joined for one error line.
    pub fn reasons(&self, describe: impl Fn(C) -> String) -> String {
        let reasons = self
            .failures
            .iter()
            .map(|(candidate, err)| format!("{}: {err}", describe(*candidate)));
        reasons.collect::<Vec<_>>().join("; ")
    }
}

/// Opens, loads and attaches with the first of `candidates` that works,
/// each attempt in an object storage of its own (a failed attempt's object
/// is dropped as the next one opens).
pub fn first_that_works<'obj, C: Copy, S>(
    candidates: impl IntoIterator<Item = C>,
    objects: &'obj mut [MaybeUninit<OpenObject>],
    mut load: impl FnMut(C, &'obj mut MaybeUninit<OpenObject>) -> Result<S>,
) -> Attempts<C, S> {
    let mut failures = Vec::new();
    for (candidate, object) in candidates.into_iter().zip(objects.iter_mut()) {
        match load(candidate, object) {
            Ok(skel) => {
                return Attempts {
                    loaded: Some((candidate, skel)),
                    failures,
                }
            }
            Err(err) => failures.push((candidate, err)),
        }
    }
    Attempts {
        loaded: None,
        failures,
    }
}

/// Makes libbpf relocate against `btf` (--btf) instead of the kernel's BTF.
pub fn use_btf_file(builder: &mut ObjectBuilder, btf: Option<&Path>) -> Result<()> {
    if let Some(btf) = btf {
        builder
            .btf_custom_path(btf)
            .map_err(|err| Error::from_libbpf("--btf", &err))?;
    }
    Ok(())
}

/// Opens a tool's skeleton (`$builder`: its generated SkelBuilder type) into
/// `$object`, against the --btf file when one is given.
#[macro_export]
macro_rules! open_skeleton {
    ($builder:ty, $object:expr, $btf:expr) => {{
        use libbpf_rs::skel::SkelBuilder as _;
        let mut builder = <$builder>::default();
        $crate::runtime::loader::use_btf_file(builder.object_builder_mut(), $btf)?;
        builder
            .open($object)
            .map_err(|err| $crate::error::Error::from_libbpf("opening the BPF object", &err))?
    }};
}

/// The read-only data of an opened skeleton, where the filters are set.
pub fn writable_rodata<T>(rodata: Option<&mut T>) -> Result<&mut T> {
    rodata.ok_or_else(|| Error::new("the BPF object has no read-only data section"))
}

/// How events travel from the kernel: a BPF ring buffer (Linux >= 5.8, one
/// buffer shared by all CPUs, events in order) or per-CPU perf buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventChannel {
    RingBuffer,
    PerfBuffer,
}

/// Ring buffer size in bytes (a power of two, a multiple of the page size).
/// Its pages are mapped twice and count fully in the tool's RSS; 1 MiB holds
/// about a second of a 25,000/s connect storm, far more than one batch.
pub const RING_BUFFER_BYTES: u32 = 1 << 20;
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

/// The `CommonOpenMaps` of an opened skeleton's `maps`: every tool's
/// skeleton has these maps under the same names.
#[macro_export]
macro_rules! common_open_maps {
    ($maps:expr) => {
        $crate::runtime::loader::CommonOpenMaps {
            events_ringbuf: &mut $maps.events_ringbuf,
            events_perfbuf: &mut $maps.events_perfbuf,
            cgroup_filter: &mut $maps.cgroup_filter,
            mntns_filter: &mut $maps.mntns_filter,
        }
    };
}

/// Sets the read-only flags every tool's BPF object has (common.bpf.h) in an
/// opened skeleton's rodata: the channel, -u, and the pinned-map filters.
#[macro_export]
macro_rules! set_common_rodata {
    ($rodata:expr, $channel:expr, $uid:expr, $pinned:expr) => {{
        $rodata.use_ringbuf = $channel.is_ring_buffer();
        if let Some(uid) = $uid {
            $rodata.filter_uid = uid;
        }
        $rodata.filter_by_cgroupmap = $pinned.filters_cgroups();
        $rodata.filter_by_mntnsmap = $pinned.filters_mount_namespaces();
    }};
}

/// The operator's pinned filter maps, opened and checked once, before any
/// load: they shape the object and are plugged in once it is loaded.
#[derive(Debug, Default)]
pub struct PinnedFilterMaps {
    cgroup_ids: Option<MapHandle>,
    mntns_ids: Option<MapHandle>,
}

impl PinnedFilterMaps {
    pub fn open(filters: &PinnedFilters) -> Result<Self> {
        Ok(Self {
            cgroup_ids: open_pinned_filter(
                filters.cgroupmap.as_deref(),
                "--cgroupmap",
                "cgroup ids",
            )?,
            mntns_ids: open_pinned_filter(
                filters.mntnsmap.as_deref(),
                "--mntnsmap",
                "mount namespace ids",
            )?,
        })
    }

    pub fn filters_cgroups(&self) -> bool {
        self.cgroup_ids.is_some()
    }

    pub fn filters_mount_namespaces(&self) -> bool {
        self.mntns_ids.is_some()
    }

    /// Puts the maps in their slots of the loaded object.
    pub fn install<M: MapCore>(&self, cgroup_filter: &M, mntns_filter: &M) -> Result<()> {
        for (slot, map) in [
            (cgroup_filter, &self.cgroup_ids),
            (mntns_filter, &self.mntns_ids),
        ] {
            if let Some(map) = map {
                let fd = map.as_fd().as_raw_fd() as u32;
                slot.update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
                    .map_err(|err| Error::from_libbpf("installing a pinned filter map", &err))?;
            }
        }
        Ok(())
    }
}

/// Creates only the event channel in use and shapes the pinned-filter slots
/// after the operator's maps. The caller sets the matching read-only flags
/// (use_ringbuf, filter_by_*) and, after load, installs the pinned maps.
pub fn configure_common_maps(
    maps: CommonOpenMaps<'_, '_>,
    channel: EventChannel,
    pinned: &PinnedFilterMaps,
) -> Result<()> {
    let setup = |err: libbpf_rs::Error| Error::from_libbpf("setting up the BPF maps", &err);
    match channel {
        EventChannel::RingBuffer => {
            maps.events_perfbuf.set_autocreate(false).map_err(setup)?;
            maps.events_ringbuf
                .set_max_entries(RING_BUFFER_BYTES)
                .map_err(setup)?;
        }
        EventChannel::PerfBuffer => maps.events_ringbuf.set_autocreate(false).map_err(setup)?,
    }
    for (slot, map) in [
        (maps.cgroup_filter, &pinned.cgroup_ids),
        (maps.mntns_filter, &pinned.mntns_ids),
    ] {
        match map {
            // The pinned map is its own slot's template: it always fits.
            Some(map) => slot.set_inner_map_fd(map.as_fd()).map_err(setup)?,
            None => slot.set_autocreate(false).map_err(setup)?,
        }
    }
    Ok(())
}

/// Opens `path` and checks it is a pinned hash map with 8-byte (u64 id) keys.
fn open_pinned_filter(path: Option<&Path>, flag: &str, keys: &str) -> Result<Option<MapHandle>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let shown = path.display();
    let on_bpffs = statfs(path).is_ok_and(|fs| fs.filesystem_type() == BPF_FS_MAGIC);
    if !on_bpffs {
        return Err(Error::new(format!(
            "{flag} {shown}: not a pinned BPF map (not on a BPF filesystem); pin a hash map of \
             {keys} under /sys/fs/bpf, e.g. bpftool map create /sys/fs/bpf/filter type hash \
             key 8 value 8 entries 128 name filter"
        )));
    }
    let pinned = MapHandle::from_pinned_path(path).map_err(|err| {
        Error::new(format!(
            "{flag} {shown}: not a pinned BPF map ({}); pin a hash map of {keys} there, \
             e.g. bpftool map create {shown} type hash key 8 value 8 entries 128 name filter",
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
    Ok(Some(pinned))
}

/// Opens a cgroup v2 directory for a BPF_MAP_TYPE_CGROUP_ARRAY slot.
pub fn open_cgroup_dir(path: &Path) -> Result<std::fs::File> {
    let shown = path.display();
    let dir = std::fs::File::open(path).map_err(|err| {
        Error::new(format!(
            "cannot open cgroup {shown}: {err}; give a cgroup v2 directory (see 'mount -t cgroup2')"
        ))
    })?;
    match fstatfs(&dir) {
        Ok(fs) if fs.filesystem_type() == CGROUP2_SUPER_MAGIC => Ok(dir),
        _ => Err(Error::new(format!(
            "{shown} is not a cgroup v2 directory; give one under a cgroup2 mount \
             (see 'mount -t cgroup2')"
        ))),
    }
}

/// Puts the cgroup directory in slot 0 of a cgroup array map.
pub fn set_cgroup_slot(map: &impl MapCore, dir: &std::fs::File, path: &Path) -> Result<()> {
    let fd = dir.as_raw_fd() as u32;
    map.update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
        .map_err(|err| {
            Error::new(format!(
                "{} is not a cgroup v2 directory ({}); give one under a cgroup2 mount \
                 (see 'mount -t cgroup2')",
                path.display(),
                err.to_string().replace('\n', ": ")
            ))
        })
}
