//! tcpconnect: every active TCP open the kernel accepted. The data path:
//! event.rs (decode) -> format.rs (text or JSON); filtering happens in the
//! kernel, and so does counting (count.rs). attach.rs says how connects
//! can be hooked; below, what the shared pipeline needs to know.

pub mod attach;
pub mod cli;
pub mod count;
pub mod event;
pub mod format;
pub mod manual;

bpf_skeleton!("tcpconnect");

use libbpf_rs::{MapCore, MapHandle};

use crate::bpf_constants::{AF_INET, AF_INET6, MAX_PORTS};
use crate::container::table::CgroupTable;
use crate::data_path::{Formatter, Printer};
use crate::error::{Error, Result};
use crate::output::Output;
use crate::runtime::attach::Way;
use crate::runtime::object::{LoadedBpf, OpenBpf};
use crate::runtime::pipeline::{SharedOptions, Tool};
use cli::{AttachChoice, Cli, PortList};
use event::Connect;
use format::{Columns, JsonFormatter, TextFormatter};

pub struct Tcpconnect {
    cli: Cli,
}

impl Tool for Tcpconnect {
    const NAME: &'static str = "tcpconnect";
    const TRACED: &'static str = "connects";
    const OBJECT: &'static [u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tcpconnect.bpf.o"));

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
        Ok(Self { cli })
    }

    fn ways(&self) -> Vec<Way> {
        attach::ways(self.cli.attach)
    }

    fn programs(&self, way: Way) -> Vec<&'static str> {
        attach::programs(way).to_vec()
    }

    fn configure(&self, object: &mut OpenBpf) -> Result<()> {
        let cli = &self.cli;
        object.set_flag("count_mode", cli.count)?;
        object.set_flag("count_by_sport", cli.count && cli.source_port)?;
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

    fn printer(&self, _started_ns: u64, object: &LoadedBpf) -> Result<Printer<Connect>> {
        let cli = &self.cli;
        let cgroups = match cli.container {
            true => {
                let map = MapHandle::try_from(&object.map("cgroup_paths")?)
                    .map_err(|err| Error::from_libbpf("opening the table of cgroup paths", &err))?;
                Some(CgroupTable::new(map))
            }
            false => None,
        };
        let formatter: Box<dyn Formatter<Connect>> = match (cli.common.json, cli.count) {
            (_, true) => Box::new(count::CountMode),
            (true, false) => Box::new(JsonFormatter::new(cgroups)),
            (false, false) => Box::new(TextFormatter::new(
                Columns {
                    timestamp: cli.timestamp,
                    uid: cli.print_uid,
                    sport: cli.source_port,
                    lport: cli.lport,
                },
                cgroups,
            )),
        };
        Ok(Printer::new(Self::TRACED, None, formatter))
    }

    fn finish(&self, object: &LoadedBpf, output: &mut Output) -> Result<()> {
        // The tracepoint way holds each event until its connect has started.
        let waiting = object.map("awaiting_sport")?.keys().count();
        if waiting > 0 {
            eprintln!("{waiting} connects still in SYN_SENT without an answer are not shown");
        }
        if self.cli.count {
            let rows = count::read_counts(&object.map("connect_counts")?)?;
            match self.cli.common.json {
                true => count::write_json(output.buffer(), rows, self.cli.source_port),
                false => count::write_table(output.buffer(), rows, self.cli.source_port),
            }
            let _ = output.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_object_has_every_name_the_tool_uses() {
        let cli = Cli::parse_from(["tcpconnect", "-c", "-s", "-p", "1", "-4", "-P", "80,443"]);
        crate::runtime::pipeline::check_names(&Tcpconnect { cli });
        let cli = Cli::parse_from(["tcpconnect", "--container"]);
        crate::runtime::pipeline::check_names(&Tcpconnect { cli });
    }
}
