//! Step 3 of the data path: exits as upstream's columns, or JSON Lines.

use std::ffi::CStr;
use std::io::Write as _;

use super::event::{Cmdline, Exit, ExitEvent, ExitStatus};
use crate::container;
use crate::data_path::Formatter;
use crate::output::args::push_args;
use crate::output::clock::WallClock;
use crate::output::columns::push_spaced;
use crate::output::escape::{push_escaped, push_padded, Quoting};
use crate::output::json::JsonEvents;

/// The time column (-t, --utc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeColumn {
    /// -t: the local wall clock, HH:MM:SS, as upstream.
    Local,
    /// --utc: UTC with milliseconds, HH:MM:SS.mmm, as BCC Python.
    Utc,
}

/// Which optional columns are shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub time: Option<TimeColumn>,
    /// --label: LABEL, after the time.
    pub label: Option<String>,
    /// --container: CONTAINER, before PCOMM.
    pub container: bool,
    /// --ancestors: ANCESTORS, after EXIT_CODE.
    pub ancestors: bool,
    /// --max-args: ARGS, last.
    pub max_args: Option<usize>,
}

/// LABEL's width, as BCC Python's.
const LABEL_WIDTH: usize = 6;

/// Upstream's columns, with ours where asked for.
pub struct TextFormatter {
    columns: Columns,
    clock: WallClock,
}

impl TextFormatter {
    pub fn new(columns: Columns) -> Self {
        Self {
            columns,
            clock: WallClock::new(),
        }
    }
}

impl Formatter<Exit> for TextFormatter {
    fn write_header(&self, out: &mut Vec<u8>) {
        let c = &self.columns;
        // Writing to a Vec cannot fail.
        match c.time {
            // Upstream's header says TIME(s) over the same wall clock.
            Some(TimeColumn::Local) => out.extend_from_slice(b"TIME     "),
            Some(TimeColumn::Utc) => out.extend_from_slice(b"TIME-UTC     "),
            None => {}
        }
        if c.label.is_some() {
            push_spaced(out, "LABEL", LABEL_WIDTH);
        }
        if c.container {
            let _ = write!(out, "{:<w$} ", "CONTAINER", w = container::COLUMN_WIDTH);
        }
        let _ = write!(
            out,
            "{:<16} {:<7} {:<7} {:<7} {:<7} EXIT_CODE",
            "PCOMM", "PID", "PPID", "TID", "AGE(s)"
        );
        if c.ancestors {
            out.extend_from_slice(b" ANCESTORS");
        }
        if c.max_args.is_some() {
            out.extend_from_slice(b" ARGS");
        }
        out.push(b'\n');
    }

    fn resync_clock(&mut self) {
        self.clock.resync();
    }

    fn write_event(&mut self, out: &mut Vec<u8>, event: &ExitEvent<'_>) {
        let h = &event.header;
        let c = &self.columns;
        match c.time {
            Some(TimeColumn::Local) => {
                let _ = write!(out, "{:>8} ", self.clock.time_of_day(h.timestamp_ns));
            }
            Some(TimeColumn::Utc) => {
                let time = utc_time_of_day(self.clock.unix_ns(h.timestamp_ns));
                let _ = write!(out, "{time:<13}");
            }
            None => {}
        }
        if let Some(label) = &c.label {
            let start = out.len();
            push_escaped(out, label.as_bytes(), Quoting::Bare);
            let written = out.len() - start;
            out.resize(out.len() + LABEL_WIDTH.saturating_sub(written).max(1), b' ');
        }
        if c.container {
            container::push_column_of(out, event.cgroup.as_ref());
        }
        push_padded(out, event.comm(), 16);
        let _ = write!(
            out,
            " {:<7} {:<7} {:<7} {:<7.2} ",
            h.pid,
            h.ppid,
            h.tid,
            event.age_seconds()
        );
        push_exit_code(out, event.status());
        if c.ancestors {
            out.push(b' ');
            event.ancestors.push_column(out);
        }
        if let Some(max_args) = c.max_args {
            out.push(b' ');
            match event.cmdline {
                Some(cmdline @ Cmdline::Kept { .. }) => {
                    push_args(out, cmdline.args(), max_args, cmdline.cut(), false);
                }
                Some(Cmdline::KernelThread) => {
                    out.push(b'[');
                    push_escaped(out, event.comm(), Quoting::Bare);
                    out.push(b']');
                }
                Some(Cmdline::Unknown) | None => out.push(b'?'),
            }
        }
        out.push(b'\n');
    }
}

/// EXIT_CODE as upstream writes it: `0`, `code N`, or `signal N (NAME)`
/// with strsignal(3)'s name, then `, core dumped` when it dumped core.
pub fn push_exit_code(out: &mut Vec<u8>, status: ExitStatus) {
    let _ = match (status.0 & 0xff, status.code()) {
        (0, 0) => write!(out, "0"),
        (0, code) => write!(out, "code {code}"),
        (_, _) => {
            if let Some(signal) = status.signal() {
                let _ = write!(out, "signal {signal} ({})", signal_name(signal));
            }
            match status.core_dumped() {
                true => write!(out, ", core dumped"),
                false => Ok(()),
            }
        }
    };
}

