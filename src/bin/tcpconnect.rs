//! tcpconnect: trace active TCP connects. A drop-in for libbpf-tools
//! tcpconnect that also works on kernels without kprobes.

use std::mem::MaybeUninit;
use std::process::ExitCode;

use bpftools::cli::tool_main;
use bpftools::error::{Error, Result};
use bpftools::runtime::event_loop::run_event_loop;
use bpftools::runtime::loader::{
    btf_tracepoints_allowed, configure_common_maps, first_that_works, writable_rodata,
    EventChannel, PinnedFilterMaps,
};
use bpftools::runtime::{signals, system};
use bpftools::tcpconnect::attach::AttachMethod;
use bpftools::tcpconnect::cli::{AttachChoice, Cli, PortList};
use bpftools::tcpconnect::event::{AF_INET, AF_INET6};
use bpftools::tcpconnect::format::{
    write_count_json, write_count_table, Columns, ConnectFormatter, JsonFormatter, TraceFormatter,
};
use bpftools::tcpconnect::skel::{TcpconnectSkel, TcpconnectSkelBuilder};
use bpftools::tcpconnect::{read_counts, ConnectPrinter};
use bpftools::{common_open_maps, event_maps, open_skeleton, set_common_rodata};
use libbpf_rs::skel::{OpenSkel, Skel};
use libbpf_rs::{MapCore, OpenObject};

const TOOL: &str = "tcpconnect";

fn main() -> ExitCode {
    tool_main(TOOL, run)
}

fn run(cli: Cli) -> Result<()> {
    system::prepare(TOOL, &cli.common)?;
    let channel = EventChannel::detect();
    let pinned_filters = PinnedFilterMaps::open(&cli.pinned_filters())?;

    let candidates = AttachMethod::candidates(cli.attach)
        .iter()
        .copied()
        .filter(|method| *method != AttachMethod::BtfTracepoint || btf_tracepoints_allowed());
    let mut objects =
        [const { MaybeUninit::<OpenObject>::uninit() }; AttachMethod::MOST_CANDIDATES];
    let attempts = first_that_works(candidates, &mut objects, |method, object| {
        load_and_attach(&cli, channel, &pinned_filters, method, object)
    });
    if cli.common.verbose {
        attempts.tell(TOOL, |method| {
            format!("{} ({})", method.name(), method.hooks())
        });
    }
    let reasons = attempts.reasons(|method| method.hooks().to_string());
    let last_tried = attempts.failures.last().map(|(method, _)| *method);
    let Some((_, skel)) = attempts.loaded else {
        return Err(no_way_to_attach(cli.attach, last_tried, &reasons));
    };
    signals::install_stop_handler()?;

    let formatter: Box<dyn ConnectFormatter> = if cli.common.json {
        Box::new(JsonFormatter::new())
    } else {
        Box::new(TraceFormatter::new(Columns {
            timestamp: cli.timestamp,
            uid: cli.print_uid,
            sport: cli.source_port,
            lport: cli.lport,
        }))
    };
    let mut printer = ConnectPrinter::new(formatter, !cli.count);

    run_event_loop(channel, event_maps!(skel.maps), &mut printer)?;

    // The tracepoint way holds each event until its connect has started.
    let waiting = skel.maps.awaiting_sport.keys().count();
    if waiting > 0 {
        eprintln!("{waiting} connects still in SYN_SENT without an answer are not shown");
    }
    if cli.count {
        let rows = read_counts(&skel.maps.connect_counts)?;
        if cli.common.json {
            write_count_json(printer.output.buffer(), rows, cli.source_port);
        } else {
            write_count_table(printer.output.buffer(), rows, cli.source_port);
        }
        let _ = printer.output.flush()?;
    }
    Ok(())
}

fn load_and_attach<'obj>(
    cli: &Cli,
    channel: EventChannel,
    pinned_filters: &PinnedFilterMaps,
    method: AttachMethod,
    object: &'obj mut MaybeUninit<OpenObject>,
) -> Result<TcpconnectSkel<'obj>> {
    if method.needs_tracefs() {
        system::ensure_tracefs()?;
    }
    let mut open_skel = open_skeleton!(TcpconnectSkelBuilder, object, cli.common.btf.as_deref());
    let rodata = writable_rodata(open_skel.maps.rodata_data.as_deref_mut())?;
    set_common_rodata!(rodata, channel, cli.uid, pinned_filters);
    rodata.count_mode = cli.count;
    rodata.count_by_sport = cli.count && cli.source_port;
    if let Some(pid) = cli.pid {
        rodata.filter_pid = pid;
    }
    if cli.ipv4 {
        rodata.filter_family = AF_INET;
    } else if cli.ipv6 {
        rodata.filter_family = AF_INET6;
    }
    if let Some(PortList(ports)) = &cli.ports {
        rodata.filter_ports[..ports.len()].copy_from_slice(ports);
        rodata.filter_ports_len = ports.len() as u32;
    }

    method.select_programs(&mut open_skel.progs);
    configure_common_maps(common_open_maps!(open_skel.maps), channel, pinned_filters)?;

    let mut skel = open_skel
        .load()
        .map_err(|err| Error::from_libbpf("loading", &err))?;
    pinned_filters.install(&skel.maps.cgroup_filter, &skel.maps.mntns_filter)?;
    skel.attach()
        .map_err(|err| Error::from_libbpf("attaching", &err))?;
    Ok(skel)
}

/// One line: what was asked for, and why nothing could be used.
fn no_way_to_attach(
    choice: AttachChoice,
    last_tried: Option<AttachMethod>,
    reasons: &str,
) -> Error {
    match (choice, last_tried) {
        (AttachChoice::Auto, _) | (_, None) => Error::new(format!(
            "no way to trace connects works on this kernel ({reasons})"
        )),
        (_, Some(method)) => Error::new(format!(
            "--attach {}: this kernel does not provide {} ({reasons}); try --attach auto",
            method.name(),
            method.requirement()
        )),
    }
}
