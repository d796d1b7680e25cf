//! exitsnoop: every process that ends on the host (with -T, every thread).
//! The data path: event.rs (decode) -> format.rs (text or JSON); filtering
//! happens in the kernel. Below, what the shared pipeline needs to know.

pub mod cli;
pub mod event;
pub mod format;
pub mod manual;

bpf_skeleton!("exitsnoop");
bpf_object!(ExitsnoopBpf: skel::{ExitsnoopSkelBuilder, OpenExitsnoopSkel, ExitsnoopSkel});

use libbpf_rs::{MapCore, MapFlags};
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::bpf_constants::{
    CMDLINE_LOSSES, CMDLINE_LOSS_BEGAN_BEFORE, CMDLINE_LOSS_NOT_KEPT, CMDLINE_LOSS_UNREADABLE,
};
use crate::data_path::{Formatter, Printer};
use crate::error::{Error, Result};
use crate::manual::Manual;
use crate::output::clock::monotonic_ns;
use crate::output::Output;
use crate::runtime::attach::Way;
use crate::runtime::cgroup::CgroupDir;
use crate::runtime::object::{per_cpu_counts, per_cpu_counts_at, read_only};
use crate::runtime::pipeline::{LoadedObjectOf, OpenObjectOf, Tool};
use cli::Cli;
use event::Exit;
use format::{Columns, JsonFormatter, TextFormatter, TimeColumn};

pub struct Exitsnoop {
    cli: Cli,
    /// -c, opened.
    cgroup: Option<CgroupDir>,
}

impl Tool for Exitsnoop {
    const TRACED: &'static str = "process termination";
    const MANUAL: &'static Manual = &manual::MANUAL;

    type Cli = Cli;
    type Record = Exit;
    type Bpf = ExitsnoopBpf;

    fn new(cli: Cli, _started_ns: u64) -> Result<Self> {
        if let Some(pid) = cli.pid {
            // A process that is not there cannot exit while we trace.
            if kill(Pid::from_raw(pid), None) == Err(Errno::ESRCH) {
                return Err(Error::new(format!(
                    "-p {pid}: no process has this id; give the id of a running process"
                )));
            }
        }
        let cgroup = cli.cgroup.as_deref().map(CgroupDir::open).transpose()?;
        Ok(Self { cli, cgroup })
    }

    /// sched_process_exit as a BTF tracepoint first (handed the task, no
    /// trace record); else the classic one.
    fn ways(&self) -> Vec<Way> {
        vec![Way::BtfTracepoint, Way::Tracepoint]
    }

    fn configure(&mut self, way: Way, object: &mut OpenObjectOf<'_, Self>) -> Result<()> {
        let cli = &self.cli;
        let cmdline = cli.max_args.is_some();
        let progs = &mut object.progs;
        match way {
            Way::BtfTracepoint => progs.handle_exit_btf.set_autoload(true),
            _ => progs.handle_exit.set_autoload(true),
        }
        for keep_cmdline in [
            &mut progs.keep_cmdline_at_exit_group,
            &mut progs.keep_cmdline_at_exit,
            &mut progs.keep_cmdline_at_fatal_signal,
        ] {
            keep_cmdline.set_autoload(cmdline);
        }

        let globals = read_only(&mut object.maps.rodata_data)?;
        globals.filter_by_cgroup = self.cgroup.is_some();
        globals.failed_only = cli.failed;
        globals.per_thread = cli.per_thread();
        globals.report_ancestors = cli.ancestors;
        globals.report_cgroup_path = cli.container;
        globals.report_cmdline = cmdline;
        if let Some(pid) = cli.pid {
            globals.filter_pid = pid;
        }

        let maps = &mut object.maps;
        let setup = |err| Error::from_libbpf("setting up the maps", &err);
        for (map, used) in [
            (&mut maps.exiting_cmdlines, cmdline),
            (&mut maps.cmdline_scratch, cmdline),
            (&mut maps.unstored_cmdlines, cmdline),
            (&mut maps.tracing_since, cmdline),
            (&mut maps.reported_exits, !cli.per_thread()),
        ] {
            map.set_autocreate(used).map_err(setup)?;
        }
        Ok(())
    }

    fn fill_maps(&self, object: &LoadedObjectOf<'_, Self>) -> Result<()> {
        match &self.cgroup {
            Some(cgroup) => cgroup.install(&object.maps.cgroup_dir),
            None => Ok(()),
        }
    }

