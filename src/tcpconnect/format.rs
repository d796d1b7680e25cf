//! Step 3 of the data path: upstream's text columns, or JSON Lines.

use std::io::Write;

use super::dns::{Query, SharedNames};
use super::event::{ip_version, Connect, Record};
use super::skel::types::connect_event;
use crate::bpf_constants::RESULT_UNKNOWN;
use super::Cgroups;
use crate::container;
use crate::data_path::Formatter;
use crate::output::columns::{push_ip, push_spaced, push_uint};
use crate::output::escape::push_padded;
use crate::output::json::JsonEvents;

/// Which optional columns trace mode shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// -t: TIME(s), seconds since the first event.
    pub timestamp: bool,
    /// -U: UID.
    pub uid: bool,
    /// -s: SPORT, after DADDR.
    pub sport: bool,
    /// -L: LPORT (BCC Python's), after SADDR.
    pub lport: bool,
    /// --outcome: RESULT and LAT(ms), last.
    pub outcome: bool,
}

/// RESULT's width: "EHOSTUNREACH" and a space.
const RESULT_WIDTH: usize = 13;

/// --container: CONTAINER, the last of the optional columns before PID,
/// from the cgroup paths the kernel kept.
fn push_container(out: &mut Vec<u8>, cgroups: &mut Cgroups, cgroup_id: u64) {
    match cgroups.path(cgroup_id) {
        Some(path) => path.push_column(out),
        None => {
            push_padded(out, b"?", container::COLUMN_WIDTH);
            out.push(b' ');
        }
    }
}

pub struct TextFormatter {
    columns: Columns,
    /// What TIME(s) counts from: the first event's timestamp, as upstream,
    /// unless given (--outcome prints in the order of results, not of
    /// connects, and counts from the tool's start).
    time_origin_ns: Option<u64>,
    /// --container: the CONTAINER column's names.
    cgroups: Option<Cgroups>,
    /// --dns: QUERY, last, from the names of the answers seen.
    names: Option<SharedNames>,
}

impl TextFormatter {
    pub fn new(
        columns: Columns,
        time_origin_ns: Option<u64>,
        cgroups: Option<Cgroups>,
        names: Option<SharedNames>,
    ) -> Self {
        Self {
            columns,
            time_origin_ns,
            cgroups,
            names,
        }
    }
}

/// Step 3 for a record: an answer teaches the names (--dns) and prints
/// nothing; a connect is written by `write_connect`, once the answers over
/// TCP sent before it are learnt.
fn write_record(
    names: Option<&SharedNames>,
    record: &Record,
    write_connect: impl FnOnce(&connect_event),
) {
    match record {
        Record::Connect(event) => {
            if let Some(names) = names {
                names.borrow_mut().catch_up();
            }
            write_connect(event)
        }
        Record::Answer(answer) => {
            if let Some(names) = names {
                names.borrow_mut().learn_from(answer);
            }
        }
    }
}

impl Formatter<Connect> for TextFormatter {
    fn write_header(&self, out: &mut Vec<u8>) {
        let c = &self.columns;
        if c.timestamp {
            let _ = write!(out, "{:<9}", "TIME(s)");
        }
        if c.uid {
            let _ = write!(out, "{:<6}", "UID");
        }
        if self.cgroups.is_some() {
            let _ = write!(out, "{:<w$} ", "CONTAINER", w = container::COLUMN_WIDTH);
        }
        let _ = write!(
            out,
            "{:<6} {:<16} {:<2} {:<16}",
            "PID", "COMM", "IP", "SADDR"
        );
        if c.lport {
            let _ = write!(out, " {:<5}", "LPORT");
        }
        let _ = write!(out, " {:<16}", "DADDR");
        if c.sport {
            let _ = write!(out, " {:<5}", "SPORT");
        }
        let _ = write!(out, " {:<5}", "DPORT");
        if c.outcome {
            let _ = write!(out, " {:<RESULT_WIDTH$}LAT(ms)", "RESULT");
        }
        if self.names.is_some() {
            out.extend_from_slice(b" QUERY");
        }
        out.push(b'\n');
    }

