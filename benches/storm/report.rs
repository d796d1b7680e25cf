//! What each run measured, the raw per-round lines, and the summary table.

use std::time::Duration;

use crate::measure::{mib, mib2, EventCounts, LostNotices, MemoryKinds};
use crate::tool::{BpfStats, Exited, Tool};
use crate::workload::StormRun;

/// One storm with a tool attached.
pub struct ToolRun {
    pub storm: StormRun,
    pub counts: EventCounts,
    pub lost: LostNotices,
    pub exited: Exited,
    /// The tool's CPU from attached until just before SIGINT: what the
    /// storm's events cost it, without start and exit.
    pub storm_cpu: Option<Duration>,
    /// Spawn to attached, in this round's startup probe.
    pub attached_after: Duration,
    /// CPU of this round's startup probe: start, attach, SIGINT at once.
    pub startup_cpu: Duration,
    /// Whether the kernel timed BPF programs (BPF_ENABLE_STATS) in this run.
    pub bpf_timed: bool,
    /// The kernel's time in the tool's BPF programs, and their runs, over
    /// the same span as `storm_cpu`, when timed.
    pub bpf: Option<BpfStats>,
    /// Each memory kind's largest sample, from spawn to just before SIGINT.
    pub memory_peak: MemoryKinds,
    /// Memory by kind after the storm, once the output is complete.
    pub memory_after: Option<MemoryKinds>,
    /// Resident pages of the tool's executable after the storm.
    pub binary_after_kib: Option<u64>,
}

pub enum Outcome {
    Measured(Box<ToolRun>),
    FailedToStart(String),
}

pub struct ToolResults {
    pub tool: Tool,
    pub outcomes: Vec<Outcome>,
}

pub struct WorkloadResults {
    pub name: &'static str,
    /// Whether lines carry arguments to check (exec storm).
    pub has_args: bool,
    pub baseline: Vec<StormRun>,
    pub tools: Vec<ToolResults>,
}

impl ToolRun {
    fn bpf_nanos_per_event(&self) -> Option<f64> {
        let time = self.bpf?.time;
        (self.storm.caused > 0).then(|| time.as_nanos() as f64 / self.storm.caused as f64)
    }

    fn bpf_runs_per_event(&self) -> Option<f64> {
        let runs = self.bpf?.runs;
        (self.storm.caused > 0).then(|| runs as f64 / self.storm.caused as f64)
    }

    fn cpu_per_10k_events(&self) -> Option<f64> {
        let cpu = self.storm_cpu?;
        (self.counts.reported > 0)
            .then(|| cpu.as_secs_f64() * 10_000.0 / self.counts.reported as f64)
    }
}

impl ToolResults {
    fn measured(&self) -> impl Iterator<Item = &ToolRun> {
        self.outcomes.iter().filter_map(|outcome| match outcome {
            Outcome::Measured(run) => Some(&**run),
            Outcome::FailedToStart(_) => None,
        })
    }

    /// Why the tool failed to start, in the first round it did.
    pub fn failure(&self) -> Option<&str> {
        self.outcomes.iter().find_map(|outcome| match outcome {
            Outcome::FailedToStart(reason) => Some(reason.as_str()),
            Outcome::Measured(_) => None,
        })
    }
}

/// The start of a raw line: which storm, which round, which tool.
fn raw_prefix(workload: &WorkloadResults, round: usize, label: &str) -> String {
    format!("{:<13} round {round}  {label:<24}", workload.name)
}

pub fn print_baseline_run(workload: &WorkloadResults, round: usize, run: &StormRun) {
    println!(
        "{} wall {:.3} s  events {}{}",
        raw_prefix(workload, round, "baseline (no tool)"),
        run.wall.as_secs_f64(),
        run.caused,
        failed_text(run),
    );
}

