//! --dns: the name behind each connect's destination, from the DNS answers
//! the kernel side matched to a query of the same network namespace (its id,
//! addresses and ports: src/bpf/dns_answers.bpf.h). Here each answer is
//! checked against its query's question and read (`read_answer`, a pure
//! function), and its addresses fill a bounded table of names by namespace
//! and address (`Names`), which the formatters ask for each connect.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

use libbpf_rs::{MapCore, PerfBuffer, PerfBufferBuilder};
use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, RCODE};

use super::dns_tcp::{Exchanges, Segment, Unread};
use super::event::{Connect, Record};
use super::skel::types::dns_answer;
use crate::data_path::Decode;
use crate::error::{Error, Result as ToolResult};

/// Names kept at most (BCC's bound); the oldest answer's go first.
pub const CAPACITY: usize = 10_240;
/// A name is kept for its answer's TTL, but at least this long (a TTL of 0
/// is common, and the client connects after its lookup) ...
pub const MIN_KEEP_NS: u64 = 10 * NS_PER_S;
/// ... and at most this (BCC keeps every name for a day).
pub const MAX_KEEP_NS: u64 = 24 * 3600 * NS_PER_S;
/// Past this delay between answer and connect, QUERY shows it (BCC's).
const SHOWN_DELAY_NS: u64 = 100_000_000;
/// CNAMEs followed from the question at most.
const MAX_CNAME_CHAIN: usize = 16;
/// The fewest bytes a question, a resource record, the header take on the
/// wire: a header whose counts claim more than its message holds is
/// malformed, found before the parser sizes its tables by those counts.
const MIN_QUESTION_LEN: usize = 5;
const MIN_RECORD_LEN: usize = 11;
const HEADER_LEN: usize = 12;
const NS_PER_S: u64 = 1_000_000_000;

/// What an answer said: the name its client asked for, and the addresses
/// that name resolved to (through CNAMEs), each with its TTL in seconds.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolution {
    /// As asked, in presentation form: labels joined by dots, a dot or a
    /// backslash inside a label escaped with a backslash.
    pub name: Vec<u8>,
    pub addresses: Vec<(IpAddr, u32)>,
}

/// Why an answer names nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unusable {
    /// Longer than the bytes the kernel side copies of an answer.
    Oversized,
    /// Not a DNS message (truncated, a bad name or pointer, bad counts).
    Malformed,
    /// Not a response to its query: another id or question, or not a response.
    Mismatched,
}

/// Reads `answer`, a response to `query` (both whole DNS messages): the
/// question must be the query's, and the A and AAAA records of the name
/// asked, or of a CNAME it leads to, are its addresses. A refusal or an
/// unknown name resolves to no address.
pub fn read_answer(query: &[u8], answer: &[u8]) -> Result<Resolution, Unusable> {
    let query = parse(query)?;
    let answer = parse(answer)?;
    let ([asked], [answered]) = (&query.questions[..], &answer.questions[..]) else {
        return Err(Unusable::Mismatched);
    };
    let is_response = |packet: &Packet| packet.has_flags(PacketFlag::RESPONSE);
    if answer.id() != query.id()
        || !is_response(&answer)
        || is_response(&query)
        || answered.qname != asked.qname
        || answered.qtype != asked.qtype
        || answered.qclass != asked.qclass
    {
        return Err(Unusable::Mismatched);
    }
    let mut addresses = Vec::new();
    if answer.rcode() == RCODE::NoError {
        let owners = cname_chain(&answer, &asked.qname);
        for record in &answer.answers {
            let address = match &record.rdata {
                RData::A(a) => IpAddr::V4(Ipv4Addr::from(a.address)),
                RData::AAAA(aaaa) => IpAddr::V6(Ipv6Addr::from(aaaa.address)),
                _ => continue,
            };
            if owners.contains(&&record.name) {
                addresses.push((address, record.ttl));
            }
        }
    }
    Ok(Resolution {
        name: presentation(&asked.qname),
        addresses,
    })
}

fn parse(message: &[u8]) -> Result<Packet<'_>, Unusable> {
    let count = |at: usize| message.get(at..at + 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let (Some(questions), Some(answers), Some(authority), Some(additional)) =
        (count(4), count(6), count(8), count(10))
    else {
        return Err(Unusable::Malformed);
    };
    let least = questions * MIN_QUESTION_LEN + (answers + authority + additional) * MIN_RECORD_LEN;
    if HEADER_LEN + least > message.len() {
        return Err(Unusable::Malformed);
    }
    Packet::parse(message).map_err(|_| Unusable::Malformed)
}

