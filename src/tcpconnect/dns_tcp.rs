//! --dns over TCP: the segments the kernel side sends (a `dns_segment`,
//! then the packet's bytes: src/bpf/dns_answers.bpf.h) split into DNS
//! messages, each behind its 2-byte length, and each answer paired with the
//! query of its id its connection sent. The kernel side sends an answer's
//! segment only for a connection of the same network namespace that sent a
//! query (addresses and ports swapped); here its id must be that of a query
//! the connection sent, and `read_answer` checks the question, as for a
//! datagram. A message split over segments is counted, not read.

use std::collections::{HashMap, VecDeque};
use std::mem::size_of;

use super::dns::Unusable;
use super::skel::types::dns_segment;

// SAFETY: a C struct of integers and bytes; any bit pattern is a value.
unsafe impl plain::Plain for dns_segment {}

/// Queries (and connections followed) kept at most; the oldest go first.
pub const CAPACITY: usize = 1024;
/// A message's length, before it on the wire.
const LENGTH_LEN: usize = 2;

/// One TCP connection to port 53, as the kernel side saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Connection {
    pub netns: u32,
    pub family: u16,
    pub client_port: u16,
    pub client: [u8; 16],
    pub server: [u8; 16],
}

/// A segment's record, decoded: who sent it, and its data as copied.
#[derive(Debug)]
pub struct Segment<'a> {
    pub connection: Connection,
    pub timestamp_ns: u64,
    /// Sent to port 53 (a query's), or received from it (an answer's).
    pub sent: bool,
    /// The TCP sequence number of data's first byte.
    pub seq: u32,
    pub data: &'a [u8],
    /// The segment's data's length; more than `data` holds when the kernel
    /// side copied only the first bytes.
    pub data_len: usize,
}

impl<'a> Segment<'a> {
    /// A record of the `dns_segments` channel, or None when it is not one.
    pub fn decode(record: &'a [u8]) -> Option<Self> {
        let header = record.get(..size_of::<dns_segment>())?;
        let mut segment = dns_segment::default();
        plain::copy_from_bytes(&mut segment, header).ok()?;
        let start = usize::from(segment.data_offset);
        let data_len = usize::from(segment.data_len);
        let packet = &record[size_of::<dns_segment>()..];
        let data = packet.get(start..)?;
        let data = &data[..data.len().min(data_len)];
        Some(Self {
            connection: Connection {
                netns: segment.netns,
                family: segment.family,
                client_port: segment.client_port,
                client: segment.client,
                server: segment.server,
            },
            timestamp_ns: segment.timestamp_ns,
            sent: segment.sent != 0,
            seq: segment.seq,
            data,
            data_len,
        })
    }
}

/// What a segment's data holds: its whole messages, and why the rest, if
/// any, was not read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Messages<'a> {
    pub whole: Vec<&'a [u8]>,
    pub rest: Rest,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub enum Rest {
    /// The data ends with a message's end.
    #[default]
    Nothing,
    /// A message continues in the next segments; the next message starts
    /// this many bytes after the data's start.
    SplitUntil(usize),
    /// A message's very length is split: where the next one starts is
    /// unknown.
    SplitLength,
    /// A message beyond the bytes the kernel side copied: larger than it
    /// copies.
    Oversized,
}

/// Splits a segment's data (`data`, the first bytes of `data_len`) into its
/// messages, each behind its 2-byte length.
pub fn messages(data: &[u8], data_len: usize) -> Messages<'_> {
    let mut found = Messages::default();
    let mut at = 0;
    while at < data_len {
        if at + LENGTH_LEN > data_len {
            found.rest = Rest::SplitLength;
            break;
        }
        let Some(length) = data.get(at..at + LENGTH_LEN) else {
            found.rest = Rest::Oversized;
            break;
        };
        let end = at + LENGTH_LEN + usize::from(u16::from_be_bytes([length[0], length[1]]));
        if end > data_len {
            found.rest = Rest::SplitUntil(end);
            break;
        }
        let Some(message) = data.get(at + LENGTH_LEN..end) else {
            found.rest = Rest::Oversized;
            break;
        };
        found.whole.push(message);
        at = end;
    }
    found
}

