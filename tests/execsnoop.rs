//! execsnoop on the real kernel: each test starts the built binary as root,
//! causes execs tagged with a unique marker and checks the lines it prints
//! (see tests/common/mod.rs for the harness and the sentinel pattern). What
//! a test expects of the kernel comes from tests/common/kernel.rs. What
//! every tool does because the shared pipeline runs it is the contract's
//! (tests/common/contract.rs), run here through [`Execsnoop`].

mod common;

use std::ffi::{c_char, c_int, c_void, CString, OsStr};
use std::fmt::Display;
use std::fs::{self, File};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::ptr;
use std::thread;
use std::time::{Duration, Instant};

use common::contract::{self, refused, Refused, TracedTool};
use common::host::{
    bpf_map_types, cgroup2_mount, current_thread_comm, in_private_mount_namespace, path_arg,
    setpriv_as, test_pid, tracefs_mounted_in, TestCgroup, BPF_MAP_TYPE_RINGBUF, UNMOUNT_TRACEFS,
};
use common::kernel::Kernel;
use common::temp_dir::TempDir;
use common::trials::bpf_test;
use common::{assert_one_error_line, run, unique_marker, Gated, Tool, TIMEOUT};
use nix::sys::signal::Signal;

const EXECSNOOP: &str = env!("CARGO_BIN_EXE_execsnoop");
const HEADER: &str = "PCOMM            PID    PPID   RET ARGS";

fn execsnoop_command(args: &[&str]) -> Command {
    let mut command = Command::new(EXECSNOOP);
    command.args(args);
    command
}

/// Starts `command` and waits until it traces (its header is printed after
/// the programs are attached).
fn start_command(command: Command) -> Tool {
    let mut tool = Tool::spawn(command);
    let header = tool.wait_for_header(TIMEOUT);
    assert!(header.ends_with(HEADER), "header: {header}");
    tool
}

fn start(args: &[&str]) -> Tool {
    start_command(execsnoop_command(args))
}

/// A row without optional columns; `args` ends with a space, as each argument does.
fn row(comm: &str, pid: impl Display, ppid: impl Display, ret: i32, args: &str) -> String {
    format!("{comm:<16} {pid:<6} {ppid:<6} {ret:>3} {args}")
}

/// The row of `/bin/true ARGS` run by this test process.
fn true_row(pid: impl Display, args: &str) -> String {
    row("true", pid, test_pid(), 0, &format!("/bin/true {args} "))
}

fn mentions(text: &str) -> impl Fn(&str) -> bool + '_ {
    move |line| line.contains(text)
}

/// Runs /bin/true with `args`; returns its pid.
fn exec_true<S: AsRef<OsStr>>(args: &[S]) -> u32 {
    exec_true_as(None, args)
}

/// Runs /bin/true with `args` as `uid` (and the same gid) when given.
fn exec_true_as<S: AsRef<OsStr>>(uid: Option<u32>, args: &[S]) -> u32 {
    let mut command = Command::new("/bin/true");
    command.args(args);
    if let Some(uid) = uid {
        command.uid(uid).gid(uid);
    }
    let (pid, status) = run(&mut command);
    assert!(status.success(), "{command:?}: {status}");
    pid
}

/// execsnoop under the pipeline's contract (tests/common/contract.rs): an
/// event is an exec of /bin/true with a marker, as [`EVENT_UID`].
struct Execsnoop;

/// The uid the contract's execs run as: `-u` keeps, in the kernel, every
/// other exec on the host out of the tool.
const EVENT_UID: u32 = 4323;

/// `/bin/true MARKER ARGS...`.
struct Exec {
    marker: String,
    args: Vec<String>,
}

impl Exec {
    fn argv(&self) -> Vec<&str> {
        let args = self.args.iter().map(String::as_str);
        [self.marker.as_str()].into_iter().chain(args).collect()
    }
}

impl TracedTool for Execsnoop {
    const NAME: &'static str = "execsnoop";
    // About 8 KiB of arguments per exec, 2.4 MiB in all: more than the
    // channel holds (64 KiB per CPU, at least 128 KiB) up to 32 CPUs.
    const BURST: usize = 300;
    type Event = Exec;

    fn event(label: &str) -> Exec {
        Exec {
            marker: unique_marker(label),
            args: Vec::new(),
        }
    }

    fn flood_event(label: &str) -> Exec {
        Exec {
            marker: unique_marker(label),
            args: vec!["x".repeat(8000)],
        }
    }

    fn only(_: &[&Exec]) -> Vec<String> {
        vec!["-u".into(), EVENT_UID.to_string()]
    }

    fn cause(exec: &Exec) -> String {
        let pid = exec_true_as(Some(EVENT_UID), &exec.argv());
        true_row(pid, &exec.argv().join(" "))
    }

    fn script(exec: &Exec) -> String {
        let uid = EVENT_UID;
        let argv = exec.argv().join(" ");
        format!("exec setpriv --reuid {uid} --regid {uid} --clear-groups /bin/true {argv}")
    }

    fn script_row(exec: &Exec, pid: u32) -> String {
        true_row(pid, &exec.argv().join(" "))
    }

    fn mentions(exec: &Exec, line: &str) -> bool {
        line.contains(&exec.marker)
    }

    fn bad_arguments() -> Vec<Refused> {
        vec![
            refused(
                &["--max-args", "0"],
                &["Invalid MAX_ARGS 0, should be in [1, 60] range"],
            ),
            refused(&["-u", "nosuchuser"], &["nosuchuser"]),
        ]
    }
}

/// A NULL-terminated array of C strings (argv, envp), built before fork.
struct CStringArray {
    _strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

impl CStringArray {
    fn new<S: AsRef<[u8]>>(items: &[S]) -> Self {
        let strings: Vec<CString> = items
            .iter()
            .map(|item| CString::new(item.as_ref()).expect("no NUL inside"))
            .collect();
        let pointers = strings
            .iter()
            .map(|s| s.as_ptr())
            .chain([ptr::null()])
            .collect();
        Self {
            _strings: strings,
            pointers,
        }
    }

    fn as_ptr(&self) -> *const *const c_char {
        self.pointers.as_ptr()
    }
}

/// Forks; the child runs `in_child` (an exec, which does not return when it
/// works), then exits 127. Returns the child's pid and exit code.
///
/// Other test threads may hold locks (malloc's among them) at fork time, so
/// `in_child` must only make async-signal-safe calls on data prepared before.
fn fork_and_wait(in_child: impl FnOnce()) -> (i32, i32) {
    // SAFETY: the child only runs `in_child`, under the contract above, and _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        in_child();
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(127) };
    }
    (pid, wait_pid(pid))
}

/// Waits (at most TIMEOUT) for a forked child; returns its exit code.
fn wait_pid(pid: i32) -> i32 {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut status = 0;
        // SAFETY: waits for our own child; status is a valid out pointer.
        match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
            0 if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            0 => {
                // SAFETY: kills and reaps our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                panic!("child {pid} did not exit within {TIMEOUT:?}");
            }
            done if done == pid => {
                assert!(
                    libc::WIFEXITED(status),
                    "child {pid} ended with status {status:#x}"
                );
                return libc::WEXITSTATUS(status);
            }
            _ => panic!("waitpid({pid}): {}", std::io::Error::last_os_error()),
        }
    }
}