/// The name asked, and the names it leads to through the answer's CNAMEs.
fn cname_chain<'p>(answer: &'p Packet<'p>, asked: &'p Name<'p>) -> Vec<&'p Name<'p>> {
    let mut chain = vec![asked];
    while chain.len() <= MAX_CNAME_CHAIN {
        let last = chain[chain.len() - 1];
        let next = answer.answers.iter().find_map(|record| match &record.rdata {
            RData::CNAME(target) if record.name == *last => Some(&target.0),
            _ => None,
        });
        match next {
            Some(target) if !chain.contains(&target) => chain.push(target),
            _ => break,
        }
    }
    chain
}

fn presentation(name: &Name<'_>) -> Vec<u8> {
    let mut text = Vec::new();
    for (i, label) in name.get_labels().iter().enumerate() {
        if i > 0 {
            text.push(b'.');
        }
        for &byte in label.as_ref() {
            if byte == b'.' || byte == b'\\' {
                text.push(b'\\');
            }
            text.push(byte);
        }
    }
    text
}

/// What QUERY shows for a connect.
#[derive(Debug, PartialEq, Eq)]
pub enum Query<'a> {
    /// 127.0.0.1 or ::1 (BCC's two; the rest of 127/8 is looked up).
    Localhost,
    /// The name of the latest answer for the address in the connect's
    /// namespace, and how long before the connect it came.
    Answered { name: &'a [u8], age_ns: u64 },
    /// No answer seen, or it expired.
    Unknown,
}

impl Query<'_> {
    /// The QUERY column, as BCC prints it: the name, with the delay past
    /// 100 ms. Names are escaped like every other name.
    pub fn push_column(&self, out: &mut Vec<u8>) {
        match self {
            Query::Localhost => out.extend_from_slice(b"localhost"),
            Query::Unknown => out.extend_from_slice(b"No DNS Query"),
            Query::Answered { name, age_ns } => {
                crate::output::escape::push_escaped(out, name, crate::output::escape::Quoting::Bare);
                if *age_ns > SHOWN_DELAY_NS {
                    use std::io::Write;
                    let _ = write!(out, " ({:.3}ms)", *age_ns as f64 / 1e6);
                }
            }
        }
    }
}

/// Answers that named nothing, and names dropped to make room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    pub oversized: u64,
    pub malformed: u64,
    pub mismatched: u64,
    pub evicted: u64,
    /// Over TCP: answers whose connection sent no query of their id ...
    pub unmatched: u64,
    /// ... messages split over segments ...
    pub split: u64,
    /// ... and segments the channel had no room for.
    pub lost_segments: u64,
}

/// Pages of each CPU's buffer of TCP segments, and of UDP answers (a
/// record is at most about 2 KiB).
const SEGMENT_PAGES: usize = 8;

/// What is read whole before each connect is named, so that every answer
/// that came before a connect names it: the TCP segments (`dns_segments`:
/// the kernel can copy a segment's data only into a perf buffer) and, when
/// the events travel on per-CPU perf buffers (kernels before 5.8), the UDP
/// answers too (`dns_answers_perfbuf`). Those rings are read one CPU after
/// another, so on the events' channel an answer in another CPU's ring than
/// its connect's could be read after the connect; here it cannot: it was
/// sent before the connect was made, so it is in its ring by the time the
/// connect is read.
struct AnswerChannels {
    segments: PerfBuffer<'static>,
    /// None where the events' channel is the ring buffer, one ordered ring
    /// that carries the UDP answers itself.
    udp_answers: Option<PerfBuffer<'static>>,
    inbox: Inbox,
    lost_segments: Rc<Cell<u64>>,
}

/// What a record of `AnswerChannels` is.
#[derive(Clone, Copy)]
enum Carried {
    Segment,
    UdpAnswer,
}

/// The records of `AnswerChannels` read and not yet learnt from.
type Inbox = Rc<RefCell<Vec<(Carried, Vec<u8>)>>>;

/// Opens one of `AnswerChannels`: its records go to `inbox`; a segment the
/// channel had no room for is counted in `lost_segments` (the programs count
/// a UDP answer they could not send as a lost event, as on the events'
/// channel).
fn open_channel(
    map: &impl MapCore,
    carried: Carried,
    inbox: &Inbox,
    lost_segments: &Rc<Cell<u64>>,
) -> ToolResult<PerfBuffer<'static>> {
    let (to_inbox, to_lost) = (Rc::clone(inbox), Rc::clone(lost_segments));
    let builder = PerfBufferBuilder::new(map)
        .pages(SEGMENT_PAGES)
        .sample_cb(move |_cpu, data: &[u8]| to_inbox.borrow_mut().push((carried, data.to_vec())));
    let builder = match carried {
        Carried::Segment => builder.lost_cb(move |_cpu, count| to_lost.set(to_lost.get() + count)),
        Carried::UdpAnswer => builder,
    };
    builder
        .build()
        .map_err(|err| Error::from_libbpf("opening the channel of DNS answers", &err))
}

