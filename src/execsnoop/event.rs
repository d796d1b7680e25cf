//! Step 1 of the data path: the bytes the BPF program sent, as a typed event.

use super::skel::types::exec_event_header;
use crate::ancestry::{self, Ancestors};
use crate::container::CgroupPath;
use crate::data_path::{split_record, Decode};
use crate::output::escape::c_str_bytes;

// SAFETY: exec_event_header is a #[repr(C)] struct of integers and byte
// arrays (generated from src/bpf/execsnoop.h); every bit pattern is valid.
unsafe impl plain::Plain for exec_event_header {}

/// execsnoop's records: each an [`ExecEvent`].
pub struct Exec;

impl Decode for Exec {
    type Event<'a> = ExecEvent<'a>;

    fn decode(record: &[u8]) -> Option<ExecEvent<'_>> {
        ExecEvent::decode(record)
    }
}

/// One exec(), borrowed from the record it was decoded from.
#[derive(Debug)]
pub struct ExecEvent<'a> {
    pub header: exec_event_header,
    /// The file name passed to exec (for a successful exec, as the kernel
    /// resolved it: `execveat(fd, "", AT_EMPTY_PATH)` shows `/dev/fd/N`).
    /// None when it could not be read (a failed exec's, not resident).
    pub filename: Option<&'a [u8]>,
    /// argv as captured (argv[0] first), NUL-separated, without the final NUL.
    argv: &'a [u8],
    /// argv went on beyond what was captured (or could be read).
    pub truncated: bool,
    /// --ancestors: the chain of parents.
    ancestors: Ancestors<'a>,
    /// --container: the cgroup v2 path.
    pub cgroup: Option<CgroupPath<'a>>,
    /// --cwd: the working directory.
    pub cwd: Option<Cwd<'a>>,
}

/// The working directory of the exec'ing process, relative to its root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cwd<'a> {
    pub path: &'a [u8],
    /// Only the leaf side is there: the path was longer or deeper than kept.
    pub cut: bool,
    /// Outside the process's root (a chroot entered without chdir): the path
    /// is from its mount namespace's root, as getcwd(3) marks it.
    pub unreachable: bool,
}

impl Cwd<'_> {
    /// Appends the path as shown: `.../leaf/side` when cut, and
    /// `(unreachable)/path` when outside the process's root.
    pub fn push_shown(&self, out: &mut Vec<u8>) {
        if self.unreachable {
            out.extend_from_slice(b"(unreachable)");
        }
        if self.cut {
            out.extend_from_slice(b"...");
        }
        out.extend_from_slice(self.path);
    }
}

impl<'a> ExecEvent<'a> {
    /// Decodes a record; None if it is too short to be one (never expected).
    /// Section sizes the record does not hold are cut to what it holds.
    pub fn decode(data: &'a [u8]) -> Option<Self> {
        let (header, mut sections) = split_record::<exec_event_header>(data)?;
        let mut section = |size| sections.take(size);
        let ancestors = section(usize::from(header.ancestor_count) * ancestry::RECORD_SIZE);
        let cgroup = section(usize::from(header.cgroup_path_size));
        let cwd = section(usize::from(header.cwd_size));
        let args = section(usize::from(header.args_size));

        let (filename, argv) = split_first_string(args);
        // The last string lost its NUL when argv was cut at the buffer's end.
        let cut_mid_string = !argv.is_empty() && argv.last() != Some(&0);
        Some(Self {
            truncated: header.args_truncated != 0 || header.argv_unreadable != 0 || cut_mid_string,
            filename: (header.unreadable_args & 1 == 0).then_some(filename),
            argv: argv.strip_suffix(&[0]).unwrap_or(argv),
            ancestors: Ancestors::new(ancestors, header.ancestors_cut != 0),
            cgroup: (!cgroup.is_empty() || header.cgroup_path_cut != 0).then_some(CgroupPath {
                path: cgroup,
                cut: header.cgroup_path_cut != 0,
            }),
            cwd: (!cwd.is_empty() || header.cwd_cut != 0).then_some(Cwd {
                path: cwd,
                cut: header.cwd_cut != 0,
                unreachable: header.cwd_unreachable != 0,
            }),
            header,
        })
    }

    pub fn comm(&self) -> &[u8] {
        c_str_bytes(&self.header.comm)
    }

    pub fn parent_comm(&self) -> &[u8] {
        c_str_bytes(&self.header.pcomm)
    }

