//! The host as the tests arrange it: scratch directories, cgroups, pinned
//! maps, mount and network namespaces of the tests' own, other users.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::thread;
use std::time::{Duration, Instant};

use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType};

use super::temp_dir::TempDir;
use super::{run, unique_marker};

/// `enum bpf_map_type` values, as /proc/PID/fdinfo shows them.
pub const BPF_MAP_TYPE_HASH: u32 = 1;
pub const BPF_MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
pub const BPF_MAP_TYPE_LRU_HASH: u32 = 9;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;

/// The pid of this test process: the parent of what it runs, and the PID of
/// what it does itself.
pub fn test_pid() -> u32 {
    std::process::id()
}

pub fn path_arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The name of the calling thread: the comm of what it does, and of a
/// process forked from it until that process execs.
pub fn current_thread_comm() -> String {
    let comm = fs::read_to_string("/proc/thread-self/comm").expect("read comm");
    comm.trim_end_matches('\n').to_string()
}

/// The calling thread's CPUs, as a set.
fn current_affinity() -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is a plain bit set (zeroed is empty), filled by
    // sched_getaffinity for the calling thread (0).
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(
            libc::sched_getaffinity(0, size, &mut allowed),
            0,
            "sched_getaffinity"
        );
        allowed
    }
}

/// The CPUs the calling thread may run on.
pub fn allowed_cpus() -> Vec<usize> {
    let allowed = current_affinity();
    // SAFETY: CPU_ISSET only reads the set, within CPU_SETSIZE.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &allowed) })
        .collect()
}

/// Keeps the calling thread, and every process started from it meanwhile,
/// on one CPU (their records then go to that CPU's buffer), until dropped:
/// the test threads serve one test after another.
pub struct PinnedToCpu {
    before: libc::cpu_set_t,
}

impl PinnedToCpu {
    pub fn new(cpu: usize) -> Self {
        let before = current_affinity();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: as in `current_affinity`; the call changes only the
        // calling thread's CPUs.
        unsafe {
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut one);
            assert_eq!(
                libc::sched_setaffinity(0, size, &one),
                0,
                "sched_setaffinity"
            );
            Self { before }
        }
    }
}

impl Drop for PinnedToCpu {
    fn drop(&mut self) {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: as in `new`.
        unsafe { libc::sched_setaffinity(0, size, &self.before) };
    }
}

/// `setpriv` as `uid` (and the same gid), without supplementary groups.
pub fn setpriv_as(uid: u32) -> Command {
    let uid = uid.to_string();
    let mut command = Command::new("setpriv");
    command.args(["--reuid", &uid, "--regid", &uid, "--clear-groups"]);
    command
}

/// Sum of the tool's `Lost N events!` and `Lost N events on CPU #C!`
/// lines; any other stderr line but the ready line fails.
#[track_caller]
pub fn lost_events_reported(stderr: &[String]) -> usize {
    let count = |line: &str| {
        let rest = line.strip_prefix("Lost ")?;
        let (count, place) = rest.split_once(" events")?;
        let per_cpu = place
            .strip_prefix(" on CPU #")
            .and_then(|cpu| cpu.strip_suffix('!'));
        let cpu_ok = per_cpu.is_some_and(|cpu| cpu.parse::<u32>().is_ok());
        (place == "!" || cpu_ok).then(|| count.parse::<usize>().ok())?
    };
    let lines = stderr
        .iter()
        .filter(|line| !line.ends_with("Hit Ctrl-C to end."));
    lines
        .map(|line| count(line).unwrap_or_else(|| panic!("stderr: {line}")))
        .sum()
}

/// Removes every tracefs mount from a private mount namespace (debugfs
/// too, which would mount tracefs on access to /sys/kernel/debug/tracing),
/// and checks that none is left.
pub const UNMOUNT_TRACEFS: &str = "\
for dir in /sys/kernel/debug /sys/kernel/tracing; do
    while umount -l $dir 2>/dev/null; do :; done
done
if grep -qE ' (tracefs|debugfs) ' /proc/self/mounts; then echo 'tracefs still mounted' >&2; exit 99; fi";

/// Hides the kernel's BTF in a private mount namespace.
pub const HIDE_KERNEL_BTF: &str = "mount -t tmpfs none /sys/kernel/btf || exit 98";

/// `program` in a mount namespace of its own, after `setup` (shell
/// commands), run through `wrapper` (a command prefix, may be empty).
pub fn in_private_mount_namespace(program: &str, setup: &str, wrapper: &str) -> Command {
    let script = format!("{setup}\nexec {wrapper} \"$0\" \"$@\"");
    let mut command = Command::new("unshare");
    command.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        program,
    ]);
    command
}

pub fn tracefs_mounted_in(pid: u32) -> bool {
    let mounts = fs::read_to_string(format!("/proc/{pid}/mounts")).expect("mounts");
    mounts
        .lines()
        .any(|line| line.contains(" /sys/kernel/tracing tracefs "))
}

