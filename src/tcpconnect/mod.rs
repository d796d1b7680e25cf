//! tcpconnect: every active TCP open the kernel accepted, and with
//! --outcome what became of it. The data path: event.rs (decode) ->
//! format.rs (text or JSON); filtering happens in the kernel, and so does
//! counting (count.rs). attach.rs says how connects can be hooked and where
//! the connects being followed are kept; below, what the shared pipeline
//! needs to know.

pub mod attach;
pub mod cli;
pub mod count;
pub mod dns;
pub mod dns_tcp;
pub mod event;
pub mod format;
pub mod manual;

bpf_skeleton!("tcpconnect");
bpf_object!(TcpconnectBpf: skel::{TcpconnectSkelBuilder, OpenTcpconnectSkel, TcpconnectSkel});

use libbpf_rs::{MapCore, MapFlags, MapHandle};

use crate::bpf_constants::{AF_INET, AF_INET6, MAX_PORTS};
use crate::container::table::{CgroupPathEntry, CgroupTable};
use crate::data_path::{Formatter, Printer};
use crate::error::{Error, Result};
use crate::manual::Manual;
use crate::output::clock::monotonic_ns;
use crate::output::Output;
use crate::runtime::attach::Way;
use crate::runtime::object::{created, iterate_map, per_cpu_counts, read_only};
use crate::runtime::pipeline::{Declared, LoadedObjectOf, OpenObjectOf, Tool};
use attach::Storage;
use cli::{AttachChoice, Cli, PortList};
use count::CountColumns;
use dns::{Names, SharedNames};
use event::{Connect, Record};
use format::{Columns, JsonFormatter, TextFormatter};
use skel::types::{cgroup_path_entry, connect_event};

// SAFETY: a C struct of integers and bytes; any bit pattern is a value.
unsafe impl plain::Plain for cgroup_path_entry {}

impl CgroupPathEntry for cgroup_path_entry {
    fn path(&self) -> (&[u8], bool) {
        let len = usize::from(self.len).min(self.path.len());
        // SAFETY: i8 and u8 have the same size and alignment.
        let path = unsafe { std::slice::from_raw_parts(self.path.as_ptr().cast::<u8>(), len) };
        (path, self.cut != 0)
    }
}

/// The kernel's table of cgroup paths, as --container reads it.
type Cgroups = CgroupTable<cgroup_path_entry>;

pub struct Tcpconnect {
    cli: Cli,
    /// Whether tracing programs may use socket storage here, once asked.
    socket_storage_usable: Option<bool>,
    /// Where the chosen way keeps the connects it follows.
    storage: Option<Storage>,
    /// When the tool started (CLOCK_MONOTONIC), for -t with --outcome.
    started_ns: u64,
    /// --dns: the names of the answers seen, for every formatter.
    names: Option<SharedNames>,
}

impl Tool for Tcpconnect {
    const TRACED: &'static str = "connects";
    const MANUAL: &'static Manual = &manual::MANUAL;

    type Cli = Cli;
    type Record = Connect;
    type Bpf = TcpconnectBpf;

    fn new(cli: Cli, started_ns: u64) -> Result<Self> {
        Ok(Self {
            socket_storage_usable: None,
            storage: None,
            started_ns,
            names: cli.dns.then(Names::shared),
            cli,
        })
    }

    fn ways(&self) -> Vec<Way> {
        attach::ways(self.cli.attach)
    }

    /// Where `way` keeps connects; asking the kernel whether sockets may
    /// keep them loads a probe, so it is asked here, before the object is
    /// opened, and once.
    fn prepare(&mut self, way: Way) -> Result<()> {
        let btf = self.cli.common.btf.as_deref();
        let usable = &mut self.socket_storage_usable;
        self.storage = attach::storage(way, self.cli.outcome(), || {
            *usable.get_or_insert_with(|| attach::socket_storage_usable(Self::NAME, btf))
        });
        Ok(())
    }