    fn printer(&mut self, object: &LoadedObjectOf<'_, Self>) -> Result<Printer<Exit>> {
        let cli = &self.cli;
        if cli.max_args.is_some() {
            // Every program is attached: a process begun from now on
            // begins to end while traced (see CMDLINE_LOSS_NOT_KEPT).
            let since = monotonic_ns().to_ne_bytes();
            object
                .maps
                .tracing_since
                .update(&0u32.to_ne_bytes(), &since, MapFlags::ANY)
                .map_err(|err| Error::from_libbpf("setting up the maps", &err))?;
        }
        let columns = Columns {
            time: match (cli.utc, cli.timestamp) {
                (true, _) => Some(TimeColumn::Utc),
                (false, true) => Some(TimeColumn::Local),
                (false, false) => None,
            },
            label: cli.label.clone(),
            container: cli.container,
            ancestors: cli.ancestors,
            max_args: cli.max_args,
        };
        let formatter: Box<dyn Formatter<Exit>> = match cli.common.json {
            true => Box::new(JsonFormatter::new(columns)),
            false => Box::new(TextFormatter::new(columns)),
        };
        Ok(Printer::new(Self::TRACED, None, formatter))
    }

    /// Says how many exits were shown without their command line, and why.
    fn finish(&mut self, object: &LoadedObjectOf<'_, Self>, _output: &mut Output) -> Result<()> {
        if self.cli.max_args.is_none() {
            return Ok(());
        }
        let maps = &object.maps;
        let losses = loss_counts(&maps.unknown_cmdlines)?;
        let unstored: u64 = per_cpu_counts(&maps.unstored_cmdlines)?.iter().sum();
        for line in cmdline_loss_lines(&losses, unstored, maps.exiting_cmdlines.max_entries()) {
            eprintln!("{line}");
        }
        Ok(())
    }
}

/// unknown_cmdlines' counts, summed over the CPUs, by slot.
fn loss_counts(map: &impl MapCore) -> Result<[u64; CMDLINE_LOSSES]> {
    let mut counts = [0; CMDLINE_LOSSES];
    for (slot, count) in (0..).zip(counts.iter_mut()) {
        *count = per_cpu_counts_at(map, slot)?.iter().sum();
    }
    Ok(counts)
}

/// The lines that say which exits were shown without their command line
/// (`?`), one per reason: `losses` by CMDLINE_LOSS_* slot, `unstored` the
/// command lines the table of `table_size` refused.
fn cmdline_loss_lines(
    losses: &[u64; CMDLINE_LOSSES],
    unstored: u64,
    table_size: u32,
) -> Vec<String> {
    let shown = |count: u64| format!("{count} exits are shown without their command line (?)");
    let mut lines = Vec::new();
    let before = losses[CMDLINE_LOSS_BEGAN_BEFORE as usize];
    if before > 0 {
        lines.push(format!(
            "{}: their processes began before tracing did, and so may have begun to end before it",
            shown(before)
        ));
    }
    let not_kept = losses[CMDLINE_LOSS_NOT_KEPT as usize];
    if not_kept > 0 {
        let refused = match unstored {
            0 => String::new(),
            n => format!(" (it refused {n})"),
        };
        lines.push(format!(
            "{}: they began to end while traced, but the kernel did not run the program that \
             keeps it where they did (exit_group(2), exit(2), a fatal signal), or more processes \
             were ending at once than the table of {table_size} holds{refused}",
            shown(not_kept)
        ));
    }
    let unreadable = losses[CMDLINE_LOSS_UNREADABLE as usize];
    if unreadable > 0 {
        lines.push(format!(
            "{}: their memory could not be read where they began to end",
            shown(unreadable)
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_its_line() {
        assert!(cmdline_loss_lines(&[0, 0, 0], 0, 1024).is_empty());
        let lines = cmdline_loss_lines(&[1, 40, 2], 0, 1024);
        let start = "exits are shown without their command line (?):";
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with(&format!("1 {start} their processes began before")));
        assert!(lines[1].starts_with(&format!("40 {start} they began to end while traced")));
        let not_kept = &lines[1];
        assert!(not_kept.ends_with("the table of 1024 holds"), "{not_kept}");
        assert!(lines[2].starts_with(&format!("2 {start} their memory could not be read")));
        let lines = cmdline_loss_lines(&[0, 3, 0], 2, 1024);
        let refused = &lines[0];
        assert!(refused.ends_with("1024 holds (it refused 2)"), "{refused}");
    }
}