    /// --ancestors: the chain of parents.
    pub fn ancestors(&self) -> Ancestors<'a> {
        self.ancestors
    }

    /// argv as the new program received it, argv[0] first; None for an
    /// entry that could not be read.
    fn argv(&self) -> impl Iterator<Item = Arg<'a>> + Clone {
        let unreadable = self.header.unreadable_args;
        let argv = (!self.argv.is_empty()).then_some(self.argv);
        let entries = argv.into_iter().flat_map(|a| a.split(|&b| b == 0));
        // Entry 0 of the record is the file name: argv[i] is entry i + 1.
        let readable = move |i: usize| i + 1 >= 64 || unreadable & (1 << (i + 1)) == 0;
        entries
            .enumerate()
            .map(move |(i, arg)| readable(i).then_some(arg))
    }

    /// What upstream shows as the command line: the file name, then the
    /// caller's arguments (argv[1..]). When an interpreter ran, argv begins
    /// with its own entries up to the file name: those are skipped. None
    /// stands for an argument that could not be read, and ends the list
    /// when the rest of argv could not be.
    pub fn args(&self) -> impl Iterator<Item = Arg<'a>> + Clone {
        let caller_argv0 = match self.header.interpreted != 0 {
            true => self
                .argv()
                .skip(1)
                .position(|arg| arg.is_some() && arg == self.filename)
                .map_or(0, |i| i + 1),
            false => 0,
        };
        let rest_unreadable = (self.header.argv_unreadable != 0).then_some(None);
        std::iter::once(self.filename)
            .chain(self.argv().skip(caller_argv0 + 1))
            .chain(rest_unreadable)
    }
}

/// An argument as captured; None when it was not resident in the caller's
/// memory and could not be read.
pub type Arg<'a> = Option<&'a [u8]>;

