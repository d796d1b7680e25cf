//! The one pipeline every tool runs, from its flags to its exit: check the
//! system, open the tool's BPF object and try its ways to attach until one
//! works, then run the data path until a stop signal, and end with the
//! tool's final report. A tool supplies only what is its own, through `Tool`.

use std::ffi::c_int;
use std::mem::MaybeUninit;

use clap::{Command, CommandFactory};
use libbpf_rs::OpenObject;

use crate::cli::{tool_main, ToolCli};
use crate::data_path::{Decode, Printer};
use crate::error::{Error, Result};
use crate::manual::Manual;
use crate::output::clock::monotonic_ns;
use crate::output::Output;
use crate::runtime::attach::{hooks_need_tracefs, Attempts, Way};
use crate::runtime::channel::EventChannel;
use crate::runtime::event_loop::run_event_loop;
use crate::runtime::object::{self, BpfObject, Links, LoadedShared, OpenShared};
use crate::runtime::pinned_filters::PinnedFilters;
use crate::runtime::{signals, switches, system};

/// A tool's name, as upstream's: set by its declaration in `tools!`
/// (src/lib.rs), the one place a tool is listed.
pub trait Declared {
    const NAME: &'static str;
}

/// Tool `T`'s object, opened (before load) and loaded.
pub type OpenObjectOf<'obj, T> = <<T as Tool>::Bpf as BpfObject>::Open<'obj>;
pub type LoadedObjectOf<'obj, T> = <<T as Tool>::Bpf as BpfObject>::Loaded<'obj>;

/// What a tool is: its flags, its BPF object and ways to attach, its data
/// path, and its final report. The pipeline calls the steps in the order
/// they are declared here.
pub trait Tool: Declared + Sized {
    /// What it traces, for the ready line: "Tracing {TRACED}... Hit Ctrl-C to end."
    const TRACED: &'static str;
    /// What its man page and --help say beyond the flags.
    const MANUAL: &'static Manual;

    type Cli: ToolCli;
    /// The kernel's records, as the data path decodes them.
    type Record: Decode + 'static;
    /// The skeleton of src/bpf/NAME.bpf.c (`bpf_object!`).
    type Bpf: BpfObject;

