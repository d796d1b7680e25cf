//! The BPF programs must build for more than the machine they were written on.
//!
//! Every `src/bpf/*.bpf.c` is compiled with clang, the way build.rs compiles it
//! (`-g -O2 -target bpf -Wall -Werror`, against `vmlinux/vmlinux.h` and the
//! `constants.h` build.rs generates), once for
//! each architecture the checked-in header supports. libbpf's BPF-side headers
//! come from libbpf-sys (the same copy build.rs uses), so the test needs
//! neither the network nor a libbpf-dev package. Each object is then checked
//! to be a BPF ELF file with the sections libbpf needs to load it.
//!
//! A second test compiles a small kprobe program that reads registers through
//! every `bpf_tracing.h` accessor, which guards the per-architecture `pt_regs`
//! definitions at the bottom of vmlinux.h whether or not a tool uses kprobes.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/temp_dir.rs"]
mod temp_dir;

use temp_dir::TempDir;

/// The `__TARGET_ARCH_*` names `bpf_tracing.h` knows and `vmlinux.h` supports.
const ARCHES: &[&str] = &["x86", "arm64", "riscv", "powerpc", "s390", "loongarch"];

/// `e_machine` of a BPF object.
const EM_BPF: u16 = 247;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes libbpf's API headers into `<dir>/bpf/`, so `-I <dir>` resolves
/// `#include <bpf/bpf_helpers.h>` and friends.
fn write_libbpf_headers(dir: &Path) {
    let bpf = dir.join("bpf");
    fs::create_dir_all(&bpf).unwrap_or_else(|e| panic!("creating {}: {e}", bpf.display()));
    for (name, contents) in libbpf_rs::libbpf_sys::API_HEADERS {
        let path = bpf.join(name);
        fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

/// Every `*.bpf.c` in src/bpf, sorted.
fn bpf_sources() -> Vec<PathBuf> {
    let dir = manifest_dir().join("src/bpf");
    let mut sources: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("reading src/bpf").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(".bpf.c"))
        })
        .collect();
    sources.sort();
    assert!(
        !sources.is_empty(),
        "no *.bpf.c files found in {}",
        dir.display()
    );
    sources
}

/// The clang version line, or a panic that says clang is required.
fn require_clang() -> String {
    match Command::new("clang").arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("clang")
            .to_string(),
        Ok(out) => panic!(
            "`clang --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "clang is not installed: it is required to build the BPF programs \
             (run `make deps`, or install the `clang` package)"
        ),
        Err(e) => panic!("running clang: {e}"),
    }
}

/// Compiles one BPF C file for one architecture; Err carries clang's output.
fn compile(source: &Path, arch: &str, libbpf_include: &Path, object: &Path) -> Result<(), String> {
    let root = manifest_dir();
    let out = Command::new("clang")
        .args(["-g", "-O2", "-target", "bpf"])
        .arg(format!("-D__TARGET_ARCH_{arch}"))
        .args(["-Wall", "-Werror"])
        .arg("-I")
        .arg(root.join("vmlinux"))
        .arg("-I")
        .arg(root.join("src/bpf"))
        // constants.h, which build.rs writes from src/bpf/constants.rs.
        .arg("-I")
        .arg(env!("OUT_DIR"))
        .arg("-I")
        .arg(libbpf_include)
        .arg("-c")
        .arg(source)
        .arg("-o")
        .arg(object)
        .output()
        .map_err(|e| format!("running clang: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "clang exited with {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Section names of a 64-bit ELF object, after checking it is a BPF object.
fn bpf_elf_sections(object: &Path) -> Result<Vec<String>, String> {
    let data = fs::read(object).map_err(|e| format!("reading the object: {e}"))?;
    if data.is_empty() {
        return Err("the object file is empty".into());
    }
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err("the object is not an ELF file".into());
    }
    if data[4] != 2 {
        return Err(format!("ELF class {} is not ELFCLASS64", data[4]));
    }
    let little = match data[5] {
        1 => true,
        2 => false,
        other => return Err(format!("unknown ELF data encoding {other}")),
    };
    // An unsigned field of `len` bytes at `off`, in the object's byte order.
    let field = |off: usize, len: usize| -> Option<usize> {
        let bytes = data.get(off..off.checked_add(len)?)?;
        let value = if little {
            bytes.iter().rev().fold(0u64, |v, &b| v << 8 | u64::from(b))
        } else {
            bytes.iter().fold(0u64, |v, &b| v << 8 | u64::from(b))
        };
        usize::try_from(value).ok()
    };
    let truncated = || "truncated ELF header or section table".to_string();

    let machine = field(18, 2).ok_or_else(truncated)?;
    if machine != usize::from(EM_BPF) {
        return Err(format!("e_machine is {machine}, not EM_BPF ({EM_BPF})"));
    }
    let shoff = field(40, 8).ok_or_else(truncated)?;
    let shentsize = field(58, 2).ok_or_else(truncated)?;
    let shnum = field(60, 2).ok_or_else(truncated)?;
    let shstrndx = field(62, 2).ok_or_else(truncated)?;
    let header = |i: usize| shoff + i * shentsize;
    let strtab_off = field(header(shstrndx) + 24, 8).ok_or_else(truncated)?;

    (0..shnum)
        .map(|i| {
            let name_off = field(header(i), 4).ok_or_else(truncated)?;
            let start = strtab_off + name_off;
            let bytes = data.get(start..).ok_or_else(truncated)?;
            let end = bytes.iter().position(|&b| b == 0).ok_or_else(truncated)?;
            Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
        })
        .collect()
}

/// Compiles `source` for every arch; returns one message per failure.
fn compile_for_every_arch(
    source: &Path,
    libbpf_include: &Path,
    out_dir: &Path,
    required_sections: &[&str],
) -> Vec<String> {
    let stem = source
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(".c"))
        .unwrap_or("program");
    let mut failures = Vec::new();
    for arch in ARCHES {
        let object = out_dir.join(format!("{stem}.{arch}.o"));
        let result = compile(source, arch, libbpf_include, &object)
            .and_then(|()| bpf_elf_sections(&object))
            .and_then(|sections| {
                let missing: Vec<&str> = required_sections
                    .iter()
                    .copied()
                    .filter(|want| !sections.iter().any(|s| s == want))
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "the object lacks section(s) {missing:?}; it has {sections:?}"
                    ))
                }
            });
        match result {
            Ok(()) => eprintln!("ok: {} for {arch}", source.display()),
            Err(why) => failures.push(format!("{} for {arch}: {why}", source.display())),
        }
    }
    failures
}

