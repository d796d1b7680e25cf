//! --dns: the name behind each connect's destination, from the DNS answers
//! the kernel side matched to a query of the same network namespace (its id,
//! addresses and ports: src/bpf/dns_answers.bpf.h). Here each answer is
//! checked against its query's question and read (`read_answer`, a pure
//! function), and its addresses fill a bounded table of names by namespace
//! and address (`Names`), which the formatters ask for each connect.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, RCODE};

use super::skel::types::dns_answer;

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
        } = self.losses;
        let parts: Vec<String> = [
            (unmatched, "answered no query of their namespace"),
            (mismatched, "did not answer their query's question"),
            (malformed, "were malformed"),
            (oversized, "were larger than the bytes read of an answer"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        let mut line = match parts.is_empty() {
            true => String::new(),
            false => format!("DNS datagrams that named nothing: {}", parts.join(", ")),
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
