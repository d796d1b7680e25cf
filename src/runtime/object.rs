//! A tool's BPF object is the skeleton build.rs generated from its
//! src/bpf/TOOL.bpf.c: the tool sets its read-only globals, chooses its
//! programs and reaches its maps through the skeleton's typed fields, so a
//! misspelled name, or a global whose type changed in the C, does not
//! compile. What every object shares (common.bpf.h: the event channel, the
//! lost-event counter, the uid and pinned-map filters) is reached here, by
//! `bpf_object!`, the one piece of code that names those fields.

use std::io::Read;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use libbpf_rs::skel::{OpenSkel, Skel};
use libbpf_rs::AsRawLibbpf;
use libbpf_rs::{
    Iter, Link, MapCore, MapFlags, MapMut, ObjectBuilder, OpenMapMut, OpenObject, ProgramMut,
};

use crate::error::{Error, Result};

/// Where iterator programs are (`iter/bpf_map_elem`, ...): each run of one is
/// attached to what it walks (`iterate_map`), not when the object attaches.
const ITERATOR_SECTION: &[u8] = b"iter/";

/// The read-only globals of common.bpf.h, before load.
pub struct SharedGlobals<'a> {
    pub use_ringbuf: &'a mut bool,
    pub ringbuf_wakeup_bytes: &'a mut u64,
    pub ringbuf_quiet_ns: &'a mut u64,
    pub filter_uid: &'a mut u32,
    pub filter_by_cgroupmap: &'a mut bool,
    pub filter_by_mntnsmap: &'a mut bool,
}

/// The maps of common.bpf.h that are shaped before load.
pub struct SharedOpenMaps<'a, 'obj> {
    pub events_ringbuf: &'a mut OpenMapMut<'obj>,
    pub events_perfbuf: &'a mut OpenMapMut<'obj>,
    pub cgroup_filter: &'a mut OpenMapMut<'obj>,
    pub mntns_filter: &'a mut OpenMapMut<'obj>,
}

/// What common.bpf.h declares, in an opened object.
pub struct SharedOpen<'a, 'obj> {
    pub globals: SharedGlobals<'a>,
    pub maps: SharedOpenMaps<'a, 'obj>,
}

/// The maps of common.bpf.h, in a loaded object. (libbpf lists a map that
/// was not created too, with no fd: the user of each knows whether it was.)
pub struct SharedMaps<'a, 'obj> {
    pub events_ringbuf: &'a MapMut<'obj>,
    pub events_perfbuf: &'a MapMut<'obj>,
    pub lost_events: &'a MapMut<'obj>,
    pub cgroup_filter: &'a MapMut<'obj>,
    pub mntns_filter: &'a MapMut<'obj>,
}

/// An opened skeleton of a tool's object.
pub trait OpenShared<'obj>: OpenSkel<'obj> {
    fn shared(&mut self) -> Result<SharedOpen<'_, 'obj>>;
}

/// A loaded skeleton of a tool's object.
pub trait LoadedShared<'obj>: Skel<'obj> {
    fn shared(&self) -> SharedMaps<'_, 'obj>;
}

/// A tool's BPF object: its generated skeleton's types (`bpf_object!`).
pub trait BpfObject {
    type Open<'obj>: OpenShared<'obj, Output = Self::Loaded<'obj>>;
    type Loaded<'obj>: LoadedShared<'obj>;

    /// Opens the object; `storage` holds it for as long as the skeleton lives.
    fn open_with(
        builder: ObjectBuilder,
        storage: &mut MaybeUninit<OpenObject>,
    ) -> libbpf_rs::Result<Self::Open<'_>>;
}

