//! Count mode (-c): the kernel counts connects per endpoint in a table,
//! which is read and printed once, on exit, as text or one JSON object.

use std::collections::hash_map::{Entry, HashMap};
use std::io::Write;

use libbpf_rs::{MapCore, MapFlags};

use super::event::{ip_addr, ip_version, result_name, Connect, Record};
use super::skel::types::{connect_event, connect_key};
use crate::data_path::Formatter;
use crate::error::{Error, Result};
use crate::output::json::JsonObject;

/// The data path in count mode: the kernel counts, and sends no events; stdout
/// is only the table printed on exit.
pub struct CountMode;

impl Formatter<Connect> for CountMode {
    fn write_event(&mut self, _out: &mut Vec<u8>, _record: &Record) {}
}

/// The table as the kernel left it.
pub fn read_counts(map: &impl MapCore) -> Result<Vec<(connect_key, u64)>> {
    let mut rows = Vec::new();
    for raw_key in map.keys() {
        let value = map
            .lookup(&raw_key, MapFlags::ANY)
            .map_err(|err| Error::from_libbpf("reading the connect counts", &err))?;
        let count = value
            .as_deref()
            .and_then(|value| value.get(..8)?.try_into().ok())
            .map(u64::from_ne_bytes);
        let mut key = connect_key::default();
        if let (Ok(()), Some(count)) = (plain::copy_from_bytes(&mut key, &raw_key), count) {
            rows.push((key, count));
        }
    }
    Ok(rows)
}

/// Adds connects the kernel did not count, each as one connect of its key
/// (those still followed on exit: as many as there are held sockets, so
/// each finds its row by hash, not by a scan of the table).
pub fn add_connects(
    rows: &mut Vec<(connect_key, u64)>,
    events: &[connect_event],
    with_sport: bool,
) {
    let mut row_of: HashMap<RowOrder, usize> = rows
        .iter()
        .enumerate()
        .map(|(index, (key, _))| (row_order(key), index))
        .collect();
    for event in events {
        let key = connect_key::of(event, with_sport);
        match row_of.entry(row_order(&key)) {
            Entry::Occupied(row) => rows[*row.get()].1 += 1,
            Entry::Vacant(row) => {
                row.insert(rows.len());
                rows.push((key, 1));
            }
        }
    }
}

/// What tells rows apart, in the table's order: IPv4 rows first, then IPv6;
/// by address, port and result within each.
type RowOrder = (u8, [u8; 16], [u8; 16], u16, u16, u8, u16);

fn row_order(key: &connect_key) -> RowOrder {
    (
        ip_version(key.family),
        key.saddr,
        key.daddr,
        key.sport,
        key.dport,
        key.result,
        key.error,
    )
}

fn sort_count_rows(rows: &mut [(connect_key, u64)]) {
    rows.sort_by_key(|(key, _)| row_order(key));
}

/// Which columns the table has besides the addresses and RPORT.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountColumns {
    /// -s: LPORT, and counts per source port.
    pub sport: bool,
    /// --outcome: RESULT, and counts per result.
    pub outcome: bool,
}

/// Count mode's table as one JSON object: `{"connects":[{...},...]}`.
pub fn write_json(out: &mut Vec<u8>, mut rows: Vec<(connect_key, u64)>, columns: CountColumns) {
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
        if columns.sport {
            object.number("sport", key.sport);
        }
        object.number("dport", key.dport);
        if columns.outcome {
            let result = result_name(key.result, key.error).unwrap_or_default();
            object.string("result", result.as_bytes());
        }
        object.number("count", *count).end();
        // end() closes the line; inside the array the object stays inline.
        array.extend_from_slice(row.strip_suffix(b"\n").unwrap_or(&row));
    }
    array.push(b']');
    JsonObject::begin(out).raw("connects", &array).end();
}

/// Count mode's table, printed once on exit: IPv4 rows first, then IPv6.
/// RESULT (--outcome) comes last, after upstream's columns.
pub fn write_table(out: &mut Vec<u8>, mut rows: Vec<(connect_key, u64)>, columns: CountColumns) {
    sort_count_rows(&mut rows);
    let _ = write!(out, "\n{:<25} {:<25}", "LADDR", "RADDR");
    if columns.sport {
        let _ = write!(out, " {:<20}", "LPORT");
    }
    let _ = write!(out, " {:<20} {:<10}", "RPORT", "CONNECTS");
    if columns.outcome {
        out.extend_from_slice(b" RESULT");
    }
    out.push(b'\n');
    for (key, count) in rows {
        let source = ip_addr(key.family, &key.saddr).to_string();
        let destination = ip_addr(key.family, &key.daddr).to_string();
        let _ = write!(out, "{source:<25} {destination:<25}");
        if columns.sport {
            let _ = write!(out, " {:<20}", key.sport);
        }
        let _ = write!(out, " {:<20} {count:<10}", key.dport);
        if columns.outcome {
            let result = result_name(key.result, key.error).unwrap_or_default();
            let _ = write!(out, " {result}");
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf_constants::RESULT_OK;

    fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
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
        write_json(&mut out, vec![(key, 5)], CountColumns::default());
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
        let with_sport = CountColumns {
            sport: true,
            outcome: false,
        };
        write_table(&mut out, vec![(v6, 3), (v4, 12)], with_sport);
        let expected = format!(
            "\n{:<25} {:<25} {:<20} {:<20} {:<10}\n{:<25} {:<25} {:<20} {:<20} {:<10}\n{:<25} {:<25} {:<20} {:<20} {:<10}\n",
            "LADDR", "RADDR", "LPORT", "RPORT", "CONNECTS",
            "127.0.0.1", "127.0.0.2", 5555, 80, 12,
            "::1", "::1", 0, 443, 3
        );
        assert_eq!(text(out), expected);
    }

    #[test]
    fn outcome_counts_per_result_with_connects_added_on_exit() {
        let mut ok = connect_key {
            family: 2,
            dport: 80,
            result: RESULT_OK,
            ..Default::default()
        };
        ok.saddr[..4].copy_from_slice(&[127, 0, 0, 1]);
        ok.daddr[..4].copy_from_slice(&[127, 0, 0, 1]);
        let mut rows = vec![(ok, 7)];
        let mut pending = crate::tcpconnect::event::tests::v4_event();
        pending.mark_pending(pending.timestamp_ns + 5);
        add_connects(&mut rows, &[pending, pending], false);
        let mut out = Vec::new();
        let columns = CountColumns {
            sport: false,
            outcome: true,
        };
        write_table(&mut out, rows.clone(), columns);
        let expected = format!(
            "\n{:<25} {:<25} {:<20} {:<10} RESULT\n{:<25} {:<25} {:<20} {:<10} pending\n{:<25} {:<25} {:<20} {:<10} ok\n",
            "LADDR", "RADDR", "RPORT", "CONNECTS",
            "127.0.0.1", "10.1.2.3", 80, 2,
            "127.0.0.1", "127.0.0.1", 80, 7
        );
        assert_eq!(text(out), expected);
        let mut out = Vec::new();
        write_json(&mut out, rows, columns);
        assert!(
            text(out).ends_with("\"dport\":80,\"result\":\"ok\",\"count\":7}]}\n"),
            "ok row last"
        );
    }
}
