//! Storm benchmark (issue 4): how much an exec storm, a connect storm, an
//! exit storm and a DNS lookup storm slow down while our execsnoop /
//! tcpconnect / exitsnoop / tcpconnect -d trace them, what the tools cost in
//! CPU and memory, whether they report every event, and the same for a
//! comparison tool when one is found. A benchmark: it never fails on a number.
//!
//! As root: `cargo bench --bench storm [-- --rounds N --execs N --connects N --lookups N]`
//! or `cargo bench --bench storm -- --soak SECONDS`.
//! COMPARE_EXECSNOOP / COMPARE_TCPCONNECT / COMPARE_EXITSNOOP name the
//! comparison tools (paths separated by `:`); by default the tool of the same
//! name from PATH or /usr/sbin, if not ours.

#[path = "storm/measure.rs"]
mod measure;
#[path = "storm/report.rs"]
mod report;
#[path = "storm/soak.rs"]
mod soak;
#[path = "storm/tool.rs"]
mod tool;
#[path = "storm/workload.rs"]
mod workload;

use std::env;
use std::fs;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use measure::{binary_resident_kib, lost_notices, EventPattern, MemoryKinds, OutputFollower};
use report::{Outcome, ToolResults, ToolRun, WorkloadResults};
use tool::{Role, Tool};
use workload::{ConnectStorm, ExecStorm, LookupStorm, StormRun, RESOLVER};

const USAGE: &str =
    "usage: cargo bench --bench storm [-- --rounds N --execs N --connects N --lookups N --each-way]
       cargo bench --bench storm -- --soak SECONDS";

/// After the storm, how long a tool may go without writing before it is
/// taken to have written all it will: ours flushes every batch, so a pause
/// this long means it has caught up, or lost the rest; a comparison tool
/// block-buffers a file stdout, and SIGINT then makes it flush the rest (it
/// is stopped at once only if its output already holds every event). On a
/// busy machine a tool still catching up keeps writing, and is waited for.
const CATCH_UP_QUIET: Duration = Duration::from_secs(1);
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);

struct Options {
    rounds: usize,
    execs: usize,
    connects: usize,
    lookups: usize,
    /// The connect storm runs our tcpconnect once per attach way (every way
    /// must be offered by the kernel) instead of its flag variants.
    each_way: bool,
    soak: Option<Duration>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut options = Options {
            rounds: 5,
            execs: 3_000,
            connects: 20_000,
            lookups: 5_000,
            each_way: false,
            soak: None,
        };
        while let Some(arg) = args.next() {
            let mut value = || -> Result<u64, String> {
                let text = args.next().ok_or(format!("{arg} needs a value"))?;
                match text.parse() {
                    Ok(number @ 1..) => Ok(number),
                    _ => Err(format!("{arg}: not a positive number: {text}")),
                }
            };
            match arg.as_str() {
                "--rounds" => options.rounds = value()? as usize,
                "--execs" => options.execs = value()? as usize,
                "--connects" => options.connects = value()? as usize,
                "--lookups" => options.lookups = value()? as usize,
                "--soak" => options.soak = Some(Duration::from_secs(value()?)),
                "--each-way" => options.each_way = true,
                // cargo bench passes --bench to every bench binary.
                "--bench" => {}
                _ => return Err(format!("unknown argument: {arg}")),
            }
        }
        Ok(options)
    }
}

#[derive(Clone, Copy)]
enum Workload {
    Exec,
    Connect,
    /// The exec storm, its processes' ends traced.
    Exit,
    /// DNS lookups, each followed by a connect to the answer (tcpconnect -d).
    Lookup,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Exec => "exec storm",
            Workload::Connect => "connect storm",
            Workload::Exit => "exit storm",
            Workload::Lookup => "lookup storm",
        }
    }

    /// Runs one storm of `size` events, its events tagged with `run_id`.
    fn run(self, run_id: usize, size: usize) -> Result<(StormRun, EventPattern), String> {
        match self {
            Workload::Exec => {
                let storm = ExecStorm::new(&run_id.to_string());
                Ok((storm.run(size), storm.pattern()))
            }
            Workload::Exit => {
                let storm = ExecStorm::new(&run_id.to_string());
                Ok((storm.run(size), storm.exit_pattern()))
            }
            Workload::Connect => {
                let storm = ConnectStorm::listen()
                    .map_err(|err| format!("cannot listen on loopback: {err}"))?;
                let pattern = storm.pattern();
                Ok((storm.run(size), pattern))
            }
            Workload::Lookup => {
                let storm = LookupStorm::listen(&run_id.to_string()).map_err(|err| {
                    format!("cannot answer DNS on {RESOLVER} or listen on loopback: {err}")
                })?;
                let pattern = storm.pattern();
                Ok((storm.run(size), pattern))
            }
        }
    }
}