fn default_row_has_comm_pid_ppid_ret_and_args() {
    let mut tool = Tool::spawn(execsnoop_command(&[]));
    assert_eq!(tool.wait_for_header(TIMEOUT), HEADER);
    let map_types = bpf_map_types(tool.pid());
    assert!(
        map_types.contains(&BPF_MAP_TYPE_RINGBUF),
        "map types {map_types:?}"
    );

    let marker = unique_marker("default");
    let pid = exec_true(&[marker.as_str(), "b", "c"]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    assert_eq!(line, true_row(pid, &format!("{marker} b c")));
}

fn failed_exec_is_shown_with_x_only() {
    let mut with_fails = start(&["-x"]);
    let mut without = start(&[]);

    let failed = unique_marker("failed");
    let path = CString::new(format!("/nonexistent-{failed}/prog")).unwrap();
    let argv = CStringArray::new(&["prog", "x"]);
    let envp = CStringArray::new::<&str>(&[]);
    let comm = current_thread_comm();
    let (pid, code) = fork_and_wait(|| {
        // SAFETY: execve is async-signal-safe; every pointer was built before fork.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    });
    assert_eq!(code, 127, "the exec of a missing file succeeded");
    let sentinel = unique_marker("sentinel");
    exec_true(&[&sentinel]);

    let line = with_fails.expect_line(mentions(&failed), TIMEOUT);
    let args = format!("{} x ", path.to_str().unwrap());
    assert_eq!(line, row(&comm, pid, test_pid(), -2, &args));
    without.expect_line(mentions(&sentinel), TIMEOUT);
    without.assert_no_line(mentions(&failed));
}

/// With `-u USER`, an exec as root is hidden and one as `uid` (run through
/// setpriv, whose own exec is as root) is shown, with -U's UID column.
fn check_uid_filter(user: &str, uid: u32) {
    let mut tool = start(&["-u", user, "-U"]);
    assert_eq!(tool.wait_for_header(TIMEOUT), format!("UID    {HEADER}"));

    let as_root = unique_marker("as-root");
    exec_true(&[&as_root]);
    let as_user = unique_marker("as-user");
    let (pid, status) = run(setpriv_as(uid).args(["/bin/true", &as_user]));
    assert!(status.success());

    let line = tool.expect_line(mentions(&as_user), TIMEOUT);
    let expected = true_row(pid, &as_user);
    assert_eq!(line, format!("{uid:<6} {expected}"));
    tool.assert_no_line(mentions(&as_root));
}

fn uid_filter_shows_only_that_uid() {
    check_uid_filter("4321", 4321);
}

fn uid_filter_takes_a_user_name() {
    let nobody = nix::unistd::User::from_name("nobody")
        .expect("look up nobody")
        .expect("the user nobody exists");
    check_uid_filter("nobody", nobody.uid.as_raw());
}

fn quote_mode_quotes_and_escapes_like_upstream() {
    let mut tool = start(&["-q"]);
    let marker = unique_marker("quote");
    let pid = exec_true(&[marker.as_str(), "a\"b\tc\nd"]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    let args = format!(r#""/bin/true" "{marker}" "a\"b\tc\nd" "#);
    assert_eq!(line, row("true", pid, test_pid(), 0, &args));
}

fn max_args_limits_the_arguments_and_marks_the_rest() {
    let mut tool = start(&["--max-args", "3"]);
    let more = unique_marker("more");
    let more_pid = exec_true(&[more.as_str(), "a", "b", "c"]);
    let exact = unique_marker("exact");
    let exact_pid = exec_true(&[exact.as_str(), "a"]);

    let line = tool.expect_line(mentions(&more), TIMEOUT);
    let args = format!("/bin/true {more} a  ...");
    assert_eq!(line, row("true", more_pid, test_pid(), 0, &args));
    let line = tool.expect_line(mentions(&exact), TIMEOUT);
    assert_eq!(line, true_row(exact_pid, &format!("{exact} a")));
}

/// Seconds since local midnight, now.
fn local_seconds_of_day() -> i64 {
    // SAFETY: time and localtime_r write only to the given out parameters.
    unsafe {
        let now = libc::time(ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        assert!(!libc::localtime_r(&now, &mut tm).is_null());
        i64::from(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec)
    }
}

/// Checks a `-T` TIME field ("HH:MM:SS ") against the local clock.
fn check_time_field(field: &str) {
    let parts: Vec<&str> = field.trim_end_matches(' ').split(':').collect();
    assert!(
        field.len() == 9 && parts.len() == 3 && parts.iter().all(|p| p.len() == 2),
        "TIME field {field:?}"
    );
    let number = |part: &str| part.parse::<i64>().expect("a number");
    let shown = number(parts[0]) * 3600 + number(parts[1]) * 60 + number(parts[2]);
    let behind = (local_seconds_of_day() - shown).rem_euclid(86_400);
    assert!(
        behind <= 2,
        "TIME {field} is {behind} s behind the local clock"
    );
}

/// Checks a `-t` TIME(s) field ("%-8.3f "): seconds since the tool started.
fn check_timestamp_field(field: &str, at_most: Duration) {
    let value = field.trim_end_matches(' ');
    let decimals = value.split_once('.').map(|(_, d)| d.len());
    assert!(
        field.len() == 9 && decimals == Some(3),
        "TIME(s) field {field:?}"
    );
    let seconds: f64 = value.parse().expect("a number");
    assert!(
        (0.0..=at_most.as_secs_f64()).contains(&seconds),
        "TIME(s) {seconds}"
    );
}

fn time_column_is_the_local_wall_clock() {
    let mut tool = start(&["-T"]);
    assert_eq!(tool.wait_for_header(TIMEOUT), format!("TIME     {HEADER}"));
    let marker = unique_marker("time");
    let pid = exec_true(&[&marker]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    let (time, rest) = line.split_at(9);
    check_time_field(time);
    assert_eq!(rest, true_row(pid, &marker));
}

fn timestamp_column_is_seconds_since_start() {
    let started = Instant::now();
    let mut tool = start(&["-t"]);
    assert_eq!(tool.wait_for_header(TIMEOUT), format!("TIME(s)  {HEADER}"));
    let marker = unique_marker("timestamp");
    let pid = exec_true(&[&marker]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    let (stamp, rest) = line.split_at(9);
    check_timestamp_field(stamp, started.elapsed());
    assert_eq!(rest, true_row(pid, &marker));
}

fn optional_columns_come_first_in_upstream_order() {
    let started = Instant::now();
    let mut tool = start(&["-U", "-t", "-T"]);
    assert_eq!(
        tool.wait_for_header(TIMEOUT),
        format!("TIME     TIME(s)  UID    {HEADER}")
    );
    let marker = unique_marker("columns");
    let pid = exec_true(&[&marker]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    let (time, rest) = line.split_at(9);
    let (stamp, rest) = rest.split_at(9);
    check_time_field(time);
    check_timestamp_field(stamp, started.elapsed());
    let expected = true_row(pid, &marker);
    assert_eq!(rest, format!("0      {expected}"));
}

fn name_filter_is_a_regex_on_the_command_name() {
    let mut tool = start(&["-n", "^t.ue$"]);
    let echoed = unique_marker("echo");
    let (_, status) = run(Command::new("/bin/echo").arg(&echoed).stdout(Stdio::null()));
    assert!(status.success());
    let shown = unique_marker("true");
    let pid = exec_true(&[&shown]);

    let line = tool.expect_line(mentions(&shown), TIMEOUT);
    assert_eq!(line, true_row(pid, &shown));
    tool.assert_no_line(mentions(&echoed));
}

fn line_filter_is_a_regex_on_the_arguments_not_the_name() {
    let hit = unique_marker("hit");
    let miss = unique_marker("miss");
    // "^true" matches the name "true" (what upstream C wrongly tests), never
    // the arguments, which start with the file name "/bin/true".
    let mut tool = start(&["-l", &format!("^true|{hit}")]);
    exec_true(&[&miss]);
    let pid = exec_true(&[&hit]);

    let line = tool.expect_line(mentions(&hit), TIMEOUT);
    assert_eq!(line, true_row(pid, &hit));
    tool.assert_no_line(mentions(&miss));
}

fn ppid_filter_shows_only_children_of_that_process() {
    let child = unique_marker("child");
    // "exit" keeps the shell from exec'ing /bin/true in its own place.
    let parent = Gated::spawn(&[], &format!("/bin/true {child}; exit $?"));
    let parent_pid = parent.pid();
    let mut tool = start(&["-P", &parent_pid.to_string()]);

    let other = unique_marker("other-parent");
    exec_true(&[&other]);
    assert!(parent.release().success());

    let line = tool.expect_line(mentions(&child), TIMEOUT);
    let pid = line.split_whitespace().nth(1).expect("a PID column");
    assert_eq!(
        line,
        row("true", pid, parent_pid, 0, &format!("/bin/true {child} "))
    );
    tool.assert_no_line(mentions(&other));
}

/// Runs `sh -c 'ENTER && exec /bin/true MARKER'` in `cgroup`; returns its pid.
fn exec_true_in(cgroup: &TestCgroup, marker: &str) -> u32 {
    exec_true_after(&cgroup.enter_command(), marker)
}

/// Runs `sh -c 'SETUP && exec /bin/true MARKER'`; returns its pid.
fn exec_true_after(setup: &str, marker: &str) -> u32 {
    let script = format!("{setup} && exec /bin/true {marker}");
    let (pid, status) = run(Command::new("sh").args(["-c", &script]));
    assert!(status.success(), "{script}: {status}");
    pid
}

fn cgroup_filter_shows_only_processes_in_the_cgroup() {
    let cgroup = TestCgroup::create("execsnoop-cgroup");
    let mut tool = start(&["-c", path_arg(cgroup.path())]);
    let outside = unique_marker("outside");
    exec_true(&[&outside]);
    let inside = unique_marker("inside");
    let pid = exec_true_in(&cgroup, &inside);

    let line = tool.expect_line(mentions(&inside), TIMEOUT);
    assert_eq!(line, true_row(pid, &inside));
    tool.assert_no_line(mentions(&outside));
}

/// Execs `sentinel`, waits for its row, and returns the rows mentioning `marker`.
fn rows_mentioning(tool: &mut Tool, marker: &str) -> Vec<String> {
    let sentinel = unique_marker("sentinel");
    exec_true(&[&sentinel]);
    tool.expect_line(mentions(&sentinel), TIMEOUT);
    let lines = tool.stdout_lines();
    lines
        .iter()
        .filter(|l| l.contains(marker))
        .cloned()
        .collect()
}

fn execveat_with_an_empty_path_is_shown_once() {
    // -x also attaches the syscall programs: the exec must still be one row.
    let mut tool = start(&["-x"]);
    let marker = unique_marker("execveat");
    let binary = File::open("/bin/sh").expect("open /bin/sh");
    let fd = binary.as_raw_fd();
    // The shell says what the kernel named it: after the binary (Linux 6.x)
    // or after the fd it was run from (`3` for /dev/fd/3, on 5.10). It
    // writes to fd 9, where the child puts the pipe (the pipe itself is
    // close-on-exec, so no other process the tests start holds it open).
    let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
    let script = "read comm </proc/$$/comm; echo \"$comm\" >&9";
    let argv = CStringArray::new(&["sh", "-c", script, &marker]);
    let envp = CStringArray::new::<&str>(&[]);
    let writer_fd = writer.as_raw_fd();
    let (pid, code) = fork_and_wait(|| {
        // SAFETY: dup2 and a raw syscall, on data built before fork.
        unsafe {
            // dup2 onto itself would leave the fd close-on-exec.
            match writer_fd {
                9 => libc::fcntl(9, libc::F_SETFD, 0),
                _ => libc::dup2(writer_fd, 9),
            };
            libc::syscall(
                libc::SYS_execveat,
                fd,
                c"".as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
    });
    assert_eq!(code, 0, "execveat failed");
    drop(writer);
    let comm = std::io::read_to_string(File::from(reader)).expect("read the comm");
    let comm = comm.trim_end();
    let binary_name = fs::canonicalize("/bin/sh").expect("resolve /bin/sh");
    let binary_name = binary_name.file_name().and_then(OsStr::to_str);
    assert!(
        Some(comm) == binary_name || comm == fd.to_string(),
        "the kernel named the process {comm:?}"
    );

    let args = format!("/dev/fd/{fd} -c {script} {marker} ");
    let expected = row(comm, pid, test_pid(), 0, &args);
    assert_eq!(rows_mentioning(&mut tool, &marker), [expected]);
}

/// What the non-leader thread calls execve with.
#[repr(C)]
struct ExecCall {
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
}

/// Runs in a thread made by a raw clone(2), which has no TLS of its own, so
/// it makes raw syscalls only.
extern "C" fn exec_in_thread(call: *mut c_void) -> c_int {
    // SAFETY: `call` points to an ExecCall that lives as long as the process
    // image (the exec replaces it); execve and exit_group are raw syscalls.
    unsafe {
        let call = &*(call as *const ExecCall);
        libc::syscall(libc::SYS_execve, call.path, call.argv, call.envp);
        libc::syscall(libc::SYS_exit_group, 127);
    }
    127
}

fn exec_from_a_thread_that_is_not_the_leader_is_shown_once() {
    let mut tool = start(&["-x"]);
    let marker = unique_marker("thread-exec");
    let path = c"/bin/true";
    let argv = CStringArray::new(&["true", &marker]);
    let envp = CStringArray::new::<&str>(&[]);
    let call = ExecCall {
        path: path.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
    };
    let mut stack = vec![0u8; 256 * 1024];
    let stack_top = (stack.as_mut_ptr() as usize + stack.len()) & !15;
    let (pid, code) = fork_and_wait(|| {
        let flags = libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM;
        let call = &call as *const ExecCall as *mut c_void;
        // SAFETY: the new thread runs on its own stack (copied by fork) and
        // only makes raw syscalls; clone and pause are async-signal-safe.
        unsafe {
            if libc::clone(exec_in_thread, stack_top as *mut c_void, flags, call) > 0 {
                // The exec in the other thread ends this one.
                loop {
                    libc::pause();
                }
            }
        }
    });
    assert_eq!(code, 0, "the exec from a thread failed");

    let expected = true_row(pid, &marker);
    assert_eq!(rows_mentioning(&mut tool, &marker), [expected]);
}

/// A file mapped into this process and never touched: no page of it is
/// present here, nor in a child forked from here (fork copies no page table
/// entries of an untouched file mapping), so a tracepoint program reading
/// it in the child faults. Unmapped on drop.
struct UntouchedMapping {
    base: *mut c_void,
    len: usize,
    _dir: TempDir,
}

impl UntouchedMapping {
    /// Maps a file holding `strings`, each NUL-terminated, at `offsets`.
    fn new(strings: &[&str], offsets: &[usize]) -> Self {
        let len = offsets
            .iter()
            .zip(strings)
            .map(|(o, s)| o + s.len() + 1)
            .max()
            .unwrap_or(1);
        let mut contents = vec![0u8; len];
        for (string, &offset) in strings.iter().zip(offsets) {
            contents[offset..offset + string.len()].copy_from_slice(string.as_bytes());
        }
        let dir = TempDir::new("untouched");
        let file_path = dir.path().join("strings");
        fs::write(&file_path, &contents).expect("write the mapped file");
        let file = File::open(&file_path).expect("open the mapped file");
        // SAFETY: a new private read-only mapping; nothing in this process reads it.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(
            base,
            libc::MAP_FAILED,
            "mmap: {}",
            std::io::Error::last_os_error()
        );
        Self {
            base,
            len,
            _dir: dir,
        }
    }

    /// A pointer to the string at `offset`, for an argv (not dereferenced here).
    fn at(&self, offset: usize) -> *const c_char {
        // SAFETY: pointer arithmetic within the mapping; nothing is dereferenced.
        unsafe { self.base.cast_const().cast::<c_char>().add(offset) }
    }
}

impl Drop for UntouchedMapping {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping made in new(), which nothing uses any more.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

fn arguments_are_complete_when_argv_pages_are_not_resident() {
    let mut tool = start(&[]);
    let page = page_size();
    let marker = unique_marker("lazy-argv");
    // One short argument at the start of each of four pages, then one of
    // 3000 bytes across the boundary of the next two.
    let mut args: Vec<String> = (0..4).map(|k| format!("{marker}-page{k}")).collect();
    let long_prefix = format!("{marker}-long-");
    let filler = (b'a'..=b'z')
        .cycle()
        .take(3000 - long_prefix.len())
        .map(char::from);
    args.push(long_prefix + &filler.collect::<String>());
    let offsets = [0, page, 2 * page, 3 * page, 4 * page + page / 2];
    let strings: Vec<&str> = args.iter().map(String::as_str).collect();
    let mapping = UntouchedMapping::new(&strings, &offsets);
    let program = c"/bin/true";
    let mut argv = vec![program.as_ptr()];
    argv.extend(offsets.iter().map(|&offset| mapping.at(offset)));
    argv.push(ptr::null());
    let envp: [*const c_char; 1] = [ptr::null()];
    let (pid, code) = fork_and_wait(|| {
        // SAFETY: execve is async-signal-safe; argv points into the inherited mapping.
        unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    });
    drop(mapping);
    assert_eq!(code, 0, "the exec failed");

    let line = tool.expect_line(mentions(&args[0]), TIMEOUT);
    assert_eq!(line, true_row(pid, &args.join(" ")));
}

/// A failed exec's arguments are read from the caller's memory at syscall
/// exit; a tracepoint program cannot fault in what is not resident there.
/// Whatever the kernel did read before failing is shown; the rest is
/// marked `(unreadable)` (JSON: null), never silently left out.
fn failed_exec_marks_arguments_it_cannot_read() {
    let mut text = start(&["-x"]);
    let mut json = Tool::spawn(execsnoop_command(&["-x", "--json"]));
    json.wait_for_ready_line(TIMEOUT);
    let marker = unique_marker("unreadable");
    let page = page_size();
    let strings = ["prog", "first-arg", "second-arg"];
    let mapping = UntouchedMapping::new(&strings, &[0, page, 2 * page]);
    // The file name in ordinary memory: the kernel reads it itself.
    let path = CString::new(format!("/nonexistent-{marker}/prog")).unwrap();
    let argv = [
        mapping.at(0),
        mapping.at(page),
        mapping.at(2 * page),
        ptr::null(),
    ];
    let envp: [*const c_char; 1] = [ptr::null()];
    let comm = current_thread_comm();
    let (pid, code) = fork_and_wait(|| {
        // SAFETY: execve is async-signal-safe; argv points into the inherited mapping.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    });
    drop(mapping);
    assert_eq!(code, 127, "the exec of a missing file succeeded");

    let path = path.to_str().unwrap();
    let line = text.expect_line(mentions(&marker), TIMEOUT);
    let args = line
        .strip_prefix(&row(&comm, pid, test_pid(), -2, &format!("{path} ")))
        .unwrap_or_else(|| panic!("not the failed exec's row: {line}"));
    let shown: Vec<&str> = args.split_terminator(' ').collect();
    assert_eq!(shown.len(), 2, "every argument shown or marked: {line}");
    for (shown, real) in shown.iter().zip(&strings[1..]) {
        assert!(shown == real || *shown == "(unreadable)", "{line}");
    }

    let line = json.expect_line(mentions(&marker), TIMEOUT);
    let event: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    let args = event["args"].as_array().expect("args");
    assert_eq!(args.len(), 3, "{line}");
    assert_eq!(args[0], path);
    for (arg, real) in args[1..].iter().zip(&strings[1..]) {
        assert!(arg == real || arg.is_null(), "{line}");
    }
    assert_eq!(event["args_truncated"], false, "{line}");
}

fn control_characters_and_invalid_utf8_stay_on_one_line() {
    let mut tool = start(&[]);
    let marker = unique_marker("escape");
    let tail = unique_marker("after-newline");
    let mut arg = format!("{marker}-\n{tail}-\x1b[31m-\r-").into_bytes();
    arg.push(0xff);
    let pid = exec_true(&[OsStr::from_bytes(&arg)]);

    // The kernel names a process after the file it executes: a link with
    // control characters in its name gives the same characters in comm.
    let dir = TempDir::new("escape-comm");
    let link = dir.path().join(OsStr::from_bytes(b"t\x1b[7m\nx"));
    symlink("/bin/true", &link).expect("symlink");
    let comm_marker = unique_marker("escaped-comm");
    let (link_pid, status) = run(Command::new(&link).arg(&comm_marker));
    assert!(status.success());

    // The link's row came after the first, so the first is in by now.
    let line = tool.expect_line(mentions(&comm_marker), TIMEOUT);
    let link_args = format!(r"{}/t\x1b[7m\nx {comm_marker} ", dir.path().display());
    assert_eq!(
        line,
        row(r"t\x1b[7m\nx", link_pid, test_pid(), 0, &link_args)
    );

    let expected = true_row(pid, &format!(r"{marker}-\n{tail}-\x1b[31m-\r-\xff"));
    let lines = tool.stdout_lines();
    let with_tail: Vec<&String> = lines.iter().filter(|l| l.contains(&tail)).collect();
    assert_eq!(with_tail, [&expected]);
    let raw = lines
        .iter()
        .find(|l| l.contains(['\x1b', '\r', char::REPLACEMENT_CHARACTER]));
    assert!(raw.is_none(), "raw control or invalid bytes in {raw:?}");
}

/// The tool's row for an exec it traces from inside `command`'s namespace.
fn check_traces(command: Command) -> Tool {
    let mut tool = start_command(command);
    let marker = unique_marker("tracefs");
    let pid = exec_true(&[&marker]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    assert!(
        line.ends_with(&format!("/bin/true {marker} ")),
        "{line} (pid {pid})"
    );
    tool
}

fn tracefs_is_not_needed_by_default() {
    // The BTF tracepoint is attached without tracefs, and none is mounted;
    // a kernel without it needs the classic one, found through tracefs.
    let tool = check_traces(in_private_mount_namespace(EXECSNOOP, UNMOUNT_TRACEFS, ""));
    let needed = !Kernel::get().has_btf_tracepoint("sched_process_exec");
    assert_eq!(
        tracefs_mounted_in(tool.pid()),
        needed,
        "tracefs mounted when needed ({needed}) and only then"
    );
}

fn missing_tracefs_is_mounted_when_needed() {
    // -x needs the syscall tracepoints, which are found through tracefs.
    let mut command = in_private_mount_namespace(EXECSNOOP, UNMOUNT_TRACEFS, "");
    command.arg("-x");
    let tool = check_traces(command);
    assert!(
        tracefs_mounted_in(tool.pid()),
        "execsnoop did not mount tracefs"
    );

    // So does the classic tracepoint, the fallback without kernel BTF.
    let mut command = in_private_mount_namespace(EXECSNOOP, UNMOUNT_TRACEFS, "");
    command.env("BPFTOOLS_TRACEPOINT", "classic");
    let tool = check_traces(command);
    assert!(
        tracefs_mounted_in(tool.pid()),
        "execsnoop did not mount tracefs"
    );
}

fn tracefs_that_cannot_be_mounted_is_one_clear_error() {
    // CAP_BPF and CAP_PERFMON are enough to trace, but not to mount.
    let no_sys_admin = "setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin";
    let mut command = in_private_mount_namespace(EXECSNOOP, UNMOUNT_TRACEFS, no_sys_admin);
    command.arg("-x");
    let finished = Tool::spawn(command).wait_for_exit(TIMEOUT);
    let line = assert_one_error_line(&finished);
    assert!(
        line.contains("tracefs") && line.contains("mount -t tracefs"),
        "{line}"
    );
}

/// A user other than root with CAP_BPF and CAP_PERFMON may trace, but not
/// read a root-only tracefs: the error says that, not that it is unmounted.
fn root_only_tracefs_is_named_for_a_user_with_bpf_capabilities() {
    let root_only =
        format!("{UNMOUNT_TRACEFS}\nmount -t tracefs -o mode=700 tracefs /sys/kernel/tracing");
    let caps = "+bpf,+perfmon";
    let as_nobody = format!(
        "setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps {caps} --ambient-caps {caps}"
    );
    let mut command = in_private_mount_namespace(EXECSNOOP, &root_only, &as_nobody);
    command.arg("-x");
    let finished = Tool::spawn(command).wait_for_exit(TIMEOUT);
    let line = assert_one_error_line(&finished);
    assert!(
        line.contains("tracefs is mounted but this user may not read it")
            && line.contains("Permission denied")
            && !line.contains("not mounted"),
        "{line}"
    );
}

/// Scripts: the kernel runs the interpreter with its own argv (interpreter,
/// its argument, script, arguments); the row shows what the caller ran. The
/// classic tracepoint, all a kernel without BTF tracepoints offers, cannot
/// tell an interpreter ran: there the interpreter's entries show too.
fn script_execs_show_the_callers_arguments() {
    let dir = TempDir::new("scripts");
    let plain = dir.path().join("plain.sh");
    let via_env = dir.path().join("via-env.sh");
    fs::write(&plain, "#!/bin/sh\nexit 0\n").expect("write a script");
    fs::write(&via_env, "#!/usr/bin/env sh\nexit 0\n").expect("write a script");
    let caller_args_shown = Kernel::get().has_btf_tracepoint("sched_process_exec");
    let mut tool = start(&[]);
    for (script, interpreter_args) in [(&plain, ""), (&via_env, "sh ")] {
        fs::set_permissions(script, fs::Permissions::from_mode(0o755)).expect("chmod");
        let marker = unique_marker("script");
        let (pid, status) = run(Command::new(script).args([&marker, "second"]));
        assert!(status.success());
        let path = path_arg(script);
        let name = script.file_name().and_then(|n| n.to_str()).expect("a name");
        let args = match caller_args_shown {
            true => format!("{path} {marker} second "),
            false => format!("{path} {interpreter_args}{path} {marker} second "),
        };
        let line = tool.expect_line(
            |line| line.starts_with(name) && line.contains(&marker),
            TIMEOUT,
        );
        assert_eq!(line, row(name, pid, test_pid(), 0, &args));
    }
}

/// A -c path that is not a cgroup is found out once running as root (the
/// usage errors are the contract's): one clear line, said up front.
fn cgroup_that_is_not_a_cgroup_is_one_clear_error() {
    // A file of the cgroup file system is not a cgroup either.
    let procs = cgroup2_mount().join("cgroup.procs");
    let cases: [(&[&str], &[&str]); 3] = [
        (&["-c", "/not/a/cgroup"], &["/not/a/cgroup"]),
        (&["-c", "/tmp"], &["/tmp", "not a cgroup"]),
        (
            &["-c", path_arg(&procs)],
            &["cgroup.procs is not a cgroup v2 directory"],
        ),
    ];
    for (args, wanted) in cases {
        let finished = Tool::spawn(execsnoop_command(args)).wait_for_exit(TIMEOUT);
        let line = assert_one_error_line(&finished);
        for text in wanted {
            assert!(line.contains(text), "{args:?}: {line}");
        }
    }
}

/// Decodes the standard base64 the JSON output uses for exact bytes.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextets: Vec<u32> = text
        .bytes()
        .filter(|&b| b != b'=')
        .map(|b| ALPHABET.iter().position(|&a| a == b).expect("base64 digit") as u32)
        .collect();
    let mut bytes = Vec::new();
    for group in sextets.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0, |n, (i, s)| n | s << (18 - 6 * i));
        bytes.extend_from_slice(&n.to_be_bytes()[1..group.len()]);
    }
    bytes
}

fn json_lines_carry_every_field_and_exact_arguments() {
    let mut tool = Tool::spawn(execsnoop_command(&["--json"]));
    tool.wait_for_ready_line(TIMEOUT);
    let marker = unique_marker("json");
    let args: [&OsStr; 4] = [
        OsStr::new(&marker),
        OsStr::new("say \"hi\""),
        OsStr::new("two\nlines"),
        OsStr::from_bytes(b"bad\xffbyte"),
    ];
    let before = std::time::SystemTime::now();
    let pid = exec_true(&args);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    let event: serde_json::Value = serde_json::from_str(&line).expect("each line is JSON");

    assert_eq!(event["comm"], "true");
    assert_eq!(event["pid"], pid);
    assert_eq!(event["ppid"], test_pid());
    assert_eq!(event["uid"], 0);
    assert_eq!(event["retval"], 0);
    assert_eq!(event["filename"], "/bin/true");
    assert!(
        event["cgroup_id"].as_u64().is_some_and(|id| id > 0),
        "{line}"
    );
    assert!(
        event["timestamp_ns"].as_u64().is_some_and(|ns| ns > 0),
        "{line}"
    );
    let time = event["time"].as_str().expect("time is a string");
    let today = before
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        / 86_400;
    assert!(
        time.ends_with('Z') && time.len() == "2026-11-22T02:05:18.123456789Z".len(),
        "{time}"
    );
    assert!(!time.starts_with("1970") && today > 0, "{time}");

    let argv: Vec<&str> = event["args"]
        .as_array()
        .expect("args is an array")
        .iter()
        .map(|arg| arg.as_str().expect("args are strings"))
        .collect();
    assert_eq!(
        argv,
        [
            "/bin/true",
            &marker,
            "say \"hi\"",
            "two\nlines",
            "bad\u{fffd}byte"
        ]
    );
    // The exact bytes of every argument, since one is not UTF-8.
    let exact: Vec<Vec<u8>> = event["args_base64"]
        .as_array()
        .expect("args_base64 is an array")
        .iter()
        .map(|arg| base64_decode(arg.as_str().expect("base64 strings")))
        .collect();
    assert_eq!(exact[4], b"bad\xffbyte");
    assert_eq!(exact[2], b"say \"hi\"");
    assert_eq!(event["args_truncated"], false);

    let finished = tool.stop_with(Signal::SIGINT);
    assert!(finished.status.success());
    for line in &finished.stdout {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {line}"));
    }
}

/// `way` (the BPFTOOLS_TRACEPOINT flavor) traces execs, and -v says it
/// attached with `hook`.
fn check_exec_way(flavor: &str, hook: &str) {
    let mut command = execsnoop_command(&["-v"]);
    command.env("BPFTOOLS_TRACEPOINT", flavor);
    let mut tool = start_command(command);
    let marker = unique_marker("way");
    let pid = exec_true(&[marker.as_str(), "x"]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    assert_eq!(line, true_row(pid, &format!("{marker} x")));
    let finished = tool.stop_with(Signal::SIGINT);
    let attached = format!("execsnoop: attached with tracepoint ({hook})");
    assert!(
        finished.stderr.contains(&attached),
        "{:#?}",
        finished.stderr
    );
}

/// On a kernel without BTF tracepoints the classic one is used, and -v
/// says why the BTF one was not.
fn missing_btf_tracepoint_falls_back_to_the_classic_one() {
    let mut tool = start(&["-v"]);
    let marker = unique_marker("fallback");
    exec_true(&[&marker]);
    tool.expect_line(mentions(&marker), TIMEOUT);
    let finished = tool.stop_with(Signal::SIGINT);
    let stderr = &finished.stderr;
    let refused = "execsnoop: tracepoint (tp_btf/sched_process_exec) not usable: ";
    assert!(stderr.iter().any(|l| l.starts_with(refused)), "{stderr:#?}");
    let attached = "execsnoop: attached with tracepoint (tracepoint/sched/sched_process_exec)";
    assert!(stderr.iter().any(|l| l == attached), "{stderr:#?}");
}

/// Starts execsnoop with `flags` and checks its header.
fn start_with_header(flags: &[&str], header: &str) -> Tool {
    let mut tool = Tool::spawn(execsnoop_command(flags));
    assert_eq!(tool.wait_for_header(TIMEOUT), header);
    tool
}

/// A container id of this test run: 64 hex digits, the first 12 unique.
fn container_id(n: usize) -> String {
    let digits = "0123456789abcdef".repeat(4);
    format!(
        "{:06x}{n:06x}{}",
        std::process::id() & 0xff_ffff,
        &digits[..52]
    )
}

/// Each runtime's cgroup names, in the systemd and the cgroupfs schemes,
/// made as the runtime makes them (under a cgroup of the test's own).
fn container_column_names_each_runtimes_cgroups() {
    let root = TestCgroup::create("execsnoop-container");
    let id = container_id(0);
    let short = &id[..12];
    let pod_slice = "kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice";
    let pod_dir = "pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let plain = format!("{}/plain/dir", root.relative_path());
    let cases: Vec<(String, &str)> = vec![
        (format!("system.slice/docker-{id}.scope"), short),
        (format!("docker/{id}"), short),
        (
            format!(
                "kubepods.slice/kubepods-burstable.slice/{pod_slice}/cri-containerd-{id}.scope"
            ),
            short,
        ),
        (format!("kubepods/besteffort/{pod_dir}/{id}"), short),
        (
            format!("kubepods.slice/kubepods-burstable.slice/{pod_slice}/crio-{id}.scope"),
            short,
        ),
        (format!("kubepods/burstable/{pod_dir}/crio-{id}"), short),
        (format!("machine.slice/libpod-{id}.scope"), short),
        (format!("libpod_parent/libpod-{id}"), short),
        ("system.slice/sshd.service".into(), "sshd.service"),
        (
            "user.slice/user-1000.slice/session-4.scope".into(),
            "session-4.scope",
        ),
        (
            "user.slice/user-1000.slice/user@1000.service/init.scope".into(),
            "user@1000.service",
        ),
        ("plain/dir".into(), &plain),
    ];
    let mut tool = start_with_header(&["--container"], &format!("CONTAINER    {HEADER}"));
    for (relative, shown) in &cases {
        let cgroup = root.nested(relative);
        let marker = unique_marker("container");
        let pid = exec_true_in(cgroup.leaf(), &marker);
        let row = true_row(pid, &marker);
        let line = tool.expect_line(|line| line.ends_with(&row), TIMEOUT);
        assert_eq!(line, format!("{shown:<12} {row}"), "{relative}");
    }
    // The root cgroup is a dash.
    let marker = unique_marker("root-cgroup");
    let root_procs = cgroup2_mount().join("cgroup.procs");
    let pid = exec_true_after(&format!("echo $$ > {}", root_procs.display()), &marker);
    let row = true_row(pid, &marker);
    let line = tool.expect_line(|line| line.ends_with(&row), TIMEOUT);
    assert_eq!(line, format!("{:<12} {row}", "-"));
}

/// Every exec in a cgroup of its own, removed as soon as the exec is done:
/// the name was read in the kernel at the exec, so every row has it.
fn container_names_every_exec_of_a_storm_of_short_lived_cgroups() {
    const EXECS: usize = 150;
    let root = TestCgroup::create("execsnoop-cgroup-storm");
    let mut tool = start(&["--container"]);
    let storm = unique_marker("cgroup-storm");
    let mut expected = Vec::new();
    for i in 0..EXECS {
        let id = container_id(i + 1);
        let cgroup = root.nested(&format!("docker-{id}.scope"));
        let marker = format!("{storm}-{i:04}");
        let pid = exec_true_in(cgroup.leaf(), &marker);
        drop(cgroup);
        expected.push(format!("{:<12} {}", &id[..12], true_row(pid, &marker)));
    }
    let last = expected.last().expect("execs");
    tool.expect_line(|line| line == last, TIMEOUT);
    // The shells that moved themselves into the cgroups mention it too.
    let rows: Vec<String> = tool
        .stdout_lines()
        .iter()
        .filter(|line| line.contains(&storm) && !line.contains("cgroup.procs"))
        .cloned()
        .collect();
    assert_eq!(rows, expected);
}

/// Three scripts, each running the next and exiting when it is done; the
/// last runs /bin/true. By the time the row is printed they are all gone.
fn ancestors_are_named_even_when_they_exit_right_after() {
    let dir = TempDir::new("ancestors");
    let names = ["anc-outer", "anc-middle", "anc-inner"];
    for (i, name) in names.iter().enumerate() {
        let next = match names.get(i + 1) {
            Some(next) => format!("\"${{0%/*}}/{next}\""),
            None => "/bin/true".to_string(),
        };
        let script = dir.path().join(name);
        fs::write(&script, format!("#!/bin/sh\n{next} \"$1\"\nexit $?\n")).expect("write");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let header = "PCOMM            PID    PPID   RET ANCESTORS ARGS";
    let mut text = start_with_header(&["--ancestors"], header);
    let mut json = Tool::spawn(execsnoop_command(&["--ancestors", "--json"]));
    json.wait_for_ready_line(TIMEOUT);
    let marker = unique_marker("ancestors");
    let (outer_pid, status) = run(Command::new(dir.path().join(names[0])).arg(&marker));
    assert!(status.success());
    let test_comm = fs::read_to_string("/proc/self/comm").expect("comm");
    let test_comm = test_comm.trim_end();

    let of_true = |line: &str| line.starts_with("true ") && line.contains(&marker);
    let line = text.expect_line(of_true, TIMEOUT);
    let words: Vec<&str> = line.split_whitespace().collect();
    let [comm, _pid, ppid, ret, ancestors, ..] = words[..] else {
        panic!("row {line}");
    };
    assert_eq!((comm, ret), ("true", "0"), "{line}");
    let chain: Vec<&str> = ancestors.split('<').collect();
    assert!(chain.len() >= 4, "{line}");
    assert_eq!(chain[0], format!("anc-inner({ppid})"), "{line}");
    assert!(
        chain[1].starts_with("anc-middle(") && chain[1].ends_with(')'),
        "{line}"
    );
    assert_eq!(chain[2], format!("anc-outer({outer_pid})"), "{line}");
    assert_eq!(chain[3], format!("{test_comm}({})", test_pid()), "{line}");
    assert!(line.ends_with(&format!(" /bin/true {marker} ")), "{line}");

    let line = json.expect_line(
        |line| line.contains("\"comm\":\"true\"") && line.contains(&marker),
        TIMEOUT,
    );
    let event: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    let ancestors = event["ancestors"].as_array().expect("ancestors");
    assert_eq!(ancestors[0]["pid"], event["ppid"], "{line}");
    assert_eq!(ancestors[0]["comm"], "anc-inner", "{line}");
    assert_eq!(ancestors[2]["pid"], outer_pid, "{line}");
    assert_eq!(ancestors[3]["pid"], test_pid(), "{line}");
    assert_eq!(ancestors[3]["comm"], test_comm, "{line}");
    // At most 8 are listed; then the chain says it goes on, or ends at init.
    let truncated = event["ancestors_truncated"].as_bool().expect("a boolean");
    assert!(
        ancestors.len() <= 8 && (ancestors.len() == 8 || !truncated),
        "{line}"
    );
}

const CWD_HEADER: &str = "PCOMM            PID    PPID   RET CWD ARGS";

/// The row of /bin/true run by this test with `cwd` shown.
fn true_row_with_cwd(pid: u32, cwd: &str, marker: &str) -> String {
    row(
        "true",
        pid,
        test_pid(),
        0,
        &format!("{cwd} /bin/true {marker} "),
    )
}

/// In a directory of a bind mount, the path is the mount point's, not the
/// bound directory's: the walk crosses mounts as the kernel's d_path does.
fn cwd_is_resolved_across_a_bind_mount() {
    let source = TempDir::new("cwd-source");
    fs::create_dir(source.path().join("sub")).expect("mkdir");
    let target = TempDir::new("cwd-target");
    let mut text = start_with_header(&["--cwd"], CWD_HEADER);
    let mut json = Tool::spawn(execsnoop_command(&["--cwd", "--json"]));
    json.wait_for_ready_line(TIMEOUT);
    let marker = unique_marker("cwd-bind");
    let (source, target) = (path_arg(source.path()), path_arg(target.path()));
    let script =
        format!("mount --bind {source} {target} && cd {target}/sub && exec /bin/true {marker}");
    let unshare = ["--mount", "--propagation", "private", "sh", "-c", &script];
    let (pid, status) = run(Command::new("unshare").args(unshare));
    assert!(status.success());

    let cwd = format!("{target}/sub");
    let line = text.expect_line(exec_of_true(&marker), TIMEOUT);
    assert_eq!(line, true_row_with_cwd(pid, &cwd, &marker));
    let line = json.expect_line(
        |line| line.contains("\"comm\":\"true\"") && line.contains(&marker),
        TIMEOUT,
    );
    let event: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(event["cwd"], cwd, "{line}");
}

/// In a chroot, the path is the one the process sees, from its own root.
fn cwd_in_a_chroot_is_relative_to_its_root() {
    let root = TempDir::new("cwd-chroot");
    fs::create_dir_all(root.path().join("work/inner")).expect("mkdir");
    let root = path_arg(root.path());
    let marker = unique_marker("cwd-chroot");
    // The system's programs and libraries, in a mount namespace of its own.
    let script = format!(
        "for d in bin sbin lib lib32 lib64 libx32 usr; do \
           if [ -L /$d ]; then ln -s \"$(readlink /$d)\" {root}/$d; \
           elif [ -d /$d ]; then mkdir {root}/$d && mount --bind /$d {root}/$d || exit 1; fi; \
         done; \
         exec chroot {root} /bin/sh -c 'cd /work/inner && exec /bin/true {marker}'"
    );
    let mut tool = start_with_header(&["--cwd"], CWD_HEADER);
    let unshare = ["--mount", "--propagation", "private", "sh", "-c", &script];
    let (pid, status) = run(Command::new("unshare").args(unshare));
    assert!(status.success());
    let line = tool.expect_line(exec_of_true(&marker), TIMEOUT);
    assert_eq!(line, true_row_with_cwd(pid, "/work/inner", &marker));
}

/// Deeper than the 4095 bytes kept: the leaf side that fits, marked `...`.
/// (The directories are made and entered by file descriptor: their path is
/// longer than any path a system call takes.)
fn cwd_longer_than_any_buffer_is_cut_and_marked() {
    const LEVELS: usize = 20;
    let dir = TempDir::new("cwd-long");
    // Names of 255 bytes, the longest a file system takes.
    let names: Vec<String> = (0..LEVELS)
        .map(|i| format!("{i:02}-{}", "d".repeat(252)))
        .collect();
    let mut deepest = File::open(dir.path()).expect("open the test directory");
    for name in &names {
        let name = CString::new(name.as_str()).unwrap();
        // SAFETY: plain system calls on a directory fd we own and a C string.
        let fd = unsafe {
            assert_eq!(libc::mkdirat(deepest.as_raw_fd(), name.as_ptr(), 0o755), 0);
            libc::openat(
                deepest.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        assert!(fd >= 0, "openat: {}", std::io::Error::last_os_error());
        // SAFETY: a new fd we own.
        deepest = unsafe { File::from_raw_fd(fd) };
    }
    let marker = unique_marker("cwd-long");
    let argv = CStringArray::new(&["true", &marker]);
    let envp = CStringArray::new::<&str>(&[]);
    let dir_fd = deepest.as_raw_fd();
    let mut tool = start_with_header(&["--cwd"], CWD_HEADER);
    let (pid, code) = fork_and_wait(|| {
        // SAFETY: fchdir and execve are async-signal-safe, on data built before fork.
        unsafe {
            libc::fchdir(dir_fd);
            libc::execve(c"/bin/true".as_ptr(), argv.as_ptr(), envp.as_ptr());
        }
    });
    assert_eq!(code, 0, "the exec failed");
    // Each name takes 256 bytes with its '/': 15 of them fit in 4095.
    let kept: String = names[LEVELS - 15..]
        .iter()
        .map(|name| format!("/{name}"))
        .collect();
    let line = tool.expect_line(exec_of_true(&marker), TIMEOUT);
    assert_eq!(
        line,
        true_row_with_cwd(pid as u32, &format!("...{kept}"), &marker)
    );
}

/// The row of /bin/true MARKER, not of what ran it (whose arguments may
/// mention the marker too).
fn exec_of_true(marker: &str) -> impl Fn(&str) -> bool + '_ {
    move |line| line.starts_with("true ") && line.contains(marker)
}

/// One -q argument list parsed back: `"..."` each followed by a space, with
/// the escapes \" \\ \n \t \r \xHH \u{H...} inside.
fn parse_quoted(mut text: &str) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    while let Some(rest) = text.strip_prefix('"') {
        let mut arg = Vec::new();
        let mut chars = rest.char_indices();
        let end = loop {
            let (at, c) = chars.next().expect("an unterminated argument");
            match c {
                '"' => break at,
                '\\' => match chars.next().expect("a dangling backslash").1 {
                    'n' => arg.push(b'\n'),
                    't' => arg.push(b'\t'),
                    'r' => arg.push(b'\r'),
                    'x' => {
                        let hex: String = (0..2).map(|_| chars.next().expect("hex").1).collect();
                        arg.push(u8::from_str_radix(&hex, 16).expect("\\xHH"));
                    }
                    'u' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('{'));
                        let hex: String = chars
                            .by_ref()
                            .map(|(_, c)| c)
                            .take_while(|&c| c != '}')
                            .collect();
                        let c = char::from_u32(u32::from_str_radix(&hex, 16).expect("hex"))
                            .expect("a char");
                        arg.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                    c @ ('"' | '\\') => arg.push(c as u8),
                    other => panic!("unknown escape \\{other}"),
                },
                c => arg.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        };
        args.push(arg);
        text = rest[end + 1..]
            .strip_prefix(' ')
            .expect("a space after each argument");
    }
    assert!(text.is_empty(), "left over: {text:?}");
    args
}

/// Only this test execs as this uid: the in-kernel -u filter keeps every
/// other exec on the host out of its tools.
const FORGE_UID: u32 = 4324;

/// No argument can fake another or hide: -q splits back into the exact
/// bytes, and no invisible character reaches either text mode raw.
fn arguments_cannot_forge_or_hide_text() {
    let marker = unique_marker("forge");
    let args: Vec<&[u8]> = vec![
        marker.as_bytes(),
        br#"q\"x"#,
        b"a\nb",
        br"a\nb",
        b"tab\there\r",
        br"back\\slash\",
        b"",
        b"two words",
        "zero\u{200b}width\u{feff}soft\u{ad}hyphen\u{61c}tag\u{e0041}nbsp\u{a0}end".as_bytes(),
        b"bad\xffutf8",
    ];
    let os_args: Vec<&OsStr> = args.iter().map(|a| OsStr::from_bytes(a)).collect();
    let uid = FORGE_UID.to_string();
    let mut quoted = Tool::spawn(execsnoop_command(&["-q", "-u", &uid]));
    let mut bare = Tool::spawn(execsnoop_command(&["-u", &uid]));
    for tool in [&mut quoted, &mut bare] {
        tool.wait_for_header(TIMEOUT);
    }
    let (_, status) = run(setpriv_as(FORGE_UID).arg("/bin/true").args(&os_args));
    assert!(status.success());

    let line = quoted.expect_line(|line| line.contains(&marker), TIMEOUT);
    let quoted_args = &line[line.find('"').expect("quoted arguments")..];
    let mut expected: Vec<Vec<u8>> = vec![b"/bin/true".to_vec()];
    expected.extend(args.iter().map(|arg| arg.to_vec()));
    assert_eq!(parse_quoted(quoted_args), expected, "{line}");

    // Every character of these arguments outside ASCII is invisible (or not
    // UTF-8), so in both modes each must come out escaped.
    let bare_line = bare.expect_line(|line| line.contains(&marker), TIMEOUT);
    for row in [&line, &bare_line] {
        assert!(row.is_ascii(), "a raw invisible character in {row:?}");
    }
}

fn main() -> ExitCode {
    let kernel = Kernel::get();
    let mut trials = bpf_tests![
        default_row_has_comm_pid_ppid_ret_and_args,
        failed_exec_is_shown_with_x_only,
        uid_filter_shows_only_that_uid,
        uid_filter_takes_a_user_name,
        quote_mode_quotes_and_escapes_like_upstream,
        max_args_limits_the_arguments_and_marks_the_rest,
        time_column_is_the_local_wall_clock,
        timestamp_column_is_seconds_since_start,
        optional_columns_come_first_in_upstream_order,
        name_filter_is_a_regex_on_the_command_name,
        line_filter_is_a_regex_on_the_arguments_not_the_name,
        ppid_filter_shows_only_children_of_that_process,
        cgroup_filter_shows_only_processes_in_the_cgroup,
        execveat_with_an_empty_path_is_shown_once,
        exec_from_a_thread_that_is_not_the_leader_is_shown_once,
        arguments_are_complete_when_argv_pages_are_not_resident,
        control_characters_and_invalid_utf8_stay_on_one_line,
        tracefs_is_not_needed_by_default,
        missing_tracefs_is_mounted_when_needed,
        tracefs_that_cannot_be_mounted_is_one_clear_error,
        root_only_tracefs_is_named_for_a_user_with_bpf_capabilities,
        script_execs_show_the_callers_arguments,
        cgroup_that_is_not_a_cgroup_is_one_clear_error,
        json_lines_carry_every_field_and_exact_arguments,
        failed_exec_marks_arguments_it_cannot_read,
        container_column_names_each_runtimes_cgroups,
        container_names_every_exec_of_a_storm_of_short_lived_cgroups,
        ancestors_are_named_even_when_they_exit_right_after,
        cwd_is_resolved_across_a_bind_mount,
        cwd_in_a_chroot_is_relative_to_its_root,
        cwd_longer_than_any_buffer_is_cut_and_marked,
        arguments_cannot_forge_or_hide_text,
    ];
    trials.extend(contract::trials::<Execsnoop>());
    trials.push(match kernel.has_btf_tracepoint("sched_process_exec") {
        true => bpf_test("exec_way_tp_btf_traces_execs", || {
            check_exec_way("btf", "tp_btf/sched_process_exec")
        }),
        false => bpf_test(
            "exec_way_tp_btf_is_missing_so_the_classic_tracepoint_is_used",
            missing_btf_tracepoint_falls_back_to_the_classic_one,
        ),
    });
    trials.push(bpf_test("exec_way_tracepoint_traces_execs", || {
        check_exec_way("classic", "tracepoint/sched/sched_process_exec")
    }));
    common::trials::run(trials)
}