pub fn print_tool_run(workload: &WorkloadResults, round: usize, tool: &Tool, outcome: &Outcome) {
    let prefix = raw_prefix(workload, round, &tool.label);
    let run = match outcome {
        Outcome::FailedToStart(reason) => {
            println!("{prefix} failed to start: {reason}");
            return;
        }
        Outcome::Measured(run) => run,
    };
    let args = if workload.has_args {
        format!("  complete args {}", run.counts.complete_args)
    } else {
        String::new()
    };
    let storm_cpu = run
        .storm_cpu
        .map_or("?".into(), |cpu| format!("{:.3}", cpu.as_secs_f64()));
    let bpf = run.bpf.map_or("?".into(), |bpf| {
        format!(
            "{:.3} ms in {} runs",
            bpf.time.as_secs_f64() * 1e3,
            bpf.runs
        )
    });
    let after = run.memory_after.map_or("?".into(), |after| {
        format!(
            "anon {} file {} shared {} pss {} rss {}",
            mib2(after.anonymous),
            mib2(after.private_file),
            mib2(after.shared),
            mib2(after.pss),
            mib2(after.rss)
        )
    });
    let peak = run.memory_peak;
    println!(
        "{prefix} wall {:.3} s  reported {}/{}{args}  cpu: storm {storm_cpu} s, whole run {:.3} s, \
         startup probe {:.3} s, BPF programs {bpf}  MiB peak: anon {} file {} shared {} pss {} \
         rss {} (ru_maxrss {}), after: {after}, binary {}  attached {} ms  \
         lost-notices {} ({} events)  {}{}",
        run.storm.wall.as_secs_f64(),
        run.counts.reported,
        run.storm.caused,
        run.exited.cpu.as_secs_f64(),
        run.startup_cpu.as_secs_f64(),
        mib2(peak.anonymous),
        mib2(peak.private_file),
        mib2(peak.shared),
        mib2(peak.pss),
        mib2(peak.rss),
        mib2(run.exited.peak_rss_kib),
        run.binary_after_kib.map_or("?".into(), mib2),
        run.attached_after.as_millis(),
        run.lost.lines,
        run.lost.events,
        run.exited.status_text(),
        failed_text(&run.storm),
    );
}

fn failed_text(run: &StormRun) -> String {
    if run.failed == 0 {
        String::new()
    } else {
        format!("  ({} attempts failed)", run.failed)
    }
}

/// The storm's wall-time noise in this run: how far one baseline round's
/// wall time lies from the median of the other baseline rounds, at most
/// (as a fraction: 0.04 for 4%). None with fewer than two rounds.
fn noise_band(baseline: &[StormRun]) -> Option<f64> {
    let walls: Vec<f64> = baseline.iter().map(|run| run.wall.as_secs_f64()).collect();
    (0..walls.len())
        .filter_map(|left_out| {
            let others = walls
                .iter()
                .enumerate()
                .filter(|&(index, _)| index != left_out)
                .map(|(_, &wall)| wall);
            median(others).map(|others| (walls[left_out] / others - 1.0).abs())
        })
        .max_by(f64::total_cmp)
}

/// A ratio to the baseline with the noise band, and whether it is inside it.
fn slowdown_text(ratio: f64, noise: Option<f64>) -> String {
    match noise {
        Some(noise) if (ratio - 1.0).abs() <= noise => {
            format!("x{ratio:.2} ±{noise:.2}, within noise")
        }
        Some(noise) => format!("x{ratio:.2} ±{noise:.2}"),
        None => format!("x{ratio:.2} (noise unknown)"),
    }
}

pub fn print_table(results: &[WorkloadResults]) {
    let mut rows = vec![[
        "workload",
        "tool",
        "events reported",
        "complete args",
        "storm slowdown",
        "tool CPU per 10k events",
        "BPF time per event",
        "BPF runs per event",
        "start to attached",
        "startup CPU",
    ]
    .map(String::from)];
    let mut memory_rows = vec![[
        "workload",
        "tool",
        "anonymous",
        "private file",
        "shared",
        "PSS",
        "RSS",
        "peak RSS (ru_maxrss)",
        "binary resident",
    ]
    .map(String::from)];
    for workload in results {
        // Round 1, where the kernel times BPF programs, is left out of the
        // baseline as it is out of the tools' wall times, when there are more.
        let compared = match workload.baseline.len() {
            0 | 1 => &workload.baseline[..],
            _ => &workload.baseline[1..],
        };
        let baseline_wall = median(compared.iter().map(|run| run.wall.as_secs_f64()));
        let baseline_caused: usize = compared.iter().map(|run| run.caused).sum();
        let noise = noise_band(compared);
        let mut baseline_row = [(); 10].map(|_| "-".to_string());
        baseline_row[0] = workload.name.into();
        baseline_row[1] = "baseline (no tool)".into();
        if let Some(wall) = baseline_wall {
            baseline_row[4] = format!(
                "{} ({wall:.2} s, {:.0}/s)",
                slowdown_text(1.0, noise),
                baseline_caused as f64 / compared.len() as f64 / wall
            );
        }
        rows.push(baseline_row);
        for tool in &workload.tools {
            rows.push(tool_row(workload, tool, baseline_wall, noise));
            memory_rows.push(memory_row(workload, tool));
        }
    }
    print_aligned(&rows);
    for tool in results.iter().flat_map(|workload| &workload.tools) {
        if let Some(reason) = tool.failure() {
            println!("{} failed to start: {reason}", tool.tool.label);
        }
    }
    println!("\nMemory by kind, MiB, peak / after the storm (medians over the rounds):\n");
    print_aligned(&memory_rows);
}