fn main() -> ExitCode {
    if env::args().any(|arg| arg == "-h" || arg == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse(env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("storm: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("storm: must run as root: the tools load BPF programs (sudo -E cargo bench --bench storm)");
        return ExitCode::FAILURE;
    }
    let scratch = env::temp_dir().join(format!("storm-bench-{}", std::process::id()));
    if let Err(err) = fs::create_dir_all(&scratch) {
        eprintln!("storm: cannot create {}: {err}", scratch.display());
        return ExitCode::FAILURE;
    }
    let result = match options.soak {
        Some(duration) => soak::run(
            &ours("execsnoop", env!("CARGO_BIN_EXE_execsnoop")),
            duration,
            &scratch,
        ),
        None => run_benchmark(&options, &scratch),
    };
    // The outputs are only read by this run.
    let _ = fs::remove_dir_all(&scratch);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("storm: {message}");
            ExitCode::FAILURE
        }
    }
}

fn ours(name: &str, path: &str) -> Tool {
    ours_with(name, path, &[], &[])
}

/// Ours with `flags` and `environment` variables, labelled with them.
fn ours_with(name: &str, path: &str, environment: &[(&str, &str)], flags: &[&str]) -> Tool {
    let variables = environment
        .iter()
        .map(|(key, value)| format!("{key}={value}"));
    let command = variables.chain(std::iter::once(name.to_string()));
    let command = command.chain(flags.iter().map(|flag| flag.to_string()));
    Tool {
        label: format!("ours: {}", command.collect::<Vec<_>>().join(" ")),
        path: PathBuf::from(path),
        args: flags.iter().map(|flag| flag.to_string()).collect(),
        environment: environment
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        role: Role::Ours,
    }
}

/// A channel made small on purpose (half the default here), to show
/// the wake-up policy at work: with it the reader is woken as the ring fills;
/// with the fixed 50 ms batching of earlier releases (BPFTOOLS_WAKEUP=timer)
/// the ring overflows in the connect storm.
const SMALL_CHANNEL_FLAGS: [&str; 2] = ["--buffer-size", "64K"];
const FIXED_BATCHING: (&str, &str) = ("BPFTOOLS_WAKEUP", "timer");

/// An environment variable given to a tool: (name, value).
type Variable = (&'static str, &'static str);

/// tcpconnect's attach ways, for --each-way: fentry, kprobe, and the
/// tracepoint in its BTF flavor (tp_btf) and its classic one.
const ATTACH_WAYS: [(&[Variable], &[&str]); 4] = [
    (&[], &["--attach", "fentry"]),
    (&[], &["--attach", "kprobe"]),
    (&[], &["--attach", "tracepoint"]),
    (
        &[("BPFTOOLS_TRACEPOINT", "classic")],
        &["--attach", "tracepoint"],
    ),
];

/// The context columns' flags: their cost is measured beside the default's.
const EXECSNOOP_CONTEXT_FLAGS: [&str; 3] = ["--container", "--ancestors", "--cwd"];
/// exitsnoop with the command line of each exit (three more programs where
/// an exit begins).
const EXITSNOOP_CMDLINE_FLAGS: [&str; 2] = ["--max-args", "20"];

/// Ours, then the comparison tools: those `compare_variable` names (paths
/// separated by `:`, as in PATH: upstream's and an older build of ours, say),
/// or else the one found on PATH.
fn tools(name: &str, ours_path: &str, compare_variable: &str) -> Vec<Tool> {
    let ours = ours(name, ours_path);
    let comparisons = match env::var_os(compare_variable) {
        Some(paths) => env::split_paths(&paths)
            .filter(|path| !path.as_os_str().is_empty())
            .collect(),
        None => find_other(name, &ours.path).into_iter().collect::<Vec<_>>(),
    };
    let mut tools = vec![ours];
    tools.extend(comparisons.into_iter().map(|path| Tool {
        label: path.display().to_string(),
        path,
        args: Vec::new(),
        environment: Vec::new(),
        role: Role::Comparison,
    }));
    tools
}

