//! The pipeline's contract, tested once here for every tool: what each
//! tool does because `runtime::pipeline` runs it, whatever it traces.
//! Pinned-map filters, `--btf` and a hidden kernel BTF, signals and exit
//! codes, a closed or a blocked stdout, the perf buffer channel, losses in
//! text and in JSON, `--help`/`--usage`/`--version`, bad flags, missing
//! privileges or BTF.
//!
//! A tool's test file implements [`TracedTool`] (how to cause one event the
//! tool prints and recognise its row) and adds `contract::trials::<Tool>()`
//! to its own trials, named `contract::TEST` (`cargo test --test TOOL --
//! contract` runs them). tests/cli.rs checks that every tool declared in
//! src/lib.rs has such a test file.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use libbpf_rs::MapType;
use libtest_mimic::Trial;
use nix::sys::signal::Signal;

use super::host::{
    bpf_map_types, in_private_mount_namespace, kernel_btf_copy, lost_events_reported, path_arg,
    setpriv_as, PinnedMap, PinnedProgram, TestCgroup, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    BPF_MAP_TYPE_RINGBUF, HIDE_KERNEL_BTF,
};
use super::temp_dir::TempDir;
use super::tools::binary;
use super::trials::{bpf_test, bpf_test_alone, plain_test};
use super::{assert_one_error_line, run, unique_marker, Finished, Gated, Tool, TIMEOUT};

/// A tool as the contract drives it: how to cause one event it prints, from
/// this test or from a shell it runs, and how to recognise the event's row.
pub trait TracedTool: 'static {
    /// The tool's name, as declared in src/lib.rs (`tools!`).
    const NAME: &'static str;
    /// How many [`TracedTool::flood_event`]s, caused while the tool is
    /// stopped, overflow its channel (ring buffer or perf buffers) at its
    /// default size.
    const BURST: usize;

    /// What causing one kind of event needs while the test runs (a marker
    /// of its own; tcpconnect: a port of its own).
    type Event;

    /// A new event of this test's own, with `label` in its marker. It can
    /// be caused any number of times.
    fn event(label: &str) -> Self::Event;

    /// An event to cause many times in a row, to flood the tool's channel or
    /// stdout: its row as long as the tool makes rows, and nothing left
    /// behind that a flood of it would run out of (no TIME_WAIT sockets).
    fn flood_event(label: &str) -> Self::Event {
        Self::event(label)
    }

    /// Flags that keep, in the kernel, the host's other activity out of the
    /// tool, but not `events`.
    fn only(events: &[&Self::Event]) -> Vec<String>;

    /// Causes the event once, from this test or a child of it, and returns
    /// the row the tool prints for it (with its default columns).
    fn cause(event: &Self::Event) -> String;

    /// Shell commands that cause the event from the shell running them,
    /// keeping its pid (they end in an exec).
    fn script(event: &Self::Event) -> String;

    /// The row of the event caused by [`TracedTool::script`] in the shell
    /// `pid`, a child of this test.
    fn script_row(event: &Self::Event, pid: u32) -> String;

    /// Whether `line`, a row or a JSON record, is about this event (caused
    /// by whatever process).
    fn mentions(event: &Self::Event, line: &str) -> bool;

    /// Whether `line` is `row`, a row [`TracedTool::cause`] or
    /// [`TracedTool::script_row`] gave: the same, but for what the tool
    /// measures and the test cannot know (exitsnoop's AGE(s)).
    fn is_row(row: &str, line: &str) -> bool {
        line == row
    }

    /// Command lines the tool refuses on its own.
    fn bad_arguments() -> Vec<Refused>;
}

/// A command line the tool must refuse, and what its error line must
/// mention.
pub struct Refused {
    args: Vec<String>,
    mentioned: Vec<&'static str>,
}

