//! The tools' built binaries, for every tool src/lib.rs declares
//! (`bpftools::tools::NAMES`). Kept apart from the rest of `common`, like
//! temp_dir.rs, so that the test crates that load no BPF take only this
//! (`#[path = "common/tools.rs"] mod tools;`).

use std::path::{Path, PathBuf};

/// The binary cargo built for tool `name`: next to the `deps` directory
/// this test runs from (target/PROFILE/deps/TEST-HASH, the binaries in
/// target/PROFILE/). Cargo builds every binary before the integration tests.
#[track_caller]
pub fn binary(name: &str) -> PathBuf {
    let path = release_dir().join(name);
    assert!(
        path.is_file(),
        "{} was not built (cargo builds every [[bin]] before the integration tests)",
        path.display()
    );
    path
}

/// The directory the binaries are built in (target/PROFILE).
pub fn release_dir() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let deps = test.parent().expect("the test's directory");
    let dir = match deps.file_name().and_then(|name| name.to_str()) {
        Some("deps") => deps.parent().expect("target/PROFILE"),
        _ => deps,
    };
    Path::new(dir).to_path_buf()
}