fn tool_row(
    workload: &WorkloadResults,
    tool: &ToolResults,
    baseline_wall: Option<f64>,
    noise: Option<f64>,
) -> [String; 10] {
    let runs: Vec<&ToolRun> = tool.measured().collect();
    if runs.is_empty() {
        let mut row = [(); 10].map(|_| String::new());
        row[0] = workload.name.into();
        row[1] = tool.tool.label.clone();
        row[2] = "failed to start (below)".into();
        return row;
    }
    let caused: usize = runs.iter().map(|run| run.storm.caused).sum();
    let share = |count: usize| percent(count, caused);
    let reported = share(runs.iter().map(|run| run.counts.reported).sum());
    let complete = if workload.has_args {
        share(runs.iter().map(|run| run.counts.complete_args).sum())
    } else {
        "-".into()
    };
    // The rounds where BPF programs were not timed, when there are any.
    let untimed = runs.iter().any(|run| !run.bpf_timed);
    let wall = median(
        runs.iter()
            .filter(|run| !(untimed && run.bpf_timed))
            .map(|run| run.storm.wall.as_secs_f64()),
    );
    let slowdown = match (wall, baseline_wall) {
        (Some(wall), Some(baseline)) => slowdown_text(wall / baseline, noise),
        _ => "-".into(),
    };
    let cpu = median(runs.iter().filter_map(|run| run.cpu_per_10k_events()))
        .map_or("-".into(), |seconds| format!("{seconds:.3} s"));
    let bpf_time = median(runs.iter().filter_map(|run| run.bpf_nanos_per_event()))
        .map_or("-".into(), |nanos| format!("{nanos:.0} ns"));
    let bpf_runs = median(runs.iter().filter_map(|run| run.bpf_runs_per_event()))
        .map_or("-".into(), |runs| format!("{runs:.2}"));
    let attached = median(
        runs.iter()
            .map(|run| run.attached_after.as_secs_f64() * 1e3),
    )
    .map_or("-".into(), |ms| format!("{ms:.0} ms"));
    let startup_cpu = median(runs.iter().map(|run| run.startup_cpu.as_secs_f64()))
        .map_or("-".into(), |seconds| format!("{seconds:.3} s"));
    [
        workload.name.into(),
        tool_label(tool, runs.len()),
        reported,
        complete,
        slowdown,
        cpu,
        bpf_time,
        bpf_runs,
        attached,
        startup_cpu,
    ]
}

fn tool_label(tool: &ToolResults, measured: usize) -> String {
    let mut label = tool.tool.label.clone();
    let failed_rounds = tool.outcomes.len() - measured;
    if failed_rounds > 0 {
        label += &format!(" (failed to start in {failed_rounds} rounds)");
    }
    label
}

fn memory_row(workload: &WorkloadResults, tool: &ToolResults) -> [String; 9] {
    let runs: Vec<&ToolRun> = tool.measured().collect();
    let mut row = [(); 9].map(|_| "-".to_string());
    row[0] = workload.name.into();
    row[1] = tool_label(tool, runs.len());
    if runs.is_empty() {
        return row;
    }
    let kib = |values: &mut dyn Iterator<Item = u64>| {
        median(values.map(|kib| kib as f64)).map_or("?".into(), |kib| mib2(kib as u64))
    };
    let kinds: [fn(&MemoryKinds) -> u64; 5] = [
        |memory| memory.anonymous,
        |memory| memory.private_file,
        |memory| memory.shared,
        |memory| memory.pss,
        |memory| memory.rss,
    ];
    for (cell, kind) in row[2..7].iter_mut().zip(kinds) {
        let peak = kib(&mut runs.iter().map(|run| kind(&run.memory_peak)));
        let after = kib(&mut runs
            .iter()
            .filter_map(|run| run.memory_after.as_ref().map(kind)));
        *cell = format!("{peak} / {after}");
    }
    row[7] = median(runs.iter().map(|run| run.exited.peak_rss_kib as f64))
        .map_or("-".into(), |kib| mib(kib as u64));
    row[8] = kib(&mut runs.iter().filter_map(|run| run.binary_after_kib));
    row
}

fn percent(count: usize, of: usize) -> String {
    if of == 0 {
        return "-".into();
    }
    format!("{:.2}%", count as f64 * 100.0 / of as f64)
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        len if len % 2 == 1 => Some(values[middle]),
        _ => Some((values[middle - 1] + values[middle]) / 2.0),
    }
}

/// A Markdown table with padded columns.
fn print_aligned<const COLUMNS: usize>(rows: &[[String; COLUMNS]]) {
    let mut widths = [0; COLUMNS];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| println!("| {} |", cells.join(" | "));
    for (index, row) in rows.iter().enumerate() {
        line(
            row.iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect(),
        );
        if index == 0 {
            line(widths.iter().map(|&width| "-".repeat(width)).collect());
        }
    }
}
