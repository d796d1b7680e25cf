//! The chain of parents of a process (--ancestors), as the kernel read it at
//! the event (`struct task_ancestor` records of src/bpf/task_context.bpf.h,
//! parent first): its text column and its JSON, the same in every tool.

use std::io::Write as _;

use crate::output::escape::{c_str_bytes, push_escaped, Quoting};
use crate::output::json::JsonObject;

/// One ancestor's record: a u32 tgid and a comm.
pub const RECORD_SIZE: usize = 4 + 16;

/// The ancestors of an event, borrowed from its record.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ancestors<'a> {
    records: &'a [u8],
    /// The chain goes on above the last one listed.
    pub cut: bool,
}

impl<'a> Ancestors<'a> {
    pub fn new(records: &'a [u8], cut: bool) -> Self {
        Self { records, cut }
    }

    /// (tgid, comm) of each, parent first.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'a [u8])> + Clone {
        self.records.chunks_exact(RECORD_SIZE).map(|record| {
            let (pid, comm) = record.split_at(4);
            let pid = u32::from_ne_bytes(pid.try_into().expect("4 bytes"));
            (pid, c_str_bytes(comm))
        })
    }

    /// The ANCESTORS column: `comm(pid)` of each, parent first, joined by
    /// `<`, and `<...` when the chain goes on; `-` for none. A `<` in a
    /// command name is written `\x3c`, so the chain splits at its own
    /// separators only.
    pub fn push_column(&self, out: &mut Vec<u8>) {
        let mut ancestors = self.iter().peekable();
        if ancestors.peek().is_none() && !self.cut {
            out.push(b'-');
            return;
        }
        for (i, (pid, comm)) in ancestors.enumerate() {
            if i > 0 {
                out.push(b'<');
            }
            for (j, part) in comm.split(|&b| b == b'<').enumerate() {
                if j > 0 {
                    out.extend_from_slice(b"\\x3c");
                }
                push_escaped(out, part, Quoting::Bare);
            }
            // Writing to a Vec cannot fail.
            let _ = write!(out, "({pid})");
        }
        if self.cut {
            out.extend_from_slice(b"<...");
        }
    }

    /// `ancestors` (`[{"pid":4241,"comm":"bash"},...]`, parent first; a comm
    /// that is not UTF-8 gets its `comm_base64` sibling, as everywhere) and
    /// `ancestors_truncated`.
    pub fn push_json(&self, line: &mut JsonObject<'_>) {
        let mut json = vec![b'['];
        for (i, (pid, comm)) in self.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            let mut object = JsonObject::begin(&mut json);
            object.number("pid", pid).string("comm", comm);
            json.push(b'}');
        }
        json.push(b']');
        line.raw("ancestors", &json)
            .boolean("ancestors_truncated", self.cut);
    }
}