    fn configure(&mut self, way: Way, object: &mut OpenObjectOf<'_, Self>) -> Result<()> {
        let cli = &self.cli;
        attach::choose(&mut object.progs, way, cli.outcome(), self.storage);

        let globals = read_only(&mut object.maps.rodata_data)?;
        globals.count_mode = cli.count;
        globals.count_by_sport = cli.count && cli.source_port;
        globals.outcome_mode = cli.outcome();
        globals.failed_only = cli.failed;
        // The kernel reads only what is shown: JSON shows all, a count none.
        let shown = |column| !cli.count && (cli.common.json || column);
        globals.record_uid = shown(cli.print_uid);
        globals.record_cgroup = shown(cli.container);
        globals.record_process_start = shown(false);
        globals.record_netns = cli.dns;
        // --container: the kernel keeps cgroup paths for the formatter.
        globals.name_cgroups = cli.container;
        if let Some(pid) = cli.pid {
            globals.filter_pid = pid;
        }
        globals.filter_family = match (cli.ipv4, cli.ipv6) {
            (true, _) => AF_INET,
            (_, true) => AF_INET6,
            _ => 0,
        };
        if let Some(PortList(ports)) = &cli.ports {
            let mut filter = [0u16; MAX_PORTS];
            filter[..ports.len()].copy_from_slice(ports);
            globals.filter_ports = filter;
            globals.filter_ports_len = ports.len() as u32;
        }
        let in_sockets = self.storage == Some(Storage::TableThenSockets);
        globals.overflow_to_sockets = in_sockets;
        if cli.dns {
            attach::choose_dns(&mut object.progs);
        }

        // Only the storage the programs use is created. UDP answers have a
        // channel of their own only beside per-CPU perf buffers (dns.rs:
        // AnswerChannels).
        let maps = &mut object.maps;
        let answers_apart = cli.dns && maps.events_perfbuf.autocreate();
        let setup = |err| Error::from_libbpf("setting up the maps", &err);
        for (map, used) in [
            (&mut maps.cgroup_paths, cli.container),
            (&mut maps.dns_queries, cli.dns),
            (&mut maps.dns_query_room, cli.dns),
            (&mut maps.dns_answer_room, cli.dns),
            (&mut maps.unmatched_dns_answers, cli.dns),
            (&mut maps.dns_segments, cli.dns),
            (&mut maps.dns_answers_perfbuf, answers_apart),
            (&mut maps.dns_segment_room, cli.dns),
            (&mut maps.connect_by_socket, self.storage.is_some()),
            (&mut maps.connect_in_socket, in_sockets),
        ] {
            map.set_autocreate(used).map_err(setup)?;
        }
        Ok(())
    }

    fn no_way_error(&self, reasons: &str) -> Error {
        let ways = attach::ways(self.cli.attach);
        match (self.cli.attach, ways.first()) {
            (AttachChoice::Auto, _) | (_, None) => Error::new(format!(
                "no way to trace connects works on this kernel ({reasons})"
            )),
            (_, Some(way)) => Error::new(format!(
                "--attach {}: this kernel does not provide {} ({reasons}); try --attach auto",
                way.name(),
                way.requirement()
            )),
        }
    }

    fn printer(&mut self, object: &LoadedObjectOf<'_, Self>) -> Result<Printer<Connect>> {
        if let Some(names) = &self.names {
            let answers = &object.maps.dns_answers_perfbuf;
            let udp_answers = created(answers).then_some(answers);
            names
                .borrow_mut()
                .listen(&object.maps.dns_segments, udp_answers)?;
        }
        Ok(Printer::new(Self::TRACED, None, self.formatter(object)?))
    }

    fn finish(&mut self, object: &LoadedObjectOf<'_, Self>, output: &mut Output) -> Result<()> {
        let outcome = self.cli.outcome();
        let now_ns = monotonic_ns();
        // Connects still followed: with --outcome, pending; without, held
        // for their source port, and shown if the socket has one by now.
        let (mut shown, unstarted): (Vec<_>, Vec<_>) = followed_connects(object)?
            .into_iter()
            .partition(|event| outcome || event.sport != 0);
        shown.sort_by_key(|event| event.timestamp_ns);
        if outcome {
            shown
                .iter_mut()
                .for_each(|event| event.mark_pending(now_ns));
        }
        let maps = &object.maps;
        if self.cli.count {
            let mut rows = count::read_counts(&maps.connect_counts)?;
            let columns = CountColumns {
                sport: self.cli.source_port,
                outcome,
            };
            count::add_connects(&mut rows, &shown, columns.sport);
            match self.cli.common.json {
                true => count::write_json(output.buffer(), rows, columns),
                false => count::write_table(output.buffer(), rows, columns),
            }
        } else {
            let mut formatter = self.formatter(object)?;
            for event in shown {
                formatter.write_event(output.buffer(), &Record::Connect(event));
            }
        }
        let _ = output.flush()?;
        if !unstarted.is_empty() {
            eprintln!(
                "{} connects still waiting for their source port are not shown",
                unstarted.len()
            );
        }
        if let Some(names) = &self.names {
            names.borrow_mut().catch_up();
            let unmatched = per_cpu_counts(&maps.unmatched_dns_answers)?.iter().sum();
            if let Some(line) = names.borrow().report(unmatched) {
                eprintln!("{line}");
            }
        }
        let unfollowed: u64 = per_cpu_counts(&maps.unfollowed_connects)?.iter().sum();
        if unfollowed > 0 {
            let table = maps.connect_by_socket.max_entries();
            let no_room = match created(&maps.connect_in_socket) {
                true => format!(
                    "the table of {table} was full, and the kernel had no memory to keep them in \
                     their sockets"
                ),
                false => format!("more connects were waiting than the table of {table} holds"),
            };
            match outcome {
                true => eprintln!(
                    "{unfollowed} connects are shown with RESULT unknown, not followed to their \
                     result: {no_room}"
                ),
                false => eprintln!(
                    "{unfollowed} connects were shown before their start was confirmed, with \
                     source port 0: {no_room}"
                ),
            }
        }
        Ok(())
    }
}

