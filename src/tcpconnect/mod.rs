//! tcpconnect: every active TCP open the kernel accepted, and with
//! --outcome what became of it. The data path: event.rs (decode) ->
//! format.rs (text or JSON); filtering happens in the kernel, and so does
//! counting (count.rs). attach.rs says how connects can be hooked and where
//! the connects being followed are kept; below, what the shared pipeline
//! needs to know.

pub mod attach;
pub mod cli;
pub mod count;
pub mod event;
pub mod format;
pub mod manual;

bpf_skeleton!("tcpconnect");

use std::cell::{Cell, OnceCell};

use libbpf_rs::{MapCore, MapFlags, MapHandle};

use crate::bpf_constants::{AF_INET, AF_INET6, MAX_PORTS};
use crate::container::table::CgroupTable;
use crate::data_path::{Formatter, Printer};
use crate::error::{Error, Result};
use crate::output::clock::monotonic_ns;
use crate::output::Output;
use crate::runtime::attach::Way;
use crate::runtime::object::{per_cpu_counts, LoadedBpf, OpenBpf};
use crate::runtime::pipeline::{SharedOptions, Tool};
use attach::{Storage, SOCKET_STORAGE_ITERATOR, SOCKET_STORAGE_MAP, TABLE_MAP};
use cli::{AttachChoice, Cli, PortList};
use count::CountColumns;
use event::Connect;
use format::{Columns, JsonFormatter, TextFormatter};
use skel::types::connect_event;

/// The BPF object build.rs compiled from src/bpf/tcpconnect.bpf.c.
const OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tcpconnect.bpf.o"));

pub struct Tcpconnect {
    cli: Cli,
    /// Whether tracing programs may use socket storage here, once asked.
    socket_storage_usable: OnceCell<bool>,
    /// When tracing started (CLOCK_MONOTONIC), for the rows printed on exit.
    started_ns: Cell<u64>,
}

impl Tool for Tcpconnect {
    const NAME: &'static str = "tcpconnect";
    const TRACED: &'static str = "connects";
    const OBJECT: &'static [u8] = OBJECT;

    type Cli = Cli;
    type Record = Connect;

    fn shared_options(cli: &Cli) -> SharedOptions {
        SharedOptions {
            common: cli.common.clone(),
            uid: cli.uid,
            pinned: cli.pinned.clone(),
        }
    }

    fn new(cli: Cli) -> Result<Self> {
        Ok(Self {
            cli,
            socket_storage_usable: OnceCell::new(),
            started_ns: Cell::new(monotonic_ns()),
        })
    }

    fn ways(&self) -> Vec<Way> {
        attach::ways(self.cli.attach)
    }