    /// Checks and opens what the flags name, before anything is loaded;
    /// `started_ns` is the CLOCK_MONOTONIC time the tool started at.
    fn new(cli: Self::Cli, started_ns: u64) -> Result<Self>;
    /// The ways to try, best first.
    fn ways(&self) -> Vec<Way>;
    /// Before the object is opened for `way`: what must be found out first
    /// (a probe loading an object of its own, whose memory then does not
    /// add up with this one's).
    fn prepare(&mut self, _way: Way) -> Result<()> {
        Ok(())
    }
    /// Chooses the programs to load for `way` (none load unless chosen),
    /// sets the tool's read-only globals and shapes its maps. The shared
    /// part (event channel, pinned filters, -u) is already set.
    fn configure(&mut self, way: Way, object: &mut OpenObjectOf<'_, Self>) -> Result<()>;
    /// After load, before attach: fills the maps the programs read.
    fn fill_maps(&self, _object: &LoadedObjectOf<'_, Self>) -> Result<()> {
        Ok(())
    }
    /// The error when no way works; `reasons` says why each failed.
    fn no_way_error(&self, reasons: &str) -> Error {
        Error::new(format!(
            "no way to trace {} works on this kernel ({reasons})",
            Self::TRACED
        ))
    }
    /// The data path, created once tracing has begun. `object` holds the
    /// maps a formatter may read (tcpconnect's table of cgroup paths).
    fn printer(&mut self, object: &LoadedObjectOf<'_, Self>) -> Result<Printer<Self::Record>>;
    /// After the loop ended: what the tool reports last (a table, a count),
    /// from its maps or by running an iterator program of its object.
    fn finish(&mut self, _object: &LoadedObjectOf<'_, Self>, _output: &mut Output) -> Result<()> {
        Ok(())
    }
}

/// The tool's command line: its flags, named and with the examples of its
/// manual (so --help, the man page and the completions agree).
pub fn command<T: Tool>() -> Command {
    T::Cli::command()
        .name(T::NAME)
        .after_help(T::MANUAL.help_examples(T::NAME))
}

/// A tool's whole program, called from the C `main` of its src/bin file.
/// Rust's own start-up is skipped: it installs a stack-overflow handler that
/// parses /proc/self/maps, which alone maps a quarter of the tool's resident
/// memory. What the tools need of it, a SIGPIPE that does not kill (a closed
/// stdout is an EPIPE error), is done here.
pub fn main<T: Tool>() -> c_int {
    // SAFETY: sets a signal disposition; no handler runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    // One heap for every thread: a heap of the loading threads' own
    // (on_own_thread) would keep what they free (malloc_trim does not shrink
    // such a heap's end), 0.6 MB for tcpconnect.
    // And every block from that heap, none mapped apart: where libbpf
    // cannot map the kernel's BTF (the kernels of our VMs, 5.10 to 6.12), it
    // reads it (5 MB), copies it and builds an index of it, whose block moves
    // each time the index outgrows it. With the copies mapped apart, the
    // index's earlier blocks are left free but resident in the heap until the
    // copies are gone; at the heap's end, after the copies, it grows in
    // place. The tools' peak is 128 to 140 KB lower so (docs/performance.md).
    // What loading frees goes back after each step (release_freed_memory).
    // 32 MiB is glibc's largest threshold on 64-bit systems (a 32-bit one
    // refuses it and keeps its own).
    // SAFETY: malloc parameters, set before any thread starts.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
    c_int::from(tool_main(T::NAME, command::<T>(), trace::<T>))
}

fn trace<T: Tool>(cli: T::Cli) -> Result<()> {
    let started_ns = monotonic_ns();
    let shared = cli.shared();
    system::prepare(T::NAME, &shared.common)?;
    let mut tool = T::new(cli, started_ns)?;
    let pinned = PinnedFilters::open(&shared.pinned)?;
    let channel = EventChannel::choose(shared.common.buffer_size);

    let ways = tool.ways().into_iter();
    let ways =
        ways.filter(|way| *way != Way::BtfTracepoint || !switches::btf_tracepoints_disabled());
    let ways: Vec<Way> = ways.collect();
    // Each attempt's object lives in a place of its own: the one that
    // attaches is kept, borrowed from here.
    let mut places: Vec<MaybeUninit<OpenObject>> =
        ways.iter().map(|_| MaybeUninit::uninit()).collect();
    let attempts = Attempts::run(
        ways.into_iter().zip(places.iter_mut()),
        |way, place, hooks| {
            let setup = Setup {
                shared: &shared,
                pinned: &pinned,
                channel,
            };
            // What each step leaves freed (a probe's or a failed attempt's
            // whole object) is returned before the next begins, so the
            // object kept is laid out in one piece, not in their holes.
            on_own_thread(|| tool.prepare(way))?;
            on_own_thread(|| setup.load_and_attach(&mut tool, way, place, hooks))
        },
    );
    if shared.common.verbose {
        attempts.tell(T::NAME);
    }
    // The links are declared after the object, so they drop (and the
    // programs detach) before it.
    let Some((_, _, (object, mut links))) = attempts.attached else {
        return Err(tool.no_way_error(&attempts.reasons()));
    };
    signals::install_stop_handler(T::NAME)?;

    let mut printer = tool.printer(&object)?;
    run_event_loop(channel, &object.shared(), &mut links, &mut printer)?;
    tool.finish(&object, &mut printer.output)
}

/// Runs `work` on a thread of its own and waits for it. glibc keeps each
/// thread's last freed small blocks (up to 7 of each size: its tcache) out of
/// the heap's reach, so neither malloc_trim nor the blocks' neighbours can
/// reclaim them, and what is allocated next goes around them. Loading frees
/// thousands (libbpf's names and relocations, the whole object of a probe or
/// of a failed attempt): those cached blocks kept tcpconnect's heap spread
/// over about 90 KB more pages. A thread's exit returns its cache to the heap.
fn on_own_thread<R>(work: impl FnOnce() -> Result<R>) -> Result<R> {
    /// What crosses to the worker and back: the tool and the loaded object,
    /// which are not `Send` (an `Rc`, libbpf's pointers) only because they
    /// may not be used by two threads at once. Here one thread uses them at
    /// a time: this one waits while the worker runs.
    struct Handed<T>(T);
    // SAFETY: see above; the thread's end (join) orders its use before ours.
    unsafe impl<T> Send for Handed<T> {}
    impl<T> Handed<T> {
        // Taken by a method, so the closure captures the whole `Handed`,
        // not its (non-`Send`) field.
        fn take(self) -> T {
            self.0
        }
    }

    let work = Handed(work);
    let done = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .spawn_scoped(scope, move || Handed(work.take()()))
            .map_err(|err| Error::new(format!("cannot start a thread: {err}")))?;
        // join waits for the thread's end, where its cache is freed.
        match worker.join() {
            Ok(done) => done.take(),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    release_freed_memory();
    done
}

fn release_freed_memory() {
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What the pipeline sets up in every tool's object, whatever the way.
struct Setup<'a> {
    shared: &'a crate::cli::SharedOptions,
    pinned: &'a PinnedFilters,
    channel: EventChannel,
}

impl Setup<'_> {
    /// Opens the tool's object for `way` in `place`, configures, loads and
    /// attaches it; `hooks` receives what the way hooks, as soon as it is
    /// known.
    fn load_and_attach<'obj, T: Tool>(
        &self,
        tool: &mut T,
        way: Way,
        place: &'obj mut MaybeUninit<OpenObject>,
        hooks: &mut Vec<String>,
    ) -> Result<(LoadedObjectOf<'obj, T>, Links)> {
        let btf = self.shared.common.btf.as_deref();
        let mut object = object::open::<T::Bpf>(T::NAME, btf, place)?;
        // The shared part first: the tool sees which event channel is made.
        let mut common = object.shared()?;
        self.channel.configure(&mut common)?;
        self.pinned.configure(&mut common)?;
        if let Some(uid) = self.shared.uid {
            *common.globals.filter_uid = uid;
        }
        tool.configure(way, &mut object)?;
        *hooks = object::hooks(&object);
        if hooks_need_tracefs(hooks) {
            system::ensure_tracefs()?;
        }

        let object = object::load(object)?;
        self.pinned.install(&object.shared())?;
        tool.fill_maps(&object)?;
        let links = Links::attach(&object)?;
        Ok((object, links))
    }
}