/// A network namespace of the test's own (its loopback down until the
/// test brings it up), deleted on drop.
pub struct TestNetns(pub String);

impl TestNetns {
    pub fn add() -> Self {
        let name = unique_marker("netns");
        let (_, status) = run(Command::new("ip").args(["netns", "add", &name]));
        assert!(status.success(), "ip netns add {name}: {status}");
        Self(name)
    }

    /// Runs shell commands inside it, which must succeed.
    #[track_caller]
    pub fn sh(&self, script: &str) {
        let (_, status) =
            run(Command::new("ip").args(["netns", "exec", &self.0, "sh", "-c", script]));
        assert!(status.success(), "in {}: {script}: {status}", self.0);
    }

    /// Runs `work` on a thread of its own that has joined the namespace
    /// (namespaces are per thread), and returns its result.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        let netns = fs::File::open(format!("/var/run/netns/{}", self.0)).expect("open the netns");
        thread::scope(|scope| {
            scope
                .spawn(|| {
                    // SAFETY: setns with a valid namespace fd affects this thread only.
                    let joined = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(joined, 0, "setns: {}", std::io::Error::last_os_error());
                    work()
                })
                .join()
                .expect("the thread in the netns")
        })
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = run(Command::new("ip").args(["netns", "delete", &self.0]));
    }
}

/// A copy of the kernel's own BTF, as an operator would pass with --btf.
pub fn kernel_btf_copy(dir: &TempDir) -> PathBuf {
    let copy = dir.path().join("vmlinux.btf");
    fs::copy("/sys/kernel/btf/vmlinux", &copy).expect("copy the kernel's BTF");
    copy
}

/// Where the cgroup v2 hierarchy is mounted, from /proc/mounts.
pub fn cgroup2_mount() -> PathBuf {
    mount_point_of_type("cgroup2").expect("no cgroup2 file system is mounted")
}

fn mount_point_of_type(fs_type: &str) -> Option<PathBuf> {
    let mounts = fs::read_to_string("/proc/mounts").expect("read /proc/mounts");
    mounts.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(2) == Some(&fs_type)).then(|| PathBuf::from(fields[1]))
    })
}

/// A new cgroup v2 directory, removed on drop (once its processes are gone).
pub struct TestCgroup {
    path: PathBuf,
}

impl TestCgroup {
    pub fn create(label: &str) -> Self {
        Self::make(cgroup2_mount().join(unique_marker(label)))
    }

    fn make(path: PathBuf) -> Self {
        fs::create_dir(&path).unwrap_or_else(|err| panic!("mkdir {}: {err}", path.display()));
        Self { path }
    }

    /// The cgroups at `relative` below this one, one per directory on the
    /// way (named as given: runtimes' names are what tests need); removed
    /// deepest first on drop.
    pub fn nested(&self, relative: &str) -> NestedCgroups {
        let mut levels: Vec<TestCgroup> = Vec::new();
        for name in relative.split('/').filter(|name| !name.is_empty()) {
            let parent = levels.last().map_or(&self.path, |level| &level.path);
            levels.push(Self::make(parent.join(name)));
        }
        NestedCgroups(levels)
    }

