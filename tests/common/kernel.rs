//! What the running kernel can do, found out at run time and independently
//! of the tools under test: each probe asks the kernel itself (a minimal
//! program loaded and attached, a perf event opened), so a test's
//! expectation never comes from a belief about the machine it runs on.

use std::ffi::CString;
use std::fs;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::OnceLock;

use libbpf_rs::btf::types::{Func, Struct, Typedef};
use libbpf_rs::btf::Btf;
use libbpf_rs::libbpf_sys;

/// perf_event_open's flag for a close-on-exec fd (linux/perf_event.h).
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";
/// The tracepoints the tools hook as BTF tracepoints.
const BTF_TRACEPOINTS: [&str; 2] = ["inet_sock_set_state", "sched_process_exec"];

/// The kernel's answers, asked once per test run.
#[derive(Debug)]
pub struct Kernel {
    /// `uname -r`.
    pub release: String,
    /// /sys/kernel/btf/vmlinux exists: CO-RE works without --btf.
    pub btf: bool,
    /// A BPF trampoline (fexit) attaches to tcp_v4_connect.
    pub trampolines: bool,
    /// A kprobe can be created on tcp_v4_connect.
    pub kprobes: bool,
    /// The tracepoints (of BTF_TRACEPOINTS) a BTF tracepoint program
    /// attaches to.
    btf_tracepoints: Vec<&'static str>,
    /// The sock:inet_sock_set_state tracepoint exists (classic flavor).
    pub tracepoint: bool,
    /// tracefs is mounted in this mount namespace right now.
    pub tracefs_mounted: bool,
}

impl Kernel {
    pub fn get() -> &'static Kernel {
        static KERNEL: OnceLock<Kernel> = OnceLock::new();
        KERNEL.get_or_init(Kernel::probe)
    }

    fn probe() -> Self {
        let vmlinux = Btf::from_vmlinux().ok();
        let func_id = |name: &str| -> Option<u32> {
            let btf = vmlinux.as_ref()?;
            Some(btf.type_by_name::<Func<'_>>(name)?.type_id().into())
        };
        let typedef_id = |name: &str| -> Option<u32> {
            let btf = vmlinux.as_ref()?;
            Some(btf.type_by_name::<Typedef<'_>>(name)?.type_id().into())
        };
        let has_struct = |name: &str| {
            vmlinux
                .as_ref()
                .is_none_or(|btf| btf.type_by_name::<Struct<'_>>(name).is_some())
        };
        let release = nix::sys::utsname::uname()
            .map(|uts| uts.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            release,
            btf: Path::new(KERNEL_BTF).exists(),
            trampolines: func_id("tcp_v4_connect")
                .is_some_and(|id| attaches_tracing_program(libbpf_sys::BPF_TRACE_FEXIT, id)),
            kprobes: kprobe_opens("tcp_v4_connect"),
            btf_tracepoints: BTF_TRACEPOINTS
                .into_iter()
                .filter(|name| {
                    typedef_id(&format!("btf_trace_{name}")).is_some_and(|id| {
                        attaches_tracing_program(libbpf_sys::BPF_TRACE_RAW_TP, id)
                    })
                })
                .collect(),
            tracepoint: has_struct("trace_event_raw_inet_sock_set_state"),
            tracefs_mounted: tracefs_mounted(),
        }
    }

    /// Whether a BTF tracepoint program attaches to tracepoint `name`.
    pub fn has_btf_tracepoint(&self, name: &str) -> bool {
        assert!(BTF_TRACEPOINTS.contains(&name), "{name} is not probed");
        self.btf_tracepoints.contains(&name)
    }
}

/// Whether tracefs is mounted in this process's mount namespace.
pub fn tracefs_mounted() -> bool {
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    mounts
        .lines()
        .any(|line| line.split_whitespace().nth(2) == Some("tracefs"))
}

/// `r0 = 0; exit`: the least program the verifier accepts.
pub fn return_zero() -> [libbpf_sys::bpf_insn; 2] {
    // BPF_ALU64 | BPF_MOV | BPF_K, then BPF_JMP | BPF_EXIT; registers 0.
    let mov = libbpf_sys::bpf_insn {
        code: 0xb7,
        ..Default::default()
    };
    let exit = libbpf_sys::bpf_insn {
        code: 0x95,
        ..Default::default()
    };
    [mov, exit]
}

/// Loads a BPF_PROG_TYPE_TRACING program of `attach_type` against the
/// kernel BTF type `btf_id` and attaches it (a trampoline or a BTF
/// tracepoint); the program and link close on return.
fn attaches_tracing_program(attach_type: libbpf_sys::bpf_attach_type, btf_id: u32) -> bool {
    let insns = return_zero();
    let license = c"GPL";
    let mut opts = libbpf_sys::bpf_prog_load_opts {
        sz: size_of::<libbpf_sys::bpf_prog_load_opts>() as _,
        expected_attach_type: attach_type,
        attach_btf_id: btf_id,
        ..Default::default()
    };
    // SAFETY: valid instructions, license and options for the call.
    let prog = unsafe {
        libbpf_sys::bpf_prog_load(
            libbpf_sys::BPF_PROG_TYPE_TRACING,
            c"probe".as_ptr(),
            license.as_ptr(),
            insns.as_ptr(),
            insns.len() as _,
            &mut opts,
        )
    };
    let Some(_prog) = owned_fd(prog) else {
        return false;
    };
    // SAFETY: attaches the program loaded above by its fd.
    let link = unsafe { libbpf_sys::bpf_raw_tracepoint_open(std::ptr::null(), prog) };
    owned_fd(link).is_some()
}

/// Whether a kprobe perf event can be created on `function` (the kprobe
/// PMU, which every kernel with CONFIG_KPROBES this project supports has).
fn kprobe_opens(function: &str) -> bool {
    let pmu = fs::read_to_string("/sys/bus/event_source/devices/kprobe/type");
    let Some(pmu) = pmu.ok().and_then(|t| t.trim().parse::<u32>().ok()) else {
        return false;
    };
    let function = CString::new(function).expect("no NUL in a function name");
    let mut attr = libbpf_sys::perf_event_attr {
        type_: pmu,
        size: size_of::<libbpf_sys::perf_event_attr>() as u32,
        ..Default::default()
    };
    attr.__bindgen_anon_3.kprobe_func = function.as_ptr() as u64;
    // SAFETY: perf_event_open on a valid attribute; pid -1, cpu 0: all tasks
    // on CPU 0, no group, close-on-exec.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const libbpf_sys::perf_event_attr,
            -1,
            0,
            -1,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    owned_fd(fd as i32).is_some()
}

fn owned_fd(fd: i32) -> Option<OwnedFd> {
    // SAFETY: a non-negative return of the calls above is a new fd we own.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}
