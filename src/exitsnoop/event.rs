//! Step 1 of the data path: the bytes the BPF program sent, as a typed event.

use super::skel::types::exit_event_header;
use crate::ancestry::{self, Ancestors};
use crate::bpf_constants::{CMDLINE_KEPT, CMDLINE_KERNEL_THREAD, CMDLINE_UNKNOWN};
use crate::container::CgroupPath;
use crate::data_path::{split_record, Decode};
use crate::output::escape::c_str_bytes;

// SAFETY: exit_event_header is a #[repr(C)] struct of integers and byte
// arrays (generated from src/bpf/exitsnoop.h); every bit pattern is valid.
unsafe impl plain::Plain for exit_event_header {}

/// exitsnoop's records: each an [`ExitEvent`].
pub struct Exit;

impl Decode for Exit {
    type Event<'a> = ExitEvent<'a>;

    fn decode(record: &[u8]) -> Option<ExitEvent<'_>> {
        ExitEvent::decode(record)
    }
}

/// The command line of the process that exited (--max-args).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmdline<'a> {
    /// Its argument area: argv[0], argv[1], ..., NUL-separated (the last
    /// one may lack its NUL when cut), and whether more was there than kept.
    Kept { argv: &'a [u8], cut: bool },
    /// Not kept (see CMDLINE_UNKNOWN in src/bpf/constants.rs).
    Unknown,
    /// A kernel thread, which has none.
    KernelThread,
}

impl<'a> Cmdline<'a> {
    /// argv, argv[0] first.
    pub fn args(&self) -> impl Iterator<Item = Option<&'a [u8]>> + Clone {
        let argv: &'a [u8] = match self {
            Self::Kept { argv, .. } => argv,
            _ => &[],
        };
        let argv = argv.strip_suffix(&[0]).unwrap_or(argv);
        let entries = (!argv.is_empty()).then_some(argv);
        entries.into_iter().flat_map(|a| a.split(|&b| b == 0)).map(Some)
    }

    /// More was there than kept: the last argument shown is cut short.
    pub fn cut(&self) -> bool {
        match self {
            Self::Kept { argv, cut } => *cut || (!argv.is_empty() && argv.last() != Some(&0)),
            _ => false,
        }
    }
}

/// How a process (or with -T a thread) ended, as wait(2) tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus(pub i32);

impl ExitStatus {
    /// The exit code (exit(N) or returned from main): status >> 8.
    pub fn code(self) -> i32 {
        (self.0 >> 8) & 0xff
    }

    /// The signal that ended it, if one did.
    pub fn signal(self) -> Option<i32> {
        Some(self.0 & 0x7f).filter(|&sig| sig != 0)
    }

    pub fn core_dumped(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// Not a clean exit: an exit code other than 0, or a signal.
    pub fn failed(self) -> bool {
        self.0 != 0
    }
}

/// One exit, borrowed from the record it was decoded from.
#[derive(Debug)]
pub struct ExitEvent<'a> {
    pub header: exit_event_header,
    /// --ancestors: the chain of parents.
    pub ancestors: Ancestors<'a>,
    /// --container: the cgroup v2 path.
    pub cgroup: Option<CgroupPath<'a>>,
    /// --max-args: the command line; None when not asked for.
    pub cmdline: Option<Cmdline<'a>>,
}

impl<'a> ExitEvent<'a> {
    /// Decodes a record; None if it is too short to be one (never expected).
    /// Section sizes the record does not hold are cut to what it holds.
    pub fn decode(data: &'a [u8]) -> Option<Self> {
        let (header, mut sections) = split_record::<exit_event_header>(data)?;
        let mut section = |size| sections.take(size);
        let ancestors = section(usize::from(header.ancestor_count) * ancestry::RECORD_SIZE);
        let cgroup = section(usize::from(header.cgroup_path_size));
        let argv = section(usize::from(header.cmdline_size));
        let cmdline = match header.cmdline_state {
            CMDLINE_KEPT => Some(Cmdline::Kept {
                argv,
                cut: header.cmdline_cut != 0,
            }),
            CMDLINE_UNKNOWN => Some(Cmdline::Unknown),
            CMDLINE_KERNEL_THREAD => Some(Cmdline::KernelThread),
            _ => None,
        };
        Some(Self {
            ancestors: Ancestors::new(ancestors, header.ancestors_cut != 0),
            cgroup: (!cgroup.is_empty() || header.cgroup_path_cut != 0).then_some(CgroupPath {
                path: cgroup,
                cut: header.cgroup_path_cut != 0,
            }),
            cmdline,
            header,
        })
    }

