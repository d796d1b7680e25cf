//! execsnoop on the real kernel: each test starts the built binary as root,
//! causes execs tagged with a unique marker and checks the lines it prints
//! (see tests/common/mod.rs for the harness and the sentinel pattern). What
//! a test expects of the kernel comes from tests/common/kernel.rs.

mod common;

use std::ffi::{c_char, c_int, c_void, CString, OsStr};
use std::fmt::Display;
use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::ptr;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::host::{
    bpf_map_types, current_thread_comm, in_private_mount_namespace, kernel_btf_copy,
    lost_events_reported, path_arg, setpriv_as, test_pid, tracefs_mounted_in, PinnedMap, TempDir,
    TestCgroup, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_RINGBUF, HIDE_KERNEL_BTF,
    UNMOUNT_TRACEFS,
};
use common::kernel::Kernel;
use common::trials::bpf_test;
use common::{assert_one_error_line, run, unique_marker, Gated, Tool, TIMEOUT};
use libbpf_rs::MapType;
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

fn check_default_row(command: Command, channel_map: u32) {
    let mut tool = Tool::spawn(command);
    assert_eq!(tool.wait_for_header(TIMEOUT), HEADER);
    let map_types = bpf_map_types(tool.pid());
    assert!(map_types.contains(&channel_map), "map types {map_types:?}");

    let marker = unique_marker("default");
    let pid = exec_true(&[&marker, "b", "c"]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    assert_eq!(line, true_row(pid, &format!("{marker} b c")));
}

fn default_row_has_comm_pid_ppid_ret_and_args() {
    check_default_row(execsnoop_command(&[]), BPF_MAP_TYPE_RINGBUF);
}

/// Written while the lost-events test floods every tracer on the host with
/// big execs; read by the tests whose tool must not lose anything meanwhile
/// (a perf buffer of 256 KiB per CPU, or a tool whose stderr must stay empty,
/// could overflow if starved of CPU during the flood).
static BIG_EXEC_BURST: RwLock<()> = RwLock::new(());

/// Keeps the flood out while a test that needs a quiet host runs.
fn without_exec_burst() -> RwLockReadGuard<'static, ()> {
    BIG_EXEC_BURST
        .read()
        .unwrap_or_else(PoisonError::into_inner)
}

