//! Cgroup paths by cgroup id, for a tool whose events carry only the id
//! (tcpconnect: its events are fixed-size, and on the tracepoint way held in
//! the kernel until the connect is answered, long after the task ran).
//!
//! The BPF side reads the path while the task is current, at the event, and
//! keeps it in an LRU hash map keyed by cgroup id (`struct cgroup_path_entry`
//! in src/bpf/task_context.bpf.h); so a cgroup removed right after the
//! event is still named. Here each id is looked up in that map once and
//! kept in a cache of bounded size; a busy cgroup costs no system call.

use std::collections::HashMap;
use std::marker::PhantomData;

use libbpf_rs::{MapCore, MapFlags, MapHandle};

use super::CgroupPath;

/// A `struct cgroup_path_entry` of src/bpf/task_context.bpf.h, as the
/// tool's skeleton declares it.
pub trait CgroupPathEntry: plain::Plain {
    /// The path as far as it was read, and whether it was cut.
    fn path(&self) -> (&[u8], bool);
}

/// Ids kept here at most; past it, the half least recently used go.
const CACHE_CAPACITY: usize = 1024;

struct Known {
    path: Vec<u8>,
    cut: bool,
    last_used: u64,
}

/// The kernel's table of cgroup paths (of `E` entries), with a bounded
/// cache in front.
pub struct CgroupTable<E> {
    map: MapHandle,
    known: HashMap<u64, Known>,
    /// Lookups so far: the clock `last_used` is read on.
    lookups: u64,
    entry: PhantomData<E>,
}

impl<E: CgroupPathEntry> CgroupTable<E> {
    pub fn new(map: MapHandle) -> Self {
        Self {
            map,
            known: HashMap::with_capacity(CACHE_CAPACITY + 1),
            lookups: 0,
            entry: PhantomData,
        }
    }

    /// The path of cgroup `id`; None, said on stderr, when the kernel's
    /// table no longer has it (more cgroups were named since the event
    /// than the table holds).
    pub fn path(&mut self, id: u64) -> Option<CgroupPath<'_>> {
        self.lookups += 1;
        if !self.known.contains_key(&id) {
            let value = self.map.lookup(&id.to_ne_bytes(), MapFlags::ANY);
            let Some(known) = value.ok().flatten().as_deref().and_then(decode_entry::<E>) else {
                eprintln!("Lost the cgroup path of an event (cgroup id {id}): shown as ?");
                return None;
            };
            self.forget_least_recent_if_full();
            self.known.insert(id, known);
        }
        let known = self.known.get_mut(&id)?;
        known.last_used = self.lookups;
        Some(CgroupPath {
            path: &known.path,
            cut: known.cut,
        })
    }

    /// Keeps the cache bounded: when full, the half least recently used
    /// go (one pass per CACHE_CAPACITY / 2 new ids).
    fn forget_least_recent_if_full(&mut self) {
        if self.known.len() < CACHE_CAPACITY {
            return;
        }
        let mut ages: Vec<u64> = self.known.values().map(|k| k.last_used).collect();
        let (_, median, _) = ages.select_nth_unstable(CACHE_CAPACITY / 2);
        let median = *median;
        self.known.retain(|_, known| known.last_used > median);
    }
}

/// An entry's bytes, as a lookup returns them.
fn decode_entry<E: CgroupPathEntry>(value: &[u8]) -> Option<Known> {
    let entry: &E = plain::from_bytes(value).ok()?;
    let (path, cut) = entry.path();
    Some(Known {
        path: path.to_vec(),
        cut,
        last_used: 0,
    })
}
