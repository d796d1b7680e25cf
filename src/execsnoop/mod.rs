//! execsnoop: every exec() on the host. The data path is laid out in order:
//! event.rs (decode), filter.rs (user-space filters), format.rs (text or
//! JSON); below, what the shared pipeline needs to know about the tool.

pub mod cli;
pub mod event;
pub mod filter;
pub mod format;
pub mod manual;

bpf_skeleton!("execsnoop");

use crate::data_path::{Formatter, Printer};
use crate::error::Result;
use crate::runtime::attach::Way;
use crate::runtime::cgroup::CgroupDir;
use crate::runtime::object::{LoadedBpf, OpenBpf};
use crate::runtime::pipeline::{SharedOptions, Tool};
use cli::Cli;
use event::Exec;
use filter::EventFilter;
use format::{Columns, JsonFormatter, TextFormatter};

/// The programs that see failed execs (-x): syscall entry and exit.
const FAILED_EXEC_PROGRAMS: [&str; 4] = [
    "handle_execve_enter",
    "handle_execveat_enter",
    "handle_execve_exit",
    "handle_execveat_exit",
];

pub struct Execsnoop {
    cli: Cli,
    /// -c, opened.
    cgroup: Option<CgroupDir>,
}

impl Tool for Execsnoop {
    const NAME: &'static str = "execsnoop";
    const TRACED: &'static str = "exec()s";
    const OBJECT: &'static [u8] = include_bytes!(concat!(env!("OUT_DIR"), "/execsnoop.bpf.o"));

    type Cli = Cli;
    type Record = Exec;

    fn shared_options(cli: &Cli) -> SharedOptions {
        SharedOptions {
            common: cli.common.clone(),
            uid: cli.uid,
            pinned: cli.pinned.clone(),
        }
    }

    fn new(cli: Cli) -> Result<Self> {
        let cgroup = cli.cgroup.as_deref().map(CgroupDir::open).transpose()?;
        Ok(Self { cli, cgroup })
    }

    /// sched_process_exec as a BTF tracepoint first: handed the exec's
    /// state (and so whether an interpreter ran); else the classic one.
    fn ways(&self) -> Vec<Way> {
        vec![Way::BtfTracepoint, Way::Tracepoint]
    }

    /// Successful execs need one program; the syscall ones only serve -x.
    fn programs(&self, way: Way) -> Vec<&'static str> {
        let exec = match way {
            Way::BtfTracepoint => "handle_exec_btf",
            _ => "handle_exec",
        };
        let failed = FAILED_EXEC_PROGRAMS.iter().filter(|_| self.cli.fails);
        std::iter::once(exec).chain(failed.copied()).collect()
    }

    fn configure(&self, object: &mut OpenBpf) -> Result<()> {
        object.set_flag("filter_by_cgroup", self.cgroup.is_some())?;
        object.set_flag("report_failed", self.cli.fails)?;
        object.set_flag("report_ancestors", self.cli.ancestors)?;
        object.set_flag("report_cgroup_path", self.cli.container)?;
        object.set_flag("report_cwd", self.cli.cwd)?;
        if let Some(ppid) = self.cli.ppid {
            object.set_global("filter_ppid", &ppid)?;
        }
        Ok(())
    }

    fn fill_maps(&self, object: &LoadedBpf) -> Result<()> {
        match &self.cgroup {
            Some(cgroup) => cgroup.install(object, "cgroup_dir"),
            None => Ok(()),
        }
    }

    fn printer(&self, started_ns: u64, _object: &LoadedBpf) -> Result<Printer<Exec>> {
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
            Box::new(TextFormatter::new(columns, started_ns))
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_object_has_every_name_the_tool_uses() {
        let cli = Cli::parse_from([
            "execsnoop",
            "-x",
            "-P",
            "1",
            "--container",
            "--ancestors",
            "--cwd",
        ]);
        crate::runtime::pipeline::check_names(&Execsnoop { cli, cgroup: None });
    }
}