    pub fn comm(&self) -> &[u8] {
        c_str_bytes(&self.header.comm)
    }

    pub fn status(&self) -> ExitStatus {
        ExitStatus(self.header.exit_status)
    }

    /// Seconds from the start of the process (-T: the thread) to its exit.
    pub fn age_seconds(&self) -> f64 {
        let h = &self.header;
        h.timestamp_ns.saturating_sub(h.start_ns) as f64 / 1e9
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a record the way the BPF program lays it out.
    pub(crate) fn record(
        comm: &str,
        status: i32,
        cmdline: Option<&[u8]>,
        edit: impl FnOnce(&mut exit_event_header),
    ) -> Vec<u8> {
        let mut header = exit_event_header {
            timestamp_ns: 7_250_000_000,
            start_ns: 5_000_000_000,
            process_start_boottime_ns: 4_900_000_000,
            cgroup_id: 77,
            pid: 4242,
            ppid: 4241,
            tid: 4242,
            uid: 1000,
            exit_status: status,
            cpu: 1,
            cmdline_state: u8::from(cmdline.is_some()),
            cmdline_size: cmdline.map_or(0, |c| c.len() as u16),
            ..Default::default()
        };
        header.comm[..comm.len()].copy_from_slice(comm.as_bytes());
        edit(&mut header);
        // SAFETY: Plain types can be viewed as bytes.
        let mut data = unsafe { plain::as_bytes(&header) }.to_vec();
        data.extend_from_slice(cmdline.unwrap_or_default());
        data
    }

    fn args(event: &ExitEvent<'_>) -> Vec<String> {
        let cmdline = event.cmdline.expect("a command line");
        let args = cmdline.args().map(|a| String::from_utf8_lossy(a.unwrap()).into_owned());
        args.collect()
    }

    #[test]
    fn decodes_the_header_and_the_age() {
        let data = record("sleep", 9, None, |_| {});
        let event = ExitEvent::decode(&data).unwrap();
        assert_eq!((event.header.pid, event.header.ppid), (4242, 4241));
        assert_eq!(event.comm(), b"sleep");
        assert!((event.age_seconds() - 2.25).abs() < 1e-9);
        assert!(event.cmdline.is_none());
        assert!(ExitEvent::decode(&data[..10]).is_none());
    }

    #[test]
    fn statuses_split_as_wait_reports_them() {
        assert_eq!(ExitStatus(2 << 8).code(), 2);
        assert_eq!(ExitStatus(2 << 8).signal(), None);
        assert_eq!(ExitStatus(9).signal(), Some(9));
        assert!(ExitStatus(11 | 0x80).core_dumped());
        assert!(!ExitStatus(0).failed() && ExitStatus(1 << 8).failed() && ExitStatus(15).failed());
    }

    #[test]
    fn the_command_line_keeps_argv0_and_empty_arguments() {
        let data = record("sh", 0, Some(b"sh\0-c\0\0exit 3\0"), |_| {});
        let event = ExitEvent::decode(&data).unwrap();
        assert_eq!(args(&event), ["sh", "-c", "", "exit 3"]);
        assert!(!event.cmdline.unwrap().cut());
        // Cut mid-string, or marked cut by the kernel.
        let data = record("x", 0, Some(b"x\0aaa"), |_| {});
        assert!(ExitEvent::decode(&data).unwrap().cmdline.unwrap().cut());
        let data = record("x", 0, Some(b"x\0"), |h| h.cmdline_cut = 1);
        assert!(ExitEvent::decode(&data).unwrap().cmdline.unwrap().cut());
    }

    #[test]
    fn unknown_and_kernel_thread_command_lines_have_no_arguments() {
        let data = record("x", 0, None, |h| h.cmdline_state = CMDLINE_UNKNOWN);
        let event = ExitEvent::decode(&data).unwrap();
        assert_eq!(event.cmdline, Some(Cmdline::Unknown));
        let data = record("kworker/0:1", 0, None, |h| h.cmdline_state = CMDLINE_KERNEL_THREAD);
        let cmdline = ExitEvent::decode(&data).unwrap().cmdline.unwrap();
        assert_eq!((cmdline, cmdline.args().count()), (Cmdline::KernelThread, 0));
    }

    #[test]
    fn sections_longer_than_the_record_are_cut_to_it() {
        let data = record("x", 0, Some(b"x\0"), |h| {
            h.ancestor_count = 200;
            h.cmdline_size = u16::MAX;
        });
        let event = ExitEvent::decode(&data).unwrap();
        assert!(event.ancestors.iter().count() < 200);
    }
}
