//! exitsnoop on the real kernel: each test starts the built binary as root,
//! makes processes end in the ways it reports (exit codes, signals, core
//! dumps, threads) and checks the rows it prints, found by the pid of the
//! process the test made (see tests/common/mod.rs for the harness and the
//! sentinel pattern).

mod common;

use std::ffi::c_void;
use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use common::contract::{self, refused, Refused, TracedTool};
use common::host::{path_arg, setpriv_as, test_pid, TestCgroup};
use common::temp_dir::TempDir;
use common::{assert_one_error_line, run, unique_marker, Tool, TIMEOUT};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

const EXITSNOOP: &str = env!("CARGO_BIN_EXE_exitsnoop");
const HEADER: &str = "PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE";

/// How the pipeline's contract (tests/common/contract.rs) drives exitsnoop:
/// an event is the end of a process with a name of its own (a symlink to
/// /bin/true, which exits 0), run as the uid of the test's thread (`-u`
/// keeps every other exit on the host, and every other test's, out of the
/// tool). `--max-args 1` shows argv[0], the link's path: a flood event's
/// is nearly 4 KiB long, so a few dozen fill a pipe or the channel (the
/// process spawns are what an emulated kernel is slow at).
struct Exitsnoop;

/// The uid of this test thread's processes: one of its own, so that no
/// process of another test running beside it passes the tool's `-u`.
fn event_uid() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(43_000);
    thread_local! {
        static UID: u32 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    UID.with(|uid| *uid)
}

/// A process named `comm` (at most 15 bytes, so its whole name), run as
/// `link`, a symlink to /bin/true.
struct Process {
    comm: String,
    link: std::path::PathBuf,
    _dir: TempDir,
}

impl Process {
    /// `long`: the link's path (argv[0]) is nearly 4 KiB long.
    fn new(label: &str, long: bool) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let comm = format!("{}-{n:05}", &label[..label.len().min(8)]);
        let dir = TempDir::new("exitsnoop-event");
        let mut parent = dir.path().to_path_buf();
        if long {
            parent.extend((0..15).map(|level| format!("{level:02}{}", "d".repeat(240))));
            fs::create_dir_all(&parent).expect("make the long directory");
        }
        let link = parent.join(&comm);
        std::os::unix::fs::symlink("/bin/true", &link).expect("symlink to /bin/true");
        Self {
            comm,
            link,
            _dir: dir,
        }
    }

    /// Its row in upstream's columns (the ARGS the contract's flags add
    /// come after, `is_row`); AGE(s) is the tool's to measure.
    fn row(&self, pid: u32) -> String {
        let (comm, ppid) = (&self.comm, test_pid());
        format!("{comm:<16} {pid:<7} {ppid:<7} {pid:<7} ?       0")
    }
}

impl TracedTool for Exitsnoop {
    const NAME: &'static str = "exitsnoop";
    // A flood event's record is about 4 KiB (its command line), 160 KiB in
    // all: more than the 64 KiB channel `only` asks for, on any host.
    const BURST: usize = 40;
    type Event = Process;

    fn event(label: &str) -> Process {
        Process::new(label, false)
    }

    fn flood_event(label: &str) -> Process {
        Process::new(label, true)
    }

    /// `-u`, the smallest channel, and argv[0].
    fn only(_: &[&Process]) -> Vec<String> {
        let uid = event_uid().to_string();
        ["-u", &uid, "--buffer-size", "64K", "--max-args", "1"]
            .map(String::from)
            .to_vec()
    }

    fn cause(process: &Process) -> String {
        let mut command = Command::new(&process.link);
        command.uid(event_uid()).gid(event_uid());
        let (pid, status) = run(&mut command);
        assert!(status.success(), "{command:?}: {status}");
        process.row(pid)
    }

    fn script(process: &Process) -> String {
        let uid = event_uid();
        let link = process.link.display();
        format!("exec setpriv --reuid {uid} --regid {uid} --clear-groups {link}")
    }

    fn script_row(process: &Process, pid: u32) -> String {
        process.row(pid)
    }

