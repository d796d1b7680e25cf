//! Running a tool's real binary as root, for tests that load BPF programs.
//!
//! A test starts the built binary with [`Tool::spawn`], waits for its header,
//! causes events and waits for the lines they produce, each with a bounded
//! timeout. Every exec or connection a test causes carries a [`unique_marker`],
//! so tests running in parallel and the host's own activity are never mistaken
//! for it. To show that a line does *not* appear, a test causes the forbidden
//! event, then a later "sentinel" event that must appear; once the sentinel's
//! line has arrived, the tool has handled everything before it, and
//! [`Tool::assert_no_line`] checks the whole output without waiting.
//!
//! What every tool does because the shared pipeline runs it is tested once,
//! for every tool, in [`contract`]; a tool's own test file implements
//! [`contract::TracedTool`] and keeps only what is its own. Tests that
//! flood the host run alone ([`trials::bpf_test_alone`]).

// Each test crate uses a part of the harness.
#![allow(dead_code)]

pub mod contract;
pub mod host;
pub mod kernel;
pub mod rows;
pub mod temp_dir;
pub mod tools;
pub mod trials;

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The longest any single wait in a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How often the stream readers look at their stop flag, and waits poll.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A string no other test, run or process uses: `label-<test pid>-<counter>`.
/// Fixed-width counters keep one marker from being a prefix of another.
pub fn unique_marker(label: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{}-{n:05}", std::process::id())
}

/// How long a client the tests run (python3, dig, getent...) may take: in
/// an emulated VM on a busy host, python3 alone can take seconds to start
/// over 9p. Only a hung client waits this long.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs a command that is expected to exit promptly; returns its pid and status.
pub fn run(command: &mut Command) -> (u32, ExitStatus) {
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    let pid = child.id();
    (pid, wait_child(&mut child, RUN_TIMEOUT))
}

/// Waits at most `timeout` for a child, killing it and panicking after that.
pub fn wait_child(child: &mut Child, timeout: Duration) -> ExitStatus {
    match wait_until(child, Instant::now() + timeout) {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not exit within {timeout:?}", child.id());
        }
    }
}

fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("waitpid") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// One output stream of a child, read line by line on a thread of its own.
struct LineReader {
    lines: Receiver<String>,
    /// Every line received so far, in order.
    seen: Vec<String>,
    /// The stream reached its end: no more lines will come.
    ended: bool,
    keep_open: Arc<AtomicBool>,
    /// While set, the thread leaves the stream unread (the pipe fills up).
    paused: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LineReader {
    fn spawn<S: Read + AsRawFd + Send + 'static>(stream: S) -> Self {
        let (sender, lines) = mpsc::channel();
        let keep_open = Arc::new(AtomicBool::new(true));
        let paused = Arc::new(AtomicBool::new(false));
        let flags = (Arc::clone(&keep_open), Arc::clone(&paused));
        let thread = thread::spawn(move || read_lines(stream, &flags.0, &flags.1, &sender));
        Self {
            lines,
            seen: Vec::new(),
            ended: false,
            keep_open,
            paused,
            thread: Some(thread),
        }
    }

    /// Takes the lines that have arrived, without waiting.
    fn drain(&mut self) {
        loop {
            match self.lines.try_recv() {
                Ok(line) => self.seen.push(line),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.ended = true;
                    return;
                }
            }
        }
    }

    /// Waits until `deadline` for one more line; false if none came (time
    /// out, or end of stream).
    fn wait_more(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.seen.push(line);
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                self.ended = true;
                false
            }
        }
    }

    /// Waits until `deadline` for the stream to end; false if it did not.
    fn wait_end(&mut self, deadline: Instant) -> bool {
        while !self.ended {
            if !self.wait_more(deadline) && !self.ended {
                return false;
            }
        }
        true
    }

    /// Closes our end of the pipe, so that the child's next write fails.
    fn close(&mut self) {
        self.keep_open.store(false, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("stream reader thread panicked");
        }
        self.drain();
    }

    fn last_lines(&mut self, count: usize) -> String {
        self.drain();
        let start = self.seen.len().saturating_sub(count);
        self.seen[start..]
            .iter()
            .map(|line| format!("    {}\n", truncated(line, 300)))
            .collect()
    }
}