impl Tcpconnect {
    /// Step 3 of the data path for the flags given; the rows printed on exit
    /// go through one made the same way.
    fn formatter(&self, object: &LoadedObjectOf<'_, Self>) -> Result<Box<dyn Formatter<Connect>>> {
        let cli = &self.cli;
        let cgroups = match cli.container {
            true => {
                let map = MapHandle::try_from(&object.maps.cgroup_paths)
                    .map_err(|err| Error::from_libbpf("opening the table of cgroup paths", &err))?;
                Some(Cgroups::new(map))
            }
            false => None,
        };
        Ok(match (cli.common.json, cli.count) {
            (_, true) => Box::new(count::CountMode),
            (true, false) => Box::new(JsonFormatter::new(
                cli.outcome(),
                cgroups,
                self.names.clone(),
            )),
            (false, false) => Box::new(TextFormatter::new(
                Columns {
                    timestamp: cli.timestamp,
                    uid: cli.print_uid,
                    sport: cli.source_port,
                    lport: cli.lport,
                    outcome: cli.outcome(),
                },
                cli.outcome().then_some(self.started_ns),
                cgroups,
                self.names.clone(),
            )),
        })
    }
}

/// The connects the kernel side still follows: those in the table, and
/// through the iterator those kept in sockets.
fn followed_connects(object: &LoadedObjectOf<'_, Tcpconnect>) -> Result<Vec<connect_event>> {
    let (maps, progs) = (&object.maps, &object.progs);
    let mut records = Vec::new();
    if created(&maps.connect_by_socket) {
        let table = &maps.connect_by_socket;
        for key in table.keys() {
            let value = table.lookup(&key, MapFlags::ANY);
            let value = value.map_err(|err| Error::from_libbpf("reading the connects", &err))?;
            records.extend(value.unwrap_or_default());
        }
    }
    if created(&maps.connect_in_socket) {
        records.extend(iterate_map(
            &progs.dump_connects_in_sockets,
            &maps.connect_in_socket,
        )?);
    }
    let size = size_of::<connect_event>();
    Ok(records
        .chunks_exact(size)
        .filter_map(connect_event::decode)
        .collect())
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    use super::*;
    use crate::runtime::object;

    #[test]
    fn results_are_followed_by_programs_attached_before_the_connect_programs() {
        for way in [Way::Fentry, Way::Kprobe] {
            let mut place = MaybeUninit::uninit();
            let object = object::open::<TcpconnectBpf>("tcpconnect", None, &mut place);
            let mut object = object.expect("open");
            attach::choose(&mut object.progs, way, true, None);
            let hooks = object::hooks(&object);
            assert!(
                hooks[0].ends_with("/inet_sock_set_state"),
                "libbpf attaches in this order: {hooks:?}"
            );
        }
    }

    /// A map value's bytes, as a lookup returns them.
    fn entry(path: &[u8], cut: bool) -> Vec<u8> {
        let mut value = (path.len() as u16).to_ne_bytes().to_vec();
        value.extend_from_slice(&[u8::from(cut), 0]);
        value.extend_from_slice(path);
        value.resize(size_of::<cgroup_path_entry>(), 0);
        value
    }

    fn decode(value: &[u8]) -> Option<(Vec<u8>, bool)> {
        let entry: &cgroup_path_entry = plain::from_bytes(value).ok()?;
        let (path, cut) = entry.path();
        Some((path.to_vec(), cut))
    }

    #[test]
    fn cgroup_path_entries_decode_to_their_length_and_bad_ones_do_not_panic() {
        let (path, cut) = decode(&entry(b"/system.slice/a.service", false)).unwrap();
        assert_eq!(path, b"/system.slice/a.service");
        assert!(!cut);
        assert!(decode(&entry(b"/x", true)).unwrap().1);
        let mut long = entry(b"/x", false);
        long[..2].copy_from_slice(&5000u16.to_ne_bytes());
        let whole = cgroup_path_entry::default().path.len();
        assert_eq!(decode(&long).unwrap().0.len(), whole);
        assert!(decode(&[1]).is_none());
    }
}