/// strsignal(3)'s description of `signal` (`Killed`, `Segmentation fault`),
/// in the C locale as upstream prints it.
pub fn signal_name(signal: i32) -> String {
    // SAFETY: strsignal returns a NUL-terminated string that stays valid
    // until its next call; it is copied at once (the tools have one thread).
    let name = unsafe { libc::strsignal(signal) };
    if name.is_null() {
        return format!("Unknown signal {signal}");
    }
    // SAFETY: not null, and NUL-terminated (above).
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

/// `HH:MM:SS.mmm` in UTC.
fn utc_time_of_day(unix_ns: i128) -> String {
    let ms = unix_ns.div_euclid(1_000_000);
    let seconds_of_day = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60,
        ms.rem_euclid(1000)
    )
}

/// One JSON object per exit, with every field the text has and more.
pub struct JsonFormatter {
    lines: JsonEvents,
    label: Option<String>,
    ancestors: bool,
    max_args: Option<usize>,
}

impl JsonFormatter {
    pub fn new(columns: Columns) -> Self {
        Self {
            lines: JsonEvents::new(),
            label: columns.label,
            ancestors: columns.ancestors,
            max_args: columns.max_args,
        }
    }
}

impl Formatter<Exit> for JsonFormatter {
    fn resync_clock(&mut self) {
        self.lines.resync_clock();
    }

    fn write_loss(&mut self, out: &mut Vec<u8>, count: u64, cpu: Option<usize>) {
        self.lines.write_loss(out, count, cpu);
    }

    fn write_event(&mut self, out: &mut Vec<u8>, event: &ExitEvent<'_>) {
        let h = &event.header;
        let status = event.status();
        let mut line = self.lines.begin(out, h.timestamp_ns);
        line.string("comm", event.comm())
            .number("pid", h.pid)
            .number("process_start_ns", h.process_start_boottime_ns)
            .number("ppid", h.ppid)
            .number("tid", h.tid)
            .number("uid", h.uid)
            .number("cpu", h.cpu)
            .number("cgroup_id", h.cgroup_id)
            .number("age_ns", h.timestamp_ns.saturating_sub(h.start_ns))
            .number("exit_status", status.0)
            .number("exit_code", status.code());
        match status.signal() {
            Some(signal) => line
                .number("signal", signal)
                .string("signal_name", signal_name(signal).as_bytes()),
            None => line.raw("signal", b"null"),
        };
        line.boolean("core_dumped", status.core_dumped());
        if let Some(cgroup) = &event.cgroup {
            cgroup.push_json(&mut line);
        }
        if let Some(label) = &self.label {
            line.string("label", label.as_bytes());
        }
        if self.ancestors {
            event.ancestors.push_json(&mut line);
        }
        if let (Some(max_args), Some(cmdline)) = (self.max_args, event.cmdline) {
            match cmdline {
                Cmdline::Unknown => line.raw("args", b"null"),
                _ => line
                    .strings("args", cmdline.args().take(max_args))
                    .boolean(
                        "args_truncated",
                        cmdline.cut() || cmdline.args().nth(max_args).is_some(),
                    ),
            };
            line.boolean("kernel_thread", cmdline == Cmdline::KernelThread);
        }
        line.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exitsnoop::event::tests::record;

    fn text(columns: Columns, status: i32, cmdline: Option<&[u8]>) -> (String, String) {
        let mut formatter = TextFormatter::new(columns);
        let mut header = Vec::new();
        formatter.write_header(&mut header);
        let data = record("sleep", status, cmdline, |_| {});
        let mut row = Vec::new();
        formatter.write_event(&mut row, &ExitEvent::decode(&data).unwrap());
        (
            String::from_utf8(header).unwrap(),
            String::from_utf8(row).unwrap(),
        )
    }

    #[test]
    fn default_columns_are_upstreams_byte_for_byte() {
        let (header, row) = text(Columns::default(), 0, None);
        // printf("%-16s %-7s %-7s %-7s %-7s %-s\n", ...) and
        // printf("%-16s %-7d %-7d %-7d %-7.2f ", ...), then the code.
        assert_eq!(
            header,
            "PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE\n"
        );
        assert_eq!(row, "sleep            4242    4241    4242    2.25    0\n");
    }

    #[test]
    fn exit_codes_are_written_as_upstream() {
        let code = |status| {
            let mut out = Vec::new();
            push_exit_code(&mut out, ExitStatus(status));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(code(0), "0");
        assert_eq!(code(3 << 8), "code 3");
        assert_eq!(code(9), "signal 9 (Killed)");
        assert_eq!(code(11 | 0x80), "signal 11 (Segmentation fault), core dumped");
        assert_eq!(code(15), "signal 15 (Terminated)");
    }

    #[test]
    fn optional_columns_frame_upstreams() {
        let columns = Columns {
            time: Some(TimeColumn::Local),
            label: Some("web".into()),
            container: false,
            ancestors: false,
            max_args: Some(2),
        };
        let (header, row) = text(columns, 1 << 8, Some(b"sleep\x001\x00x\x00"));
        assert!(header.starts_with("TIME     LABEL PCOMM"), "{header}");
        assert!(header.ends_with("EXIT_CODE ARGS\n"), "{header}");
        assert_eq!(&row[8..9], " ");
        assert!(row[9..].starts_with("web   sleep "), "{row}");
        assert!(row.ends_with("code 1 sleep 1  ...\n"), "{row}");
        let (_, unknown) = text(
            Columns {
                max_args: Some(20),
                ..Columns::default()
            },
            0,
            None,
        );
        assert!(unknown.ends_with(" 0 ?\n"), "{unknown}");
    }

    #[test]
    fn utc_time_has_milliseconds() {
        assert_eq!(utc_time_of_day(86_400_000_000_000 + 3_723_004_000_000), "01:02:03.004");
    }
}
