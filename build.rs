//! Compiles each tool's BPF program against the checked-in CO-RE header and
//! generates its Rust skeleton into OUT_DIR.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

const TOOLS: &[&str] = &["execsnoop", "tcpconnect"];

fn main() {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let bpf_dir = manifest_dir.join("src/bpf");
    let header_dir = manifest_dir.join("vmlinux");

    for tool in TOOLS {
        let source = bpf_dir.join(format!("{tool}.bpf.c"));
        let skeleton = out_dir.join(format!("{tool}.skel.rs"));
        SkeletonBuilder::new()
            .source(&source)
            .clang_args([
                "-Wall".as_ref(),
                "-Werror".as_ref(),
                "-I".as_ref(),
                header_dir.as_os_str(),
                "-I".as_ref(),
                bpf_dir.as_os_str(),
            ])
            .build_and_generate(&skeleton)
            .unwrap_or_else(|err| panic!("building the BPF program {}: {err:#}", source.display()));
    }
    println!("cargo:rerun-if-changed=src/bpf");
    println!("cargo:rerun-if-changed=vmlinux");
}