    fn mentions(process: &Process, line: &str) -> bool {
        line.contains(&process.comm)
    }

    /// The row, but for AGE(s), which must be a number of seconds, and with
    /// the ARGS column when the contract's flags asked for it: argv[0].
    fn is_row(row: &str, line: &str) -> bool {
        let age = line.get(41..48).map(str::trim_end);
        let (Some(expected), Some(shown)) = (row.get(48..), line.get(48..)) else {
            return false;
        };
        let args_added = shown
            .strip_prefix(expected)
            .is_some_and(|args| args.is_empty() || args.starts_with(" /"));
        line.get(..41) == row.get(..41)
            && args_added
            && age.is_some_and(|age| age.parse::<f64>().is_ok())
    }

    fn bad_arguments() -> Vec<Refused> {
        vec![
            refused(
                &["--max-args", "0"],
                &["Invalid MAX_ARGS 0, should be in [1, 60] range"],
            ),
            refused(&["-u", "nosuchuser"], &["nosuchuser"]),
            refused(&["-p", "0"], &["is not a process id"]),
        ]
    }
}

fn exitsnoop_command(args: &[&str]) -> Command {
    let mut command = Command::new(EXITSNOOP);
    command.args(args);
    command
}

/// Starts exitsnoop and waits until it traces (its header comes after the
/// programs are attached); `header` is the header expected.
fn start_with_header(args: &[&str], header: &str) -> Tool {
    let mut tool = Tool::spawn(exitsnoop_command(args));
    assert_eq!(tool.wait_for_header(TIMEOUT), header);
    tool
}

fn start(args: &[&str]) -> Tool {
    start_with_header(args, HEADER)
}

/// The row of process `pid`: its PID column is `pid`.
fn row_of(pid: u32) -> impl Fn(&str) -> bool {
    let pid = pid.to_string();
    move |line: &str| {
        line.get(17..)
            .and_then(|rest| rest.split_whitespace().next())
            == Some(&pid)
    }
}

/// A row's columns, at upstream's fixed places ("%-16s %-7d %-7d %-7d
/// %-7.2f "): (comm, pid, ppid, tid, age, exit code text).
fn columns(row: &str) -> (&str, u32, u32, u32, f64, &str) {
    let field = |range: std::ops::Range<usize>| row.get(range).map(str::trim_end).unwrap_or("");
    let number = |range| {
        field(range)
            .parse()
            .unwrap_or_else(|_| panic!("row: {row}"))
    };
    let age = field(41..48)
        .parse()
        .unwrap_or_else(|_| panic!("AGE(s): {row}"));
    let code = row.get(49..).unwrap_or_else(|| panic!("EXIT_CODE: {row}"));
    (
        field(0..16),
        number(17..24),
        number(25..32),
        number(33..40),
        age,
        code,
    )
}

/// Runs `sh -c SCRIPT`; returns its pid and status.
fn sh(script: &str) -> (u32, ExitStatus) {
    run(Command::new("sh").args(["-c", script]))
}

/// A `sleep 30` to end with a signal.
fn sleeper() -> Child {
    Command::new("sleep")
        .arg("30")
        .stdin(Stdio::null())
        .spawn()
        .expect("start sleep")
}

fn end_with(mut child: Child, signal: Signal) -> (u32, ExitStatus) {
    let pid = child.id();
    kill(Pid::from_raw(pid as i32), signal).expect("kill the sleeper");
    (pid, child.wait().expect("wait for the sleeper"))
}

/// The EXIT_CODE text upstream prints for a wait status.
fn exit_code_text(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(0), _) => "0".into(),
        (Some(code), _) => format!("code {code}"),
        (None, Some(signal)) => {
            let core = if status.core_dumped() {
                ", core dumped"
            } else {
                ""
            };
            format!("signal {signal} ({}){core}", signal_name(signal))
        }
        (None, None) => panic!("neither exited nor killed: {status:?}"),
    }
}

/// strsignal(3), as the tool and upstream name signals.
fn signal_name(signal: i32) -> String {
    // SAFETY: strsignal returns a NUL-terminated string, copied at once.
    let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(signal)) };
    name.to_string_lossy().into_owned()
}

