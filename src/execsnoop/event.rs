//! Step 1 of the data path: the bytes the BPF program sent, as a typed event.

use std::mem::size_of;

use super::skel::types::exec_event_header;
use crate::data_path::Decode;
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
    pub filename: &'a [u8],
    /// argv as captured (argv[0] first), NUL-separated, without the final NUL.
    argv: &'a [u8],
    /// argv went on beyond what was captured.
    pub truncated: bool,
}

impl<'a> ExecEvent<'a> {
    /// Decodes a record; None if it is too short to be one (never expected).
    pub fn decode(data: &'a [u8]) -> Option<Self> {
        let header_size = size_of::<exec_event_header>();
        let mut header = exec_event_header::default();
        plain::copy_from_bytes(&mut header, data.get(..header_size)?).ok()?;
        let args_end = (header_size + usize::from(header.args_size)).min(data.len());
        let args = &data[header_size..args_end];

        let (filename, argv) = split_first_string(args);
        // The last string lost its NUL when argv was cut at the buffer's end.
        let cut_mid_string = !argv.is_empty() && argv.last() != Some(&0);
        Some(Self {
            truncated: header.args_truncated != 0 || cut_mid_string,
            header,
            filename,
            argv: argv.strip_suffix(&[0]).unwrap_or(argv),
        })
    }

    pub fn comm(&self) -> &[u8] {
        c_str_bytes(&self.header.comm)
    }

    pub fn parent_comm(&self) -> &[u8] {
        c_str_bytes(&self.header.pcomm)
    }

    /// argv as the new program received it, argv[0] first.
    fn argv(&self) -> impl Iterator<Item = &'a [u8]> + Clone {
        let argv = (!self.argv.is_empty()).then_some(self.argv);
        argv.into_iter().flat_map(|a| a.split(|&b| b == 0))
    }

    /// What upstream shows as the command line: the file name, then the
    /// caller's arguments (argv[1..]). When an interpreter ran, argv begins
    /// with its own entries up to the file name: those are skipped.
    pub fn args(&self) -> impl Iterator<Item = &'a [u8]> + Clone {
        let caller_argv0 = match self.header.interpreted != 0 {
            true => self
                .argv()
                .skip(1)
                .position(|arg| arg == self.filename)
                .map_or(0, |i| i + 1),
            false => 0,
        };
        std::iter::once(self.filename).chain(self.argv().skip(caller_argv0 + 1))
    }
}

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
        let mut header = exec_event_header {
            timestamp_ns: 5_000_000_000,
            cgroup_id: 77,
            pid: 4242,
            ppid: 4241,
            uid: 1000,
            retval: 0,
            cpu: 1,
            args_size: args.len() as u16,
            args_truncated: u8::from(truncated),
            ..Default::default()
        };
        header.comm[..comm.len()].copy_from_slice(comm.as_bytes());
        header.pcomm[..4].copy_from_slice(b"bash");
        // SAFETY: Plain types can be viewed as bytes.
        let mut data = unsafe { plain::as_bytes(&header) }.to_vec();
        data.extend_from_slice(args);
        data
    }

    fn args_of(event: &ExecEvent<'_>) -> Vec<String> {
        event
            .args()
            .map(|a| String::from_utf8_lossy(a).into_owned())
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
        assert_eq!(event.argv().collect::<Vec<_>>(), [&b"ls"[..], b"-l"]);
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
}