    fn write_event(&mut self, out: &mut Vec<u8>, record: &Record) {
        let names = self.names.clone();
        write_record(names.as_ref(), record, |event| {
            self.write_connect(out, event);
            if let Some(names) = &names {
                out.push(b' ');
                let names = names.borrow();
                names
                    .query(event.netns, event.destination(), event.timestamp_ns)
                    .push_column(out);
            }
            out.push(b'\n');
        });
    }
}

impl TextFormatter {
    /// A connect's columns but QUERY, without the line's end.
    fn write_connect(&mut self, out: &mut Vec<u8>, event: &connect_event) {
        let c = &self.columns;
        if c.timestamp {
            let origin = *self.time_origin_ns.get_or_insert(event.timestamp_ns);
            let seconds = event.timestamp_ns.saturating_sub(origin) as f64 / 1e9;
            push_spaced(out, format_args!("{seconds:.3}"), 9);
        }
        if c.uid {
            push_spaced(out, event.uid, 6);
        }
        if let Some(cgroups) = &mut self.cgroups {
            push_container(out, cgroups, event.cgroup_id);
        }
        push_uint(out, event.pid.into(), 6);
        out.push(b' ');
        push_padded(out, event.comm_bytes(), 16);
        out.push(b' ');
        push_uint(out, ip_version(event.family).into(), 2);
        out.push(b' ');
        push_ip(out, event.source(), 16);
        if c.lport {
            out.push(b' ');
            push_uint(out, event.sport.into(), 5);
        }
        out.push(b' ');
        push_ip(out, event.destination(), 16);
        if c.sport {
            out.push(b' ');
            push_uint(out, event.sport.into(), 5);
        }
        out.push(b' ');
        push_uint(out, event.dport.into(), 5);
        if c.outcome {
            out.push(b' ');
            push_spaced(out, event.result_name().unwrap_or_default(), RESULT_WIDTH);
            match event.result {
                // Not followed: how long it took is not known.
                RESULT_UNKNOWN => out.push(b'-'),
                _ => {
                    let _ = write!(out, "{:.3}", event.latency_ns as f64 / 1e6);
                }
            }
        }
    }
}

/// One JSON object per connect, with every field the text has and more.
pub struct JsonFormatter {
    lines: JsonEvents,
    /// --outcome: `result` and `latency_ns` on every line.
    outcome: bool,
    /// --container: `cgroup` and `container_id`.
    cgroups: Option<Cgroups>,
    /// --dns: `query` (null when none is known) and `query_age_ns`.
    names: Option<SharedNames>,
}

impl JsonFormatter {
    pub fn new(outcome: bool, cgroups: Option<Cgroups>, names: Option<SharedNames>) -> Self {
        Self {
            lines: JsonEvents::new(),
            outcome,
            cgroups,
            names,
        }
    }
}

impl Formatter<Connect> for JsonFormatter {
    fn resync_clock(&mut self) {
        self.lines.resync_clock();
    }

    fn write_loss(&mut self, out: &mut Vec<u8>, count: u64, cpu: Option<usize>) {
        self.lines.write_loss(out, count, cpu);
    }

    fn write_event(&mut self, out: &mut Vec<u8>, record: &Record) {
        let names = self.names.clone();
        write_record(names.as_ref(), record, |event| {
            self.write_connect(out, event, names.as_ref());
        });
    }
}

