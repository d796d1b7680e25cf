//! Step 3 of the data path: upstream's text columns or JSON Lines, per event
//! and for the count table.

use std::io::Write;

use super::event::{ip_addr, ip_version};
use super::skel::types::{connect_event, connect_key};
use crate::output::clock::WallClock;
use crate::output::escape::push_padded;
use crate::output::json::{rfc3339_utc, JsonObject};

/// Turns connect events into output lines.
pub trait ConnectFormatter {
    /// What comes before the first event (nothing for JSON Lines).
    fn write_header(&self, out: &mut Vec<u8>);
    fn write_event(&mut self, out: &mut Vec<u8>, event: &connect_event);
    /// Called once per batch: follows wall-clock changes.
    fn resync_clock(&mut self) {}
}

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
}

/// Left-aligns `text` in `width` columns and keeps at least one space after
/// it, so a value as wide as its column cannot run into the next one.
fn push_column(out: &mut Vec<u8>, text: &str, width: usize) {
    let _ = write!(out, "{text:<width$}");
    if text.len() >= width {
        out.push(b' ');
    }
}

pub struct TraceFormatter {
    columns: Columns,
    first_timestamp_ns: Option<u64>,
}

impl TraceFormatter {
    pub fn new(columns: Columns) -> Self {
        Self {
            columns,
            first_timestamp_ns: None,
        }
    }
}

impl ConnectFormatter for TraceFormatter {
    fn write_header(&self, out: &mut Vec<u8>) {
        let c = &self.columns;
        if c.timestamp {
            let _ = write!(out, "{:<9}", "TIME(s)");
        }
        if c.uid {
            let _ = write!(out, "{:<6}", "UID");
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
        let _ = writeln!(out, " {:<5}", "DPORT");
    }

    fn write_event(&mut self, out: &mut Vec<u8>, event: &connect_event) {
        let c = &self.columns;
        if c.timestamp {
            let first = *self.first_timestamp_ns.get_or_insert(event.timestamp_ns);
            let seconds = event.timestamp_ns.saturating_sub(first) as f64 / 1e9;
            push_column(out, &format!("{seconds:.3}"), 9);
        }
        if c.uid {
            push_column(out, &event.uid.to_string(), 6);
        }
        let _ = write!(out, "{:<6} ", event.pid);
        push_padded(out, event.comm_bytes(), 16);
        let _ = write!(
            out,
            " {:<2} {:<16}",
            ip_version(event.family),
            event.source().to_string()
        );
        if c.lport {
            let _ = write!(out, " {:<5}", event.sport);
        }
        let _ = write!(out, " {:<16}", event.destination().to_string());
        if c.sport {
            let _ = write!(out, " {:<5}", event.sport);
        }
        let _ = writeln!(out, " {:<5}", event.dport);
    }
}

/// One JSON object per connect, with every field the text has and more.
#[derive(Default)]
pub struct JsonFormatter {
    clock: WallClock,
}

impl JsonFormatter {
    pub fn new() -> Self {
        Self {
            clock: WallClock::new(),
        }
    }
}

impl ConnectFormatter for JsonFormatter {
    fn write_header(&self, _out: &mut Vec<u8>) {}

    fn resync_clock(&mut self) {
        self.clock.resync();
    }

