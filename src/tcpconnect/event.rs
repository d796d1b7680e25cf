//! Step 1 of the data path: the bytes the BPF program sent, as a typed event.

use std::borrow::Cow;
use std::mem::offset_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nix::errno::Errno;

use super::skel::types::{connect_event, connect_key, dns_answer};
use crate::bpf_constants::{
    AF_INET, RESULT_CLOSED, RESULT_FAILED, RESULT_OK, RESULT_PENDING, RESULT_UNKNOWN,
};
use crate::data_path::Decode;
use crate::output::escape::c_str_bytes;

// SAFETY: both are #[repr(C)] structs of integers and byte arrays (generated
// from src/bpf/tcpconnect.h); every bit pattern is valid.
unsafe impl plain::Plain for connect_event {}
unsafe impl plain::Plain for connect_key {}
unsafe impl plain::Plain for dns_answer {}

/// tcpconnect's records: a `connect_event` each, and with --dns the
/// `dns_answer`s that name their destinations.
pub struct Connect;

pub enum Record {
    Connect(connect_event),
    Answer(Box<dns_answer>),
}

impl Decode for Connect {
    type Event<'a> = Record;

    /// A record is an answer when it holds at least an answer's header and
    /// query (the kernel sends only the bytes of the answer it copied): a
    /// connect's is a fifth of that (perf buffers pad records to 8 bytes
    /// at most).
    fn decode(record: &[u8]) -> Option<Record> {
        if record.len() >= offset_of!(dns_answer, answer) {
            let mut answer = Box::<dns_answer>::default();
            // SAFETY: Plain types can be written as bytes.
            let bytes = unsafe { plain::as_mut_bytes(&mut *answer) };
            let copied = record.len().min(bytes.len());
            bytes[..copied].copy_from_slice(&record[..copied]);
            // What the record does not hold was not sent.
            let sent = copied - offset_of!(dns_answer, answer);
            answer.answer_len = answer.answer_len.min(sent as u16);
            return Some(Record::Answer(answer));
        }
        connect_event::decode(record).map(Record::Connect)
    }
}

/// An address as the kernel stored it: IPv4 in the first 4 bytes.
pub fn ip_addr(family: u16, raw: &[u8; 16]) -> IpAddr {
    if family == AF_INET {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(*raw))
    }
}

/// 4 or 6, the IP column.
pub fn ip_version(family: u16) -> u8 {
    if family == AF_INET {
        4
    } else {
        6
    }
}

/// What became of a connect, as RESULT and JSON's `result` name it; None
/// for a connect not followed to a result (RESULT_NONE, and any value the
/// kernel side does not write).
pub fn result_name(result: u8, error: u16) -> Option<Cow<'static, str>> {
    let name = match result {
        RESULT_OK => "ok",
        RESULT_FAILED => match Errno::from_raw(error.into()) {
            Errno::ECONNREFUSED => "refused",
            Errno::ETIMEDOUT => "timeout",
            // The C name, EHOSTUNREACH and the like.
            Errno::UnknownErrno => return Some(format!("errno{error}").into()),
            errno => return Some(format!("{errno:?}").into()),
        },
        RESULT_CLOSED => "closed",
        RESULT_PENDING => "pending",
        RESULT_UNKNOWN => "unknown",
        _ => return None,
    };
    Some(name.into())
}

impl connect_event {
    pub fn decode(data: &[u8]) -> Option<Self> {
        let mut event = Self::default();
        plain::copy_from_bytes(&mut event, data).ok()?;
        Some(event)
    }

    pub fn source(&self) -> IpAddr {
        ip_addr(self.family, &self.saddr)
    }

    pub fn destination(&self) -> IpAddr {
        ip_addr(self.family, &self.daddr)
    }

    pub fn comm_bytes(&self) -> &[u8] {
        c_str_bytes(&self.comm)
    }

    pub fn result_name(&self) -> Option<Cow<'static, str>> {
        result_name(self.result, self.error)
    }

    /// The connect is still waiting for its result at `now_ns`.
    pub fn mark_pending(&mut self, now_ns: u64) {
        self.result = RESULT_PENDING;
        self.latency_ns = now_ns.saturating_sub(self.timestamp_ns);
    }
}

