//! The operator's pinned BPF hash maps of ids (BCC's --cgroupmap and
//! --mntnsmap): opened and checked before any load, then plugged into the
//! object's map-in-map slots (see common.bpf.h).

use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType};
use nix::sys::statfs::{statfs, BPF_FS_MAGIC};

use crate::cli::PinnedFilterArgs;
use crate::error::{Error, Result};
use crate::runtime::object::{SharedMaps, SharedOpen};

/// One filter: the flag that names it, and what its map's keys are.
struct Slot {
    flag: &'static str,
    keys: &'static str,
}

const CGROUPS: Slot = Slot {
    flag: "--cgroupmap",
    keys: "cgroup ids",
};
const MOUNT_NAMESPACES: Slot = Slot {
    flag: "--mntnsmap",
    keys: "mount namespace ids",
};

/// The pinned maps, opened.
#[derive(Debug, Default)]
pub struct PinnedFilters {
    cgroup_ids: Option<MapHandle>,
    mntns_ids: Option<MapHandle>,
}

impl PinnedFilters {
    pub fn open(paths: &PinnedFilterArgs) -> Result<Self> {
        Ok(Self {
            cgroup_ids: open_pinned(paths.cgroupmap.as_deref(), &CGROUPS)?,
            mntns_ids: open_pinned(paths.mntnsmap.as_deref(), &MOUNT_NAMESPACES)?,
        })
    }

    /// Before load: turns each filter on or off, and shapes each used slot
    /// after the operator's map (its own template, so any hash map with
    /// 8-byte keys fits); unused slots are not created.
    pub fn configure(&self, shared: &mut SharedOpen<'_, '_>) -> Result<()> {
        let setup = |err| Error::from_libbpf("setting up the pinned filter maps", &err);
        let (globals, maps) = (&mut shared.globals, &mut shared.maps);
        *globals.filter_by_cgroupmap = self.cgroup_ids.is_some();
        *globals.filter_by_mntnsmap = self.mntns_ids.is_some();
        for (slot, pinned) in [
            (&mut *maps.cgroup_filter, &self.cgroup_ids),
            (&mut *maps.mntns_filter, &self.mntns_ids),
        ] {
            match pinned {
                Some(pinned) => slot.set_inner_map_fd(pinned.as_fd()).map_err(setup)?,
                None => slot.set_autocreate(false).map_err(setup)?,
            }
        }
        Ok(())
    }

    /// After load: puts each map in its slot; the operator's later updates
    /// take effect while the tool traces.
    pub fn install(&self, shared: &SharedMaps<'_, '_>) -> Result<()> {
        for (slot, pinned) in [
            (shared.cgroup_filter, &self.cgroup_ids),
            (shared.mntns_filter, &self.mntns_ids),
        ] {
            if let Some(pinned) = pinned {
                let fd = pinned.as_fd().as_raw_fd() as u32;
                slot.update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
                    .map_err(|err| Error::from_libbpf("installing a pinned filter map", &err))?;
            }
        }
        Ok(())
    }
}

/// What kind of BPF object an fd is, as /proc/self/fdinfo tells.
fn pinned_object_kind(fd: std::os::fd::BorrowedFd<'_>) -> &'static str {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()));
    let info = info.unwrap_or_default();
    let has = |field: &str| info.lines().any(|line| line.starts_with(field));
    match () {
        _ if has("map_type:") => "map",
        _ if has("prog_type:") => "program",
        _ if has("link_type:") => "link",
        _ => "object of unknown kind",
    }
}

/// Opens `path` and checks it is a pinned hash map with 8-byte (u64 id) keys.
fn open_pinned(path: Option<&Path>, slot: &Slot) -> Result<Option<MapHandle>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let (flag, keys, shown) = (slot.flag, slot.keys, path.display());
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
    // A pinned program or link opens just as well; its fdinfo says what it is.
    let kind = pinned_object_kind(pinned.as_fd());
    if kind != "map" {
        return Err(Error::new(format!(
            "{flag} {shown}: a pinned BPF {kind}, not a map; pin a hash map of {keys} there"
        )));
    }
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
