//! Step 3 of the data path: upstream's text columns, or JSON Lines.

use std::io::Write;

use super::cli::DEFAULT_MAX_ARGS;
use super::event::{Exec, ExecEvent};
use crate::container;
use crate::data_path::Formatter;
use crate::output::clock::WallClock;
use crate::output::args::{push_argument, push_args};
use crate::output::escape::push_padded;
use crate::output::json::JsonEvents;

/// Which optional columns are shown and how arguments are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    /// -T: TIME, local wall clock.
    pub time: bool,
    /// -t: TIME(s), seconds since the tool started.
    pub timestamp: bool,
    /// -U: UID.
    pub uid: bool,
    /// -C: CPU.
    pub cpu: bool,
    /// -M: PPCOMM, the parent's command name.
    pub parent_comm: bool,
    /// --container: CONTAINER, the container or unit (last of the columns
    /// before PCOMM).
    pub container: bool,
    /// --ancestors: ANCESTORS, the chain of parents (before ARGS).
    pub ancestors: bool,
    /// --cwd: CWD, the working directory (after ANCESTORS, before ARGS).
    pub cwd: bool,
    /// -q: arguments in double quotes.
    pub quote: bool,
    /// --max-args: how many arguments are shown, the file name included.
    pub max_args: usize,
}

impl Default for Columns {
    fn default() -> Self {
        Self {
            time: false,
            timestamp: false,
            uid: false,
            cpu: false,
            parent_comm: false,
            container: false,
            ancestors: false,
            cwd: false,
            quote: false,
            max_args: DEFAULT_MAX_ARGS,
        }
    }
}

pub struct TextFormatter {
    columns: Columns,
    clock: WallClock,
    /// CLOCK_MONOTONIC at start, the zero of TIME(s).
    start_ns: u64,
}

impl TextFormatter {
    pub fn new(columns: Columns, start_ns: u64) -> Self {
        Self {
            columns,
            clock: WallClock::new(),
            start_ns,
        }
    }
}

impl Formatter<Exec> for TextFormatter {
    fn write_header(&self, out: &mut Vec<u8>) {
        let c = &self.columns;
        if c.time {
            out.extend_from_slice(format!("{:<9}", "TIME").as_bytes());
        }
        if c.timestamp {
            out.extend_from_slice(format!("{:<8} ", "TIME(s)").as_bytes());
        }
        if c.uid {
            out.extend_from_slice(format!("{:<6} ", "UID").as_bytes());
        }
        if c.cpu {
            out.extend_from_slice(format!("{:<3} ", "CPU").as_bytes());
        }
        if c.parent_comm {
            out.extend_from_slice(format!("{:<16} ", "PPCOMM").as_bytes());
        }
        if c.container {
            let _ = write!(
                out,
                "{:<width$} ",
                "CONTAINER",
                width = container::COLUMN_WIDTH
            );
        }
        let _ = write!(
            out,
            "{:<16} {:<6} {:<6} {:>3} ",
            "PCOMM", "PID", "PPID", "RET"
        );
        if c.ancestors {
            out.extend_from_slice(b"ANCESTORS ");
        }
        if c.cwd {
            out.extend_from_slice(b"CWD ");
        }
        out.extend_from_slice(b"ARGS\n");
    }

    fn resync_clock(&mut self) {
        self.clock.resync();
    }

    fn write_event(&mut self, out: &mut Vec<u8>, event: &ExecEvent<'_>) {
        let h = &event.header;
        let c = &self.columns;
        // Writing to a Vec cannot fail.
        if c.time {
            let _ = write!(out, "{:<8} ", self.clock.time_of_day(h.timestamp_ns));
        }
        if c.timestamp {
            let seconds = h.timestamp_ns.saturating_sub(self.start_ns) as f64 / 1e9;
            let _ = write!(out, "{seconds:<8.3} ");
        }
        if c.uid {
            let _ = write!(out, "{:<6} ", h.uid);
        }
        if c.cpu {
            let _ = write!(out, "{:<3} ", h.cpu);
        }
        if c.parent_comm {
            push_padded(out, event.parent_comm(), 16);
            out.push(b' ');
        }
        if c.container {
            container::push_column_of(out, event.cgroup.as_ref());
        }
        push_padded(out, event.comm(), 16);
        let _ = write!(out, " {:<6} {:<6} {:>3} ", h.pid, h.ppid, h.retval);
        if c.ancestors {
            event.ancestors().push_column(out);
            out.push(b' ');
        }
        if c.cwd {
            let shown = event.cwd.map(|cwd| {
                let mut shown = Vec::new();
                cwd.push_shown(&mut shown);
                shown
            });
            push_argument(out, shown.as_deref(), c.quote);
        }

        push_args(out, event.args(), c.max_args, event.truncated, c.quote);
        out.push(b'\n');
    }
}

/// One JSON object per exec, with every field the text has and more.
pub struct JsonFormatter {
    lines: JsonEvents,
    /// --max-args: entries of `args` kept, the file name included.
    max_args: usize,
    /// --ancestors: `ancestors` and `ancestors_truncated`.
    ancestors: bool,
}