impl connect_key {
    /// What count mode counts `event` by, as the kernel side does.
    pub fn of(event: &connect_event, with_sport: bool) -> Self {
        Self {
            saddr: event.saddr,
            daddr: event.daddr,
            family: event.family,
            sport: if with_sport { event.sport } else { 0 },
            dport: event.dport,
            error: event.error,
            result: event.result,
            ..Default::default()
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn v4_event() -> connect_event {
        let mut event = connect_event {
            timestamp_ns: 10_000_000_000,
            pid: 1234,
            uid: 1000,
            family: AF_INET,
            sport: 40000,
            dport: 80,
            ..Default::default()
        };
        event.saddr[..4].copy_from_slice(&[127, 0, 0, 1]);
        event.daddr[..4].copy_from_slice(&[10, 1, 2, 3]);
        event.comm[..4].copy_from_slice(b"curl");
        event
    }

    #[test]
    fn decodes_a_record() {
        let event = v4_event();
        // SAFETY: Plain types can be viewed as bytes.
        let bytes = unsafe { plain::as_bytes(&event) };
        let decoded = connect_event::decode(bytes).unwrap();
        assert_eq!(decoded.pid, 1234);
        assert_eq!(decoded.source().to_string(), "127.0.0.1");
        assert_eq!(decoded.destination().to_string(), "10.1.2.3");
        assert_eq!(decoded.comm_bytes(), b"curl");
        assert!(connect_event::decode(&bytes[..10]).is_none());
    }

    #[test]
    fn answers_and_connects_are_told_apart_by_size() {
        let event = v4_event();
        // SAFETY: Plain types can be viewed as bytes.
        let bytes = unsafe { plain::as_bytes(&event) };
        assert!(matches!(Connect::decode(bytes), Some(Record::Connect(e)) if e.pid == 1234));
        let answer = dns_answer {
            netns: 7,
            ..Default::default()
        };
        // SAFETY: as above.
        let bytes = unsafe { plain::as_bytes(&answer) };
        assert!(matches!(Connect::decode(bytes), Some(Record::Answer(a)) if a.netns == 7));
        assert!(offset_of!(dns_answer, answer) > 8 + size_of::<connect_event>());
        // Sent up to the 10 bytes of answer copied; a record cut shorter than
        // its answer_len says holds only what it holds.
        let sent = offset_of!(dns_answer, answer) + 10;
        let answer = dns_answer {
            answer_len: 10,
            ..answer
        };
        // SAFETY: as above.
        let bytes = unsafe { plain::as_bytes(&answer) };
        let decoded = |len: usize| match Connect::decode(&bytes[..len]) {
            Some(Record::Answer(a)) => a.answer_len,
            _ => panic!("an answer of {len} bytes"),
        };
        assert_eq!(decoded(sent), 10);
        assert_eq!(decoded(sent - 4), 6);
    }

    #[test]
    fn results_are_named_like_the_errors_connect_returns() {
        let named = |result, error| result_name(result, error).map(String::from);
        assert_eq!(named(RESULT_OK, 0).as_deref(), Some("ok"));
        assert_eq!(named(RESULT_FAILED, 111).as_deref(), Some("refused"));
        assert_eq!(named(RESULT_FAILED, 110).as_deref(), Some("timeout"));
        assert_eq!(named(RESULT_FAILED, 113).as_deref(), Some("EHOSTUNREACH"));
        assert_eq!(named(RESULT_FAILED, 101).as_deref(), Some("ENETUNREACH"));
        assert_eq!(named(RESULT_FAILED, 4000).as_deref(), Some("errno4000"));
        assert_eq!(named(RESULT_CLOSED, 0).as_deref(), Some("closed"));
        assert_eq!(named(RESULT_PENDING, 0).as_deref(), Some("pending"));
        assert_eq!(named(RESULT_UNKNOWN, 0).as_deref(), Some("unknown"));
        assert_eq!(named(0, 0), None);
        assert_eq!(named(200, 0), None);
    }

    #[test]
    fn ipv6_addresses_print_like_inet_ntop() {
        let mut raw = [0u8; 16];
        raw[15] = 1;
        assert_eq!(ip_addr(10, &raw).to_string(), "::1");
        assert_eq!(ip_version(10), 6);
        assert_eq!(ip_version(2), 4);
    }
}
