//! Step 1 of the data path: the bytes the BPF program sent, as a typed event.

use std::mem::size_of;

use super::skel::types::exec_event_header;
use crate::output::escape::c_str_bytes;

// SAFETY: exec_event_header is a #[repr(C)] struct of integers and byte
// arrays (generated from src/bpf/execsnoop.h); every bit pattern is valid.
unsafe impl plain::Plain for exec_event_header {}

/// One exec(), borrowed from the record it was decoded from.
#[derive(Debug)]
pub struct ExecEvent<'a> {
    pub header: exec_event_header,
    /// The file name passed to exec (for a successful exec, as the kernel
    /// resolved it: `execveat(fd, "", AT_EMPTY_PATH)` shows `/dev/fd/N`).
    pub filename: &'a [u8],
    /// argv[1..], NUL-separated, without the final NUL.
    argv_tail: &'a [u8],
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
        let (_argv0, argv_tail) = split_first_string(argv);
        // The last string lost its NUL when argv was cut at the buffer's end.
        let cut_mid_string = !argv.is_empty() && argv.last() != Some(&0);
        let argv_tail = argv_tail.strip_suffix(&[0]).unwrap_or(argv_tail);
        Some(Self {
            truncated: header.args_truncated != 0 || cut_mid_string,
            header,
            filename,
            argv_tail,
        })
    }

    pub fn comm(&self) -> &[u8] {
        c_str_bytes(&self.header.comm)
    }

    pub fn parent_comm(&self) -> &[u8] {
        c_str_bytes(&self.header.pcomm)
    }

    /// What upstream shows as the command line: the file name, then argv[1..].
    pub fn args(&self) -> impl Iterator<Item = &'a [u8]> {
        let tail = (!self.argv_tail.is_empty()).then_some(self.argv_tail);
        std::iter::once(self.filename).chain(tail.into_iter().flat_map(|t| t.split(|&b| b == 0)))
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
