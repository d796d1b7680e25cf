//! A cgroup v2 directory given on the command line (execsnoop -c), for a
//! BPF_MAP_TYPE_CGROUP_ARRAY slot.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use libbpf_rs::{MapCore, MapFlags, MapMut};
use nix::sys::statfs::{fstatfs, CGROUP2_SUPER_MAGIC};

use crate::error::{Error, Result};

/// An open cgroup v2 directory.
#[derive(Debug)]
pub struct CgroupDir {
    dir: File,
    path: PathBuf,
}

impl CgroupDir {
    /// Opens `path`, checking up front that it is a directory of a cgroup2
    /// mount (a file there, such as cgroup.procs, is not a cgroup).
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display();
        let dir = File::open(path).map_err(|err| {
            Error::new(format!(
                "cannot open cgroup {shown}: {err}; give a cgroup v2 directory (see 'mount -t cgroup2')"
            ))
        })?;
        let is_dir = dir.metadata().is_ok_and(|meta| meta.is_dir());
        match fstatfs(&dir) {
            Ok(fs) if is_dir && fs.filesystem_type() == CGROUP2_SUPER_MAGIC => Ok(Self {
                dir,
                path: path.to_path_buf(),
            }),
            _ => Err(Error::new(format!(
                "{shown} is not a cgroup v2 directory; give one under a cgroup2 mount \
                 (see 'mount -t cgroup2')"
            ))),
        }
    }

    /// Puts the directory in slot 0 of the cgroup array map `map`.
    pub fn install(&self, map: &MapMut<'_>) -> Result<()> {
        let fd = self.dir.as_raw_fd() as u32;
        map.update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
            .map_err(|err| {
                Error::new(format!(
                    "{} is not a cgroup v2 directory ({}); give one under a cgroup2 mount \
                     (see 'mount -t cgroup2')",
                    self.path.display(),
                    err.to_string().replace('\n', ": ")
                ))
            })
    }
}
