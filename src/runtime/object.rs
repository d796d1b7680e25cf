//! A tool's BPF object, reached by name: before load, choose its programs
//! and set its read-only globals; after load, attach the programs and reach
//! the maps. Names are checked: a wrong one is an error naming it, which the
//! tools' unit tests catch by opening their objects (no privileges needed).

use std::cell::RefCell;
use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use libbpf_rs::btf::types::DataSec;
use libbpf_rs::btf::{Btf, BtfType};
use libbpf_rs::{
    AsRawLibbpf, Iter, Link, Map, MapCore, MapFlags, ObjectBuilder, OpenMapMut, OpenObject,
};

use crate::error::{Error, Result};

/// Where iterator programs are (`iter/bpf_map_elem`, ...).
const ITERATOR_SECTION: &[u8] = b"iter/";

/// A read-only global: where it is in the `.rodata` section, and its size.
#[derive(Debug)]
struct Global {
    name: String,
    offset: usize,
    size: usize,
}

/// An opened object, not yet loaded.
pub struct OpenBpf {
    object: OpenObject,
    globals: Vec<Global>,
}

impl OpenBpf {
    /// Opens the object file `bytes` as `name`; CO-RE relocates against
    /// `btf` (--btf) when given, else against the kernel's BTF.
    pub fn open(name: &str, bytes: &'static [u8], btf: Option<&Path>) -> Result<Self> {
        let mut builder = ObjectBuilder::default();
        let open_error = |err| Error::from_libbpf("opening the BPF object", &err);
        builder.name(name).map_err(open_error)?;
        if let Some(btf) = btf {
            builder
                .btf_custom_path(btf)
                .map_err(|err| Error::from_libbpf("--btf", &err))?;
        }
        let object = builder.open_memory(bytes).map_err(open_error)?;
        let globals = read_only_globals(&object)?;
        Ok(Self { object, globals })
    }

    /// Loads exactly the programs named, no others.
    pub fn load_only(&mut self, programs: &[&str]) -> Result<()> {
        for name in programs {
            if !self.object.progs().any(|prog| prog.name() == *name) {
                return Err(Error::new(format!("the BPF object has no program {name}")));
            }
        }
        for mut prog in self.object.progs_mut() {
            let wanted = programs.iter().any(|name| prog.name() == *name);
            prog.set_autoload(wanted);
        }
        Ok(())
    }

    /// Creates the maps named at load, and the object's global data, no
    /// other maps (for a probe that loads one program and needs only what
    /// it uses).
    pub fn create_only(&mut self, maps: &[&str]) -> Result<()> {
        for name in maps {
            if !self.object.maps().any(|map| map.name() == *name) {
                return Err(Error::new(format!("the BPF object has no map {name}")));
            }
        }
        for mut map in self.object.maps_mut() {
            // libbpf binds the global data (`.rodata`, ...) to every program.
            let global_data = map.name().as_bytes().contains(&b'.');
            let wanted = global_data || maps.iter().any(|name| map.name() == *name);
            map.set_autocreate(wanted)
                .map_err(|err| Error::from_libbpf("choosing the maps to create", &err))?;
        }
        Ok(())
    }

    /// The sections (`tp_btf/sched_process_exec`, ...) of the programs that
    /// will load: what they hook, for -v and for deciding what they need.
    pub fn hooks(&self) -> Vec<String> {
        let progs = self.object.progs().filter(|prog| prog.autoload());
        progs
            .map(|prog| prog.section().to_string_lossy().into_owned())
            .collect()
    }

    /// Sets the read-only global `name` (a `const volatile` in the program),
    /// which must be exactly the size of `value`.
    pub fn set_global<T: plain::Plain + ?Sized>(&mut self, name: &str, value: &T) -> Result<()> {
        // SAFETY: Plain types are plain bytes.
        let bytes = unsafe { plain::as_bytes(value) };
        let global = self.globals.iter().find(|global| global.name == name);
        let Some(global) = global else {
            return Err(Error::new(format!(
                "the BPF object has no read-only global {name}"
            )));
        };
        if global.size != bytes.len() {
            return Err(Error::new(format!(
                "the BPF object's global {name} has {} bytes, not {}",
                global.size,
                bytes.len()
            )));
        }
        let range = global.offset..global.offset + bytes.len();
        let mut rodata = self.map_mut(".rodata")?;
        let data = rodata
            .initial_value_mut()
            .and_then(|data| data.get_mut(range));
        let data = data.ok_or_else(|| Error::new("the BPF object's .rodata is too short"))?;
        data.copy_from_slice(bytes);
        Ok(())
    }

    /// Sets the read-only `bool` global `name`.
    pub fn set_flag(&mut self, name: &str, on: bool) -> Result<()> {
        self.set_global(name, &u8::from(on))
    }