impl JsonFormatter {
    pub fn new(max_args: usize, ancestors: bool) -> Self {
        Self {
            lines: JsonEvents::new(),
            max_args,
            ancestors,
        }
    }
}

impl Formatter<Exec> for JsonFormatter {
    fn resync_clock(&mut self) {
        self.lines.resync_clock();
    }

    fn write_loss(&mut self, out: &mut Vec<u8>, count: u64, cpu: Option<usize>) {
        self.lines.write_loss(out, count, cpu);
    }

    fn write_event(&mut self, out: &mut Vec<u8>, event: &ExecEvent<'_>) {
        let h = &event.header;
        let args = event.args().take(self.max_args);
        let truncated = event.truncated || event.args().nth(self.max_args).is_some();
        let mut line = self.lines.begin(out, h.timestamp_ns);
        line.string("comm", event.comm())
            .number("pid", h.pid)
            .number("process_start_ns", h.process_start_boottime_ns)
            .number("ppid", h.ppid)
            .number("uid", h.uid)
            .number("retval", h.retval)
            .number("cpu", h.cpu)
            .number("cgroup_id", h.cgroup_id);
        if let Some(cgroup) = &event.cgroup {
            cgroup.push_json(&mut line);
        }
        line.string("parent_comm", event.parent_comm());
        if self.ancestors {
            event.ancestors().push_json(&mut line);
        }
        if let Some(cwd) = &event.cwd {
            let mut shown = Vec::new();
            cwd.push_shown(&mut shown);
            line.string("cwd", &shown);
        }
        match event.filename {
            Some(filename) => line.string("filename", filename),
            None => line.raw("filename", b"null"),
        };
        line.strings("args", args)
            .boolean("args_truncated", truncated)
            .end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execsnoop::event::tests::{record, record_with, Context};
    use crate::execsnoop::skel::types::exec_event_header;

    fn line(columns: Columns, args: &[u8], truncated: bool) -> String {
        let data = record("ls", args, truncated);
        let event = ExecEvent::decode(&data).unwrap();
        let mut formatter = TextFormatter::new(columns, 3_000_000_000);
        let mut out = Vec::new();
        formatter.write_event(&mut out, &event);
        String::from_utf8(out).unwrap()
    }

    fn header(columns: Columns) -> String {
        let mut out = Vec::new();
        TextFormatter::new(columns, 0).write_header(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_has_every_field_and_the_whole_argv() {
        let data = record("ls", b"/usr/bin/ls\0ls\0-la\0/tmp\0", false);
        let event = ExecEvent::decode(&data).unwrap();
        let mut out = Vec::new();
        JsonFormatter::new(2, false).write_event(&mut out, &event);
        let line = String::from_utf8(out).unwrap();
        assert!(line.starts_with("{\"time\":\""), "{line}");
        assert!(line.ends_with(
            "\"timestamp_ns\":5000000000,\"comm\":\"ls\",\"pid\":4242,\"process_start_ns\":0,\"ppid\":4241,\"uid\":1000,\
             \"retval\":0,\"cpu\":1,\"cgroup_id\":77,\"parent_comm\":\"bash\",\
             \"filename\":\"/usr/bin/ls\",\"args\":[\"/usr/bin/ls\",\"-la\"],\"args_truncated\":true}\n"
        ), "{line}");
    }

    #[test]
    fn default_header_and_row_match_upstream() {
        assert_eq!(
            header(Columns::default()),
            "PCOMM            PID    PPID   RET ARGS\n"
        );
        assert_eq!(
            line(Columns::default(), b"/usr/bin/ls\0ls\0-la\0", false),
            "ls               4242   4241     0 /usr/bin/ls -la \n"
        );
    }

    #[test]
    fn optional_columns_come_first_in_upstream_order() {
        let all = Columns {
            time: true,
            timestamp: true,
            uid: true,
            ..Columns::default()
        };
        assert_eq!(
            header(all.clone()),
            "TIME     TIME(s)  UID    PCOMM            PID    PPID   RET ARGS\n"
        );
        let row = line(all, b"/bin/ls\0ls\0", false);
        // TIME is HH:MM:SS; TIME(s) is 5 s - 3 s.
        assert_eq!(&row[2..3], ":");
        assert_eq!(
            &row[9..],
            "2.000    1000   ls               4242   4241     0 /bin/ls \n"
        );
    }

    #[test]
    fn bcc_extra_columns() {
        let extras = Columns {
            cpu: true,
            parent_comm: true,
            ..Columns::default()
        };
        assert!(header(extras.clone()).starts_with("CPU PPCOMM           PCOMM"));
        assert!(line(extras, b"/bin/ls\0ls\0", false).starts_with("1   bash             ls   "));
    }

    #[test]
    fn quote_mode_escapes_like_upstream() {
        let quoted = Columns {
            quote: true,
            ..Columns::default()
        };
        let row = line(quoted, b"/bin/echo\0echo\0say \"hi\"\0a\tb\nc\0", false);
        assert!(
            row.ends_with("0 \"/bin/echo\" \"say \\\"hi\\\"\" \"a\\tb\\nc\" \n"),
            "{row}"
        );
    }

    #[test]
    fn one_event_is_one_line_whatever_the_arguments() {
        let row = line(
            Columns::default(),
            b"/bin/echo\0echo\0a\nb\x1b]0;owned\x07\0\xff\0",
            false,
        );
        assert_eq!(row.matches('\n').count(), 1);
        assert!(
            row.ends_with("/bin/echo a\\nb\\x1b]0;owned\\x07 \\xff \n"),
            "{row}"
        );
    }

    #[test]
    fn max_args_counts_the_file_name_and_marks_the_rest() {
        let three = Columns {
            max_args: 3,
            ..Columns::default()
        };
        let args = b"/bin/x\0x\0a\0b\0c\0d\0";
        assert!(line(three.clone(), args, false).ends_with("/bin/x a b  ...\n"));
        assert!(line(three.clone(), b"/bin/x\0x\0a\0b\0", false).ends_with("/bin/x a b \n"));
        assert!(line(three, b"/bin/x\0x\0a\0", true).ends_with("/bin/x a  ...\n"));
    }

    fn context_line(
        columns: Columns,
        context: &Context<'_>,
        edit: impl FnOnce(&mut exec_event_header),
    ) -> String {
        let data = record_with("ls", b"/bin/ls\0ls\0-l\0", context, edit);
        let event = ExecEvent::decode(&data).unwrap();
        let mut out = Vec::new();
        TextFormatter::new(columns, 0).write_event(&mut out, &event);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn context_columns_take_their_places_around_the_fixed_ones() {
        let all = Columns {
            parent_comm: true,
            container: true,
            ancestors: true,
            cwd: true,
            ..Columns::default()
        };
        assert_eq!(
            header(all.clone()),
            "PPCOMM           CONTAINER    PCOMM            PID    PPID   RET ANCESTORS CWD ARGS\n"
        );
        let context = Context {
            ancestors: &[(4241, "bash"), (1, "systemd")],
            cgroup: b"/system.slice/sshd.service",
            cwd: b"/home/a b",
        };
        assert_eq!(
            context_line(all.clone(), &context, |_| {}),
            "bash             sshd.service ls               4242   4241     0 \
             bash(4241)<systemd(1) /home/a b /bin/ls -l \n"
        );
        let quoted = Columns { quote: true, ..all };
        assert!(context_line(quoted, &context, |_| {})
            .ends_with(" \"/home/a b\" \"/bin/ls\" \"-l\" \n"));
    }

    #[test]
    fn ancestor_names_cannot_fake_the_chain_and_cut_chains_say_so() {
        let columns = Columns {
            ancestors: true,
            ..Columns::default()
        };
        let context = Context {
            ancestors: &[(10, "x(5)<init\n")],
            ..Context::default()
        };
        let row = context_line(columns.clone(), &context, |h| h.ancestors_cut = 1);
        assert!(row.contains(" 0 x(5)\\x3cinit\\n(10)<... /bin/ls"), "{row}");
        let row = context_line(columns, &Context::default(), |_| {});
        assert!(row.contains(" 0 - /bin/ls"), "{row}");
    }

    #[test]
    fn cut_and_unreachable_working_directories_are_marked() {
        let columns = Columns {
            cwd: true,
            ..Columns::default()
        };
        let context = Context {
            cwd: b"/leaf",
            ..Context::default()
        };
        let row = context_line(columns.clone(), &context, |h| h.cwd_cut = 1);
        assert!(row.contains(" 0 .../leaf /bin/ls"), "{row}");
        let row = context_line(columns, &context, |h| h.cwd_unreachable = 1);
        assert!(row.contains(" 0 (unreachable)/leaf /bin/ls"), "{row}");
    }

    #[test]
    fn json_has_the_context_fields_and_nulls_for_unreadable_arguments() {
        let context = Context {
            ancestors: &[(4241, "bash")],
            cgroup: b"/docker/4f1c2b3a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8",
            cwd: b"/srv",
        };
        let data = record_with("ls", b"/bin/ls\0ls\0\0", &context, |h| {
            h.unreadable_args = 1 << 2
        });
        let event = ExecEvent::decode(&data).unwrap();
        let mut out = Vec::new();
        JsonFormatter::new(20, true).write_event(&mut out, &event);
        let line = String::from_utf8(out).unwrap();
        assert!(line.contains(
            "\"cgroup_id\":77,\"cgroup\":\"/docker/4f1c2b3a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8\",\
             \"container_id\":\"4f1c2b3a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8\",\
             \"parent_comm\":\"bash\",\"ancestors\":[{\"pid\":4241,\"comm\":\"bash\"}],\
             \"ancestors_truncated\":false,\"cwd\":\"/srv\",\"filename\":\"/bin/ls\",\
             \"args\":[\"/bin/ls\",null],\"args_truncated\":false}"
        ), "{line}");
    }
}