fn exit_codes_and_signals_are_written_as_upstream() {
    let mut tool = start(&[]);
    let (clean, clean_status) = sh("exit 0");
    let (three, three_status) = sh("exit 3");
    let (killed, killed_status) = end_with(sleeper(), Signal::SIGKILL);
    let (terminated, terminated_status) = end_with(sleeper(), Signal::SIGTERM);
    for (pid, status, comm) in [
        (clean, clean_status, "sh"),
        (three, three_status, "sh"),
        (killed, killed_status, "sleep"),
        (terminated, terminated_status, "sleep"),
    ] {
        let row = tool.expect_line(row_of(pid), TIMEOUT);
        let (shown_comm, shown_pid, ppid, tid, age, code) = columns(&row);
        assert_eq!(
            (shown_comm, shown_pid, ppid, tid),
            (comm, pid, test_pid(), pid),
            "{row}"
        );
        assert!((0.0..30.0).contains(&age), "{row}");
        assert_eq!(code, exit_code_text(status), "{row}");
        // Upstream's row layout: "%-16s %-7d %-7d %-7d %-7.2f ".
        let prefix = format!("{comm:<16} {pid:<7} {:<7} {pid:<7} ", test_pid());
        assert!(row.starts_with(&prefix), "{row}");
    }
    assert_eq!(exit_code_text(killed_status), "signal 9 (Killed)");
    let finished = tool.stop_with(Signal::SIGINT);
    assert_eq!(finished.status.code(), Some(0));
}

/// A process that dumps core: what the row says follows the status the
/// parent got, ", core dumped" when the kernel wrote a core (core_pattern
/// and the limit decide).
fn core_dump_is_said_as_wait_reports_it() {
    let mut tool = start(&[]);
    let scratch = TempDir::new("exitsnoop-core");
    let (pid, status) = run(Command::new("sh")
        .args(["-c", "ulimit -c unlimited; kill -SEGV $$"])
        .current_dir(scratch.path()));
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status:?}");
    let row = tool.expect_line(row_of(pid), TIMEOUT);
    assert_eq!(columns(&row).5, exit_code_text(status), "{row}");
    let expected = match status.core_dumped() {
        true => "signal 11 (Segmentation fault), core dumped",
        false => "signal 11 (Segmentation fault)",
    };
    assert!(row.ends_with(expected), "{row}");
}

/// The child of `fork_threaded`: its main thread ends first (exit(2)),
/// a second thread ends the process 300 ms later, by `end` (0: exit_group
/// with code 5, else exit(2) of that thread alone with code 7).
extern "C" fn second_thread(end: *mut c_void) -> *mut c_void {
    // SAFETY: plain system calls; no lock is held.
    unsafe {
        libc::usleep(300_000);
        match end as usize {
            0 => libc::_exit(5),
            _ => libc::syscall(libc::SYS_exit, 7),
        };
    }
    std::ptr::null_mut()
}

/// Forks a process whose main thread ends before its second thread, which
/// ends the process (see `second_thread`); returns its pid and status.
fn fork_threaded(group_exit: bool) -> (u32, WaitStatus) {
    let end = usize::from(!group_exit) as *mut c_void;
    // SAFETY: the child calls only pthread_create, exit(2) and what
    // second_thread calls, none of which needs state from the parent's
    // other threads.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: as above; the child never returns into the test.
        unsafe {
            let mut thread: libc::pthread_t = std::mem::zeroed();
            if libc::pthread_create(&mut thread, std::ptr::null(), second_thread, end) != 0 {
                libc::_exit(100);
            }
            // The main thread alone ends (pthread_exit would unwind
            // through the test's frames).
            libc::syscall(libc::SYS_exit, 0);
            libc::_exit(101);
        }
    }
    let status = waitpid(Pid::from_raw(pid), None).expect("waitpid");
    (pid as u32, status)
}