impl JsonFormatter {
    fn write_connect(&mut self, out: &mut Vec<u8>, event: &connect_event, names: Option<&SharedNames>) {
        let mut line = self.lines.begin(out, event.timestamp_ns);
        line.number("pid", event.pid)
            .number("process_start_ns", event.process_start_boottime_ns)
            .number("uid", event.uid)
            .string("comm", event.comm_bytes())
            .number("af", ip_version(event.family))
            .string("saddr", event.source().to_string().as_bytes())
            .string("daddr", event.destination().to_string().as_bytes())
            .number("sport", event.sport)
            .number("dport", event.dport)
            .number("cgroup_id", event.cgroup_id);
        if let Some(path) = self.cgroups.as_mut().and_then(|c| c.path(event.cgroup_id)) {
            path.push_json(&mut line);
        }
        // Without --outcome, only a connect shown before its start was
        // confirmed has a result: unknown.
        if let Some(result) = event.result_name() {
            line.string("result", result.as_bytes());
        }
        if self.outcome {
            match event.result {
                RESULT_UNKNOWN => line.raw("latency_ns", b"null"),
                _ => line.number("latency_ns", event.latency_ns),
            };
        }
        if let Some(names) = names {
            let names = names.borrow();
            match names.query(event.netns, event.destination(), event.timestamp_ns) {
                Query::Localhost => line.string("query", b"localhost"),
                Query::Answered { name, age_ns } => {
                    line.string("query", name).number("query_age_ns", age_ns)
                }
                Query::Unknown => line.raw("query", b"null"),
            };
        }
        line.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf_constants::{RESULT_CLOSED, RESULT_FAILED, RESULT_OK};
    use crate::tcpconnect::event::tests::v4_event;

    fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn default_header_and_row_match_upstream() {
        let mut formatter = TextFormatter::new(Columns::default(), None, None, None);
        let mut out = Vec::new();
        formatter.write_header(&mut out);
        formatter.write_event(&mut out, &Record::Connect(v4_event()));
        assert_eq!(
            text(out),
            "PID    COMM             IP SADDR            DADDR            DPORT\n\
             1234   curl             4  127.0.0.1        10.1.2.3         80   \n"
        );
    }

    #[test]
    fn optional_columns() {
        let columns = Columns {
            timestamp: true,
            uid: true,
            sport: true,
            lport: true,
            outcome: false,
        };
        let mut formatter = TextFormatter::new(columns, None, None, None);
        let mut out = Vec::new();
        formatter.write_header(&mut out);
        let mut second = v4_event();
        second.timestamp_ns += 1_500_000_000;
        second.uid = 1_234_567;
        formatter.write_event(&mut out, &Record::Connect(v4_event()));
        formatter.write_event(&mut out, &Record::Connect(second));
        assert_eq!(
            text(out),
            "TIME(s)  UID   PID    COMM             IP SADDR            LPORT DADDR            SPORT DPORT\n\
             0.000    1000  1234   curl             4  127.0.0.1        40000 10.1.2.3         40000 80   \n\
             1.500    1234567 1234   curl             4  127.0.0.1        40000 10.1.2.3         40000 80   \n"
        );
    }

    #[test]
    fn outcome_columns_come_last() {
        let columns = Columns {
            timestamp: true,
            outcome: true,
            ..Columns::default()
        };
        // TIME(s) counts from the tool's start, given.
        let mut formatter = TextFormatter::new(columns, Some(9_000_000_000), None, None);
        let mut out = Vec::new();
        formatter.write_header(&mut out);
        let mut ok = v4_event();
        (ok.result, ok.latency_ns) = (RESULT_OK, 1_234_567);
        let mut unreachable = v4_event();
        (unreachable.result, unreachable.error) = (RESULT_FAILED, libc::EHOSTUNREACH as u16);
        unreachable.latency_ns = 3_000_000_000;
        let mut unknown = v4_event();
        unknown.result = RESULT_UNKNOWN;
        for event in [ok, unreachable, unknown] {
            formatter.write_event(&mut out, &Record::Connect(event));
        }
        assert_eq!(
            text(out),
            "TIME(s)  PID    COMM             IP SADDR            DADDR            DPORT RESULT       LAT(ms)\n\
             1.000    1234   curl             4  127.0.0.1        10.1.2.3         80    ok           1.235\n\
             1.000    1234   curl             4  127.0.0.1        10.1.2.3         80    EHOSTUNREACH 3000.000\n\
             1.000    1234   curl             4  127.0.0.1        10.1.2.3         80    unknown      -\n"
        );
    }

    #[test]
    fn json_has_every_field() {
        let mut out = Vec::new();
        JsonFormatter::new(false, None, None).write_event(&mut out, &Record::Connect(v4_event()));
        let line = text(out);
        assert!(line.starts_with("{\"time\":\""), "{line}");
        assert!(line.ends_with(
            "\"timestamp_ns\":10000000000,\"pid\":1234,\"process_start_ns\":0,\"uid\":1000,\"comm\":\"curl\",\"af\":4,\
             \"saddr\":\"127.0.0.1\",\"daddr\":\"10.1.2.3\",\"sport\":40000,\"dport\":80,\"cgroup_id\":0}\n"
        ), "{line}");
    }

    #[test]
    fn json_has_the_result_with_outcome_or_when_unconfirmed() {
        let line = |outcome, result, latency_ns| {
            let mut event = v4_event();
            (event.result, event.latency_ns) = (result, latency_ns);
            let mut out = Vec::new();
            JsonFormatter::new(outcome, None, None).write_event(&mut out, &Record::Connect(event));
            let line = text(out);
            let (_, fields) = line.split_once(",\"cgroup_id\":0").expect("cgroup_id");
            fields.to_string()
        };
        assert_eq!(
            line(true, RESULT_CLOSED, 5),
            ",\"result\":\"closed\",\"latency_ns\":5}\n"
        );
        assert_eq!(
            line(true, RESULT_UNKNOWN, 0),
            ",\"result\":\"unknown\",\"latency_ns\":null}\n"
        );
        assert_eq!(line(false, RESULT_UNKNOWN, 0), ",\"result\":\"unknown\"}\n");
        assert_eq!(line(false, 0, 0), "}\n");
    }

    /// Tables that know 10.1.2.3 as web.test in namespace 7, answered 1 s
    /// before v4_event's connect.
    fn names() -> crate::tcpconnect::dns::SharedNames {
        use crate::tcpconnect::dns::Resolution;
        let names = crate::tcpconnect::dns::Names::shared();
        let address = v4_event().destination();
        let resolution = Resolution {
            name: b"web.test".to_vec(),
            addresses: vec![(address, 60)],
        };
        names.borrow_mut().learn(7, 9_000_000_000, Ok(resolution));
        names
    }

    #[test]
    fn dns_adds_query_last() {
        let columns = Columns {
            outcome: true,
            ..Columns::default()
        };
        let mut formatter = TextFormatter::new(columns, None, None, Some(names()));
        let mut out = Vec::new();
        formatter.write_header(&mut out);
        let mut event = v4_event();
        (event.netns, event.result, event.latency_ns) = (7, RESULT_OK, 1_000_000);
        formatter.write_event(&mut out, &Record::Connect(event));
        event.netns = 8;
        formatter.write_event(&mut out, &Record::Connect(event));
        assert_eq!(
            text(out),
            "PID    COMM             IP SADDR            DADDR            DPORT RESULT       LAT(ms) QUERY\n\
             1234   curl             4  127.0.0.1        10.1.2.3         80    ok           1.000 web.test (1000.000ms)\n\
             1234   curl             4  127.0.0.1        10.1.2.3         80    ok           1.000 No DNS Query\n"
        );
    }

    #[test]
    fn dns_adds_query_and_its_age_to_json() {
        let mut formatter = JsonFormatter::new(false, None, Some(names()));
        let mut out = Vec::new();
        let mut event = v4_event();
        event.netns = 7;
        formatter.write_event(&mut out, &Record::Connect(event));
        event.netns = 8;
        formatter.write_event(&mut out, &Record::Connect(event));
        let lines = text(out);
        let lines: Vec<&str> = lines.lines().collect();
        assert!(lines[0].ends_with(",\"query\":\"web.test\",\"query_age_ns\":1000000000}"), "{}", lines[0]);
        assert!(lines[1].ends_with(",\"query\":null}"), "{}", lines[1]);
    }
}