/// `bpf_object!(ExecsnoopBpf: skel::{ExecsnoopSkelBuilder,
/// OpenExecsnoopSkel, ExecsnoopSkel})` declares `ExecsnoopBpf`, the tool's
/// object, and reaches what common.bpf.h declares in its skeleton.
macro_rules! bpf_object {
    ($object:ident: $skel:ident::{$builder:ident, $open:ident, $loaded:ident}) => {
        /// This tool's BPF object (its skeleton's types).
        pub struct $object;

        impl $crate::runtime::object::BpfObject for $object {
            type Open<'obj> = $skel::$open<'obj>;
            type Loaded<'obj> = $skel::$loaded<'obj>;

            fn open_with(
                builder: libbpf_rs::ObjectBuilder,
                storage: &mut std::mem::MaybeUninit<libbpf_rs::OpenObject>,
            ) -> libbpf_rs::Result<Self::Open<'_>> {
                let builder = $skel::$builder {
                    obj_builder: builder,
                };
                libbpf_rs::skel::SkelBuilder::open(builder, storage)
            }
        }

        impl<'obj> $crate::runtime::object::OpenShared<'obj> for $skel::$open<'obj> {
            fn shared(
                &mut self,
            ) -> $crate::error::Result<$crate::runtime::object::SharedOpen<'_, 'obj>> {
                let maps = &mut self.maps;
                let globals = $crate::runtime::object::read_only(&mut maps.rodata_data)?;
                Ok($crate::runtime::object::SharedOpen {
                    globals: $crate::runtime::object::SharedGlobals {
                        use_ringbuf: &mut globals.use_ringbuf,
                        ringbuf_wakeup_bytes: &mut globals.ringbuf_wakeup_bytes,
                        ringbuf_quiet_ns: &mut globals.ringbuf_quiet_ns,
                        filter_uid: &mut globals.filter_uid,
                        filter_by_cgroupmap: &mut globals.filter_by_cgroupmap,
                        filter_by_mntnsmap: &mut globals.filter_by_mntnsmap,
                    },
                    maps: $crate::runtime::object::SharedOpenMaps {
                        events_ringbuf: &mut maps.events_ringbuf,
                        events_perfbuf: &mut maps.events_perfbuf,
                        cgroup_filter: &mut maps.cgroup_filter,
                        mntns_filter: &mut maps.mntns_filter,
                    },
                })
            }
        }

        impl<'obj> $crate::runtime::object::LoadedShared<'obj> for $skel::$loaded<'obj> {
            fn shared(&self) -> $crate::runtime::object::SharedMaps<'_, 'obj> {
                let maps = &self.maps;
                $crate::runtime::object::SharedMaps {
                    events_ringbuf: &maps.events_ringbuf,
                    events_perfbuf: &maps.events_perfbuf,
                    lost_events: &maps.lost_events,
                    cgroup_filter: &maps.cgroup_filter,
                    mntns_filter: &maps.mntns_filter,
                }
            }
        }
    };
}

/// The object's read-only globals (`skel.maps.rodata_data`), to set before
/// load. libbpf maps them for every skeleton with `const volatile` globals.
pub fn read_only<'a, T>(rodata: &'a mut Option<&mut T>) -> Result<&'a mut T> {
    rodata
        .as_deref_mut()
        .ok_or_else(|| Error::new("the BPF object's read-only globals are not mapped"))
}

/// Opens object `O`; CO-RE relocates against `btf` (--btf) when given,
/// else against the kernel's BTF. Every program starts unchosen: the tool
/// chooses its own (`set_autoload`), so nothing else loads.
pub fn open<'obj, O: BpfObject>(
    name: &str,
    btf: Option<&Path>,
    storage: &'obj mut MaybeUninit<OpenObject>,
) -> Result<O::Open<'obj>> {
    let mut builder = ObjectBuilder::default();
    let open_error = |err| Error::from_libbpf("opening the BPF object", &err);
    builder.name(name).map_err(open_error)?;
    if let Some(btf) = btf {
        builder
            .btf_custom_path(btf)
            .map_err(|err| Error::from_libbpf("--btf", &err))?;
    }
    let mut skel = O::open_with(builder, storage).map_err(open_error)?;
    for mut prog in skel.open_object_mut().progs_mut() {
        prog.set_autoload(false);
        let iterator = prog.section().as_bytes().starts_with(ITERATOR_SECTION);
        prog.set_autoattach(!iterator);
    }
    Ok(skel)
}

/// The sections (`tp_btf/sched_process_exec`, ...) of the programs chosen
/// to load: what they hook, for -v and for deciding what they need.
pub fn hooks<'obj>(skel: &impl OpenSkel<'obj>) -> Vec<String> {
    let progs = skel.open_object().progs().filter(|prog| prog.autoload());
    progs
        .map(|prog| prog.section().to_string_lossy().into_owned())
        .collect()
}

