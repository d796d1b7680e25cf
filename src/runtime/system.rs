//! What the kernel and the process must provide before BPF programs load:
//! privileges, kernel BTF, and tracefs for the hooks that are found through it.
//! (Locked memory for kernels before 5.11 is raised by libbpf itself.)

use std::fs;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use crate::cli::CommonArgs;
use crate::error::{Error, Result};
use crate::runtime::libbpf_log;

const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";
const TRACEFS: &str = "/sys/kernel/tracing";
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Effective capability bits of this process, from /proc/self/status.
fn effective_capabilities() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let hex = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// Tracing needs CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON (Linux >= 5.8).
pub fn has_tracing_privileges(caps: u64) -> bool {
    let has = |cap: u32| caps & (1u64 << cap) != 0;
    has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))
}

pub fn check_privileges(tool: &str) -> Result<()> {
    match effective_capabilities() {
        Some(caps) if !has_tracing_privileges(caps) => Err(Error::new(format!(
            "not enough privileges to trace: run as root (sudo {tool}), or grant \
             CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels before 5.8)"
        ))),
        // Unknown (no /proc): let the kernel decide at load time.
        _ => Ok(()),
    }
}

/// CO-RE needs the kernel's type information: the running kernel's, or the
/// operator's file (--btf) for kernels built without it.
pub fn check_btf(custom_btf: Option<&Path>) -> Result<()> {
    match custom_btf {
        Some(path) => check_btf_file(path),
        None if Path::new(KERNEL_BTF).exists() => Ok(()),
        None => Err(Error::new(format!(
            "this kernel has no BTF ({KERNEL_BTF} is missing), which CO-RE programs need: \
             pass a BTF file for this exact kernel with --btf PATH (BTFHub has them for many \
             distribution kernels; 'pahole --btf_encode_detached' makes one from vmlinux), \
             or use a kernel built with CONFIG_DEBUG_INFO_BTF=y"
        ))),
    }
}

fn check_btf_file(path: &Path) -> Result<()> {
    fs::File::open(path)
        .map_err(|err| Error::new(format!("--btf {}: cannot open it: {err}", path.display())))?;
    libbpf_rs::btf::Btf::from_path(path)
        .map(drop)
        .map_err(|err| {
            Error::new(format!(
                "--btf {}: not a readable BTF file ({}); give a raw BTF file (as BTFHub ships, \
             uncompressed) or an ELF file with a .BTF section",
                path.display(),
                err.to_string().replace('\n', ": ")
            ))
        })
}

/// Whether tracefs can be read where libbpf looks: Ok; or the error of the
/// first place that is there but refuses this user (tracefs is root-only,
/// mode 0700, on many kernels); or NotFound.
fn tracefs_readable() -> std::io::Result<()> {
    let mut refused = None;
    for dir in [TRACEFS, DEBUGFS_TRACING] {
        match fs::metadata(Path::new(dir).join("events")) {
            Ok(meta) if meta.is_dir() => return Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
                refused.get_or_insert((dir, err));
            }
            _ => {}
        }
    }
    match refused {
        Some((dir, err)) => Err(std::io::Error::new(err.kind(), format!("{dir}: {err}"))),
        None => Err(std::io::ErrorKind::NotFound.into()),
    }
}

/// Classic tracepoints (and kprobes on kernels without the kprobe PMU) are
/// found through tracefs: mount it where libbpf looks first when nobody has
/// (containers, minimal systems). BTF tracepoints and fentry need none.
pub fn ensure_tracefs() -> Result<()> {
    match tracefs_readable() {
        Ok(()) => return Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Error::new(format!(
                "tracefs is mounted but this user may not read it ({err}): run as root, or \
                 remount it for a group of this user (mount -o remount,gid=GID {TRACEFS})"
            )))
        }
        Err(_) => {}
    }
    mount(
        Some("nodev"),
        TRACEFS,
        Some("tracefs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|errno| {
        Error::new(format!(
            "tracefs is not mounted and mounting it failed ({errno}): \
             run 'mount -t tracefs nodev {TRACEFS}' as root, then retry"
        ))
    })
}

/// Everything a tool checks and sets up before it opens its BPF object.
pub fn prepare(tool: &str, common: &CommonArgs) -> Result<()> {
    libbpf_log::show(common.verbose);
    check_privileges(tool)?;
    check_btf(common.btf.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_btf_is_refused_clearly() {
        let err = check_btf(Some(Path::new("/proc/self/status")))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--btf /proc/self/status: not a readable BTF file"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn privileges_need_sys_admin_or_bpf_with_perfmon() {
        assert!(has_tracing_privileges(1 << CAP_SYS_ADMIN));
        assert!(has_tracing_privileges((1 << CAP_BPF) | (1 << CAP_PERFMON)));
        assert!(!has_tracing_privileges(1 << CAP_BPF));
        assert!(!has_tracing_privileges(1 << CAP_PERFMON));
        assert!(!has_tracing_privileges(0));
    }
}