#[test]
fn every_bpf_program_compiles_for_every_arch() {
    let clang = require_clang();
    eprintln!("using {clang}");
    let tmp = TempDir::new("multiarch");
    write_libbpf_headers(tmp.path());

    let mut failures = Vec::new();
    for source in bpf_sources() {
        // `license` is what makes GPL-only helpers usable; `.BTF` is what CO-RE
        // relocations and the skeleton are built from.
        failures.extend(compile_for_every_arch(
            &source,
            tmp.path(),
            tmp.path(),
            &["license", ".BTF"],
        ));
    }
    assert!(
        failures.is_empty(),
        "{} compile(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Register access through the `bpf_tracing.h` accessors a kprobe-based tool
/// uses, plain and CO-RE, for kernel functions and for syscalls. Left out:
/// `PT_REGS_FP` (unsupported on powerpc by libbpf itself) and `PT_REGS_RET`
/// (libbpf's powerpc definition names a member its own `pt_regs` lacks).
const KPROBE_PROBE: &str = r#"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

unsigned long sink;

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(probe_entry, struct sock *sk, void *uaddr, int addr_len)
{
	sink = (unsigned long)sk + (unsigned long)uaddr + addr_len;
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(probe_return, int ret)
{
	sink = ret;
	return 0;
}

SEC("kprobe/tcp_v6_connect")
int probe_regs(struct pt_regs *ctx)
{
	sink = PT_REGS_PARM1(ctx) + PT_REGS_PARM2(ctx) + PT_REGS_PARM3(ctx) +
	       PT_REGS_PARM4(ctx) + PT_REGS_PARM5(ctx) + PT_REGS_RC(ctx) +
	       PT_REGS_SP(ctx) + PT_REGS_IP(ctx);
	sink += PT_REGS_PARM1_CORE(ctx) + PT_REGS_PARM3_CORE(ctx) +
		PT_REGS_RC_CORE(ctx) + PT_REGS_SP_CORE(ctx) + PT_REGS_IP_CORE(ctx);
	return 0;
}

SEC("ksyscall/connect")
int BPF_KSYSCALL(probe_syscall, int fd, void *addr, int addr_len)
{
	sink = fd + (unsigned long)addr + addr_len;
	return 0;
}
"#;

#[test]
fn vmlinux_pt_regs_serve_bpf_tracing_on_every_arch() {
    require_clang();
    let tmp = TempDir::new("ptregs");
    write_libbpf_headers(tmp.path());
    let source = tmp.path().join("pt_regs_probe.bpf.c");
    fs::write(&source, KPROBE_PROBE).expect("writing the probe program");

    let failures = compile_for_every_arch(
        &source,
        tmp.path(),
        tmp.path(),
        &[
            "license",
            ".BTF",
            "kprobe/tcp_v4_connect",
            "kretprobe/tcp_v4_connect",
            "kprobe/tcp_v6_connect",
            "ksyscall/connect",
        ],
    );
    assert!(
        failures.is_empty(),
        "vmlinux/vmlinux.h's pt_regs section does not serve bpf_tracing.h:\n\n{}",
        failures.join("\n\n")
    );
}