/// Why a segment's messages named nothing, beyond `Unusable`.
#[derive(Debug, PartialEq, Eq)]
pub enum Unread {
    /// An answer no query of its connection asked (by id).
    Unmatched,
    /// A message split over segments (or after one, where its connection's
    /// messages could no longer be told apart).
    Split,
    Unusable(Unusable),
}

/// The queries of TCP connections waiting for their answers, and where
/// each connection's next message starts, bounded.
#[derive(Default)]
pub struct Exchanges {
    /// Each query with its place in `query_order`.
    queries: HashMap<(Connection, u16), (u64, Vec<u8>)>,
    query_order: VecDeque<(u64, (Connection, u16))>,
    next_place: u64,
    /// Per connection and direction, once a segment was seen, the sequence
    /// number where the next message starts; None once that is unknown.
    next_seq: HashMap<(Connection, bool), Option<u32>>,
    seq_order: VecDeque<(Connection, bool)>,
}

/// What one segment gave: answers, each with its query, and what could not
/// be read.
#[derive(Debug, Default)]
pub struct Read<'s> {
    pub answers: Vec<(Vec<u8>, &'s [u8])>,
    pub unread: Vec<Unread>,
}

impl Exchanges {
    /// Takes one segment, in the order the kernel side saw them.
    pub fn take<'s>(&mut self, segment: &Segment<'s>) -> Read<'s> {
        let mut read = Read::default();
        let direction = (segment.connection, segment.sent);
        match self.next_seq.get(&direction) {
            // The first segment seen: DNS over TCP starts with a message.
            None => {}
            Some(Some(expected)) if *expected == segment.seq => {}
            // Sent again, or the rest of a message split over segments.
            Some(Some(expected)) if (segment.seq.wrapping_sub(*expected) as i32) < 0 => return read,
            // A segment was missed, or a length split: where messages
            // start is unknown.
            Some(_) => {
                read.unread.push(Unread::Split);
                return read;
            }
        }
        let found = messages(segment.data, segment.data_len);
        let after = |len: usize| Some(segment.seq.wrapping_add(len as u32));
        let next = match found.rest {
            Rest::Nothing | Rest::Oversized => after(segment.data_len),
            Rest::SplitUntil(end) => after(end),
            Rest::SplitLength => None,
        };
        match found.rest {
            Rest::Nothing => {}
            Rest::SplitUntil(_) | Rest::SplitLength => read.unread.push(Unread::Split),
            Rest::Oversized => read.unread.push(Unread::Unusable(Unusable::Oversized)),
        }
        self.follow(direction, next);
        for message in found.whole {
            let Some(id) = message.get(..2).map(|id| u16::from_be_bytes([id[0], id[1]])) else {
                read.unread.push(Unread::Unusable(Unusable::Malformed));
                continue;
            };
            let key = (segment.connection, id);
            if segment.sent {
                self.remember(key, message);
                continue;
            }
            match self.queries.remove(&key) {
                Some((_, query)) => read.answers.push((query, message)),
                None => read.unread.push(Unread::Unmatched),
            }
        }
        read
    }

    fn remember(&mut self, key: (Connection, u16), query: &[u8]) {
        let place = self.next_place;
        self.next_place += 1;
        self.queries.insert(key, (place, query.to_vec()));
        self.query_order.push_back((place, key));
        // Every query has its place in the order (answered or replaced ones
        // leave theirs behind): at most CAPACITY are kept.
        while self.query_order.len() > CAPACITY {
            let Some((place, oldest)) = self.query_order.pop_front() else {
                break;
            };
            if self.queries.get(&oldest).is_some_and(|(kept, _)| *kept == place) {
                self.queries.remove(&oldest);
            }
        }
    }

    fn follow(&mut self, direction: (Connection, bool), next: Option<u32>) {
        if self.next_seq.insert(direction, next).is_none() {
            self.seq_order.push_back(direction);
        }
        while self.seq_order.len() > CAPACITY {
            if let Some(oldest) = self.seq_order.pop_front() {
                self.next_seq.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(messages: &[&[u8]]) -> Vec<u8> {
        let mut data = Vec::new();
        for message in messages {
            data.extend_from_slice(&(message.len() as u16).to_be_bytes());
            data.extend_from_slice(message);
        }
        data
    }

    #[test]
    fn a_segment_is_split_into_its_whole_messages() {
        let data = framed(&[b"\x00\x01first", b"\x00\x02second"]);
        let found = messages(&data, data.len());
        assert_eq!(found.whole, vec![&b"\x00\x01first"[..], b"\x00\x02second"]);
        assert_eq!(found.rest, Rest::Nothing);
        // The second message continues in the next segment.
        let cut = data.len() - 3;
        let found = messages(&data[..cut], cut);
        assert_eq!(found.whole, vec![&b"\x00\x01first"[..]]);
        assert_eq!(found.rest, Rest::SplitUntil(data.len()));
        // Its very length is cut.
        let found = messages(&data[..10], 10);
        assert_eq!(found.rest, Rest::SplitLength);
        // Whole in the segment, beyond the bytes copied.
        let found = messages(&data[..12], data.len());
        assert_eq!(found.rest, Rest::Oversized);
        assert_eq!(messages(&[], 0), Messages::default());
    }

    fn connection(client_port: u16) -> Connection {
        Connection {
            netns: 7,
            family: 2,
            client_port,
            client: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            server: [127, 0, 0, 53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        }
    }

    fn segment(connection: Connection, sent: bool, seq: u32, data: &[u8]) -> Segment<'_> {
        Segment {
            connection,
            timestamp_ns: 1,
            sent,
            seq,
            data,
            data_len: data.len(),
        }
    }

    #[test]
    fn answers_pair_with_their_connections_query_of_their_id() {
        let mut exchanges = Exchanges::default();
        // glibc's use-vc: two queries in one segment, answered in two.
        let queries = framed(&[b"\x00\x01A?", b"\x00\x02AAAA?"]);
        let read = exchanges.take(&segment(connection(1000), true, 100, &queries));
        assert!(read.answers.is_empty() && read.unread.is_empty());
        let second = framed(&[b"\x00\x02AAAA!"]);
        let first = framed(&[b"\x00\x01A!"]);
        let read = exchanges.take(&segment(connection(1000), false, 500, &second));
        assert_eq!(read.answers, vec![(b"\x00\x02AAAA?".to_vec(), &b"\x00\x02AAAA!"[..])]);
        let read = exchanges.take(&segment(connection(1000), false, 500 + second.len() as u32, &first));
        assert_eq!(read.answers, vec![(b"\x00\x01A?".to_vec(), &b"\x00\x01A!"[..])]);
        // Answered once: the same answer again, or another connection's
        // answer of that id, pairs with nothing.
        let again = framed(&[b"\x00\x01A!"]);
        let seq = 500 + (second.len() + first.len()) as u32;
        let read = exchanges.take(&segment(connection(1000), false, seq, &again));
        assert_eq!(read.unread, vec![Unread::Unmatched]);
        let read = exchanges.take(&segment(connection(2000), false, 9, &first));
        assert_eq!(read.unread, vec![Unread::Unmatched]);
    }

    #[test]
    fn an_id_asked_again_on_a_connection_keeps_its_new_query() {
        let mut exchanges = Exchanges::default();
        let (mut seq, mut answer_seq) = (0, 0);
        let mut ask = |exchanges: &mut Exchanges, port: u16, query: &[u8]| {
            let data = framed(&[query]);
            exchanges.take(&segment(connection(port), true, seq, &data));
            seq += data.len() as u32;
        };
        ask(&mut exchanges, 1, b"\x00\x09first");
        let answer = framed(&[b"\x00\x09A"]);
        let read = exchanges.take(&segment(connection(1), false, answer_seq, &answer));
        answer_seq += answer.len() as u32;
        assert_eq!(read.answers.len(), 1);
        // Id 9 again, then enough other queries to push its first place out.
        ask(&mut exchanges, 1, b"\x00\x09again");
        for port in 2..=CAPACITY as u16 {
            ask(&mut exchanges, port, b"\x00\x01Q");
        }
        let read = exchanges.take(&segment(connection(1), false, answer_seq, &answer));
        assert_eq!(read.answers, vec![(b"\x00\x09again".to_vec(), &b"\x00\x09A"[..])]);
    }

    #[test]
    fn a_split_message_is_counted_and_its_rest_skipped() {
        let mut exchanges = Exchanges::default();
        let query = framed(&[b"\x00\x05Q"]);
        exchanges.take(&segment(connection(1), true, 0, &query));
        let answer = framed(&[b"\x00\x05a long answer"]);
        let (head, tail) = answer.split_at(6);
        let read = exchanges.take(&segment(connection(1), false, 1000, head));
        assert_eq!(read.unread, vec![Unread::Split]);
        // Its rest, and a resent first part, are skipped silently.
        let read = exchanges.take(&segment(connection(1), false, 1006, tail));
        assert!(read.unread.is_empty() && read.answers.is_empty());
        let read = exchanges.take(&segment(connection(1), false, 1000, head));
        assert!(read.unread.is_empty() && read.answers.is_empty());
        // The next message is read again: an answer to the query.
        let next = framed(&[b"\x00\x05A"]);
        let read = exchanges.take(&segment(connection(1), false, 1000 + answer.len() as u32, &next));
        assert_eq!(read.answers.len(), 1);
        // A segment after a gap (one missed) is not read.
        let read = exchanges.take(&segment(connection(1), false, 5000, &next));
        assert_eq!(read.unread, vec![Unread::Split]);
    }

    #[test]
    fn queries_kept_are_bounded() {
        let mut exchanges = Exchanges::default();
        for port in 0..(CAPACITY as u16 + 10) {
            let query = framed(&[b"\x00\x01Q"]);
            exchanges.take(&segment(connection(port), true, 0, &query));
        }
        assert_eq!(exchanges.queries.len(), CAPACITY);
        assert!(exchanges.next_seq.len() <= CAPACITY);
        let answer = framed(&[b"\x00\x01A"]);
        let read = exchanges.take(&segment(connection(0), false, 0, &answer));
        assert_eq!(read.unread, vec![Unread::Unmatched], "the oldest query made room");
    }

    #[test]
    fn records_decode_to_their_data() {
        let header = dns_segment {
            netns: 3,
            family: 2,
            client_port: 4000,
            seq: 77,
            data_offset: 4,
            data_len: 6,
            sent: 1,
            ..Default::default()
        };
        // SAFETY: Plain types can be read as bytes.
        let mut record = unsafe { plain::as_bytes(&header) }.to_vec();
        record.extend_from_slice(b"IPTC\x00\x02ok");
        let segment = Segment::decode(&record).unwrap();
        assert_eq!(segment.data, b"\x00\x02ok");
        assert_eq!((segment.seq, segment.sent, segment.connection.netns), (77, true, 3));
        // Copied only in part; a data offset past the bytes.
        let segment = Segment::decode(&record[..record.len() - 2]).unwrap();
        assert_eq!((segment.data, segment.data_len), (&b"\x00\x02"[..], 6));
        record.truncate(size_of::<dns_segment>() + 3);
        assert!(Segment::decode(&record).is_none());
        assert!(Segment::decode(b"short").is_none());
    }
}