struct Named {
    name: Rc<[u8]>,
    answered_ns: u64,
    expires_ns: u64,
    /// Its place in `Names::by_age`.
    order: u64,
}

/// The names of addresses by network namespace, bounded: each kept for its
/// TTL (within MIN_KEEP_NS and MAX_KEEP_NS), the oldest answer's dropped
/// first when `capacity` are kept.
pub struct Names {
    by_address: HashMap<(u32, IpAddr), Named>,
    by_age: BTreeMap<u64, (u32, IpAddr)>,
    next_order: u64,
    capacity: usize,
    pub losses: Losses,
    /// DNS over TCP: queries waiting for their answers.
    exchanges: Exchanges,
    channels: Option<AnswerChannels>,
}

/// The one table the formatters name connects from and the final report
/// counts from.
pub type SharedNames = Rc<RefCell<Names>>;

impl Names {
    pub fn new(capacity: usize) -> Self {
        Self {
            by_address: HashMap::new(),
            by_age: BTreeMap::new(),
            next_order: 0,
            capacity,
            losses: Losses::default(),
            exchanges: Exchanges::default(),
            channels: None,
        }
    }

    /// Reads TCP segments from `segments` (the kernel side's
    /// `dns_segments`) from now on, and UDP answers from `udp_answers`
    /// (`dns_answers_perfbuf`) where the events travel on perf buffers.
    pub fn listen(
        &mut self,
        segments: &impl MapCore,
        udp_answers: Option<&impl MapCore>,
    ) -> ToolResult<()> {
        let inbox = Rc::new(RefCell::new(Vec::new()));
        let lost_segments = Rc::new(Cell::new(0));
        let segments = open_channel(segments, Carried::Segment, &inbox, &lost_segments)?;
        let udp_answers = match udp_answers {
            Some(map) => Some(open_channel(map, Carried::UdpAnswer, &inbox, &lost_segments)?),
            None => None,
        };
        self.channels = Some(AnswerChannels {
            segments,
            udp_answers,
            inbox,
            lost_segments,
        });
        Ok(())
    }

    /// Learns from the answers the kernel side sent so far on
    /// `AnswerChannels`, in the order it saw them (each CPU has its
    /// buffer): called before a connect is named, so every answer before it
    /// is known.
    pub fn catch_up(&mut self) {
        let Some(channels) = &self.channels else {
            return;
        };
        let _ = channels.segments.consume();
        if let Some(udp_answers) = &channels.udp_answers {
            let _ = udp_answers.consume();
        }
        let mut records = std::mem::take(&mut *channels.inbox.borrow_mut());
        self.losses.lost_segments += channels.lost_segments.replace(0);
        // Both kinds of record begin with the kernel's timestamp.
        records.sort_by_key(|(_, record)| record.first_chunk().copied().map(u64::from_ne_bytes));
        for (carried, record) in &records {
            match carried {
                Carried::Segment => self.learn_segment(record),
                Carried::UdpAnswer => match Connect::decode(record) {
                    Some(Record::Answer(answer)) => self.learn_from(&answer),
                    _ => self.losses.malformed += 1,
                },
            }
        }
    }

    /// Learns what one TCP segment's answers say (a query's segment is
    /// kept for its answer).
    pub fn learn_segment(&mut self, record: &[u8]) {
        match Segment::decode(record) {
            Some(segment) => self.learn_from_segment(&segment),
            None => self.losses.malformed += 1,
        }
    }

    fn learn_from_segment(&mut self, segment: &Segment<'_>) {
        let read = self.exchanges.take(segment);
        for unread in read.unread {
            match unread {
                Unread::Unmatched => self.losses.unmatched += 1,
                Unread::Split => self.losses.split += 1,
                Unread::Unusable(why) => self.learn(0, 0, Err(why)),
            }
        }
        let netns = segment.connection.netns;
        for (query, answer) in read.answers {
            self.learn(netns, segment.timestamp_ns, read_answer(&query, answer));
        }
    }

    pub fn shared() -> SharedNames {
        Rc::new(RefCell::new(Self::new(CAPACITY)))
    }

    /// Learns what one answer the kernel side sent says.
    pub fn learn_from(&mut self, record: &dns_answer) {
        let query = &record.query[..usize::from(record.query_len).min(record.query.len())];
        let copied = usize::from(record.answer_len).min(record.answer.len());
        let resolution = match usize::from(record.udp_len) > copied {
            true => Err(Unusable::Oversized),
            false => read_answer(query, &record.answer[..copied]),
        };
        self.learn(record.netns, record.timestamp_ns, resolution);
    }