pub fn refused(args: &[&str], mentioned: &[&'static str]) -> Refused {
    Refused {
        args: args.iter().map(|arg| arg.to_string()).collect(),
        mentioned: mentioned.to_vec(),
    }
}

/// The contract's trials for tool `T`, named `contract::TEST`.
pub fn trials<T: TracedTool>() -> Vec<Trial> {
    let name = |test: &str| format!("contract::{test}");
    macro_rules! shared {
        ($($test:ident),* $(,)?) => {
            vec![$(bpf_test(name(stringify!($test)), $test::<T>)),*]
        };
    }
    let mut trials = shared![
        cgroupmap_shows_only_cgroups_in_the_pinned_map,
        mntnsmap_shows_only_mount_namespaces_in_the_pinned_map,
        pinned_filters_must_be_pinned_hash_maps,
        btf_file_given_with_btf_is_used,
        hidden_kernel_btf_is_replaced_by_the_btf_file,
        missing_kernel_btf_is_one_clear_error,
        not_root_is_one_clear_error,
        sigint_flushes_and_exits_zero,
        sigterm_flushes_and_exits_zero,
        closed_stdout_ends_quietly,
        stop_signal_ends_a_tool_whose_stdout_is_not_read,
        perf_buffer_channel_prints_the_same_rows,
    ];
    // They flood every tracer on the host: each runs alone.
    trials.extend([
        bpf_test_alone(
            name("lost_events_are_counted_exactly_and_tracing_goes_on"),
            lost_events_are_counted_exactly_and_tracing_goes_on::<T>,
        ),
        bpf_test_alone(
            name("every_event_is_printed_or_counted_up_to_the_exit"),
            every_event_is_printed_or_counted_up_to_the_exit::<T>,
        ),
        bpf_test_alone(
            name("json_streams_carry_their_losses"),
            json_streams_carry_their_losses::<T>,
        ),
    ]);
    trials.extend([
        plain_test(
            name("help_usage_and_version_print_and_exit_0"),
            help_usage_and_version_print_and_exit_0::<T>,
        ),
        plain_test(
            name("bad_flags_are_one_line_on_stderr_and_exit_64"),
            bad_flags_are_one_line_on_stderr_and_exit_64::<T>,
        ),
    ]);
    trials
}

/// The tool with `args`.
fn command<T: TracedTool>(args: &[impl AsRef<std::ffi::OsStr>]) -> Command {
    let mut command = Command::new(binary(T::NAME));
    command.args(args);
    command
}

/// The tool with `args`, and [`TracedTool::only`] for `events`.
fn command_only<T: TracedTool>(args: &[&str], events: &[&T::Event]) -> Command {
    let mut command = command::<T>(args);
    command.args(T::only(events));
    command
}

/// Starts `command` and waits until it traces (its header is printed once
/// its programs are attached).
fn start(command: Command) -> Tool {
    let mut tool = Tool::spawn(command);
    tool.wait_for_header(TIMEOUT);
    tool
}

/// The binary's path, for a shell to run.
fn binary_arg<T: TracedTool>() -> String {
    path_arg(&binary(T::NAME)).to_string()
}

/// Runs `sh -c 'SETUP && SCRIPT'`; returns the row of its event.
fn cause_after<T: TracedTool>(setup: &str, event: &T::Event) -> String {
    let script = format!("{setup} && {}", T::script(event));
    let (pid, status) = run(Command::new("sh").args(["-c", &script]));
    assert!(status.success(), "{script}: {status}");
    T::script_row(event, pid)
}

/// Runs `command`, which must fail; returns its one error line.
fn run_to_failure(command: Command) -> String {
    let finished = Tool::spawn(command).wait_for_exit(TIMEOUT);
    assert!(finished.stdout.is_empty(), "{:#?}", finished.stdout);
    assert_one_error_line(&finished).to_string()
}

fn cgroupmap_shows_only_cgroups_in_the_pinned_map<T: TracedTool>() {
    let cgroup = TestCgroup::create(&format!("{}-cgroupmap", T::NAME));
    let map = PinnedMap::create("cgroupmap", MapType::Hash, 8);
    map.insert(cgroup.id());
    let mut tool = start(command::<T>(&["--cgroupmap", path_arg(map.path())]));

    let outside = T::event("outside");
    T::cause(&outside);
    let inside = T::event("inside");
    let row = cause_after::<T>(&cgroup.enter_command(), &inside);

    tool.expect_line(|line| T::is_row(&row, line), TIMEOUT);
    tool.assert_no_line(|line| T::mentions(&outside, line));
}

fn mntnsmap_shows_only_mount_namespaces_in_the_pinned_map<T: TracedTool>() {
    let map = PinnedMap::create("mntnsmap", MapType::Hash, 8);
    let inside = T::event("inside");
    let unshare = ["unshare", "--mount", "--propagation", "private"];
    let unshared = Gated::spawn(&unshare, &T::script(&inside));
    let same = T::event("same-namespace");
    let same_namespace = Gated::spawn(&[], &T::script(&same));
    // A namespace's id is the inode number of its /proc/PID/ns file.
    let mount_namespace = |pid: u32| {
        let path = format!("/proc/{pid}/ns/mnt");
        let namespace = fs::metadata(&path).unwrap_or_else(|err| panic!("stat {path}: {err}"));
        namespace.ino()
    };
    let unshared_ns = mount_namespace(unshared.pid());
    assert_ne!(unshared_ns, mount_namespace(std::process::id()));
    map.insert(unshared_ns);
    let mut tool = start(command::<T>(&["--mntnsmap", path_arg(map.path())]));

    let outside = T::event("outside");
    T::cause(&outside);
    assert!(same_namespace.release().success());
    let pid = unshared.pid();
    assert!(unshared.release().success());

    let row = T::script_row(&inside, pid);
    tool.expect_line(|line| T::is_row(&row, line), TIMEOUT);
    tool.assert_no_line(|line| T::mentions(&outside, line));
    tool.assert_no_line(|line| T::mentions(&same, line));
}

/// The ways the tool spells `--NAME` (its long flag, and a short one if it
/// has one), from its command line as src/lib.rs declares it.
fn spellings<T: TracedTool>(long: &str) -> Vec<String> {
    let manuals = bpftools::tools::manuals();
    let manual = manuals
        .iter()
        .find(|manual| manual.command.get_name() == T::NAME)
        .unwrap_or_else(|| panic!("{} is not declared in src/lib.rs", T::NAME));
    let arg = manual
        .command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .unwrap_or_else(|| panic!("{} has no --{long}", T::NAME));
    let short = arg.get_short().map(|short| format!("-{short}"));
    [format!("--{long}")].into_iter().chain(short).collect()
}

/// A path that is not a pinned hash map with 8-byte keys is one clear
/// error naming the flag, the path and what is wrong, whichever way the
/// flag is spelled.
fn pinned_filters_must_be_pinned_hash_maps<T: TracedTool>() {
    let dir = TempDir::new("not-a-map");
    let regular_file = dir.path().join("file");
    fs::write(&regular_file, b"").expect("create a file");
    let missing_elsewhere = dir.path().join("missing");
    let missing_on_bpffs = Path::new("/sys/fs/bpf").join(unique_marker("missing"));
    let array = PinnedMap::create("array", MapType::Array, 4);
    let program = PinnedProgram::create("program");
    let cases = [
        (missing_on_bpffs.as_path(), "not a pinned BPF map"),
        (&missing_elsewhere, "not a pinned BPF map"),
        (&regular_file, "not a pinned BPF map"),
        (array.path(), "must be a hash map with 8-byte keys"),
        (program.path(), "a pinned BPF program, not a map"),
    ];
    for long in ["cgroupmap", "mntnsmap"] {
        for flag in spellings::<T>(long) {
            for (path, reason) in cases {
                let line = run_to_failure(command::<T>(&[flag.as_str(), path_arg(path)]));
                let named = format!("{}: --{long} {}: ", T::NAME, path.display());
                assert!(
                    line.starts_with(&named) && line.contains(reason),
                    "{flag} {}: {line}",
                    path.display()
                );
            }
        }
    }
}

fn btf_file_given_with_btf_is_used<T: TracedTool>() {
    let dir = TempDir::new("btf");
    let btf = kernel_btf_copy(&dir);
    let event = T::event("btf");
    let mut tool = start(command_only::<T>(&["--btf", path_arg(&btf)], &[&event]));
    let row = T::cause(&event);
    tool.expect_line(|line| T::is_row(&row, line), TIMEOUT);

    let not_btf = dir.path().join("not-btf");
    fs::write(&not_btf, b"this is not BTF").expect("write a file");
    let line = run_to_failure(command::<T>(&["--btf", path_arg(&not_btf)]));
    let wanted = format!("--btf {}: not a readable BTF file", not_btf.display());
    assert!(line.contains(&wanted), "{line}");
}

/// With the kernel's BTF hidden (as on a kernel built without it), a BTF
/// file given with --btf is what CO-RE uses.
fn hidden_kernel_btf_is_replaced_by_the_btf_file<T: TracedTool>() {
    let dir = TempDir::new("hidden-btf");
    let btf = kernel_btf_copy(&dir);
    let event = T::event("hidden-btf");
    let mut command = in_private_mount_namespace(&binary_arg::<T>(), HIDE_KERNEL_BTF, "");
    command
        .args(["--btf", path_arg(&btf)])
        .args(T::only(&[&event]));
    let mut tool = start(command);
    let row = T::cause(&event);
    tool.expect_line(|line| T::is_row(&row, line), TIMEOUT);
}

fn missing_kernel_btf_is_one_clear_error<T: TracedTool>() {
    let line = run_to_failure(in_private_mount_namespace(
        &binary_arg::<T>(),
        HIDE_KERNEL_BTF,
        "",
    ));
    assert!(line.contains("BTF"), "{line}");
    // The way out is named: a BTF file for this kernel.
    assert!(line.contains("--btf PATH"), "{line}");
}

fn not_root_is_one_clear_error<T: TracedTool>() {
    let mut command = setpriv_as(65534);
    command.args(["--inh-caps=-all", "--bounding-set=-all", &binary_arg::<T>()]);
    let line = run_to_failure(command);
    assert!(
        line.contains("privileges") && line.contains("root"),
        "{line}"
    );
}

/// An event caused just before `signal` is printed, and the tool exits 0
/// without a word on stderr.
fn check_clean_stop<T: TracedTool>(signal: Signal) {
    let event = T::event("last-row");
    let tool = start(command_only::<T>(&[], &[&event]));
    let row = T::cause(&event);
    let finished = tool.stop_with(signal);

    assert_eq!(
        finished.status.code(),
        Some(0),
        "exit status after {signal}"
    );
    assert_eq!(finished.stderr, Vec::<String>::new());
    assert!(
        finished.stdout.iter().any(|line| T::is_row(&row, line)),
        "no row for the event before {signal}: {:#?}",
        finished.stdout
    );
}

fn sigint_flushes_and_exits_zero<T: TracedTool>() {
    check_clean_stop::<T>(Signal::SIGINT);
}

fn sigterm_flushes_and_exits_zero<T: TracedTool>() {
    check_clean_stop::<T>(Signal::SIGTERM);
}

fn closed_stdout_ends_quietly<T: TracedTool>() {
    let event = T::event("closed-stdout");
    let mut tool = start(command_only::<T>(&[], &[&event]));
    tool.close_stdout();
    let deadline = Instant::now() + TIMEOUT;
    // The first row written after the close ends the tool.
    while !tool.exits_within(Duration::from_millis(100)) {
        assert!(
            Instant::now() < deadline,
            "{} runs on with its stdout closed",
            T::NAME
        );
        T::cause(&event);
    }
    let finished = tool.wait_for_exit(TIMEOUT);
    assert_eq!(finished.status.code(), Some(0));
    assert_eq!(finished.stderr, Vec::<String>::new());
}

/// SIGTERM or SIGINT ends a tool within a second while it is blocked
/// writing to a stdout nobody reads, and it says how much output was lost.
fn stop_signal_ends_a_tool_whose_stdout_is_not_read<T: TracedTool>() {
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        let event = T::flood_event("blocked");
        let mut tool = start(command_only::<T>(&[], &[&event]));
        tool.stop_reading_stdout();
        // Long rows fill a 64 KiB pipe in a dozen events; an emulated kernel
        // (make test-kernels) may take a second for each.
        let deadline = Instant::now() + 3 * TIMEOUT;
        let mut events = 0;
        while !tool.blocked_writing() {
            assert!(
                Instant::now() < deadline,
                "not blocked after {events} events"
            );
            T::cause(&event);
            events += 1;
        }
        let signalled = Instant::now();
        tool.signal(signal);
        // Without the watchdog the tool would wait on the pipe for ever. With
        // it, the tool gives up after its grace (0.7 s) and exits, and the
        // kernel then detaches its programs: one RCU grace period per
        // tracepoint attached the perf way, which an emulated kernel makes
        // slow; so the bound tells "ended" from "hung", not fast from slow.
        assert!(tool.exits_within(TIMEOUT), "{signal} did not end it");
        let took = signalled.elapsed();
        let finished = tool.wait_for_exit(TIMEOUT);
        assert_eq!(finished.status.code(), Some(0), "{signal}");
        let [line] = finished.stderr.as_slice() else {
            panic!("{signal}: {:#?}", finished.stderr);
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let said = format!("{}: stdout is not being read: ", T::NAME);
        assert!(
            line.starts_with(&said) && line.ends_with("bytes) of output were not written"),
            "{line}"
        );
        let lines: usize = words[6].parse().expect("a count of lines");
        assert!(lines > 0, "{line} (after {took:?})");
    }
}

/// The ring buffer by default, perf buffers when asked (as on kernels
/// before 5.8): the same rows either way.
fn perf_buffer_channel_prints_the_same_rows<T: TracedTool>() {
    for channel in CHANNELS {
        let event = T::event("channel");
        let mut command = command_only::<T>(&[], &[&event]);
        if let Some(channel) = channel {
            command.env(CHANNEL_VARIABLE, channel);
        }
        let mut tool = start(command);
        let maps = bpf_map_types(tool.pid());
        match channel {
            None => assert!(maps.contains(&BPF_MAP_TYPE_RINGBUF), "{maps:?}"),
            Some(_) => assert!(
                maps.contains(&BPF_MAP_TYPE_PERF_EVENT_ARRAY)
                    && !maps.contains(&BPF_MAP_TYPE_RINGBUF),
                "{maps:?}"
            ),
        }
        let row = T::cause(&event);
        tool.expect_line(|line| T::is_row(&row, line), TIMEOUT);
    }
}

/// The variable that forces an event channel.
const CHANNEL_VARIABLE: &str = "BPFTOOLS_EVENT_CHANNEL";
/// The channels a test runs on: the ring buffer, and perf buffers forced.
const CHANNELS: [Option<&str>; 2] = [None, Some("perf")];

/// Starts the tool on `channel`, in text or JSON, stops it (SIGSTOP),
/// causes [`TracedTool::BURST`] `burst` events, more than its channel holds,
/// and lets it go on (SIGCONT).
fn burst_while_stopped<T: TracedTool>(
    channel: Option<&str>,
    json: bool,
    burst: &T::Event,
    events: &[&T::Event],
) -> Tool {
    let args: &[&str] = if json { &["--json"] } else { &[] };
    let mut command = command_only::<T>(args, events);
    if let Some(channel) = channel {
        command.env(CHANNEL_VARIABLE, channel);
    }
    let mut tool = Tool::spawn(command);
    match json {
        true => tool.wait_for_ready_line(TIMEOUT),
        false => drop(tool.wait_for_header(TIMEOUT)),
    }
    tool.signal(Signal::SIGSTOP);
    for _ in 0..T::BURST {
        T::cause(burst);
    }
    tool.signal(Signal::SIGCONT);
    tool
}

/// A burst larger than the channel while the tool is stopped: it survives
/// and traces on, and what it reports lost is exactly what is missing.
fn lost_events_are_counted_exactly_and_tracing_goes_on<T: TracedTool>() {
    let burst = T::flood_event("burst");
    let sentinel = T::event("sentinel");
    let mut tool = burst_while_stopped::<T>(None, false, &burst, &[&burst, &sentinel]);
    // Room comes back only as the tool catches up, and a sentinel sent
    // before that is lost too: send sentinels until one shows, counting all.
    let mut sentinels = 0;
    loop {
        T::cause(&sentinel);
        sentinels += 1;
        let shown = tool.find_line(
            |line| T::mentions(&sentinel, line),
            Duration::from_millis(500),
        );
        if shown.is_some() {
            break;
        }
        assert!(sentinels < 20, "no sentinel shown after the burst");
    }

    let finished = tool.stop_with(Signal::SIGINT);
    assert!(finished.status.success(), "{}", finished.status);
    let ours = |line: &&String| T::mentions(&burst, line) || T::mentions(&sentinel, line);
    let shown = finished.stdout.iter().filter(ours).count();
    let lost = lost_events_reported(&finished.stderr);
    assert!(
        lost > 0,
        "nothing lost: the burst did not overflow the buffer"
    );
    let sent = T::BURST + sentinels;
    assert_eq!(
        lost + shown,
        sent,
        "{lost} lost and {shown} shown of {sent}"
    );
}

/// A burst, then SIGINT at once: the tool stops with every event printed or
/// counted, on both channels.
fn burst_then_stop<T: TracedTool>(channel: Option<&str>, json: bool) -> (Finished, T::Event) {
    let burst = T::flood_event("burst");
    let tool = burst_while_stopped::<T>(channel, json, &burst, &[&burst]);
    let finished = tool.stop_with(Signal::SIGINT);
    assert!(finished.status.success(), "{}", finished.status);
    (finished, burst)
}

/// Every event is printed or counted, on both channels, even when the tool
/// stops right after a burst that overflowed its channel.
fn every_event_is_printed_or_counted_up_to_the_exit<T: TracedTool>() {
    for channel in CHANNELS {
        let (finished, burst) = burst_then_stop::<T>(channel, false);
        let shown = finished
            .stdout
            .iter()
            .filter(|line| T::mentions(&burst, line))
            .count();
        let lost = lost_events_reported(&finished.stderr);
        assert!(
            lost > 0,
            "{channel:?}: nothing lost: the burst did not overflow"
        );
        assert_eq!(
            lost + shown,
            T::BURST,
            "{channel:?}: {lost} lost and {shown} shown of {}",
            T::BURST
        );
        if channel.is_some() {
            let per_cpu = |l: &String| l.starts_with("Lost ") && l.contains(" events on CPU #");
            assert!(
                finished.stderr.iter().all(per_cpu),
                "{:#?}",
                finished.stderr
            );
        }
    }
}

/// A JSON stream says itself where it has a gap: loss records, which with
/// the events add up to everything sent.
fn json_streams_carry_their_losses<T: TracedTool>() {
    for channel in CHANNELS {
        let (finished, burst) = burst_then_stop::<T>(channel, true);
        let mut shown = 0;
        let mut lost_in_stream = 0;
        for line in &finished.stdout {
            let record: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
            if let Some(lost) = record["lost"].as_u64() {
                assert!(record["time"].is_string(), "{line}");
                assert_eq!(record["cpu"].is_u64(), channel.is_some(), "{line}");
                lost_in_stream += lost as usize;
            } else if T::mentions(&burst, line) {
                shown += 1;
            }
        }
        assert!(lost_in_stream > 0, "{channel:?}: no loss record");
        assert_eq!(lost_in_stream, lost_events_reported(&finished.stderr));
        assert_eq!(lost_in_stream + shown, T::BURST, "{channel:?}");
    }
}

/// `--help`, `--usage` and `--version` print on stdout, name the tool and
/// exit 0, without a word on stderr (and without loading BPF: so as any user).
fn help_usage_and_version_print_and_exit_0<T: TracedTool>() {
    assert!(
        bpftools::tools::NAMES.contains(&T::NAME),
        "{} is not declared in src/lib.rs",
        T::NAME
    );
    let name = T::NAME;
    let printed = |flag: &str| {
        let out = command::<T>(&[flag]).output().expect("run the tool");
        assert!(out.status.success(), "{flag}: {out:?}");
        assert!(out.stderr.is_empty(), "{flag}: {out:?}");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let help = printed("--help");
    assert!(
        help.contains(&format!("\nUsage: {name} [OPTIONS]\n")),
        "{help}"
    );
    let usage = printed("--usage");
    assert!(usage.starts_with(&format!("Usage: {name} [-")), "{usage}");
    let version = printed("--version");
    assert_eq!(version, format!("{name} {}\n", env!("CARGO_PKG_VERSION")));
}

/// A command line the tool refuses is one line on stderr naming the tool
/// and what is wrong, nothing on stdout, and exit status 64 (EX_USAGE, as
/// upstream's argp).
fn bad_flags_are_one_line_on_stderr_and_exit_64<T: TracedTool>() {
    let unknown = refused(&["--no-such-flag"], &["--no-such-flag"]);
    for Refused { args, mentioned } in [unknown].into_iter().chain(T::bad_arguments()) {
        let finished = Tool::spawn(command::<T>(&args)).wait_for_exit(TIMEOUT);
        let line = assert_one_error_line(&finished);
        assert!(
            line.starts_with(&format!("{}: ", T::NAME)),
            "{args:?}: {line}"
        );
        for text in mentioned {
            assert!(line.contains(text), "{args:?}: {line}");
        }
        assert_eq!(finished.status.code(), Some(64), "{args:?}: {line}");
        assert!(
            finished.stdout.is_empty(),
            "{args:?}: {:#?}",
            finished.stdout
        );
    }
}