fn truncated(line: &str, max_chars: usize) -> String {
    match line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// The reader thread: sends each complete line (lossily decoded, without its
/// newline), then the unterminated rest at the end. Polls so that it notices
/// `keep_open` being cleared even when the child writes nothing.
fn read_lines(
    mut stream: impl Read + AsRawFd,
    keep_open: &AtomicBool,
    paused: &AtomicBool,
    sender: &Sender<String>,
) {
    let mut pending = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let poll_ms = POLL_INTERVAL.as_millis() as libc::c_int;
    while keep_open.load(Ordering::SeqCst) {
        if paused.load(Ordering::SeqCst) {
            thread::sleep(POLL_INTERVAL);
            continue;
        }
        let mut poll_fd = libc::pollfd {
            fd: stream.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        if unsafe { libc::poll(&mut poll_fd, 1, poll_ms) } <= 0 {
            continue;
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                pending.extend_from_slice(&buffer[..n]);
                while let Some(newline) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=newline).collect();
                    let _ = sender.send(String::from_utf8_lossy(&line[..newline]).into_owned());
                }
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if !pending.is_empty() {
        let _ = sender.send(String::from_utf8_lossy(&pending).into_owned());
    }
}

/// How a tool run ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    /// Every line written to stdout, the header included.
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

/// A running tool. Dropping it kills the process.
pub struct Tool {
    child: Child,
    stdout: LineReader,
    stderr: LineReader,
}

impl Tool {
    /// Starts `command` with stdin closed and stdout and stderr piped.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
        let stdout = LineReader::spawn(child.stdout.take().expect("piped stdout"));
        let stderr = LineReader::spawn(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the first line of stdout and returns it.
    #[track_caller]
    pub fn wait_for_header(&mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while self.stdout.seen.is_empty() {
            if !self.stdout.wait_more(deadline) {
                panic!("no header within {timeout:?}\n{}", self.describe());
            }
        }
        self.stdout.seen[0].clone()
    }

    /// Waits for the line on stderr that says tracing has begun, for modes
    /// whose stdout has no header (JSON Lines, count mode).
    #[track_caller]
    pub fn wait_for_ready_line(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let ready = |line: &String| line.ends_with("Hit Ctrl-C to end.");
        while !self.stderr.seen.iter().any(ready) {
            if !self.stderr.wait_more(deadline) {
                panic!(
                    "no ready line on stderr within {timeout:?}\n{}",
                    self.describe()
                );
            }
        }
    }

    /// Returns the first stdout line (since the start) that `matches`,
    /// waiting up to `timeout` for it.
    #[track_caller]
    pub fn expect_line(&mut self, matches: impl Fn(&str) -> bool, timeout: Duration) -> String {
        match self.find_line(matches, timeout) {
            Some(line) => line,
            None => panic!("no matching line within {timeout:?}\n{}", self.describe()),
        }
    }

    /// Like [`Tool::expect_line`], but None when no line matches in time.
    pub fn find_line(
        &mut self,
        matches: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut checked = 0;
        loop {
            if let Some(line) = self.stdout.seen[checked..]
                .iter()
                .find(|line| matches(line))
            {
                return Some(line.clone());
            }
            checked = self.stdout.seen.len();
            if !self.stdout.wait_more(deadline) {
                return None;
            }
        }
    }

    /// Asserts that no stdout line so far `matches`. Only meaningful after
    /// [`Tool::expect_line`] returned the line of an event caused after the
    /// one that must not appear (see the module documentation).
    #[track_caller]
    pub fn assert_no_line(&mut self, matches: impl Fn(&str) -> bool) {
        self.stdout.drain();
        if let Some(line) = self.stdout.seen.iter().find(|line| matches(line)) {
            panic!("unexpected line: {line}");
        }
    }

    /// All stdout lines received so far.
    pub fn stdout_lines(&mut self) -> &[String] {
        self.stdout.drain();
        &self.stdout.seen
    }

    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(self.child.id() as i32);
        kill(pid, signal).unwrap_or_else(|err| panic!("kill({pid}, {signal}): {err}"));
    }

    /// Closes the read end of the tool's stdout, as `| head` does when done.
    pub fn close_stdout(&mut self) {
        self.stdout.close();
    }

    /// Stops reading the tool's stdout, keeping it open, as a stalled
    /// reader (a paused `less`, a stuck log shipper) does: once the pipe is
    /// full, the tool's writes block. Reading resumes in `wait_for_exit`.
    pub fn stop_reading_stdout(&mut self) {
        self.stdout.paused.store(true, Ordering::SeqCst);
    }

    /// Whether the tool is blocked writing to a full pipe: asleep in
    /// write(2) on fd 1 (from /proc, the same on every kernel; wchan's
    /// function names differ between versions).
    pub fn blocked_writing(&self) -> bool {
        let proc = format!("/proc/{}", self.child.id());
        let syscall = std::fs::read_to_string(format!("{proc}/syscall")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("{proc}/stat")).unwrap_or_default();
        // The state follows the command name, which is in parentheses.
        let asleep = stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('S'));
        asleep && syscall.starts_with(&format!("{} 0x1 ", libc::SYS_write))
    }

    /// Whether the tool exits within `timeout`.
    pub fn exits_within(&mut self, timeout: Duration) -> bool {
        wait_until(&mut self.child, Instant::now() + timeout).is_some()
    }

    /// Sends `signal` and waits for the tool to exit.
    #[track_caller]
    pub fn stop_with(self, signal: Signal) -> Finished {
        self.signal(signal);
        self.wait_for_exit(TIMEOUT)
    }

    /// Waits for the tool to exit and for the end of its output.
    #[track_caller]
    pub fn wait_for_exit(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let Some(status) = wait_until(&mut self.child, deadline) else {
            panic!(
                "the tool did not exit within {timeout:?}\n{}",
                self.describe()
            );
        };
        // The pipes end with the process (a closed stdout has ended already).
        self.stdout.paused.store(false, Ordering::SeqCst);
        let stdout_ended = self.stdout.thread.is_none() || self.stdout.wait_end(deadline);
        assert!(
            stdout_ended && self.stderr.wait_end(deadline),
            "output did not end"
        );
        Finished {
            status,
            stdout: std::mem::take(&mut self.stdout.seen),
            stderr: std::mem::take(&mut self.stderr.seen),
        }
    }

    /// The tool's state, recent stdout and stderr, for failure messages.
    fn describe(&mut self) -> String {
        let state = match self.child.try_wait() {
            Ok(Some(status)) => {
                // Let the last words (a panic message, say) arrive.
                self.stderr
                    .wait_end(Instant::now() + Duration::from_secs(1));
                format!("exited: {status}")
            }
            _ => "still running".to_string(),
        };
        let programs = host::bpf_program_runs(self.child.id());
        let programs: String = programs
            .iter()
            .map(|line| format!("    {line}\n"))
            .collect();
        format!(
            "tool {state}\nlast stdout lines:\n{}stderr:\n{}its BPF programs (run_cnt counts while \
             kernel.bpf_stats_enabled={}):\n{programs}",
            self.stdout.last_lines(20),
            self.stderr.last_lines(20),
            host::bpf_stats_enabled(),
        )
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Checks how a tool fails on a bad setup or command line: a non-zero exit
/// status and exactly one clear line on stderr, neither a panic nor libbpf's
/// log. Returns that line.
#[track_caller]
pub fn assert_one_error_line(finished: &Finished) -> &str {
    assert!(
        !finished.status.success(),
        "exited with {} on error",
        finished.status
    );
    let [line] = finished.stderr.as_slice() else {
        panic!("expected one stderr line, got {:#?}", finished.stderr);
    };
    assert!(!line.trim().is_empty(), "the error line is empty");
    assert!(!line.contains("panicked"), "panic: {line}");
    assert!(
        !line.starts_with("libbpf:"),
        "libbpf log without -v: {line}"
    );
    line
}

/// A shell held at a gate: it prints "ready" once it runs (so any wrapper
/// such as `unshare` has done its work), then runs `script` when released.
pub struct Gated {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Gated {
    /// Runs `wrapper... sh -c 'echo ready; read go; SCRIPT'` and waits for "ready".
    #[track_caller]
    pub fn spawn(wrapper: &[&str], script: &str) -> Self {
        let mut command = match wrapper {
            [] => Command::new("sh"),
            [program, args @ ..] => {
                let mut command = Command::new(program);
                command.args(args).arg("sh");
                command
            }
        };
        command
            .args(["-c", &format!("echo ready; read go; {script}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
        let stdin = child.stdin.take();
        let mut stdout = LineReader::spawn(child.stdout.take().expect("piped stdout"));
        let deadline = Instant::now() + TIMEOUT;
        while !stdout.seen.iter().any(|line| line == "ready") {
            assert!(stdout.wait_more(deadline), "{command:?} did not get ready");
        }
        Self { child, stdin }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Opens the gate and waits for the shell to finish.
    pub fn release(mut self) -> ExitStatus {
        let mut stdin = self.stdin.take().expect("released once");
        stdin.write_all(b"go\n").expect("write to the gated shell");
        drop(stdin);
        wait_child(&mut self.child, TIMEOUT)
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
