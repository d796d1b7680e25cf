//! Running a tracer with its output in files: knowing when it has attached
//! without sleeping and hoping, and stopping it to read its CPU time and peak
//! memory from its rusage.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::time::{clock_getcpuclockid, clock_gettime};
use nix::unistd::Pid;

use crate::measure::{last_line, MemoryKinds};

/// Readlink targets of the fds a process holds once its BPF programs are
/// attached: links, and perf events (tracepoint attachments, perf buffers).
const ATTACH_FD_TARGETS: [&str; 2] = ["anon_inode:bpf_link", "anon_inode:[perf_event]"];
/// Attached = the attach fds stopped changing for this long.
const ATTACH_SETTLE: Duration = Duration::from_millis(200);
const ATTACH_TIMEOUT: Duration = Duration::from_secs(15);
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// How often memory is sampled while the tool runs a storm.
const MEMORY_SAMPLE_INTERVAL: Duration = Duration::from_millis(10);
/// How long a tool gets to exit after SIGINT before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Ours,
    /// Another implementation, compared against ours.
    Comparison,
}

#[derive(Clone, Debug)]
pub struct Tool {
    pub label: String,
    pub path: PathBuf,
    /// Flags it runs with.
    pub args: Vec<String>,
    /// Environment variables it runs with.
    pub environment: Vec<(String, String)>,
    pub role: Role,
}

/// A tool that has attached.
pub struct Running {
    pid: libc::pid_t,
    /// From spawn to the attach fds settling (the settle time itself excluded).
    pub attached_after: Duration,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
    /// Each memory kind's largest sample from spawn to attached (sampled
    /// as often as the attach fds are polled): loading is when libbpf
    /// holds the kernel's BTF.
    pub memory_peak: MemoryKinds,
}

/// What the kernel counted for the BPF programs a process holds
/// (BPF_ENABLE_STATS), summed over them.
#[derive(Clone, Copy, Debug, Default)]
pub struct BpfStats {
    /// run_time_ns.
    pub time: Duration,
    /// run_cnt: how many times they ran.
    pub runs: u64,
}

impl BpfStats {
    pub fn since(self, start: Self) -> Self {
        Self {
            time: self.time.saturating_sub(start.time),
            runs: self.runs.saturating_sub(start.runs),
        }
    }
}

/// How a tool ended, from wait4.
#[derive(Clone, Copy, Debug)]
pub struct Exited {
    /// The raw wait status.
    status: libc::c_int,
    /// User + system CPU time.
    pub cpu: Duration,
    pub peak_rss_kib: u64,
}