/// EXIT_CODE for what waitpid said of a process.
fn wait_status_text(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, 0) => "0".into(),
        WaitStatus::Exited(_, code) => format!("code {code}"),
        WaitStatus::Signaled(_, signal, core) => {
            let core = if core { ", core dumped" } else { "" };
            format!(
                "signal {} ({}){core}",
                signal as i32,
                signal_name(signal as i32)
            )
        }
        other => panic!("not an end: {other:?}"),
    }
}

/// One row per process, when its last thread ends, with the status its
/// parent got and its whole age; upstream reports the main thread's end,
/// 300 ms early and with code 0. (When the last thread ends alone, by
/// exit(2), the status is the main thread's code before Linux 6.15, the
/// last thread's from then on: the row says what waitpid said.)
fn a_process_is_reported_when_its_last_thread_ends() {
    let mut tool = start(&[]);
    let (group_exit, group_status) = fork_threaded(true);
    assert_eq!(
        group_status,
        WaitStatus::Exited(Pid::from_raw(group_exit as i32), 5)
    );
    let (thread_exit, thread_status) = fork_threaded(false);
    for (pid, status) in [(group_exit, group_status), (thread_exit, thread_status)] {
        let row = tool.expect_line(row_of(pid), TIMEOUT);
        let (_, _, _, tid, age, shown) = columns(&row);
        assert_eq!(
            (tid, shown),
            (pid, wait_status_text(status).as_str()),
            "{row}"
        );
        assert!(age >= 0.29, "reported before the last thread ended: {row}");
    }
    let sentinel = sh("exit 0").0;
    tool.expect_line(row_of(sentinel), TIMEOUT);
    let rows = tool
        .stdout_lines()
        .iter()
        .filter(|line| row_of(group_exit)(line))
        .count();
    assert_eq!(rows, 1, "one row per process");
}

/// -T: a row per thread, each with its own id, exit code and age.
fn threaded_shows_every_thread() {
    let mut tool = start(&["-T"]);
    let (pid, _) = fork_threaded(false);
    let sentinel = sh("exit 0").0;
    tool.expect_line(row_of(sentinel), TIMEOUT);
    let rows: Vec<String> = tool
        .stdout_lines()
        .iter()
        .filter(|line| row_of(pid)(line))
        .cloned()
        .collect();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let main = rows
        .iter()
        .find(|row| columns(row).3 == pid)
        .expect("the main thread's row");
    assert_eq!(columns(main).5, "0", "{main}");
    let second = rows
        .iter()
        .find(|row| columns(row).3 != pid)
        .expect("the second thread's row");
    assert_eq!(columns(second).5, "code 7", "{second}");
    assert!(columns(second).4 >= 0.29, "{second}");
}

/// -x: exits with code 0 are not shown; a code or a signal is.
fn failed_only_hides_clean_exits() {
    let mut tool = start(&["-x"]);
    let (clean, _) = sh("exit 0");
    let (failed, _) = sh("exit 1");
    let (killed, _) = end_with(sleeper(), Signal::SIGKILL);
    assert!(tool
        .expect_line(row_of(failed), TIMEOUT)
        .ends_with("code 1"));
    tool.expect_line(row_of(killed), TIMEOUT);
    tool.assert_no_line(row_of(clean));
}

fn pid_filter_shows_only_that_process() {
    let target = sleeper();
    let target_pid = target.id();
    let mut tool = start(&["-p", &target_pid.to_string()]);
    let (other, _) = sh("exit 1");
    let (pid, status) = end_with(target, Signal::SIGTERM);
    let row = tool.expect_line(row_of(pid), TIMEOUT);
    assert_eq!(columns(&row).5, exit_code_text(status));
    tool.assert_no_line(row_of(other));
}