fn perf_buffer_channel_prints_the_same_rows() {
    let _no_burst = without_exec_burst();
    let mut command = execsnoop_command(&[]);
    command.env("BPFTOOLS_EVENT_CHANNEL", "perf");
    check_default_row(command, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
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
    let pid = exec_true(&[&marker, "a\"b\tc\nd"]);
    let line = tool.expect_line(mentions(&marker), TIMEOUT);
    let args = format!(r#""/bin/true" "{marker}" "a\"b\tc\nd" "#);
    assert_eq!(line, row("true", pid, test_pid(), 0, &args));
}

fn max_args_limits_the_arguments_and_marks_the_rest() {
    let mut tool = start(&["--max-args", "3"]);
    let more = unique_marker("more");
    let more_pid = exec_true(&[&more, "a", "b", "c"]);
    let exact = unique_marker("exact");
    let exact_pid = exec_true(&[&exact, "a"]);

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
    let script = format!("{} && exec /bin/true {marker}", cgroup.enter_command());
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

fn arguments_are_complete_when_argv_pages_are_not_resident() {
    let mut tool = start(&[]);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
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
    let mut contents = vec![0u8; 6 * page];
    for (arg, &offset) in args.iter().zip(&offsets) {
        contents[offset..offset + arg.len()].copy_from_slice(arg.as_bytes());
    }
    let dir = TempDir::new("lazy-argv");
    let file_path = dir.path().join("args");
    fs::write(&file_path, &contents).expect("write the argument file");
    let file = File::open(&file_path).expect("open the argument file");

    // Mapped but never touched: no page of it is present in this process, nor
    // in the child (fork copies no page table entries of an untouched file
    // mapping), so reading argv at syscall entry would fault.
    // SAFETY: a new private read-only mapping; nothing in this process reads it.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            contents.len(),
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
    let program = c"/bin/true";
    let mut argv = vec![program.as_ptr()];
    // SAFETY: pointer arithmetic within the mapping; nothing is dereferenced.
    argv.extend(
        offsets
            .iter()
            .map(|&offset| unsafe { base.cast_const().cast::<c_char>().add(offset) }),
    );
    argv.push(ptr::null());
    let envp: [*const c_char; 1] = [ptr::null()];
    let (pid, code) = fork_and_wait(|| {
        // SAFETY: execve is async-signal-safe; argv points into the inherited mapping.
        unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    });
    // SAFETY: unmaps the mapping made above, which nothing uses any more.
    unsafe { libc::munmap(base, contents.len()) };
    assert_eq!(code, 0, "the exec failed");

    let line = tool.expect_line(mentions(&args[0]), TIMEOUT);
    assert_eq!(line, true_row(pid, &args.join(" ")));
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

fn lost_ring_buffer_events_are_counted_on_stderr() {
    // Only this test execs as this uid: the in-kernel -u filter keeps every
    // other exec on the host out of this tool's buffer.
    const BURST_UID: u32 = 4322;
    const BURST_EXECS: usize = 600;
    let _burst = BIG_EXEC_BURST
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    let mut tool = start(&["-u", &BURST_UID.to_string()]);
    let burst = unique_marker("burst");
    // About 8 KiB of arguments per exec: the 1 MiB ring buffer holds ~125.
    let big_arg = "x".repeat(8000);

    tool.signal(Signal::SIGSTOP);
    for i in 0..BURST_EXECS {
        exec_true_as(Some(BURST_UID), &[&format!("{burst}-{i:03}"), &big_arg]);
    }
    tool.signal(Signal::SIGCONT);
    // Space comes back only as the tool catches up, and a sentinel sent
    // before that is lost as well: send sentinels until one is shown, and
    // count them all.
    let sentinel = format!("{burst}-sentinel-");
    let mut sentinels = 0;
    loop {
        exec_true_as(Some(BURST_UID), &[&format!("{sentinel}{sentinels}")]);
        sentinels += 1;
        if tool
            .find_line(mentions(&sentinel), Duration::from_millis(500))
            .is_some()
        {
            break;
        }
        assert!(sentinels < 20, "no sentinel shown after the burst");
    }

    let finished = tool.stop_with(Signal::SIGINT);
    assert!(finished.status.success(), "{}", finished.status);
    let burst_prefix = format!("{burst}-");
    let shown = finished
        .stdout
        .iter()
        .filter(|l| l.contains(&burst_prefix))
        .count();
    let lost = lost_events_reported(&finished.stderr);
    assert!(
        lost > 0,
        "nothing lost: the burst did not overflow the buffer"
    );
    let sent = BURST_EXECS + sentinels;
    assert_eq!(
        lost + shown,
        sent,
        "{lost} lost and {shown} shown of {sent}"
    );
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

/// A row caused just before `signal` is printed, and the tool exits 0.
fn check_clean_stop(signal: Signal) {
    let _no_burst = without_exec_burst();
    let tool = start(&[]);
    let marker = unique_marker("last-row");
    let pid = exec_true(&[&marker]);
    let finished = tool.stop_with(signal);

    assert_eq!(
        finished.status.code(),
        Some(0),
        "exit status after {signal}"
    );
    assert_eq!(finished.stderr, Vec::<String>::new());
    let expected = true_row(pid, &marker);
    assert!(
        finished.stdout.contains(&expected),
        "no row for the exec before {signal}"
    );
}

fn sigint_flushes_and_exits_zero() {
    check_clean_stop(Signal::SIGINT);
}

fn sigterm_flushes_and_exits_zero() {
    check_clean_stop(Signal::SIGTERM);
}

fn closed_stdout_ends_quietly() {
    let _no_burst = without_exec_burst();
    let mut tool = start(&[]);
    tool.close_stdout();
    let deadline = Instant::now() + TIMEOUT;
    // The first row written after the close ends the tool.
    while !tool.exits_within(Duration::from_millis(100)) {
        assert!(
            Instant::now() < deadline,
            "execsnoop runs on with its stdout closed"
        );
        exec_true(&[&unique_marker("closed-stdout")]);
    }
    let finished = tool.wait_for_exit(TIMEOUT);
    assert_eq!(finished.status.code(), Some(0));
    assert_eq!(finished.stderr, Vec::<String>::new());
}

fn run_to_failure(command: Command) -> String {
    let finished = Tool::spawn(command).wait_for_exit(TIMEOUT);
    assert_one_error_line(&finished).to_string()
}

fn not_root_is_one_clear_error() {
    let mut command = setpriv_as(65534);
    command.args(["--inh-caps=-all", "--bounding-set=-all", EXECSNOOP]);
    let line = run_to_failure(command);
    assert!(
        line.contains("privileges") && line.contains("root"),
        "{line}"
    );
}

fn missing_kernel_btf_is_one_clear_error() {
    let line = run_to_failure(in_private_mount_namespace(EXECSNOOP, HIDE_KERNEL_BTF, ""));
    assert!(line.contains("BTF"), "{line}");
    // The way out is named: a BTF file for this kernel.
    assert!(line.contains("--btf PATH"), "{line}");
}

fn bad_flags_are_one_clear_error() {
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["--max-args", "0"],
            &["Invalid MAX_ARGS 0, should be in [1, 60] range"],
        ),
        (&["-u", "nosuchuser"], &["nosuchuser"]),
        (&["-c", "/not/a/cgroup"], &["/not/a/cgroup"]),
        (&["-c", "/tmp"], &["/tmp", "not a cgroup"]),
        (&["--bogus"], &["--bogus"]),
    ];
    for (args, wanted) in cases {
        let line = run_to_failure(execsnoop_command(args));
        for text in wanted {
            assert!(line.contains(text), "{args:?}: {line}");
        }
    }
}

fn cgroupmap_shows_only_cgroups_in_the_pinned_map() {
    let cgroup = TestCgroup::create("execsnoop-cgroupmap");
    let map = PinnedMap::create("cgroupmap", MapType::Hash, 8);
    map.insert(cgroup.id());
    let mut tool = start(&["--cgroupmap", path_arg(map.path())]);

    let outside = unique_marker("outside");
    exec_true(&[&outside]);
    let inside = unique_marker("inside");
    let pid = exec_true_in(&cgroup, &inside);

    let line = tool.expect_line(mentions(&inside), TIMEOUT);
    assert_eq!(line, true_row(pid, &inside));
    tool.assert_no_line(mentions(&outside));
}

fn mntnsmap_shows_only_mount_namespaces_in_the_pinned_map() {
    let map = PinnedMap::create("mntnsmap", MapType::Hash, 8);
    let inside = unique_marker("inside");
    let unshare = ["unshare", "--mount", "--propagation", "private"];
    let in_namespace = Gated::spawn(&unshare, &format!("exec /bin/true {inside}"));
    let pid = in_namespace.pid();
    // A namespace's id is the inode number of its /proc/PID/ns file.
    let namespace = fs::metadata(format!("/proc/{pid}/ns/mnt")).expect("stat the namespace");
    map.insert(namespace.ino());
    let mut tool = start(&["--mntnsmap", path_arg(map.path())]);

    let outside = unique_marker("outside");
    exec_true(&[&outside]);
    assert!(in_namespace.release().success());

    let line = tool.expect_line(mentions(&inside), TIMEOUT);
    assert_eq!(line, true_row(pid, &inside));
    tool.assert_no_line(mentions(&outside));
}

fn pinned_filter_paths_must_be_pinned_hash_maps() {
    let dir = TempDir::new("not-a-map");
    let regular_file = dir.path().join("file");
    fs::write(&regular_file, b"").expect("create a file");
    let array = PinnedMap::create("array", MapType::Array, 4);
    let missing = format!("/sys/fs/bpf/{}", unique_marker("missing"));
    let cases = [
        ("--cgroupmap", missing.as_str()),
        ("--mntnsmap", path_arg(&regular_file)),
        ("--cgroupmap", path_arg(array.path())),
    ];
    for (flag, path) in cases {
        let line = run_to_failure(execsnoop_command(&[flag, path]));
        assert!(
            line.contains(flag) && line.contains(path),
            "{flag} {path}: {line}"
        );
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

fn btf_file_given_with_btf_is_used() {
    let dir = TempDir::new("btf");
    let btf = kernel_btf_copy(&dir);
    let mut tool = start(&["--btf", path_arg(&btf)]);
    let marker = unique_marker("btf");
    let pid = exec_true(&[&marker]);
    tool.expect_line(|line| line == true_row(pid, &marker), TIMEOUT);

    let not_btf = dir.path().join("not-btf");
    fs::write(&not_btf, b"this is not BTF").expect("write a file");
    let finished =
        Tool::spawn(execsnoop_command(&["--btf", path_arg(&not_btf)])).wait_for_exit(TIMEOUT);
    let line = assert_one_error_line(&finished);
    assert!(line.contains("not a readable BTF file"), "{line}");
}

/// `way` (the BPFTOOLS_TRACEPOINT flavor) traces execs, and -v says it
/// attached with `hook`.
fn check_exec_way(flavor: &str, hook: &str) {
    let mut command = execsnoop_command(&["-v"]);
    command.env("BPFTOOLS_TRACEPOINT", flavor);
    let mut tool = start_command(command);
    let marker = unique_marker("way");
    let pid = exec_true(&[&marker, "x"]);
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

/// With the kernel's BTF hidden (as on a kernel built without it), a BTF
/// file given with --btf is what CO-RE uses.
fn hidden_kernel_btf_is_replaced_by_the_btf_file() {
    let dir = TempDir::new("hidden-btf");
    let btf = kernel_btf_copy(&dir);
    let mut command = in_private_mount_namespace(EXECSNOOP, HIDE_KERNEL_BTF, "");
    command.args(["--btf", path_arg(&btf)]);
    let mut tool = start_command(command);
    let marker = unique_marker("hidden-btf");
    let pid = exec_true(&[&marker]);
    tool.expect_line(|line| line == true_row(pid, &marker), TIMEOUT);
}

fn main() -> ExitCode {
    let kernel = Kernel::get();
    let mut trials = bpf_tests![
        default_row_has_comm_pid_ppid_ret_and_args,
        perf_buffer_channel_prints_the_same_rows,
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
        lost_ring_buffer_events_are_counted_on_stderr,
        tracefs_is_not_needed_by_default,
        missing_tracefs_is_mounted_when_needed,
        tracefs_that_cannot_be_mounted_is_one_clear_error,
        script_execs_show_the_callers_arguments,
        sigint_flushes_and_exits_zero,
        sigterm_flushes_and_exits_zero,
        closed_stdout_ends_quietly,
        not_root_is_one_clear_error,
        missing_kernel_btf_is_one_clear_error,
        bad_flags_are_one_clear_error,
        cgroupmap_shows_only_cgroups_in_the_pinned_map,
        mntnsmap_shows_only_mount_namespaces_in_the_pinned_map,
        pinned_filter_paths_must_be_pinned_hash_maps,
        json_lines_carry_every_field_and_exact_arguments,
        btf_file_given_with_btf_is_used,
        hidden_kernel_btf_is_replaced_by_the_btf_file,
    ];
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