impl Tool {
    /// Starts the tool with stdout and stderr in `<dir>/<name>.out` and
    /// `.err`, and waits until it has attached. Err says why it did not.
    pub fn start(&self, dir: &Path, name: &str) -> Result<Running, String> {
        let stdout_path = dir.join(format!("{name}.out"));
        let stderr_path = dir.join(format!("{name}.err"));
        let create = |path: &Path| {
            File::create(path).map_err(|err| format!("cannot create {}: {err}", path.display()))
        };
        let spawned_at = Instant::now();
        let child = Command::new(&self.path)
            .args(&self.args)
            .envs(self.environment.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(create(&stdout_path)?)
            .stderr(create(&stderr_path)?)
            .spawn()
            .map_err(|err| format!("cannot run {}: {err}", self.path.display()))?;
        // Reaped below with wait4, for its rusage; the Child handle is not used.
        let pid = child.id() as libc::pid_t;

        let mut attach_fds = 0;
        let mut changed_at = spawned_at;
        let mut memory_peak = MemoryKinds::default();
        loop {
            if let Some(memory) = MemoryKinds::read(pid) {
                memory_peak = memory_peak.max(memory);
            }
            if let Some(exited) = reap(pid, libc::WNOHANG) {
                let said = last_line(&stderr_path).unwrap_or_else(|| "no message".into());
                return Err(format!("{} before attaching: {said}", exited.status_text()));
            }
            let now = Instant::now();
            let count = attach_fd_count(pid);
            if count != attach_fds {
                attach_fds = count;
                changed_at = now;
            }
            if attach_fds > 0 && now - changed_at >= ATTACH_SETTLE {
                return Ok(Running {
                    pid,
                    attached_after: changed_at - spawned_at,
                    stdout_path,
                    stderr_path,
                    memory_peak,
                });
            }
            if now - spawned_at >= ATTACH_TIMEOUT {
                signal(pid, libc::SIGKILL);
                reap(pid, 0);
                return Err(format!("not attached after {ATTACH_TIMEOUT:?}"));
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Running {
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// CPU time the tool has used so far, all threads, to the nanosecond
    /// (its process CPU-time clock; rusage only comes at the end).
    pub fn cpu_used(&self) -> Option<Duration> {
        let clock = clock_getcpuclockid(Pid::from_raw(self.pid)).ok()?;
        clock_gettime(clock).ok().map(Duration::from)
    }

    /// What the kernel has counted so far for the tool's BPF programs: the
    /// programs of the BPF fds the process itself holds (`run_time_ns` and
    /// `run_cnt` of their fdinfo), exactly the ones it loaded, whatever its
    /// implementation; None when the kernel keeps no such statistics (the
    /// benchmark turns them on) or the process holds no program.
    pub fn bpf_stats(&self) -> Option<BpfStats> {
        let fds = fs::read_dir(format!("/proc/{}/fd", self.pid)).ok()?;
        let mut total = None;
        for fd in fds.filter_map(Result::ok) {
            if !fs::read_link(fd.path())
                .is_ok_and(|target| target.as_os_str() == "anon_inode:bpf-prog")
            {
                continue;
            }
            let Ok(info) = fs::read_to_string(format!(
                "/proc/{}/fdinfo/{}",
                self.pid,
                fd.file_name().to_string_lossy()
            )) else {
                continue;
            };
            let field = |name: &str| -> Option<u64> {
                info.lines()
                    .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?
                    .trim()
                    .parse()
                    .ok()
            };
            if let (Some(nanos), Some(runs)) = (field("run_time_ns"), field("run_cnt")) {
                let total = total.get_or_insert(BpfStats::default());
                total.time += Duration::from_nanos(nanos);
                total.runs += runs;
            }
        }
        total
    }

    /// Samples the tool's memory by kind in a thread until `finish`.
    pub fn sample_memory(&self) -> MemorySampler {
        let pid = self.pid;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut peak = MemoryKinds::default();
            while !stopped.load(Ordering::Relaxed) {
                if let Some(memory) = MemoryKinds::read(pid) {
                    peak = peak.max(memory);
                }
                thread::sleep(MEMORY_SAMPLE_INTERVAL);
            }
            peak
        });
        MemorySampler {
            stop,
            thread: Some(thread),
        }
    }

    /// SIGINT, as a user's Ctrl-C; SIGKILL if it does not exit in time.
    pub fn stop(self) -> Exited {
        signal(self.pid, libc::SIGINT);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(exited) = reap(self.pid, libc::WNOHANG) {
                return exited;
            }
            thread::sleep(POLL_INTERVAL);
        }
        signal(self.pid, libc::SIGKILL);
        reap(self.pid, 0).expect("a killed child can be reaped")
    }
}

/// A thread sampling a process's memory (`Running::sample_memory`).
pub struct MemorySampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<MemoryKinds>>,
}

impl MemorySampler {
    /// Stops sampling: each kind's largest sample.
    pub fn finish(mut self) -> MemoryKinds {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("joined once");
        thread.join().unwrap_or_default()
    }
}

impl Drop for MemorySampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Exited {
    pub fn status_text(&self) -> String {
        if libc::WIFEXITED(self.status) {
            format!("exit {}", libc::WEXITSTATUS(self.status))
        } else if libc::WIFSIGNALED(self.status) {
            format!("killed by signal {}", libc::WTERMSIG(self.status))
        } else {
            format!("wait status {:#x}", self.status)
        }
    }
}

/// wait4 on our child: its exit and rusage once it has ended.
fn reap(pid: libc::pid_t, options: libc::c_int) -> Option<Exited> {
    let mut status = 0;
    // SAFETY: rusage is plain data; both out-pointers are valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, options, &mut usage) };
    let seconds = |time: libc::timeval| {
        Duration::new(time.tv_sec as u64, 0) + Duration::from_micros(time.tv_usec as u64)
    };
    (reaped == pid).then(|| Exited {
        status,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_kib: usage.ru_maxrss as u64,
    })
}

fn signal(pid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: a plain syscall; the pid is our unreaped child.
    unsafe { libc::kill(pid, signal) };
}

fn attach_fd_count(pid: libc::pid_t) -> usize {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.filter_map(Result::ok)
        .filter(|fd| {
            fs::read_link(fd.path())
                .is_ok_and(|target| ATTACH_FD_TARGETS.iter().any(|t| target.as_os_str() == *t))
        })
        .count()
}