/// -p of a process that is not there, -c of a path that is not a cgroup
/// v2 directory: one line, and a non-zero exit before anything is loaded.
fn pid_and_cgroup_that_do_not_exist_are_one_clear_error() {
    let (gone, _) = sh("exit 0");
    let finished =
        Tool::spawn(exitsnoop_command(&["-p", &gone.to_string()])).wait_for_exit(TIMEOUT);
    let line = assert_one_error_line(&finished);
    assert!(
        line.contains(&gone.to_string()) && line.contains("no process"),
        "{line}"
    );
    let scratch = TempDir::new("exitsnoop-not-a-cgroup");
    let finished =
        Tool::spawn(exitsnoop_command(&["-c", path_arg(scratch.path())])).wait_for_exit(TIMEOUT);
    let line = assert_one_error_line(&finished);
    assert!(line.contains("not a cgroup v2 directory"), "{line}");
}

fn cgroup_filter_shows_only_processes_in_the_cgroup() {
    let cgroup = TestCgroup::create("exitsnoop-cgroup");
    let mut tool = start(&["-c", path_arg(cgroup.path())]);
    let (outside, _) = sh("exit 4");
    let (inside, _) = sh(&format!("{} && exit 5", cgroup.enter_command()));
    assert!(tool
        .expect_line(row_of(inside), TIMEOUT)
        .ends_with("code 5"));
    tool.assert_no_line(row_of(outside));
}

fn uid_filter_shows_only_that_user() {
    let mut tool = start(&["-u", "4321"]);
    let (as_root, _) = sh("exit 6");
    let (as_user, status) = run(setpriv_as(4321).args(["sh", "-c", "exit 6"]));
    assert_eq!(status.code(), Some(6));
    tool.expect_line(row_of(as_user), TIMEOUT);
    tool.assert_no_line(row_of(as_root));
}

/// --max-args: the command line of the process that ended (argv[0] first,
/// as `ps -o args`), read before its memory was gone, whichever way it
/// ended; cut with " ..." past N.
fn max_args_shows_the_command_line_of_each_exit() {
    let mut tool = start_with_header(&["--max-args", "4"], &format!("{HEADER} ARGS"));
    let marker = unique_marker("cmdline");
    let (exited, _) = run(Command::new("sh").args(["-c", "exit 3", &marker]));
    let row = tool.expect_line(row_of(exited), TIMEOUT);
    assert!(
        row.ends_with(&format!("code 3 sh -c exit 3 {marker} ")),
        "{row}"
    );
    let (cut, _) = run(Command::new("sh").args(["-c", "exit 2", &marker, "five"]));
    let row = tool.expect_line(row_of(cut), TIMEOUT);
    assert!(
        row.ends_with(&format!("code 2 sh -c exit 2 {marker}  ...")),
        "{row}"
    );
    let (killed, _) = end_with(sleeper(), Signal::SIGKILL);
    let row = tool.expect_line(row_of(killed), TIMEOUT);
    assert!(row.ends_with("signal 9 (Killed) sleep 30 "), "{row}");
    let (threaded, status) = fork_threaded(false);
    let row = tool.expect_line(row_of(threaded), TIMEOUT);
    let test_binary = std::env::args().next().expect("argv[0]");
    let code = wait_status_text(status);
    assert!(row.contains(&format!(" {code} {test_binary} ")), "{row}");
}

/// /proc/PID/stat's starttime: clock ticks since boot.
fn start_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("read the stat file");
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .expect("comm ends")
        .1
        .split(' ')
        .collect();
    // Field 22 of the whole line, the 20th after the comm.
    fields[19].parse().expect("starttime")
}

