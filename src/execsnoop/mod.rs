//! execsnoop: every exec() on the host. The data path is laid out in order:
//! event.rs (decode), filter.rs (user-space filters), format.rs (text or
//! JSON); below, what the shared pipeline needs to know about the tool.

pub mod cli;
pub mod event;
pub mod filter;
pub mod format;
pub mod manual;

bpf_skeleton!("execsnoop");
bpf_object!(ExecsnoopBpf: skel::{ExecsnoopSkelBuilder, OpenExecsnoopSkel, ExecsnoopSkel});

use crate::data_path::{Formatter, Printer};
use crate::error::Result;
use crate::manual::Manual;
use crate::runtime::attach::Way;
use crate::runtime::cgroup::CgroupDir;
use crate::runtime::object::read_only;
use crate::runtime::pipeline::{LoadedObjectOf, OpenObjectOf, Tool};
use cli::Cli;
use event::Exec;
use filter::EventFilter;
use format::{Columns, JsonFormatter, TextFormatter};

pub struct Execsnoop {
    cli: Cli,
    /// -c, opened.
    cgroup: Option<CgroupDir>,
    /// When the tool started (CLOCK_MONOTONIC), for -t.
    started_ns: u64,
}

impl Tool for Execsnoop {
    const TRACED: &'static str = "exec()s";
    const MANUAL: &'static Manual = &manual::MANUAL;

    type Cli = Cli;
    type Record = Exec;
    type Bpf = ExecsnoopBpf;

    fn new(cli: Cli, started_ns: u64) -> Result<Self> {
        let cgroup = cli.cgroup.as_deref().map(CgroupDir::open).transpose()?;
        Ok(Self {
            cli,
            cgroup,
            started_ns,
        })
    }

    /// sched_process_exec as a BTF tracepoint first: handed the exec's
    /// state (and so whether an interpreter ran); else the classic one.
    fn ways(&self) -> Vec<Way> {
        vec![Way::BtfTracepoint, Way::Tracepoint]
    }

    /// Successful execs need one program; the syscall ones only serve -x.
    fn configure(&mut self, way: Way, object: &mut OpenObjectOf<'_, Self>) -> Result<()> {
        let cli = &self.cli;
        let progs = &mut object.progs;
        match way {
            Way::BtfTracepoint => progs.handle_exec_btf.set_autoload(true),
            _ => progs.handle_exec.set_autoload(true),
        }
        for failed_exec in [
            &mut progs.handle_execve_enter,
            &mut progs.handle_execveat_enter,
            &mut progs.handle_execve_exit,
            &mut progs.handle_execveat_exit,
        ] {
            failed_exec.set_autoload(cli.fails);
        }

        let globals = read_only(&mut object.maps.rodata_data)?;
        globals.filter_by_cgroup = self.cgroup.is_some();
        globals.report_failed = cli.fails;
        globals.report_ancestors = cli.ancestors;
        globals.report_cgroup_path = cli.container;
        globals.report_cwd = cli.cwd;
        globals.record_process_start = cli.common.json;
        if let Some(ppid) = cli.ppid {
            globals.filter_ppid = ppid;
        }
        Ok(())
    }

    fn fill_maps(&self, object: &LoadedObjectOf<'_, Self>) -> Result<()> {
        match &self.cgroup {
            Some(cgroup) => cgroup.install(&object.maps.cgroup_dir),
            None => Ok(()),
        }
    }

    fn printer(&mut self, _object: &LoadedObjectOf<'_, Self>) -> Result<Printer<Exec>> {
        let cli = &self.cli;
        let formatter: Box<dyn Formatter<Exec>> = if cli.common.json {
            Box::new(JsonFormatter::new(cli.max_args, cli.ancestors))
        } else {
            let columns = Columns {
                time: cli.time,
                timestamp: cli.timestamp,
                uid: cli.print_uid,
                cpu: cli.print_cpu,
                parent_comm: cli.print_pcomm,
                container: cli.container,
                ancestors: cli.ancestors,
                cwd: cli.cwd,
                quote: cli.quote,
                max_args: cli.max_args,
            };
            Box::new(TextFormatter::new(columns, self.started_ns))
        };
        let filter = EventFilter {
            name: cli.name.clone(),
            line: cli.line.clone(),
        };
        Ok(Printer::new(
            Self::TRACED,
            Some(Box::new(filter)),
            formatter,
        ))
    }
}
