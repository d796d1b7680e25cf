//! What each run measured, the raw per-round lines, and the summary table.

use std::time::Duration;

use crate::measure::{mib, EventCounts, LostNotices};
use crate::tool::{Exited, Tool};
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
    /// Time in the tool's BPF programs over the same span as `storm_cpu`,
    /// when timed.
    pub bpf_time: Option<Duration>,
}

pub enum Outcome {
    Measured(ToolRun),
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
        let time = self.bpf_time?;
        (self.storm.caused > 0).then(|| time.as_nanos() as f64 / self.storm.caused as f64)
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
            Outcome::Measured(run) => Some(run),
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
    let bpf_time = run
        .bpf_time
        .map_or("?".into(), |time| format!("{:.3}", time.as_secs_f64()));
    println!(
        "{prefix} wall {:.3} s  reported {}/{}{args}  cpu: storm {storm_cpu} s, whole run {:.3} s, \
         startup probe {:.3} s, BPF programs {bpf_time} s  rss {}  attached {} ms  \
         lost-notices {} ({} events)  {}{}",
        run.storm.wall.as_secs_f64(),
        run.counts.reported,
        run.storm.caused,
        run.exited.cpu.as_secs_f64(),
        run.startup_cpu.as_secs_f64(),
        mib(run.exited.peak_rss_kib),
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

const COLUMNS: usize = 10;
type Row = [String; COLUMNS];

pub fn print_table(results: &[WorkloadResults]) {
    let mut rows = vec![[
        "workload",
        "tool",
        "events reported",
        "complete args",
        "storm slowdown",
        "tool CPU per 10k events",
        "BPF time per event",
        "peak RSS",
        "start to attached",
        "startup CPU",
    ]
    .map(String::from)];
    for workload in results {
        let baseline_wall = median(workload.baseline.iter().map(|run| run.wall.as_secs_f64()));
        let baseline_caused: usize = workload.baseline.iter().map(|run| run.caused).sum();
        rows.push([
            workload.name.into(),
            "baseline (no tool)".into(),
            "-".into(),
            "-".into(),
            match baseline_wall {
                Some(wall) => format!(
                    "x1.00 ({wall:.2} s, {:.0}/s)",
                    baseline_caused as f64 / workload.baseline.len() as f64 / wall
                ),
                None => "-".into(),
            },
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
        for tool in &workload.tools {
            rows.push(tool_row(workload, tool, baseline_wall));
        }
    }
    print_aligned(&rows);
    for tool in results.iter().flat_map(|workload| &workload.tools) {
        if let Some(reason) = tool.failure() {
            println!("{} failed to start: {reason}", tool.tool.label);
        }
    }
}

fn tool_row(workload: &WorkloadResults, tool: &ToolResults, baseline_wall: Option<f64>) -> Row {
    let runs: Vec<&ToolRun> = tool.measured().collect();
    if runs.is_empty() {
        return [
            workload.name.into(),
            tool.tool.label.clone(),
            "failed to start (below)".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
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
        (Some(wall), Some(baseline)) => format!("x{:.2}", wall / baseline),
        _ => "-".into(),
    };
    let cpu = median(runs.iter().filter_map(|run| run.cpu_per_10k_events()))
        .map_or("-".into(), |seconds| format!("{seconds:.3} s"));
    let bpf_time = median(runs.iter().filter_map(|run| run.bpf_nanos_per_event()))
        .map_or("-".into(), |nanos| format!("{nanos:.0} ns"));
    let rss = median(runs.iter().map(|run| run.exited.peak_rss_kib as f64))
        .map_or("-".into(), |kib| mib(kib as u64));
    let attached = median(
        runs.iter()
            .map(|run| run.attached_after.as_secs_f64() * 1e3),
    )
    .map_or("-".into(), |ms| format!("{ms:.0} ms"));
    let startup_cpu = median(runs.iter().map(|run| run.startup_cpu.as_secs_f64()))
        .map_or("-".into(), |seconds| format!("{seconds:.3} s"));
    let mut label = tool.tool.label.clone();
    let failed_rounds = tool.outcomes.len() - runs.len();
    if failed_rounds > 0 {
        label += &format!(" (failed to start in {failed_rounds} rounds)");
    }
    [
        workload.name.into(),
        label,
        reported,
        complete,
        slowdown,
        cpu,
        bpf_time,
        rss,
        attached,
        startup_cpu,
    ]
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
fn print_aligned(rows: &[Row]) {
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
