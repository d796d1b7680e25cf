//! execsnoop: trace exec() syscalls. A drop-in for libbpf-tools execsnoop.

use std::fs::File;
use std::mem::MaybeUninit;
use std::process::ExitCode;

use bpftools::cli::tool_main;
use bpftools::error::{Error, Result};
use bpftools::execsnoop::cli::Cli;
use bpftools::execsnoop::filter::EventFilter;
use bpftools::execsnoop::format::{Columns, ExecFormatter, JsonFormatter, TextFormatter};
use bpftools::execsnoop::skel::{ExecsnoopSkel, ExecsnoopSkelBuilder};
use bpftools::execsnoop::{ExecHook, ExecPrinter};
use bpftools::output::clock::monotonic_ns;
use bpftools::runtime::event_loop::run_event_loop;
use bpftools::runtime::loader::{
    btf_tracepoints_allowed, configure_common_maps, first_that_works, open_cgroup_dir,
    set_cgroup_slot, writable_rodata, EventChannel, PinnedFilterMaps,
};
use bpftools::runtime::{signals, system};
use bpftools::{common_open_maps, event_maps, open_skeleton, set_common_rodata};
use libbpf_rs::skel::{OpenSkel, Skel};
use libbpf_rs::OpenObject;

const TOOL: &str = "execsnoop";

fn main() -> ExitCode {
    tool_main(TOOL, run)
}

fn run(cli: Cli) -> Result<()> {
    let start_ns = monotonic_ns();
    system::prepare(TOOL, &cli.common)?;
    if cli.fails {
        // Failed execs come from the syscall tracepoints, found through tracefs.
        system::ensure_tracefs()?;
    }
    let cgroup_dir = cli.cgroup.as_deref().map(open_cgroup_dir).transpose()?;
    let pinned_filters = PinnedFilterMaps::open(&cli.pinned_filters())?;
    let channel = EventChannel::detect();

    let hooks = [ExecHook::BtfTracepoint, ExecHook::Tracepoint]
        .into_iter()
        .filter(|hook| *hook != ExecHook::BtfTracepoint || btf_tracepoints_allowed());
    let mut objects = [const { MaybeUninit::<OpenObject>::uninit() }; 2];
    let attempts = first_that_works(hooks, &mut objects, |hook, object| {
        load_and_attach(
            &cli,
            channel,
            &pinned_filters,
            cgroup_dir.as_ref(),
            hook,
            object,
        )
    });
    let describe = |hook: ExecHook| hook.name().to_string();
    if cli.common.verbose {
        attempts.tell(TOOL, describe);
    }
    let reasons = attempts.reasons(describe);
    let Some((_, skel)) = attempts.loaded else {
        return Err(Error::new(format!("cannot trace execs here ({reasons})")));
    };
    signals::install_stop_handler()?;

    let columns = Columns {
        time: cli.time,
        timestamp: cli.timestamp,
        uid: cli.print_uid,
        cpu: cli.print_cpu,
        parent_comm: cli.print_pcomm,
        quote: cli.quote,
        max_args: cli.max_args,
    };
    let formatter: Box<dyn ExecFormatter> = if cli.common.json {
        Box::new(JsonFormatter::new(cli.max_args))
    } else {
        Box::new(TextFormatter::new(columns, start_ns))
    };
    let filter = EventFilter {
        name: cli.name,
        line: cli.line,
    };
    let mut printer = ExecPrinter::new(filter, formatter);

    run_event_loop(channel, event_maps!(skel.maps), &mut printer)
}

fn load_and_attach<'obj>(
    cli: &Cli,
    channel: EventChannel,
    pinned_filters: &PinnedFilterMaps,
    cgroup_dir: Option<&File>,
    hook: ExecHook,
    object: &'obj mut MaybeUninit<OpenObject>,
) -> Result<ExecsnoopSkel<'obj>> {
    if hook == ExecHook::Tracepoint {
        system::ensure_tracefs()?;
    }
    let mut open_skel = open_skeleton!(ExecsnoopSkelBuilder, object, cli.common.btf.as_deref());
    let rodata = writable_rodata(open_skel.maps.rodata_data.as_deref_mut())?;
    set_common_rodata!(rodata, channel, cli.uid, pinned_filters);
    rodata.filter_by_cgroup = cgroup_dir.is_some();
    rodata.report_failed = cli.fails;
    if let Some(ppid) = cli.ppid {
        rodata.filter_ppid = ppid;
    }

    // Successful execs need one program; the syscall ones only serve -x.
    let progs = &mut open_skel.progs;
    progs
        .handle_exec_btf
        .set_autoload(hook == ExecHook::BtfTracepoint);
    progs.handle_exec.set_autoload(hook == ExecHook::Tracepoint);
    for prog in [
        &mut progs.handle_execve_enter,
        &mut progs.handle_execveat_enter,
        &mut progs.handle_execve_exit,
        &mut progs.handle_execveat_exit,
    ] {
        prog.set_autoload(cli.fails);
    }

    configure_common_maps(common_open_maps!(open_skel.maps), channel, pinned_filters)?;

    let mut skel = open_skel
        .load()
        .map_err(|err| Error::from_libbpf("loading", &err))?;
    if let (Some(dir), Some(path)) = (cgroup_dir, &cli.cgroup) {
        set_cgroup_slot(&skel.maps.cgroup_dir, dir, path)?;
    }
    pinned_filters.install(&skel.maps.cgroup_filter, &skel.maps.mntns_filter)?;
    skel.attach()
        .map_err(|err| Error::from_libbpf("attaching", &err))?;
    Ok(skel)
}