    pub fn learn(&mut self, netns: u32, answered_ns: u64, resolution: Result<Resolution, Unusable>) {
        let resolution = match resolution {
            Ok(resolution) => resolution,
            Err(why) => {
                *match why {
                    Unusable::Oversized => &mut self.losses.oversized,
                    Unusable::Malformed => &mut self.losses.malformed,
                    Unusable::Mismatched => &mut self.losses.mismatched,
                } += 1;
                return;
            }
        };
        let name: Rc<[u8]> = resolution.name.into();
        for (address, ttl) in resolution.addresses {
            let keep_ns = (u64::from(ttl) * NS_PER_S).clamp(MIN_KEEP_NS, MAX_KEEP_NS);
            self.insert(
                (netns, address),
                Rc::clone(&name),
                answered_ns,
                answered_ns.saturating_add(keep_ns),
            );
        }
    }

    fn insert(&mut self, key: (u32, IpAddr), name: Rc<[u8]>, answered_ns: u64, expires_ns: u64) {
        if let Some(old) = self.by_address.remove(&key) {
            self.by_age.remove(&old.order);
        }
        while self.by_address.len() >= self.capacity {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            if let Some(dropped) = self.by_address.remove(&oldest) {
                // An expired name makes room without loss.
                if dropped.expires_ns >= answered_ns {
                    self.losses.evicted += 1;
                }
            }
        }
        let order = self.next_order;
        self.next_order += 1;
        self.by_age.insert(order, key);
        self.by_address.insert(
            key,
            Named {
                name,
                answered_ns,
                expires_ns,
                order,
            },
        );
    }

