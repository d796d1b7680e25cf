//! A directory of its own under the system temp dir, removed on drop. Kept
//! apart from the rest of `common` so that the test crates that load no BPF
//! take only this (`#[path = "common/temp_dir.rs"] mod temp_dir;`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// `<temp dir>/<label>-<test pid>-<counter>`: unique among the tests of
    /// this run; a leftover of an earlier run with the same pid is replaced.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("{label}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).unwrap_or_else(|err| panic!("mkdir {}: {err}", path.display()));
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
