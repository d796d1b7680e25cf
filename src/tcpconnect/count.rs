//! Count mode (-c): the kernel counts connects per endpoint in a table,
//! which is read and printed once, on exit, as text or one JSON object.

use std::io::Write;

use libbpf_rs::{MapCore, MapFlags};

use super::event::{ip_addr, ip_version, Connect};
use super::skel::types::{connect_event, connect_key};
use crate::data_path::Formatter;
use crate::error::{Error, Result};
use crate::output::json::JsonObject;

/// The data path in count mode: the kernel counts, and sends no events; stdout
/// is only the table printed on exit.
pub struct CountMode;

impl Formatter<Connect> for CountMode {
    fn write_event(&mut self, _out: &mut Vec<u8>, _event: &connect_event) {}
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
pub fn write_json(out: &mut Vec<u8>, mut rows: Vec<(connect_key, u64)>, with_sport: bool) {
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
pub fn write_table(out: &mut Vec<u8>, mut rows: Vec<(connect_key, u64)>, with_sport: bool) {
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
        write_json(&mut out, vec![(key, 5)], false);
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
        write_table(&mut out, vec![(v6, 3), (v4, 12)], true);
        let expected = format!(
            "\n{:<25} {:<25} {:<20} {:<20} {:<10}\n{:<25} {:<25} {:<20} {:<20} {:<10}\n{:<25} {:<25} {:<20} {:<20} {:<10}\n",
            "LADDR", "RADDR", "LPORT", "RPORT", "CONNECTS",
            "127.0.0.1", "127.0.0.2", 5555, 80, 12,
            "::1", "::1", 0, 443, 3
        );
        assert_eq!(text(out), expected);
    }
}