    /// The path the kernel gives for it: relative to the cgroup2 mount.
    pub fn relative_path(&self) -> String {
        let relative = self
            .path
            .strip_prefix(cgroup2_mount())
            .expect("under the mount");
        format!("/{}", relative.display())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id BPF programs see (bpf_get_current_cgroup_id): the inode
    /// number of the cgroup's directory.
    pub fn id(&self) -> u64 {
        fs::metadata(&self.path).expect("stat the cgroup").ino()
    }

    /// A shell command that moves the shell running it into this cgroup.
    pub fn enter_command(&self) -> String {
        format!("echo $$ > {}/cgroup.procs", self.path.display())
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // A process that just exited can keep the cgroup busy for a moment.
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Err(err) = fs::remove_dir(&self.path) {
            if err.raw_os_error() != Some(libc::EBUSY) || Instant::now() >= deadline {
                eprintln!("cannot remove cgroup {}: {err}", self.path.display());
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Nested cgroups, the deepest last; removed deepest first.
pub struct NestedCgroups(Vec<TestCgroup>);

impl NestedCgroups {
    pub fn leaf(&self) -> &TestCgroup {
        self.0.last().expect("at least one level")
    }
}

impl Drop for NestedCgroups {
    fn drop(&mut self) {
        while let Some(level) = self.0.pop() {
            drop(level);
        }
    }
}

const BPFFS: &str = "/sys/fs/bpf";

/// Mounts the BPF file system at /sys/fs/bpf unless something is mounted there.
fn ensure_bpffs() {
    static MOUNTED: Once = Once::new();
    MOUNTED.call_once(|| {
        let mounts = fs::read_to_string("/proc/mounts").expect("read /proc/mounts");
        if !mounts
            .lines()
            .any(|line| line.split_whitespace().nth(1) == Some(BPFFS))
        {
            nix::mount::mount(
                Some("bpf"),
                BPFFS,
                Some("bpf"),
                nix::mount::MsFlags::empty(),
                None::<&str>,
            )
            .unwrap_or_else(|err| panic!("mount -t bpf bpf {BPFFS}: {err}"));
        }
    });
}

/// A BPF map pinned under /sys/fs/bpf, unpinned on drop.
pub struct PinnedMap {
    path: PathBuf,
    map: MapHandle,
}

impl PinnedMap {
    /// A map of `map_type` with `key_size`-byte keys and u64 values.
    pub fn create(label: &str, map_type: MapType, key_size: u32) -> Self {
        ensure_bpffs();
        let path = Path::new(BPFFS).join(unique_marker(label));
        let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
            sz: size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as _,
            ..Default::default()
        };
        let mut map = MapHandle::create(map_type, Some("test_filter"), key_size, 8, 16, &opts)
            .unwrap_or_else(|err| panic!("create a {map_type:?} map: {err}"));
        map.pin(&path)
            .unwrap_or_else(|err| panic!("pin a map at {}: {err}", path.display()));
        Self { path, map }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds `key` (with value 1) to a map with u64 keys.
    pub fn insert(&self, key: u64) {
        self.map
            .update(&key.to_ne_bytes(), &1u64.to_ne_bytes(), MapFlags::ANY)
            .unwrap_or_else(|err| panic!("insert {key} into {}: {err}", self.path.display()));
    }
}

impl Drop for PinnedMap {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A BPF program (a socket filter that does nothing) pinned under
/// /sys/fs/bpf: a pinned object that is not a map. Unpinned on drop.
pub struct PinnedProgram(PathBuf);

impl PinnedProgram {
    pub fn create(label: &str) -> Self {
        use libbpf_rs::libbpf_sys;
        ensure_bpffs();
        let path = Path::new(BPFFS).join(unique_marker(label));
        let insns = super::kernel::return_zero();
        // SAFETY: valid instructions and license; no options.
        let fd = unsafe {
            libbpf_sys::bpf_prog_load(
                libbpf_sys::BPF_PROG_TYPE_SOCKET_FILTER,
                c"test_prog".as_ptr(),
                c"GPL".as_ptr(),
                insns.as_ptr(),
                insns.len() as _,
                std::ptr::null_mut(),
            )
        };
        assert!(
            fd >= 0,
            "load a program: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: fd is the program just loaded, owned here.
        let prog = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("a path");
        // SAFETY: pins the program by its fd at a NUL-terminated path.
        let pinned = unsafe { libbpf_sys::bpf_obj_pin(prog.as_raw_fd(), c_path.as_ptr()) };
        assert_eq!(
            pinned,
            0,
            "pin at {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PinnedProgram {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// The BPF maps a process holds open: `(map_type, max_entries)` as fdinfo
/// shows them (`map_type` is an `enum bpf_map_type`).
pub fn bpf_maps(pid: u32) -> Vec<(u32, u32)> {
    let fdinfo = fs::read_dir(format!("/proc/{pid}/fdinfo")).expect("read fdinfo");
    let field = |info: &str, name: &str| {
        let line = info.lines().find_map(|line| line.strip_prefix(name))?;
        line.trim().parse().ok()
    };
    fdinfo
        .filter_map(|entry| fs::read_to_string(entry.ok()?.path()).ok())
        .filter_map(|info| Some((field(&info, "map_type:")?, field(&info, "max_entries:")?)))
        .collect()
}

/// The BPF programs a process holds open, a line each: name, id, and how
/// often the kernel ran it (`run_cnt`: counted only while
/// kernel.bpf_stats_enabled is 1, as in the test-kernels VMs) or skipped it
/// because it was running on that CPU already (`recursion_misses`, Linux >=
/// 5.12). For failure messages: whether a program ran for an event that
/// never arrived.
pub fn bpf_program_runs(pid: u32) -> Vec<String> {
    let Ok(fdinfo) = fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return Vec::new();
    };
    let ids: Vec<u32> = fdinfo
        .filter_map(|entry| fs::read_to_string(entry.ok()?.path()).ok())
        .filter_map(|info| {
            let line = info
                .lines()
                .find_map(|line| line.strip_prefix("prog_id:"))?;
            line.trim().parse().ok()
        })
        .collect();
    libbpf_rs::query::ProgInfoIter::default()
        .filter(|program| ids.contains(&program.id))
        .map(|program| {
            format!(
                "{} (id {}): run_cnt {}, recursion_misses {}",
                program.name.to_string_lossy(),
                program.id,
                program.run_cnt,
                program.recursion_misses
            )
        })
        .collect()
}

/// kernel.bpf_stats_enabled: "1" while the kernel counts program runs.
pub fn bpf_stats_enabled() -> String {
    let value = fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled");
    value.map_or_else(|_| "unknown".to_string(), |value| value.trim().to_string())
}

/// The types of the BPF maps a process holds open.
pub fn bpf_map_types(pid: u32) -> Vec<u32> {
    bpf_maps(pid)
        .into_iter()
        .map(|(map_type, _)| map_type)
        .collect()
}