/// Splits at the first NUL: (string, rest after the NUL).
fn split_first_string(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => (&bytes[..nul], &bytes[nul + 1..]),
        None => (bytes, &[]),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a record the way the BPF program lays it out.
    pub(crate) fn record(comm: &str, args: &[u8], truncated: bool) -> Vec<u8> {
        record_with(comm, args, &Context::default(), |header| {
            header.args_truncated = u8::from(truncated);
        })
    }

    /// The context sections of a record (--ancestors, --container, --cwd).
    #[derive(Default)]
    pub(crate) struct Context<'a> {
        pub ancestors: &'a [(u32, &'a str)],
        pub cgroup: &'a [u8],
        pub cwd: &'a [u8],
    }

    /// A record with `context`, its header then changed by `edit`.
    pub(crate) fn record_with(
        comm: &str,
        args: &[u8],
        context: &Context<'_>,
        edit: impl FnOnce(&mut exec_event_header),
    ) -> Vec<u8> {
        let mut header = exec_event_header {
            timestamp_ns: 5_000_000_000,
            cgroup_id: 77,
            pid: 4242,
            ppid: 4241,
            uid: 1000,
            retval: 0,
            cpu: 1,
            args_size: args.len() as u16,
            ancestor_count: context.ancestors.len() as u8,
            cgroup_path_size: context.cgroup.len() as u16,
            cwd_size: context.cwd.len() as u16,
            ..Default::default()
        };
        header.comm[..comm.len()].copy_from_slice(comm.as_bytes());
        header.pcomm[..4].copy_from_slice(b"bash");
        edit(&mut header);
        // SAFETY: Plain types can be viewed as bytes.
        let mut data = unsafe { plain::as_bytes(&header) }.to_vec();
        for (pid, comm) in context.ancestors {
            data.extend_from_slice(&pid.to_ne_bytes());
            let mut raw = [0u8; 16];
            raw[..comm.len()].copy_from_slice(comm.as_bytes());
            data.extend_from_slice(&raw);
        }
        data.extend_from_slice(context.cgroup);
        data.extend_from_slice(context.cwd);
        data.extend_from_slice(args);
        data
    }

    pub(crate) fn args_of(event: &ExecEvent<'_>) -> Vec<String> {
        event
            .args()
            .map(|a| {
                a.map_or("(unreadable)".into(), |a| {
                    String::from_utf8_lossy(a).into_owned()
                })
            })
            .collect()
    }

    #[test]
    fn decodes_header_and_drops_argv0() {
        let data = record("ls", b"/usr/bin/ls\0ls\0-la\0/tmp\0", false);
        let event = ExecEvent::decode(&data).unwrap();
        assert_eq!(event.header.pid, 4242);
        assert_eq!(event.header.ppid, 4241);
        assert_eq!(event.comm(), b"ls");
        assert_eq!(event.parent_comm(), b"bash");
        assert_eq!(args_of(&event), ["/usr/bin/ls", "-la", "/tmp"]);
        assert!(!event.truncated);
    }

    #[test]
    fn argv_keeps_argv0() {
        let data = record("busybox", b"/bin/busybox\0ls\0-l\0", false);
        let event = ExecEvent::decode(&data).unwrap();
        assert_eq!(
            event.argv().collect::<Vec<_>>(),
            [Some(&b"ls"[..]), Some(b"-l")]
        );
        let data = record("x", b"/x\0", false);
        assert_eq!(ExecEvent::decode(&data).unwrap().argv().count(), 0);
    }

    fn interpreted(comm: &str, args: &[u8]) -> Vec<String> {
        let mut data = record(comm, args, false);
        data[std::mem::offset_of!(exec_event_header, interpreted)] = 1;
        args_of(&ExecEvent::decode(&data).unwrap())
    }

    #[test]
    fn interpreter_entries_are_skipped() {
        // #!/bin/sh: the kernel made argv [interpreter, file name, args...].
        let args = interpreted("s.sh", b"/tmp/s.sh\0/bin/sh\0/tmp/s.sh\0aa\0bb\0");
        assert_eq!(args, ["/tmp/s.sh", "aa", "bb"]);
        // #!/usr/bin/env sh: [interpreter, its argument, file name, args...].
        let args = interpreted("s.sh", b"/tmp/s.sh\0/usr/bin/env\0sh\0/tmp/s.sh\0cc\0");
        assert_eq!(args, ["/tmp/s.sh", "cc"]);
        // An argument equal to the file name stays when no interpreter ran.
        let data = record("echo", b"/bin/echo\0echo\0/bin/echo\0", false);
        assert_eq!(
            args_of(&ExecEvent::decode(&data).unwrap()),
            ["/bin/echo", "/bin/echo"]
        );
        // The file name not found: only argv[0] is dropped, as usual.
        assert_eq!(interpreted("x", b"/x\0i\0a\0"), ["/x", "a"]);
    }

    #[test]
    fn no_arguments_shows_only_the_file_name() {
        let data = record("true", b"/bin/true\0true\0", false);
        assert_eq!(args_of(&ExecEvent::decode(&data).unwrap()), ["/bin/true"]);
        let data = record("true", b"/bin/true\0", false);
        assert_eq!(args_of(&ExecEvent::decode(&data).unwrap()), ["/bin/true"]);
    }

    #[test]
    fn empty_arguments_are_kept() {
        let data = record("x", b"/x\0x\0\0b\0", false);
        assert_eq!(args_of(&ExecEvent::decode(&data).unwrap()), ["/x", "", "b"]);
    }

    #[test]
    fn argv_cut_mid_string_is_truncated() {
        let data = record("x", b"/x\0x\0aaa\0bb", false);
        let event = ExecEvent::decode(&data).unwrap();
        assert_eq!(args_of(&event), ["/x", "aaa", "bb"]);
        assert!(event.truncated);
        let data = record("x", b"/x\0x\0a\0", true);
        assert!(ExecEvent::decode(&data).unwrap().truncated);
    }

    #[test]
    fn short_records_are_rejected_and_args_size_is_clamped() {
        assert!(ExecEvent::decode(&[0u8; 10]).is_none());
        let mut data = record("x", b"/x\0x\0a\0", false);
        data.truncate(data.len() - 1);
        let event = ExecEvent::decode(&data).unwrap();
        assert_eq!(args_of(&event), ["/x", "a"]);
    }

    #[test]
    fn context_sections_come_before_the_arguments() {
        let context = Context {
            ancestors: &[(4241, "bash"), (1, "systemd")],
            cgroup: b"/system.slice/x.service",
            cwd: b"/home/a b",
        };
        let data = record_with("ls", b"/bin/ls\0ls\0-l\0", &context, |_| {});
        let event = ExecEvent::decode(&data).unwrap();
        let ancestors: Vec<_> = event.ancestors().iter().collect();
        assert_eq!(ancestors, [(4241, &b"bash"[..]), (1, b"systemd")]);
        assert!(!event.ancestors().cut);
        let cgroup = event.cgroup.unwrap();
        assert_eq!(
            (cgroup.path, cgroup.cut),
            (&b"/system.slice/x.service"[..], false)
        );
        assert_eq!(event.cwd.unwrap().path, b"/home/a b");
        assert_eq!(args_of(&event), ["/bin/ls", "-l"]);
        // Without the flags, no sections.
        let data = record("ls", b"/bin/ls\0ls\0", false);
        let event = ExecEvent::decode(&data).unwrap();
        assert!(event.cgroup.is_none() && event.cwd.is_none());
        assert_eq!(event.ancestors().iter().count(), 0);
    }

    #[test]
    fn sections_longer_than_the_record_are_cut_to_it() {
        let context = Context {
            cgroup: b"/a",
            ..Context::default()
        };
        let data = record_with("x", b"/x\0", &context, |header| {
            header.ancestor_count = 200;
            header.cwd_size = u16::MAX;
        });
        let event = ExecEvent::decode(&data).unwrap();
        assert!(event.ancestors().iter().count() < 200);
        assert!(event.filename.unwrap_or_default().is_empty());
    }

    #[test]
    fn unreadable_entries_are_none_in_place() {
        // argv[1] (entry 2) was not resident; argv[0] is dropped as usual.
        let data = record_with("x", b"/x\0x\0\0c\0", &Context::default(), |header| {
            header.unreadable_args = 1 << 2;
        });
        let event = ExecEvent::decode(&data).unwrap();
        assert_eq!(args_of(&event), ["/x", "(unreadable)", "c"]);
        assert!(!event.truncated);
        // The file name itself, and argv from some entry on.
        let data = record_with("x", b"\0x\0a\0", &Context::default(), |header| {
            header.unreadable_args = 1;
            header.argv_unreadable = 1;
        });
        let event = ExecEvent::decode(&data).unwrap();
        assert_eq!(args_of(&event), ["(unreadable)", "a", "(unreadable)"]);
        assert!(event.truncated);
    }
}