    fn write_event(&mut self, out: &mut Vec<u8>, event: &connect_event) {
        JsonObject::begin(out)
            .string(
                "time",
                rfc3339_utc(self.clock.unix_ns(event.timestamp_ns)).as_bytes(),
            )
            .number("timestamp_ns", event.timestamp_ns)
            .number("pid", event.pid)
            .number("uid", event.uid)
            .string("comm", event.comm_bytes())
            .number("af", ip_version(event.family))
            .string("saddr", event.source().to_string().as_bytes())
            .string("daddr", event.destination().to_string().as_bytes())
            .number("sport", event.sport)
            .number("dport", event.dport)
            .number("cgroup_id", event.cgroup_id)
            .end();
    }
}

/// IPv4 rows first, then IPv6; ordered by address and port within each.
fn sort_count_rows(rows: &mut [(connect_key, u64)]) {
    rows.sort_by_key(|(key, _)| {
        (
            ip_version(key.family),
            key.saddr,
            key.daddr,
            key.sport,
            key.dport,
        )
    });
}

/// Count mode's table as one JSON object: `{"connects":[{...},...]}`.
pub fn write_count_json(out: &mut Vec<u8>, mut rows: Vec<(connect_key, u64)>, with_sport: bool) {
    sort_count_rows(&mut rows);
    let mut array = b"[".to_vec();
    for (i, (key, count)) in rows.iter().enumerate() {
        if i > 0 {
            array.push(b',');
        }
        let mut row = Vec::new();
        let mut object = JsonObject::begin(&mut row);
        object
            .number("af", ip_version(key.family))
            .string(
                "saddr",
                ip_addr(key.family, &key.saddr).to_string().as_bytes(),
            )
            .string(
                "daddr",
                ip_addr(key.family, &key.daddr).to_string().as_bytes(),
            );
        if with_sport {
            object.number("sport", key.sport);
        }
        object
            .number("dport", key.dport)
            .number("count", *count)
            .end();
        // end() closes the line; inside the array the object stays inline.
        array.extend_from_slice(row.strip_suffix(b"\n").unwrap_or(&row));
    }
    array.push(b']');
    JsonObject::begin(out).raw("connects", &array).end();
}

/// Count mode's table, printed once on exit: IPv4 rows first, then IPv6.
pub fn write_count_table(out: &mut Vec<u8>, mut rows: Vec<(connect_key, u64)>, with_sport: bool) {
    sort_count_rows(&mut rows);
    let _ = write!(out, "\n{:<25} {:<25}", "LADDR", "RADDR");
    if with_sport {
        let _ = write!(out, " {:<20}", "LPORT");
    }
    let _ = writeln!(out, " {:<20} {:<10}", "RPORT", "CONNECTS");
    for (key, count) in rows {
        let source = ip_addr(key.family, &key.saddr).to_string();
        let destination = ip_addr(key.family, &key.daddr).to_string();
        let _ = write!(out, "{source:<25} {destination:<25}");
        if with_sport {
            let _ = write!(out, " {:<20}", key.sport);
        }
        let _ = writeln!(out, " {:<20} {count:<10}", key.dport);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcpconnect::event::tests::v4_event;

    fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn default_header_and_row_match_upstream() {
        let mut formatter = TraceFormatter::new(Columns::default());
        let mut out = Vec::new();
        formatter.write_header(&mut out);
        formatter.write_event(&mut out, &v4_event());
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
        };
        let mut formatter = TraceFormatter::new(columns);
        let mut out = Vec::new();
        formatter.write_header(&mut out);
        let mut second = v4_event();
        second.timestamp_ns += 1_500_000_000;
        second.uid = 1_234_567;
        formatter.write_event(&mut out, &v4_event());
        formatter.write_event(&mut out, &second);
        assert_eq!(
            text(out),
            "TIME(s)  UID   PID    COMM             IP SADDR            LPORT DADDR            SPORT DPORT\n\
             0.000    1000  1234   curl             4  127.0.0.1        40000 10.1.2.3         40000 80   \n\
             1.500    1234567 1234   curl             4  127.0.0.1        40000 10.1.2.3         40000 80   \n"
        );
    }

    #[test]
    fn json_has_every_field() {
        let mut out = Vec::new();
        JsonFormatter::new().write_event(&mut out, &v4_event());
        let line = text(out);
        assert!(line.starts_with("{\"time\":\""), "{line}");
        assert!(line.ends_with(
            "\"timestamp_ns\":10000000000,\"pid\":1234,\"uid\":1000,\"comm\":\"curl\",\"af\":4,\
             \"saddr\":\"127.0.0.1\",\"daddr\":\"10.1.2.3\",\"sport\":40000,\"dport\":80,\"cgroup_id\":0}\n"
        ), "{line}");
    }

    #[test]
    fn count_json_is_one_object() {
        let mut key = connect_key {
            family: 2,
            dport: 80,
            ..Default::default()
        };
        key.saddr[..4].copy_from_slice(&[127, 0, 0, 1]);
        key.daddr[..4].copy_from_slice(&[127, 0, 0, 1]);
        let mut out = Vec::new();
        write_count_json(&mut out, vec![(key, 5)], false);
        assert_eq!(
            text(out),
            "{\"connects\":[{\"af\":4,\"saddr\":\"127.0.0.1\",\"daddr\":\"127.0.0.1\",\"dport\":80,\"count\":5}]}\n"
        );
    }

    #[test]
    fn count_table_lists_ipv4_before_ipv6() {
        let mut v6 = connect_key {
            family: 10,
            dport: 443,
            ..Default::default()
        };
        v6.saddr[15] = 1;
        v6.daddr[15] = 1;
        let mut v4 = connect_key {
            family: 2,
            dport: 80,
            sport: 5555,
            ..Default::default()
        };
        v4.saddr[..4].copy_from_slice(&[127, 0, 0, 1]);
        v4.daddr[..4].copy_from_slice(&[127, 0, 0, 2]);
        let mut out = Vec::new();
        write_count_table(&mut out, vec![(v6, 3), (v4, 12)], true);
        let expected = format!(
            "\n{:<25} {:<25} {:<20} {:<20} {:<10}\n{:<25} {:<25} {:<20} {:<20} {:<10}\n{:<25} {:<25} {:<20} {:<20} {:<10}\n",
            "LADDR", "RADDR", "LPORT", "RPORT", "CONNECTS",
            "127.0.0.1", "127.0.0.2", 5555, 80, 12,
            "::1", "::1", 0, 443, 3
        );
        assert_eq!(text(out), expected);
    }
}