    /// A map, to size or shape before load. `.rodata` and friends are found
    /// by their section name (libbpf prefixes it with the object's name).
    pub fn map_mut(&mut self, name: &str) -> Result<OpenMapMut<'_>> {
        let matches = |map_name: &OsStr| {
            map_name == name
                || (name.starts_with('.') && map_name.as_bytes().ends_with(name.as_bytes()))
        };
        self.object
            .maps_mut()
            .find(|map| matches(map.name()))
            .ok_or_else(|| Error::new(format!("the BPF object has no map {name}")))
    }

    pub fn load(self) -> Result<LoadedBpf> {
        let object = self
            .object
            .load()
            .map_err(|err| Error::from_libbpf("loading", &err))?;
        Ok(LoadedBpf {
            object,
            links: RefCell::default(),
        })
    }
}

/// The `.rodata` variables, from the object's BTF, where libbpf has filled
/// in their offsets on open.
fn read_only_globals(object: &OpenObject) -> Result<Vec<Global>> {
    // SAFETY: the pointer is the open object's, valid while `object` is.
    let raw = unsafe { object.as_libbpf_object().as_ref() };
    let btf = Btf::from_bpf_object(raw)
        .map_err(|err| Error::from_libbpf("reading the BPF object's BTF", &err))?
        .ok_or_else(|| Error::new("the BPF object has no BTF"))?;
    let Some(section) = btf.type_by_name::<DataSec<'_>>(".rodata") else {
        return Ok(Vec::new());
    };
    let globals = section.iter().filter_map(|var| {
        let name = btf.type_by_id::<BtfType<'_>>(var.ty)?.name()?;
        Some(Global {
            name: name.to_string_lossy().into_owned(),
            offset: var.offset as usize,
            size: var.size,
        })
    });
    Ok(globals.collect())
}

/// A loaded object, and the links of its attached programs (declared
/// first: they are dropped, and the programs detached, before the object).
pub struct LoadedBpf {
    links: RefCell<Vec<Link>>,
    object: libbpf_rs::Object,
}

impl LoadedBpf {
    /// Attaches every loaded program where its section says, except
    /// iterators: each run of one is attached to what it walks (`iterate_map`).
    pub fn attach(&self) -> Result<()> {
        for prog in self.object.progs_mut() {
            if prog.autoload() && !prog.section().as_bytes().starts_with(ITERATOR_SECTION) {
                let link = prog
                    .attach()
                    .map_err(|err| Error::from_libbpf("attaching", &err))?;
                self.links.borrow_mut().push(link);
            }
        }
        Ok(())
    }

    /// Detaches every program: no event is sent after this returns.
    pub fn detach(&self) {
        self.links.borrow_mut().clear();
    }

    /// Runs the loaded iterator program `program` (`SEC("iter/...")`) over
    /// the map `map` and returns all it wrote.
    pub fn iterate_map(&self, program: &str, map: &str) -> Result<Vec<u8>> {
        let failed = |err| Error::from_libbpf(&format!("walking the map {map}"), &err);
        let map_fd = self.map(map)?.as_fd().try_clone_to_owned();
        let map_fd = map_fd.map_err(|err| Error::new(format!("walking the map {map}: {err}")))?;
        let mut progs = self.object.progs_mut();
        let iterator = progs.find(|prog| prog.name() == program);
        let iterator = iterator
            .ok_or_else(|| Error::new(format!("the BPF object has no program {program}")))?;
        let link = iterator.attach_iter(map_fd.as_fd()).map_err(failed)?;
        let mut written = Vec::new();
        Iter::new(&link)
            .map_err(failed)?
            .read_to_end(&mut written)
            .map_err(|err| Error::new(format!("walking the map {map}: {err}")))?;
        Ok(written)
    }

    /// A map the load created (libbpf lists the others too, with a
    /// placeholder fd).
    pub fn map(&self, name: &str) -> Result<Map<'_>> {
        let map = self.object.maps().find(|map| map.name() == name);
        let map = map.ok_or_else(|| Error::new(format!("the BPF object has no map {name}")))?;
        match map.autocreate() {
            true => Ok(map),
            false => Err(Error::new(format!("the map {name} was not created"))),
        }
    }
}

/// A per-CPU counter of the programs (slot 0 of a per-CPU array of u64, as
/// `count_one` in common.bpf.h adds to): each CPU's count, in CPU order.
pub fn per_cpu_counts(map: &impl MapCore) -> Result<Vec<u64>> {
    let per_cpu = map
        .lookup_percpu(&0u32.to_ne_bytes(), MapFlags::ANY)
        .map_err(|err| Error::from_libbpf("reading a counter", &err))?;
    let count = |value: &Vec<u8>| value.get(..8)?.try_into().ok().map(u64::from_ne_bytes);
    Ok(per_cpu
        .unwrap_or_default()
        .iter()
        .map(|value| count(value).unwrap_or(0))
        .collect())
}
