//! The one pipeline every tool runs, from its flags to its exit: check the
//! system, open the tool's BPF object and try its ways to attach until one
//! works, then run the data path until a stop signal, and end with the
//! tool's final report. A tool supplies only what is its own, through `Tool`.

use std::ffi::c_int;

use crate::cli::{tool_main, CommonArgs, PinnedFilterArgs};
use crate::data_path::{Decode, Printer};
use crate::error::{Error, Result};
use crate::output::clock::monotonic_ns;
use crate::output::Output;
use crate::runtime::attach::{hooks_need_tracefs, Attempts, Way};
#[cfg(test)]
use crate::runtime::channel::ChannelKind;
use crate::runtime::channel::EventChannel;
use crate::runtime::event_loop::run_event_loop;
use crate::runtime::object::{LoadedBpf, OpenBpf};
use crate::runtime::pinned_filters::PinnedFilters;
use crate::runtime::{signals, switches, system};

/// What every tool's flags say about the parts the pipeline owns.
#[derive(Clone, Debug, Default)]
pub struct SharedOptions {
    /// --json, --btf, -v.
    pub common: CommonArgs,
    /// -u: the kernel side filters on it (common.bpf.h).
    pub uid: Option<u32>,
    /// --cgroupmap, --mntnsmap.
    pub pinned: PinnedFilterArgs,
}

/// What a tool is: its flags, its BPF object and ways to attach, its data
/// path, and its final report.
pub trait Tool: Sized {
    /// The command's name, as upstream's; error lines start with it.
    const NAME: &'static str;
    /// What it traces, for the ready line: "Tracing {TRACED}... Hit Ctrl-C to end."
    const TRACED: &'static str;
    /// The BPF object build.rs compiled from src/bpf/NAME.bpf.c.
    const OBJECT: &'static [u8];

    type Cli: crate::argp::ArgpParser;
    /// The kernel's records, as the data path decodes them.
    type Record: Decode + 'static;

    /// The flags the pipeline handles itself.
    fn shared_options(cli: &Self::Cli) -> SharedOptions;
    /// Checks and opens what the flags name, before anything is loaded.
    fn new(cli: Self::Cli) -> Result<Self>;
    /// The ways to try, best first.
    fn ways(&self) -> Vec<Way>;
    /// The programs to load for `way` (none of the others load).
    fn programs(&self, way: Way) -> Vec<&'static str>;
    /// Sets the tool's own read-only globals (the filters) before load.
    fn configure(&self, object: &mut OpenBpf) -> Result<()>;
    /// After load, before attach: fills the maps the programs read.
    fn fill_maps(&self, _object: &LoadedBpf) -> Result<()> {
        Ok(())
    }
    /// The error when no way works; `reasons` says why each failed.
    fn no_way_error(&self, reasons: &str) -> Error {
        Error::new(format!(
            "no way to trace {} works on this kernel ({reasons})",
            Self::TRACED
        ))
    }
    /// The data path, created once tracing has begun; `started_ns` is the
    /// CLOCK_MONOTONIC time the tool started at. `object` holds the maps a
    /// formatter may read (tcpconnect's table of cgroup paths).
    fn printer(&self, started_ns: u64, object: &LoadedBpf) -> Result<Printer<Self::Record>>;
    /// After the loop ended: what the tool reports last (a table, a count),
    /// from its maps or by running an iterator program of its object.
    fn finish(&self, _object: &LoadedBpf, _output: &mut Output) -> Result<()> {
        Ok(())
    }
}

/// A tool's whole program, called from the C `main` of its src/bin file.
/// Rust's own start-up is skipped: it installs a stack-overflow handler that
/// parses /proc/self/maps, which alone maps a quarter of the tool's resident
/// memory. What the tools need of it, a SIGPIPE that does not kill (a closed
/// stdout is an EPIPE error), is done here.
pub fn main<T: Tool>() -> c_int {
    // SAFETY: sets a signal disposition; no handler runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    c_int::from(tool_main(T::NAME, trace::<T>))
}

fn trace<T: Tool>(cli: T::Cli) -> Result<()> {
    let started_ns = monotonic_ns();
    let shared = T::shared_options(&cli);
    system::prepare(T::NAME, &shared.common)?;
    let tool = T::new(cli)?;
    let pinned = PinnedFilters::open(&shared.pinned)?;
    let channel = EventChannel::choose(shared.common.buffer_size);

    let ways = tool.ways().into_iter();
    let ways =
        ways.filter(|way| *way != Way::BtfTracepoint || !switches::btf_tracepoints_disabled());
    let attempts = Attempts::run(ways, |way, hooks| {
        let attached = load_and_attach(&tool, &shared, &pinned, channel, way, hooks);
        // Loading leaves freed memory behind (a failed attempt's whole
        // object): returned now, it does not add up across attempts.
        release_freed_memory();
        attached
    });
    if shared.common.verbose {
        attempts.tell(T::NAME);
    }
    let Some((_, _, object)) = attempts.attached else {
        return Err(tool.no_way_error(&attempts.reasons()));
    };
    signals::install_stop_handler(T::NAME)?;

    let mut printer = tool.printer(started_ns, &object)?;
    run_event_loop(channel, &object, &mut printer)?;
    tool.finish(&object, &mut printer.output)
}

fn release_freed_memory() {
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Opens the tool's object for `way`, configures, loads and attaches it;
/// `hooks` receives what the way hooks, as soon as it is known.
fn load_and_attach<T: Tool>(
    tool: &T,
    shared: &SharedOptions,
    pinned: &PinnedFilters,
    channel: EventChannel,
    way: Way,
    hooks: &mut Vec<String>,
) -> Result<LoadedBpf> {
    // Chosen first: the choice may load a probe object, which then does not
    // add its peak memory to this object's.
    let programs = tool.programs(way);
    let btf = shared.common.btf.as_deref();
    let mut object = OpenBpf::open(T::NAME, T::OBJECT, btf)?;
    object.load_only(&programs)?;
    *hooks = object.hooks();
    if hooks_need_tracefs(hooks) {
        system::ensure_tracefs()?;
    }
    channel.configure(&mut object)?;
    pinned.configure(&mut object)?;
    if let Some(uid) = shared.uid {
        object.set_global("filter_uid", &uid)?;
    }
    tool.configure(&mut object)?;

    let object = object.load()?;
    pinned.install(&object)?;
    tool.fill_maps(&object)?;
    object.attach()?;
    Ok(object)
}

/// For each tool's unit tests: every program, map and read-only global the
/// tool and the pipeline name exists in the tool's object, on every way
/// (checked by opening it, which needs no privileges).
#[cfg(test)]
pub(crate) fn check_names<T: Tool>(tool: &T) {
    for way in tool.ways() {
        for kind in [ChannelKind::RingBuffer, ChannelKind::PerfBuffer] {
            let channel = EventChannel {
                kind,
                ..EventChannel::choose(None)
            };
            let mut object = OpenBpf::open(T::NAME, T::OBJECT, None).expect("open the object");
            object
                .load_only(&tool.programs(way))
                .expect("the programs exist");
            channel
                .configure(&mut object)
                .expect("the channel's names exist");
            let pinned = PinnedFilters::default();
            pinned
                .configure(&mut object)
                .expect("the filters' names exist");
            object
                .set_global("filter_uid", &0u32)
                .expect("filter_uid exists");
            tool.configure(&mut object)
                .expect("the tool's globals exist");
        }
    }
}