/// Creates, of the object's maps, only its global data: for a probe that
/// loads one program, which then creates what that uses (`set_autocreate`).
pub fn create_global_data_only<'obj>(skel: &mut impl OpenSkel<'obj>) -> Result<()> {
    for mut map in skel.open_object_mut().maps_mut() {
        // libbpf binds the global data (`.rodata`, ...) to every program.
        let global_data = map.name().as_bytes().contains(&b'.');
        map.set_autocreate(global_data)
            .map_err(|err| Error::from_libbpf("choosing the maps to create", &err))?;
    }
    Ok(())
}

/// Loads an opened object, first freeing the instructions of the programs
/// not chosen: libbpf keeps every program's instructions for the object's
/// life, and a tool's object holds a program for each attach way it may
/// use (tcpconnect: four ways, 87 KB, most of them never loaded).
pub fn load<'obj, S: OpenSkel<'obj>>(mut skel: S) -> Result<S::Output> {
    for prog in skel.open_object_mut().progs_mut() {
        if !prog.autoload() {
            // SAFETY: the program is libbpf's, not yet loaded (libbpf
            // refuses after load); a count of 0 frees its instructions, which
            // libbpf reads only for programs it loads.
            let freed = unsafe {
                libbpf_rs::libbpf_sys::bpf_program__set_insns(
                    prog.as_libbpf_object().as_ptr(),
                    std::ptr::null_mut(),
                    0,
                )
            };
            if freed != 0 {
                return Err(Error::from_libbpf(
                    "loading",
                    &libbpf_rs::Error::from_raw_os_error(-freed),
                ));
            }
        }
    }
    skel.load()
        .map_err(|err| Error::from_libbpf("loading", &err))
}

/// The links of an object's attached programs: dropped (`detach`), the
/// programs stop; drop them before the object.
#[derive(Default)]
pub struct Links(Vec<Link>);

impl Links {
    /// Attaches every program that loaded where its section says, in the
    /// object's order, except iterators (see `iterate_map`).
    pub fn attach<'obj>(skel: &impl Skel<'obj>) -> Result<Self> {
        let mut links = Vec::new();
        for prog in skel.object().progs_mut() {
            if prog.autoload() && !prog.section().as_bytes().starts_with(ITERATOR_SECTION) {
                let link = prog
                    .attach()
                    .map_err(|err| Error::from_libbpf("attaching", &err))?;
                links.push(link);
            }
        }
        Ok(Self(links))
    }

    /// Detaches every program: no event is sent after this returns.
    pub fn detach(&mut self) {
        self.0.clear();
    }
}

/// Runs the loaded iterator program `iterator` (`SEC("iter/...")`) over
/// `map` and returns all it wrote.
pub fn iterate_map(iterator: &ProgramMut<'_>, map: &MapMut<'_>) -> Result<Vec<u8>> {
    let name = map.name().to_string_lossy();
    let failed = |err| Error::from_libbpf(&format!("walking the map {name}"), &err);
    let map_fd = map.as_fd().try_clone_to_owned();
    let map_fd = map_fd.map_err(|err| Error::new(format!("walking the map {name}: {err}")))?;
    let link = iterator.attach_iter(map_fd.as_fd()).map_err(failed)?;
    let mut written = Vec::new();
    Iter::new(&link)
        .map_err(failed)?
        .read_to_end(&mut written)
        .map_err(|err| Error::new(format!("walking the map {name}: {err}")))?;
    Ok(written)
}

/// Whether the load created `map` (libbpf lists the others too, with a
/// placeholder fd).
pub fn created(map: &MapMut<'_>) -> bool {
    map.autocreate()
}

/// A per-CPU counter of the programs (slot 0 of a per-CPU array of u64, as
/// `count_one` in common.bpf.h adds to): each CPU's count, in CPU order.
pub fn per_cpu_counts(map: &impl MapCore) -> Result<Vec<u64>> {
    per_cpu_counts_at(map, 0)
}

/// Slot `slot` of a per-CPU array of u64 counters, each CPU's count.
pub fn per_cpu_counts_at(map: &impl MapCore, slot: u32) -> Result<Vec<u64>> {
    let per_cpu = map
        .lookup_percpu(&slot.to_ne_bytes(), MapFlags::ANY)
        .map_err(|err| Error::from_libbpf("reading a counter", &err))?;
    let count = |value: &Vec<u8>| value.get(..8)?.try_into().ok().map(u64::from_ne_bytes);
    Ok(per_cpu
        .unwrap_or_default()
        .iter()
        .map(|value| count(value).unwrap_or(0))
        .collect())
}
