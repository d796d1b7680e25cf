//! What the running kernel can do, found out at run time and independently
//! of the tools under test: each probe asks the kernel itself (a minimal
//! program loaded and attached, a perf event opened), so a test's
//! expectation never comes from a belief about the machine it runs on.

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
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
    /// BPF tracing programs may keep data in sockets (bpf_sk_storage_get
    /// from a BTF tracepoint, Linux >= 5.11) and list it (an iterator over
    /// socket storage loads; some sandboxes refuse iterators).
    pub socket_storage_listed: bool,
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
            socket_storage_listed: typedef_id("btf_trace_inet_sock_set_state")
                .is_some_and(socket_storage_usable_from)
                && func_id("bpf_iter_bpf_sk_storage_map").is_some_and(|id| {
                    loads_tracing_program(libbpf_sys::BPF_TRACE_ITER, id, &return_zero())
                }),
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
/// kernel BTF type `btf_id`; it closes when dropped.
fn load_tracing_program(
    attach_type: libbpf_sys::bpf_attach_type,
    btf_id: u32,
    insns: &[libbpf_sys::bpf_insn],
) -> Option<OwnedFd> {
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
    owned_fd(prog)
}

fn loads_tracing_program(
    attach_type: libbpf_sys::bpf_attach_type,
    btf_id: u32,
    insns: &[libbpf_sys::bpf_insn],
) -> bool {
    load_tracing_program(attach_type, btf_id, insns).is_some()
}

/// Loads a tracing program of `attach_type` against the kernel BTF type
/// `btf_id` and attaches it (a trampoline or a BTF tracepoint); the program
/// and link close on return.
fn attaches_tracing_program(attach_type: libbpf_sys::bpf_attach_type, btf_id: u32) -> bool {
    let Some(prog) = load_tracing_program(attach_type, btf_id, &return_zero()) else {
        return false;
    };
    // SAFETY: attaches the program loaded above by its fd.
    let link = unsafe { libbpf_sys::bpf_raw_tracepoint_open(std::ptr::null(), prog.as_raw_fd()) };
    owned_fd(link).is_some()
}

/// Whether a BTF tracepoint program (on the tracepoint whose `btf_trace_`
/// typedef is `btf_id`, whose first argument is a socket) may call
/// bpf_sk_storage_get: a socket storage map is made (with the minimal BTF
/// it needs, an int for key and value) and a program that looks the
/// tracepoint's socket up in it is loaded.
fn socket_storage_usable_from(btf_id: u32) -> bool {
    let Some(map) = socket_storage_map() else {
        return false;
    };
    // r2 = ctx[0] (the socket); r1 = map; r3 = 0; r4 = 0;
    // call bpf_sk_storage_get; r0 = 0; exit
    let insn = |code, regs, imm| libbpf_sys::bpf_insn {
        code,
        _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(regs & 0xf, regs >> 4),
        imm,
        ..Default::default()
    };
    const LOAD_DW: u8 = 0x79;
    const LOAD_IMM64: u8 = 0x18;
    const MOV_IMM: u8 = 0xb7;
    const CALL: u8 = 0x85;
    const BPF_FUNC_SK_STORAGE_GET: i32 = 107;
    let pseudo_map_fd = (libbpf_sys::BPF_PSEUDO_MAP_FD as u8) << 4;
    let insns = [
        insn(LOAD_DW, 2 | 1 << 4, 0),
        insn(LOAD_IMM64, 1 | pseudo_map_fd, map.as_raw_fd()),
        insn(0, 0, 0),
        insn(MOV_IMM, 3, 0),
        insn(MOV_IMM, 4, 0),
        insn(CALL, 0, BPF_FUNC_SK_STORAGE_GET),
        return_zero()[0],
        return_zero()[1],
    ];
    loads_tracing_program(libbpf_sys::BPF_TRACE_RAW_TP, btf_id, &insns)
}

/// A BPF_MAP_TYPE_SK_STORAGE map with int keys and values.
fn socket_storage_map() -> Option<OwnedFd> {
    // BTF: a header, one type ([1] INT "int", 4 bytes, signed, 32 bits)
    // and the strings "" and "int".
    let mut btf = Vec::new();
    let strings = b"\0int\0";
    let types_len = 16u32;
    for half in [0xeb9f_u16.to_ne_bytes(), [1, 0]] {
        btf.extend_from_slice(&half);
    }
    for word in [24, 0, types_len, types_len, strings.len() as u32] {
        btf.extend_from_slice(&u32::to_ne_bytes(word));
    }
    const BTF_KIND_INT: u32 = 1;
    const BTF_INT_SIGNED: u32 = 1;
    for word in [1, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED << 24 | 32] {
        btf.extend_from_slice(&u32::to_ne_bytes(word));
    }
    btf.extend_from_slice(strings);
    let mut btf_opts = libbpf_sys::bpf_btf_load_opts {
        sz: size_of::<libbpf_sys::bpf_btf_load_opts>() as _,
        ..Default::default()
    };
    // SAFETY: a complete BTF blob and options, valid for the call.
    let btf =
        unsafe { libbpf_sys::bpf_btf_load(btf.as_ptr().cast(), btf.len() as _, &mut btf_opts) };
    let btf = owned_fd(btf)?;
    let map_opts = libbpf_sys::bpf_map_create_opts {
        sz: size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        btf_fd: btf.as_raw_fd() as u32,
        btf_key_type_id: 1,
        btf_value_type_id: 1,
        map_flags: libbpf_sys::BPF_F_NO_PREALLOC,
        ..Default::default()
    };
    // SAFETY: valid name and options for the call.
    let map = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_SK_STORAGE,
            c"probe".as_ptr(),
            4,
            4,
            0,
            &map_opts,
        )
    };
    owned_fd(map)
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