/// Whether `candidate` is a copy of our tool (installed, say, in
/// /usr/local/sbin): it answers --version as ours does.
fn is_a_copy_of_ours(name: &str, candidate: &Path) -> bool {
    let ours = format!("{name} {}\n", env!("CARGO_PKG_VERSION"));
    std::process::Command::new(candidate)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .is_ok_and(|out| out.stdout == ours.as_bytes())
}

/// `name` on PATH or in /usr/sbin, /sbin, that is neither our binary nor a
/// copy of it.
fn find_other(name: &str, ours: &Path) -> Option<PathBuf> {
    let ours = fs::canonicalize(ours).ok();
    let path_dirs = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| {
            let executable = fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0);
            executable
                && fs::canonicalize(candidate).ok() != ours
                && !is_a_copy_of_ours(name, candidate)
        })
}

fn run_benchmark(options: &Options, scratch: &Path) -> Result<(), String> {
    let started = Instant::now();
    let execsnoop = env!("CARGO_BIN_EXE_execsnoop");
    let mut exec_tools = tools("execsnoop", execsnoop, "COMPARE_EXECSNOOP");
    exec_tools.insert(
        1,
        ours_with("execsnoop", execsnoop, &[], &EXECSNOOP_CONTEXT_FLAGS),
    );
    let tcpconnect = env!("CARGO_BIN_EXE_tcpconnect");
    let mut connect_tools = tools("tcpconnect", tcpconnect, "COMPARE_TCPCONNECT");
    if options.each_way {
        let each_way = ATTACH_WAYS
            .map(|(environment, flags)| ours_with("tcpconnect", tcpconnect, environment, flags));
        connect_tools.splice(0..1, each_way);
    } else {
        connect_tools.splice(
            1..1,
            [
                ours_with("tcpconnect", tcpconnect, &[], &["--outcome"]),
                // The DNS programs run on every packet of the storm.
                ours_with("tcpconnect", tcpconnect, &[], &["-d"]),
                ours_with("tcpconnect", tcpconnect, &[], &SMALL_CHANNEL_FLAGS),
                ours_with(
                    "tcpconnect",
                    tcpconnect,
                    &[FIXED_BATCHING],
                    &SMALL_CHANNEL_FLAGS,
                ),
            ],
        );
    }
    let exitsnoop = env!("CARGO_BIN_EXE_exitsnoop");
    let mut exit_tools = tools("exitsnoop", exitsnoop, "COMPARE_EXITSNOOP");
    exit_tools.insert(
        1,
        ours_with("exitsnoop", exitsnoop, &[], &EXITSNOOP_CMDLINE_FLAGS),
    );
    // No other tcpconnect has -d: the lookup storm is ours against none.
    let lookup_tools = vec![ours_with("tcpconnect", tcpconnect, &[], &["-d"])];
    let plan = [
        (Workload::Exec, options.execs, exec_tools),
        (Workload::Connect, options.connects, connect_tools),
        (Workload::Exit, options.execs, exit_tools),
        (Workload::Lookup, options.lookups, lookup_tools),
    ];
    let load_at_start = load_average();
    println!(
        "{} rounds of {} execs (and exits), {} connects and {} lookups; load average \
         {load_at_start}; tools: {}",
        options.rounds,
        options.execs,
        options.connects,
        options.lookups,
        plan.iter()
            .flat_map(|(_, _, tools)| tools.iter().map(|tool| tool.path.display().to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut run_ids = 0..;
    let mut results = Vec::new();
    for (workload, size, tools) in plan {
        results.push(bench_workload(
            workload,
            size,
            options.rounds,
            tools,
            scratch,
            &mut run_ids,
        )?);
    }

    println!();
    report::print_table(&results);
    println!(
        "\nMedians over {} rounds; this run took {:.0} s; load average {load_at_start} at \
         the start, {} at the end (other work on the machine makes the numbers noisier).\n\
         - events reported, complete args: share of the events the storm caused, all rounds. \
         The lookup storm's events are its connects, each after a DNS lookup answered \
         with its address (two datagrams): reported when the connect's QUERY is the \
         name of its own lookup.\n\
         - storm slowdown: median storm wall time with the tool / median without, same \
         invocation, leaving out round 1 of both when there are more (BPF programs are timed \
         in it). \
         The tool's BPF programs run in the storm's processes: their cost shows here, not in \
         the tool's CPU. ±: this run's own noise, the farthest one baseline round lies from \
         the median of the other baseline rounds; a ratio closer to x1.00 than that is \
         marked within noise (no difference shown either way).\n\
         - tool CPU per 10k events: the tool's CPU (user + system, all threads) from attached \
         to just before SIGINT, per reported event. That leaves out its start and exit, \
         measured apart each round as startup CPU (start, attach, SIGINT at once; rusage).\n\
         - BPF time and runs per event: the kernel's run time and run count of the BPF \
         programs the tool's process holds (fdinfo run_time_ns and run_cnt of its own \
         bpf-prog fds, ours and upstream's alike; BPF_ENABLE_STATS on in round 1 only) from \
         attached to the storm's end, per event caused: the cost the storm pays inside them, \
         apart from the wall-time noise. Events of other processes in that span count too. \
         It leaves out the hook's own cost (a classic tracepoint fills its record before the \
         program runs).\n\
         - memory by kind, from /proc/PID/smaps_rollup: anonymous (what the host cannot \
         reclaim), private file-backed (Private_Clean + Private_Dirty - Anonymous: the binary, \
         libraries only it maps; reclaimable), shared (Shared_Clean + Shared_Dirty: libc, and \
         pages mapped twice such as a ring buffer's), PSS and RSS. peak: each kind's largest \
         sample (every 5 ms until attached, every 10 ms after) of the storm run, not \
         necessarily at one moment; after: once the output is complete, before SIGINT. peak \
         RSS (ru_maxrss): the kernel's own peak. binary resident: pages of the tool's \
         executable in /proc/PID/smaps, after the storm.\n\
         - start to attached: spawn until its BPF link and perf event fds settle, in the \
         startup probe.\n\
         - after the storm each tool is stopped (SIGINT) as soon as its output holds every \
         event, or once it has not grown for {} s (comparison tools block-buffer their \
         output; SIGINT makes them flush the rest).",
        options.rounds,
        started.elapsed().as_secs_f64(),
        load_average(),
        CATCH_UP_QUIET.as_secs()
    );
    Ok(())
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    loadavg
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// All rounds of one workload. In each round the baseline and every tool run
/// once, in an order rotated per round so that drift is shared out.
fn bench_workload(
    workload: Workload,
    size: usize,
    rounds: usize,
    tools: Vec<Tool>,
    scratch: &Path,
    run_ids: &mut impl Iterator<Item = usize>,
) -> Result<WorkloadResults, String> {
    let mut results = WorkloadResults {
        name: workload.name(),
        has_args: matches!(workload, Workload::Exec),
        baseline: Vec::new(),
        tools: tools
            .into_iter()
            .map(|tool| ToolResults {
                tool,
                outcomes: Vec::new(),
            })
            .collect(),
    };
    // None: the baseline; Some(index): that tool.
    let mut order: Vec<Option<usize>> = [None]
        .into_iter()
        .chain((0..results.tools.len()).map(Some))
        .collect();
    for round in 1..=rounds {
        // The kernel times BPF programs in round 1 only: its two clock reads
        // per program run would add to the storm slowdown of the others.
        let bpf_stats = (round == 1).then(enable_bpf_stats).flatten();
        let timed = bpf_stats.is_some();
        for &participant in &order {
            let run_id = run_ids.next().expect("endless ids");
            let Some(index) = participant else {
                let (run, _) = workload.run(run_id, size)?;
                report::print_baseline_run(&results, round, &run);
                results.baseline.push(run);
                continue;
            };
            let entry = &results.tools[index];
            // A comparison tool that cannot start here will not start later.
            if entry.failure().is_some() {
                continue;
            }
            let outcome = measure_tool(workload, size, &entry.tool, scratch, run_id, timed)?;
            report::print_tool_run(&results, round, &entry.tool, &outcome);
            if let (Role::Ours, Outcome::FailedToStart(reason)) = (entry.tool.role, &outcome) {
                let path = entry.tool.path.display();
                return Err(format!("{path} failed to start: {reason}"));
            }
            results.tools[index].outcomes.push(outcome);
        }
        order.rotate_left(1);
    }
    Ok(results)
}

/// One round of one tool: a startup probe (start, attach, SIGINT at once) for
/// its fixed cost, then a storm run.
fn measure_tool(
    workload: Workload,
    size: usize,
    tool: &Tool,
    scratch: &Path,
    run_id: usize,
    bpf_timed: bool,
) -> Result<Outcome, String> {
    let probe = match tool.start(scratch, &format!("{run_id}-startup")) {
        Ok(running) => running,
        Err(reason) => return Ok(Outcome::FailedToStart(reason)),
    };
    let attached_after = probe.attached_after;
    let startup_cpu = probe.stop().cpu;

    let running = match tool.start(scratch, &format!("{run_id}-storm")) {
        Ok(running) => running,
        Err(reason) => return Ok(Outcome::FailedToStart(reason)),
    };
    let sampler = running.sample_memory();
    let cpu_at_attach = running.cpu_used();
    let bpf_stats = || bpf_timed.then(|| running.bpf_stats()).flatten();
    let bpf_at_attach = bpf_stats();
    let storm_and_output = workload.run(run_id, size).and_then(|(storm, pattern)| {
        let follower = OutputFollower::open(&running.stdout_path, pattern)
            .map_err(|err| format!("cannot read {}: {err}", running.stdout_path.display()))?;
        Ok((storm, follower))
    });
    // The programs run in the storm's own processes, synchronously: once it
    // is over their work for it is done. Read now, so that the wait for the
    // output below adds no other process's events (another developer's
    // build, say, on a shared machine).
    let bpf_after_storm = bpf_stats();
    let (storm, mut follower) = match storm_and_output {
        Ok(both) => both,
        Err(message) => {
            // Not left tracing after the bench has gone.
            running.stop();
            return Err(message);
        }
    };
    wait_caught_up(&mut follower, storm.caused);
    let cpu_before_stop = running.cpu_used();
    let memory_after = MemoryKinds::read(running.pid());
    let binary_after_kib = binary_resident_kib(running.pid());
    let memory_peak = sampler
        .finish()
        .max(running.memory_peak)
        .max(memory_after.unwrap_or_default());
    let stderr_path = running.stderr_path.clone();
    let exited = running.stop();
    Ok(Outcome::Measured(Box::new(ToolRun {
        storm,
        counts: follower.finish(),
        lost: lost_notices(&stderr_path),
        exited,
        storm_cpu: cpu_before_stop
            .zip(cpu_at_attach)
            .map(|(end, start)| end.saturating_sub(start)),
        attached_after,
        startup_cpu,
        bpf_timed,
        bpf: bpf_after_storm
            .zip(bpf_at_attach)
            .map(|(end, start)| end.since(start)),
        memory_peak,
        memory_after,
        binary_after_kib,
    })))
}

/// Has the kernel time every BPF program's runs (BPF_ENABLE_STATS), for as
/// long as the returned fd is open; None on kernels before 5.8. This costs
/// two clock reads per program run, for every tool alike (and for the storm).
fn enable_bpf_stats() -> Option<OwnedFd> {
    const BPF_ENABLE_STATS: libc::c_long = 32;
    // union bpf_attr's enable_stats: { __u32 type; }, BPF_STATS_RUN_TIME = 0.
    let attr = [0u32; 2];
    // SAFETY: the attribute is valid for reads of its size; the kernel
    // returns a new fd, owned here, or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_ENABLE_STATS,
            attr.as_ptr(),
            std::mem::size_of_val(&attr),
        )
    };
    // SAFETY: a new fd nothing else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Until the output holds every event caused, or stops growing, or time is up.
fn wait_caught_up(follower: &mut OutputFollower, caused: usize) {
    let started = Instant::now();
    let mut last_growth = started;
    while follower.counts().reported < caused
        && last_growth.elapsed() < CATCH_UP_QUIET
        && started.elapsed() < CATCH_UP_TIMEOUT
    {
        if follower.read_appended() {
            last_growth = Instant::now();
        } else {
            thread::sleep(Duration::from_millis(10));
        }
    }
}
