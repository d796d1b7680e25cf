//! exitsnoop: every process that ends on the host (with -T, every thread).
//! The data path: event.rs (decode) -> format.rs (text or JSON); filtering
//! happens in the kernel. Below, what the shared pipeline needs to know.

pub mod cli;
pub mod event;
pub mod format;
pub mod manual;

bpf_skeleton!("exitsnoop");
bpf_object!(ExitsnoopBpf: skel::{ExitsnoopSkelBuilder, OpenExitsnoopSkel, ExitsnoopSkel});

use libbpf_rs::MapCore;
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::data_path::{Formatter, Printer};
use crate::error::{Error, Result};
use crate::manual::Manual;
use crate::output::Output;
use crate::runtime::attach::Way;
use crate::runtime::cgroup::CgroupDir;
use crate::runtime::object::{per_cpu_counts, read_only};
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

    fn printer(&mut self, _object: &LoadedObjectOf<'_, Self>) -> Result<Printer<Exit>> {
        let cli = &self.cli;
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

    /// Says how many exits were shown without their command line.
    fn finish(&mut self, object: &LoadedObjectOf<'_, Self>, _output: &mut Output) -> Result<()> {
        if self.cli.max_args.is_none() {
            return Ok(());
        }
        let unknown: u64 = per_cpu_counts(&object.maps.unknown_cmdlines)?.iter().sum();
        if unknown > 0 {
            eprintln!(
                "{unknown} exits are shown without their command line (?): their end began \
                 before tracing did, or more processes were ending at once than the table \
                 of {} holds",
                object.maps.exiting_cmdlines.max_entries()
            );
        }
        Ok(())
    }
}