    /// QUERY for a connect to `address` from namespace `netns` at `at_ns`.
    pub fn query(&self, netns: u32, address: IpAddr, at_ns: u64) -> Query<'_> {
        let loopback = match address {
            IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST,
            IpAddr::V6(v6) => v6 == Ipv6Addr::LOCALHOST,
        };
        if loopback {
            return Query::Localhost;
        }
        match self.by_address.get(&(netns, address)) {
            Some(named) if at_ns <= named.expires_ns => Query::Answered {
                name: &named.name,
                age_ns: at_ns.saturating_sub(named.answered_ns),
            },
            _ => Query::Unknown,
        }
    }

    /// The line on stderr on exit, when answers named nothing or names
    /// were dropped; `unmatched`: datagrams from port 53 that answered no
    /// query (counted by the kernel side).
    pub fn report(&self, unmatched: u64) -> Option<String> {
        let Losses {
            oversized,
            malformed,
            mismatched,
            evicted,
            unmatched: unmatched_by_id,
            split,
            lost_segments,
        } = self.losses;
        let parts: Vec<String> = [
            (unmatched + unmatched_by_id, "answered no query of their namespace"),
            (mismatched, "did not answer their query's question"),
            (malformed, "were malformed"),
            (oversized, "were larger than the bytes read of an answer"),
            (split, "were split over TCP segments"),
            (lost_segments, "were lost (TCP segments with no room in their channel)"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        let mut line = match parts.is_empty() {
            true => String::new(),
            false => format!("DNS answers that named nothing: {}", parts.join(", ")),
        };
        if evicted > 0 {
            if !line.is_empty() {
                line.push_str("; ");
            }
            let capacity = self.capacity;
            line.push_str(&format!(
                "{evicted} DNS names were dropped before they expired: the table holds {capacity}"
            ));
        }
        (!line.is_empty()).then_some(line)
    }
}

/// The parsing path as fuzzing and the property tests drive it: `input` is
/// a query's length (2 bytes, big-endian), the query, then the answer. The
/// answer is read, learnt, and each address's QUERY column and JSON string
/// made; panics if a name comes out with a control character unescaped.
/// Returns whether the answer was read.
#[doc(hidden)]
pub fn exercise(input: &[u8]) -> bool {
    let query_len = match input {
        [high, low, ..] => usize::from(u16::from_be_bytes([*high, *low])),
        _ => 0,
    };
    let rest = input.get(2..).unwrap_or_default();
    let (query, answer) = rest.split_at(query_len.min(rest.len()));
    let resolution = read_answer(query, answer);
    let read = resolution.is_ok();
    let addresses: Vec<IpAddr> = match &resolution {
        Ok(resolution) => resolution.addresses.iter().map(|(address, _)| *address).collect(),
        Err(_) => Vec::new(),
    };
    let mut names = Names::new(CAPACITY);
    names.learn(1, 0, resolution);
    check_shown(&names, &addresses);
    read
}

/// The TCP path as fuzzing drives it: `input` is segments, each a byte of
/// flags (bit 0: sent, a query's; bit 1: on a second connection; bit 2: a
/// sequence number that skips), its data's length (2 bytes, big-endian;
/// a length past the input's end takes the rest) and its data. Each is
/// taken in turn and its answers learnt and shown, as `exercise` does.
/// Returns the number of addresses named.
#[doc(hidden)]
pub fn exercise_segments(mut input: &[u8]) -> usize {
    use super::dns_tcp::Connection;
    let mut names = Names::new(CAPACITY);
    let mut seq = [[0u32; 2]; 2];
    while let [flags, high, low, rest @ ..] = input {
        let len = usize::from(u16::from_be_bytes([*high, *low])).min(rest.len());
        let (data, after) = rest.split_at(len);
        input = after;
        let (sent, second) = (flags & 1 != 0, flags & 2 != 0);
        let next = &mut seq[usize::from(second)][usize::from(sent)];
        if flags & 4 != 0 {
            *next = next.wrapping_add(u32::from(*flags));
        }
        let segment = Segment {
            connection: Connection {
                netns: 1,
                family: 2,
                client_port: 1000 + u16::from(second),
                client: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                server: [127, 0, 0, 53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            },
            timestamp_ns: 0,
            sent,
            seq: *next,
            data,
            data_len: len,
        };
        *next = next.wrapping_add(len as u32);
        names.learn_from_segment(&segment);
    }
    let addresses: Vec<IpAddr> = names.by_address.keys().map(|(_, address)| *address).collect();
    check_shown(&names, &addresses);
    addresses.len()
}

/// Each address's QUERY column and JSON string, checked: no control
/// character unescaped.
fn check_shown(names: &Names, addresses: &[IpAddr]) {
    for &address in addresses {
        let mut column = Vec::new();
        let query = names.query(1, address, 0);
        query.push_column(&mut column);
        let mut json = Vec::new();
        if let Query::Answered { name, .. } = query {
            use crate::output::escape::{push_escaped, Quoting};
            push_escaped(&mut json, name, Quoting::DoubleQuoted);
        }
        for shown in [&column, &json] {
            assert!(
                !shown.iter().any(|&b| b < 0x20 || b == 0x7f),
                "a control character unescaped: {shown:?}"
            );
        }
        assert!(!column.is_empty(), "every address read shows a QUERY");
    }
}

#[cfg(test)]
mod tests {
    use simple_dns::rdata::{A, AAAA, CNAME};
    use simple_dns::{Question, ResourceRecord, CLASS, TYPE};

    use super::*;

    fn question(name: &str, qtype: TYPE) -> Question<'_> {
        Question::new(Name::new_unchecked(name), qtype.into(), CLASS::IN.into(), false)
    }

    fn query(id: u16, name: &str, qtype: TYPE) -> Vec<u8> {
        let mut packet = Packet::new_query(id);
        packet.questions.push(question(name, qtype));
        packet.build_bytes_vec().unwrap()
    }

    fn record<'a>(owner: &'a str, rdata: RData<'a>) -> ResourceRecord<'a> {
        ResourceRecord::new(Name::new_unchecked(owner), CLASS::IN, 300, rdata)
    }

    fn a(address: [u8; 4]) -> RData<'static> {
        RData::A(A {
            address: u32::from_be_bytes(address),
        })
    }

    fn cname(target: &str) -> RData<'_> {
        RData::CNAME(CNAME(Name::new_unchecked(target)))
    }

    /// A response to `query(id, name, qtype)` with these answers (names
    /// compressed, as resolvers send them).
    fn answer<'a>(id: u16, name: &'a str, qtype: TYPE, answers: Vec<ResourceRecord<'a>>) -> Vec<u8> {
        let mut packet = Packet::new_reply(id);
        packet.questions.push(question(name, qtype));
        packet.answers = answers;
        packet.build_bytes_vec_compressed().unwrap()
    }

    fn v4(address: [u8; 4]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(address))
    }

    /// A query for alias.test, and its answer through two CNAMEs.
    fn cname_exchange() -> (Vec<u8>, Vec<u8>) {
        let asked = query(7, "alias.test", TYPE::A);
        let answered = answer(
            7,
            "alias.test",
            TYPE::A,
            vec![
                record("alias.test", cname("mid.test")),
                record("mid.test", cname("web.test")),
                record("web.test", a([10, 0, 0, 1])),
                // Not on the chain: a resolver's answer names nothing else.
                record("elsewhere.test", a([10, 6, 6, 6])),
            ],
        );
        (asked, answered)
    }

    #[test]
    fn the_name_asked_is_shown_for_the_addresses_its_cnames_lead_to() {
        let (asked, answered) = cname_exchange();
        let resolution = read_answer(&asked, &answered).unwrap();
        assert_eq!(resolution.name, b"alias.test");
        assert_eq!(resolution.addresses, vec![(v4([10, 0, 0, 1]), 300)]);
    }

    #[test]
    fn aaaa_answers_and_names_in_other_case_are_read() {
        let asked = query(9, "Web.Test", TYPE::AAAA);
        let address = Ipv6Addr::new(0xfd53, 0, 0, 0, 0, 0, 0, 0x10);
        let answered = answer(
            9,
            "web.test",
            TYPE::AAAA,
            vec![record(
                "WEB.test",
                RData::AAAA(AAAA {
                    address: address.into(),
                }),
            )],
        );
        let resolution = read_answer(&asked, &answered).unwrap();
        assert_eq!(resolution.name, b"Web.Test");
        assert_eq!(resolution.addresses, vec![(IpAddr::V6(address), 300)]);
    }

    #[test]
    fn an_answer_to_another_question_or_id_names_nothing() {
        let asked = query(7, "web.test", TYPE::A);
        let records = || vec![record("web.test", a([10, 0, 0, 1]))];
        for (id, name, qtype) in [
            (8, "web.test", TYPE::A),
            (7, "evil.test", TYPE::A),
            (7, "web.test", TYPE::AAAA),
        ] {
            let answered = answer(id, name, qtype, records());
            assert_eq!(read_answer(&asked, &answered), Err(Unusable::Mismatched));
        }
        // A query is not an answer.
        assert_eq!(read_answer(&asked, &asked), Err(Unusable::Mismatched));
    }

    #[test]
    fn an_unknown_name_resolves_to_no_address() {
        let asked = query(7, "none.test", TYPE::A);
        let mut packet = Packet::new_reply(7);
        packet.questions.push(question("none.test", TYPE::A));
        *packet.rcode_mut() = RCODE::NameError;
        let answered = packet.build_bytes_vec().unwrap();
        let resolution = read_answer(&asked, &answered).unwrap();
        assert!(resolution.addresses.is_empty());
    }

    /// The corpus of crafted answers to `query(0x1234, "a.test", A)`.
    const CRAFTED: &[(&str, &[u8])] = &[
        ("empty", b""),
        ("header only, cut", b"\x12\x34\x81\x80\x00\x01"),
        // The answer's name points at itself.
        (
            "pointer loop",
            b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\
              \x01a\x04test\x00\x00\x01\x00\x01\
              \xc0\x18\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01",
        ),
        // The question's name points forwards, into the answer.
        (
            "forward pointer",
            b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\
              \xc0\x10\x00\x01\x00\x01\
              \x01a\x04test\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01",
        ),
        // 65535 answers claimed in 30 bytes.
        (
            "counts past the end",
            b"\x12\x34\x81\x80\x00\x01\xff\xff\xff\xff\xff\xff\
              \x01a\x04test\x00\x00\x01\x00\x01",
        ),
        // The A record's data is cut short.
        (
            "truncated record",
            b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\
              \x01a\x04test\x00\x00\x01\x00\x01\
              \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00",
        ),
        // A label longer than 63 bytes.
        (
            "long label",
            b"\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\
              \x50aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\
              \x00\x00\x01\x00\x01",
        ),
    ];

    #[test]
    fn crafted_answers_are_malformed() {
        let asked = query(0x1234, "a.test", TYPE::A);
        for (what, crafted) in CRAFTED {
            assert_eq!(read_answer(&asked, crafted), Err(Unusable::Malformed), "{what}");
        }
    }

    /// xorshift64*: the same bytes on every run.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    /// Random bytes, and valid answers with bytes flipped, cut or
    /// repeated: reading any of them returns, without a panic.
    #[test]
    fn any_bytes_are_read_or_refused_without_a_panic() {
        let (asked, valid) = cname_exchange();
        let mut random = Random(0x5eed);
        let mut read = 0;
        for round in 0..30_000 {
            let mut bytes = match round % 3 {
                0 => (0..random.below(600)).map(|_| random.next() as u8).collect(),
                _ => valid.clone(),
            };
            for _ in 0..=random.below(4) {
                if bytes.is_empty() {
                    break;
                }
                let at = random.below(bytes.len());
                match random.below(3) {
                    0 => bytes[at] = random.next() as u8,
                    1 => bytes.truncate(at),
                    _ => {
                        let piece = bytes[at..].to_vec();
                        bytes.extend_from_slice(&piece);
                    }
                }
            }
            let mut input = (asked.len() as u16).to_be_bytes().to_vec();
            input.extend_from_slice(&asked);
            input.extend_from_slice(&bytes);
            read += usize::from(exercise(&input));
        }
        assert!(read > 0, "some mutations leave the answer readable");
    }

    /// Answers whose names are random bytes (control characters, dots,
    /// backslashes, bytes that are not UTF-8): read, and shown escaped.
    #[test]
    fn names_of_any_bytes_are_shown_escaped() {
        let mut random = Random(0xd15);
        for _ in 0..2_000 {
            let labels: Vec<Vec<u8>> = (0..=random.below(4))
                .map(|_| (0..=random.below(20)).map(|_| random.next() as u8).collect())
                .collect();
            let name = Name::new_with_labels(
                &labels
                    .iter()
                    .map(simple_dns::Label::new_unchecked)
                    .collect::<Vec<_>>(),
            );
            let mut packet = Packet::new_query(3);
            packet.questions.push(Question::new(name.clone(), TYPE::A.into(), CLASS::IN.into(), false));
            let asked = packet.build_bytes_vec().unwrap();
            let mut packet = Packet::new_reply(3);
            packet.questions.push(Question::new(name.clone(), TYPE::A.into(), CLASS::IN.into(), false));
            packet.answers.push(ResourceRecord::new(name, CLASS::IN, 60, a([10, 0, 0, 3])));
            let answered = packet.build_bytes_vec_compressed().unwrap();
            let mut input = (asked.len() as u16).to_be_bytes().to_vec();
            input.extend_from_slice(&asked);
            input.extend_from_slice(&answered);
            assert!(exercise(&input), "{labels:?}");
        }
    }

    /// The fuzzer's seeds (fuzz/corpus/dns_answer): the well-formed ones
    /// name their addresses, the others are refused, none panics.
    #[test]
    fn the_fuzz_corpus_is_read_without_a_panic() {
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/dns_answer");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(corpus).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let seed = std::fs::read(&path).unwrap();
            let read = exercise(&seed);
            let expected = !matches!(name.as_str(), "pointer_loop" | "truncated");
            assert_eq!(read, expected, "{name}");
            // Read as a TCP exchange (both messages behind their lengths),
            // the addresses named are the datagram's.
            let query_len = usize::from(u16::from_be_bytes([seed[0], seed[1]]));
            let (query, answer) = seed[2..].split_at(query_len.min(seed.len() - 2));
            let mut segments = Vec::new();
            for (flags, message) in [(1, query), (0, answer)] {
                segments.push(flags);
                segments.extend_from_slice(&(message.len() as u16 + 2).to_be_bytes());
                segments.extend_from_slice(&(message.len() as u16).to_be_bytes());
                segments.extend_from_slice(message);
            }
            let addresses = match read {
                true => read_answer(query, answer).unwrap().addresses.len(),
                false => 0,
            };
            assert_eq!(exercise_segments(&segments), addresses, "{name} over TCP");
            assert!(name == "nxdomain" || !read || addresses > 0, "{name} names an address");
            seen.push(name);
        }
        assert!(seen.len() >= 8, "{seen:?}");
    }

    /// The TCP fuzzer's seeds (fuzz/corpus/dns_segments), and the same
    /// mutated: answers over TCP name their addresses only when whole and
    /// asked on their connection.
    #[test]
    fn the_tcp_fuzz_corpus_and_its_mutations_are_read_without_a_panic() {
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/dns_segments");
        let mut seeds = Vec::new();
        for entry in std::fs::read_dir(corpus).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let seed = std::fs::read(&path).unwrap();
            let expected = match name.as_str() {
                "pointer_loop" | "nxdomain" | "split" | "other_connection" => 0,
                "two_queries" => 2,
                _ => 1,
            };
            assert_eq!(exercise_segments(&seed), expected, "{name}");
            seeds.push(seed);
        }
        assert!(seeds.len() >= 8);
        let mut random = Random(0x7cb);
        for round in 0..10_000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            for _ in 0..=random.below(4) {
                let at = random.below(bytes.len());
                match random.below(3) {
                    0 => bytes[at] = random.next() as u8,
                    1 => bytes.truncate(at.max(1)),
                    _ => {
                        let piece = bytes[at..].to_vec();
                        bytes.extend_from_slice(&piece);
                    }
                }
            }
            exercise_segments(&bytes);
        }
    }

    fn named(names: &Names, netns: u32, address: IpAddr, at_ns: u64) -> String {
        let mut out = Vec::new();
        names.query(netns, address, at_ns).push_column(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn resolution(name: &[u8], addresses: &[(IpAddr, u32)]) -> Result<Resolution, Unusable> {
        Ok(Resolution {
            name: name.to_vec(),
            addresses: addresses.to_vec(),
        })
    }

    #[test]
    fn names_are_kept_per_namespace_for_their_ttl() {
        let mut names = Names::new(16);
        let web = v4([10, 0, 0, 1]);
        let second = NS_PER_S;
        names.learn(1, 100 * second, resolution(b"web.test", &[(web, 60)]));
        assert_eq!(named(&names, 1, web, 100 * second), "web.test");
        assert_eq!(named(&names, 1, web, 100 * second + 50_000_000), "web.test");
        assert_eq!(named(&names, 1, web, 101 * second), "web.test (1000.000ms)");
        // Another namespace's connect to the same address.
        assert_eq!(named(&names, 2, web, 101 * second), "No DNS Query");
        assert_eq!(named(&names, 1, web, 161 * second), "No DNS Query");
        // TTL 0: kept long enough to connect.
        names.learn(1, 200 * second, resolution(b"zero.test", &[(web, 0)]));
        assert_eq!(named(&names, 1, web, 209 * second), "zero.test (9000.000ms)");
        assert_eq!(named(&names, 1, web, 211 * second), "No DNS Query");
        // A week's TTL: a day.
        names.learn(1, 0, resolution(b"long.test", &[(web, 7 * 86_400)]));
        assert_eq!(named(&names, 1, web, MAX_KEEP_NS + 1), "No DNS Query");
    }

    #[test]
    fn loopback_is_localhost_like_bcc() {
        let names = Names::new(1);
        assert_eq!(named(&names, 1, v4([127, 0, 0, 1]), 0), "localhost");
        assert_eq!(named(&names, 1, IpAddr::V6(Ipv6Addr::LOCALHOST), 0), "localhost");
        assert_eq!(named(&names, 1, v4([127, 0, 0, 53]), 0), "No DNS Query");
    }

    #[test]
    fn the_oldest_answer_makes_room_and_is_counted() {
        let mut names = Names::new(2);
        for (i, at) in [(1u8, 1), (2, 2), (3, 3)] {
            names.learn(1, at, resolution(format!("n{i}").as_bytes(), &[(v4([10, 0, 0, i]), 60)]));
        }
        assert_eq!(named(&names, 1, v4([10, 0, 0, 1]), 4), "No DNS Query");
        assert_eq!(named(&names, 1, v4([10, 0, 0, 3]), 4), "n3");
        assert_eq!(names.losses.evicted, 1);
        // A name learnt again moves to the back, without loss.
        names.learn(1, 5, resolution(b"again", &[(v4([10, 0, 0, 2]), 60)]));
        assert_eq!(names.losses.evicted, 1);
        // An expired name makes room without being counted.
        names.learn(1, 100 * NS_PER_S, resolution(b"late", &[(v4([10, 0, 0, 9]), 60)]));
        assert_eq!(names.losses.evicted, 1);
    }

    #[test]
    fn names_are_escaped_and_unusable_answers_counted() {
        let mut names = Names::new(4);
        let asked_label = b"a\nb.c\x1b[31m".to_vec();
        let label = Name::new_with_labels(&[
            simple_dns::Label::new_unchecked(&asked_label[..]),
            simple_dns::Label::new_unchecked(b"test"),
        ]);
        let shown = presentation(&label);
        assert_eq!(shown, b"a\nb\\.c\x1b[31m.test");
        names.learn(1, 0, resolution(&shown, &[(v4([10, 0, 0, 1]), 60)]));
        assert_eq!(named(&names, 1, v4([10, 0, 0, 1]), 0), "a\\nb\\.c\\x1b[31m.test");
        for why in [Unusable::Malformed, Unusable::Malformed, Unusable::Mismatched, Unusable::Oversized] {
            names.learn(1, 0, Err(why));
        }
        assert_eq!(
            names.report(3).as_deref(),
            Some(
                "DNS answers that named nothing: 3 answered no query of their namespace, \
                 1 did not answer their query's question, 2 were malformed, 1 were larger \
                 than the bytes read of an answer"
            )
        );
        assert_eq!(Names::new(1).report(0), None);
    }

    #[test]
    fn an_answer_longer_than_its_copy_is_oversized() {
        let asked = query(7, "web.test", TYPE::A);
        let answered = answer(7, "web.test", TYPE::A, vec![record("web.test", a([10, 0, 0, 1]))]);
        let mut record = dns_answer {
            netns: 1,
            query_len: asked.len() as u16,
            answer_len: answered.len() as u16,
            udp_len: answered.len() as u16,
            ..Default::default()
        };
        record.query[..asked.len()].copy_from_slice(&asked);
        record.answer[..answered.len()].copy_from_slice(&answered);
        let mut names = Names::new(4);
        names.learn_from(&record);
        assert_eq!(named(&names, 1, v4([10, 0, 0, 1]), 0), "web.test");
        record.udp_len += 1;
        names.learn_from(&record);
        assert_eq!(names.losses.oversized, 1);
    }
}