    fn programs(&self, way: Way) -> Vec<&'static str> {
        let outcome = self.cli.outcome();
        let storage = attach::storage(way, outcome, || {
            *self.socket_storage_usable.get_or_init(|| {
                attach::socket_storage_usable(Self::NAME, OBJECT, self.cli.common.btf.as_deref())
            })
        });
        attach::programs(way, outcome, storage)
    }

    fn configure(&self, object: &mut OpenBpf) -> Result<()> {
        let cli = &self.cli;
        object.set_flag("count_mode", cli.count)?;
        object.set_flag("count_by_sport", cli.count && cli.source_port)?;
        object.set_flag("outcome_mode", cli.outcome())?;
        object.set_flag("failed_only", cli.failed)?;
        // The kernel reads only what is shown: JSON shows all, a count none.
        let shown = |column| !cli.count && (cli.common.json || column);
        object.set_flag("record_uid", shown(cli.print_uid))?;
        object.set_flag("record_cgroup", shown(cli.container))?;
        // --container: the kernel keeps cgroup paths for the formatter.
        object.set_flag("name_cgroups", cli.container)?;
        object
            .map_mut("cgroup_paths")?
            .set_autocreate(cli.container)
            .map_err(|err| Error::from_libbpf("setting up the table of cgroup paths", &err))?;
        if let Some(pid) = cli.pid {
            object.set_global("filter_pid", &pid)?;
        }
        let family = match (cli.ipv4, cli.ipv6) {
            (true, _) => AF_INET,
            (_, true) => AF_INET6,
            _ => 0,
        };
        object.set_global("filter_family", &family)?;
        if let Some(PortList(ports)) = &cli.ports {
            let mut filter = [0u16; MAX_PORTS];
            filter[..ports.len()].copy_from_slice(ports);
            object.set_global("filter_ports", &filter[..])?;
            object.set_global("filter_ports_len", &(ports.len() as u32))?;
        }
        // Only the storage the programs use is created.
        let storage = attach::storage_of(&object.hooks());
        let in_sockets = storage == Some(Storage::TableThenSockets);
        object.set_flag("overflow_to_sockets", in_sockets)?;
        let setup = |err| Error::from_libbpf("setting up the storage of connects", &err);
        for (map, used) in [
            (TABLE_MAP, storage.is_some()),
            (SOCKET_STORAGE_MAP, in_sockets),
        ] {
            object.map_mut(map)?.set_autocreate(used).map_err(setup)?;
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

    fn printer(&self, started_ns: u64, object: &LoadedBpf) -> Result<Printer<Connect>> {
        self.started_ns.set(started_ns);
        Ok(Printer::new(Self::TRACED, None, self.formatter(object)?))
    }

    fn finish(&self, object: &LoadedBpf, output: &mut Output) -> Result<()> {
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
        if self.cli.count {
            let mut rows = count::read_counts(&object.map("connect_counts")?)?;
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
            for event in &shown {
                formatter.write_event(output.buffer(), event);
            }
        }
        let _ = output.flush()?;
        if !unstarted.is_empty() {
            eprintln!(
                "{} connects still waiting for their source port are not shown",
                unstarted.len()
            );
        }
        let unfollowed: u64 = per_cpu_counts(&object.map("unfollowed_connects")?)?
            .iter()
            .sum();
        if unfollowed > 0 {
            let table = object.map(TABLE_MAP)?.max_entries();
            let no_room = match object.map(SOCKET_STORAGE_MAP) {
                Ok(_) => format!(
                    "the table of {table} was full, and the kernel had no memory to keep them in \
                     their sockets"
                ),
                Err(_) => format!("more connects were waiting than the table of {table} holds"),
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
    fn formatter(&self, object: &LoadedBpf) -> Result<Box<dyn Formatter<Connect>>> {
        let cli = &self.cli;
        let cgroups = match cli.container {
            true => {
                let map = MapHandle::try_from(&object.map("cgroup_paths")?)
                    .map_err(|err| Error::from_libbpf("opening the table of cgroup paths", &err))?;
                Some(CgroupTable::new(map))
            }
            false => None,
        };
        Ok(match (cli.common.json, cli.count) {
            (_, true) => Box::new(count::CountMode),
            (true, false) => Box::new(JsonFormatter::new(cli.outcome(), cgroups)),
            (false, false) => Box::new(TextFormatter::new(
                Columns {
                    timestamp: cli.timestamp,
                    uid: cli.print_uid,
                    sport: cli.source_port,
                    lport: cli.lport,
                    outcome: cli.outcome(),
                },
                cli.outcome().then(|| self.started_ns.get()),
                cgroups,
            )),
        })
    }
}

/// The connects the kernel side still follows: those in the table, and
/// through the iterator those kept in sockets.
fn followed_connects(object: &LoadedBpf) -> Result<Vec<connect_event>> {
    let mut records = Vec::new();
    if let Ok(table) = object.map(TABLE_MAP) {
        for key in table.keys() {
            let value = table.lookup(&key, MapFlags::ANY);
            let value = value.map_err(|err| Error::from_libbpf("reading the connects", &err))?;
            records.extend(value.unwrap_or_default());
        }
    }
    if object.map(SOCKET_STORAGE_MAP).is_ok() {
        records.extend(object.iterate_map(SOCKET_STORAGE_ITERATOR, SOCKET_STORAGE_MAP)?);
    }
    let size = size_of::<connect_event>();
    Ok(records
        .chunks_exact(size)
        .filter_map(connect_event::decode)
        .collect())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_object_has_every_name_the_tool_uses() {
        for args in [
            &["tcpconnect", "-c", "-s", "-p", "1", "-4", "-P", "80,443"][..],
            &["tcpconnect", "--failed", "-c"],
            &["tcpconnect", "--container", "--outcome"],
        ] {
            let tool = Tcpconnect::new(Cli::parse_from(args)).expect("the tool");
            crate::runtime::pipeline::check_names(&tool);
        }
    }

    #[test]
    fn results_are_followed_by_programs_attached_before_the_connect_programs() {
        for way in [Way::Fentry, Way::Kprobe] {
            let mut object = OpenBpf::open("tcpconnect", OBJECT, None).expect("open");
            object
                .load_only(&attach::programs(way, true, None))
                .expect("programs");
            let hooks = object.hooks();
            assert!(
                hooks[0].ends_with("/inet_sock_set_state"),
                "libbpf attaches in this order: {hooks:?}"
            );
        }
    }
}
