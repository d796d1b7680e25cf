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

use libbpf_rs::{MapCore, MapFlags, MapHandle};

use super::CgroupPath;
use crate::tcpconnect::skel::types::cgroup_path_entry;

// SAFETY: a C struct of integers and bytes; any bit pattern is a value.
unsafe impl plain::Plain for cgroup_path_entry {}

/// Ids kept here at most; past it, the half least recently used go.
const CACHE_CAPACITY: usize = 1024;

struct Known {
    path: Vec<u8>,
    cut: bool,
    last_used: u64,
}

/// The kernel's table of cgroup paths, with a bounded cache in front.
pub struct CgroupTable {
    map: MapHandle,
    known: HashMap<u64, Known>,
    /// Lookups so far: the clock `last_used` is read on.
    lookups: u64,
}

impl CgroupTable {
    pub fn new(map: MapHandle) -> Self {
        Self {
            map,
            known: HashMap::with_capacity(CACHE_CAPACITY + 1),
            lookups: 0,
        }
    }

    /// The path of cgroup `id`; None, said on stderr, when the kernel's
    /// table no longer has it (more cgroups were named since the event
    /// than the table holds).
    pub fn path(&mut self, id: u64) -> Option<CgroupPath<'_>> {
        self.lookups += 1;
        if !self.known.contains_key(&id) {
            let value = self.map.lookup(&id.to_ne_bytes(), MapFlags::ANY);
            let Some(known) = value.ok().flatten().as_deref().and_then(decode_entry) else {
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

/// A `struct cgroup_path_entry` from the map.
fn decode_entry(value: &[u8]) -> Option<Known> {
    let entry: &cgroup_path_entry = plain::from_bytes(value).ok()?;
    let len = usize::from(entry.len).min(entry.path.len());
    Some(Known {
        path: entry.path[..len].iter().map(|&byte| byte as u8).collect(),
        cut: entry.cut != 0,
        last_used: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map value's bytes, as a lookup returns them.
    fn entry(path: &[u8], cut: bool) -> Vec<u8> {
        let mut value = (path.len() as u16).to_ne_bytes().to_vec();
        value.extend_from_slice(&[u8::from(cut), 0]);
        value.extend_from_slice(path);
        value.resize(std::mem::size_of::<cgroup_path_entry>(), 0);
        value
    }

    #[test]
    fn entries_decode_to_their_length_and_bad_ones_do_not_panic() {
        let known = decode_entry(&entry(b"/system.slice/a.service", false)).unwrap();
        assert_eq!(known.path, b"/system.slice/a.service");
        assert!(!known.cut);
        assert!(decode_entry(&entry(b"/x", true)).unwrap().cut);
        let mut long = entry(b"/x", false);
        long[..2].copy_from_slice(&5000u16.to_ne_bytes());
        let whole = cgroup_path_entry::default().path.len();
        assert_eq!(decode_entry(&long).unwrap().path.len(), whole);
        assert!(decode_entry(&[1]).is_none());
    }
}