/// The JSON record of an exit, and process_start_ns: the process's start
/// as the kernel keeps it, the same as /proc/PID/stat's in clock ticks.
fn json_names_the_process_as_the_kernel_keeps_it() {
    let mut tool = Tool::spawn(exitsnoop_command(&["--json", "--max-args", "2"]));
    tool.wait_for_ready_line(TIMEOUT);
    let child = sleeper();
    let ticks = start_ticks(child.id());
    let (pid, _) = end_with(child, Signal::SIGKILL);
    let line = tool.expect_line(|line| line.contains(&format!("\"pid\":{pid},")), TIMEOUT);
    let event: serde_json::Value = serde_json::from_str(&line).expect("each line is JSON");
    assert_eq!(event["comm"], "sleep", "{line}");
    assert_eq!(event["ppid"], test_pid(), "{line}");
    assert_eq!(event["tid"], pid, "{line}");
    assert_eq!(event["exit_status"], 9, "{line}");
    assert_eq!(event["signal"], 9, "{line}");
    assert_eq!(event["signal_name"], "Killed", "{line}");
    assert_eq!(event["core_dumped"], false, "{line}");
    assert_eq!(event["args"], serde_json::json!(["sleep", "30"]), "{line}");
    assert_eq!(event["args_truncated"], false, "{line}");
    assert!(event["age_ns"].as_u64().is_some_and(|ns| ns > 0), "{line}");
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    let start_ns = event["process_start_ns"]
        .as_u64()
        .expect("process_start_ns");
    assert_eq!(
        start_ns / (1_000_000_000 / ticks_per_second),
        ticks,
        "{line}"
    );

    let (coded, _) = sh("exit 4");
    let line = tool.expect_line(|line| line.contains(&format!("\"pid\":{coded},")), TIMEOUT);
    let event: serde_json::Value = serde_json::from_str(&line).expect("each line is JSON");
    assert_eq!(event["exit_code"], 4, "{line}");
    assert!(event["signal"].is_null(), "{line}");
}

/// What each tool says of one process (an exec, a connect, an exit) joins
/// on (pid, process_start_ns), as a log pipeline would.
fn json_records_of_the_three_tools_join_on_the_process() {
    let tools: Vec<Tool> = ["execsnoop", "tcpconnect", "exitsnoop"]
        .iter()
        .map(|tool| {
            let binary = std::path::Path::new(EXITSNOOP).with_file_name(tool);
            let mut tool = Tool::spawn({
                let mut command = Command::new(binary);
                command.arg("--json");
                command
            });
            tool.wait_for_ready_line(TIMEOUT);
            tool
        })
        .collect();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port();
    let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port}; exit 2");
    let (pid, status) = run(Command::new("bash").args(["-c", &script]));
    assert_eq!(status.code(), Some(2));
    let mut starts = Vec::new();
    for mut tool in tools {
        let line = tool.expect_line(|line| line.contains(&format!("\"pid\":{pid},")), TIMEOUT);
        let event: serde_json::Value = serde_json::from_str(&line).expect("each line is JSON");
        starts.push(
            event["process_start_ns"]
                .as_u64()
                .expect("process_start_ns"),
        );
    }
    assert!(
        starts[0] > 0 && starts.iter().all(|&start| start == starts[0]),
        "{starts:?}"
    );
}

fn optional_columns_come_before_and_after_upstreams() {
    let mut tool = start_with_header(
        &["-t", "--label", "web", "--ancestors"],
        &format!("TIME     LABEL {HEADER} ANCESTORS"),
    );
    let (pid, _) = sh("exit 1");
    let row = tool.expect_line(|line| line.get(15..).is_some_and(row_of(pid)), TIMEOUT);
    assert_eq!(&row[2..3], ":", "{row}");
    assert_eq!(&row[9..15], "web   ", "{row}");
    let parent = format!(
        "code 1 {}({})",
        common::host::current_thread_comm(),
        test_pid()
    );
    assert!(row.contains(&parent), "{row}");
}

fn main() -> ExitCode {
    let mut trials = contract::trials::<Exitsnoop>();
    trials.extend(bpf_tests![
        exit_codes_and_signals_are_written_as_upstream,
        core_dump_is_said_as_wait_reports_it,
        a_process_is_reported_when_its_last_thread_ends,
        threaded_shows_every_thread,
        failed_only_hides_clean_exits,
        pid_filter_shows_only_that_process,
        pid_and_cgroup_that_do_not_exist_are_one_clear_error,
        cgroup_filter_shows_only_processes_in_the_cgroup,
        uid_filter_shows_only_that_user,
        max_args_shows_the_command_line_of_each_exit,
        json_names_the_process_as_the_kernel_keeps_it,
        json_records_of_the_three_tools_join_on_the_process,
        optional_columns_come_before_and_after_upstreams,
    ]);
    common::trials::run(trials)
}
