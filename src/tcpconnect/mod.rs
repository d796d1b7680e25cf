//! tcpconnect: every active TCP open the kernel accepted. The data path:
//! event.rs (decode) -> format.rs (text or JSON) -> output; filtering
//! happens in the kernel. attach.rs picks how connects are hooked.

pub mod attach;
pub mod cli;
pub mod event;
pub mod format;

bpf_skeleton!("tcpconnect");

use libbpf_rs::{MapCore, MapFlags};

use crate::error::{Error, Result};
use crate::output::{Flow, Output};
use crate::runtime::event_loop::EventHandler;
use format::ConnectFormatter;
use skel::types::{connect_event, connect_key};

/// Trace mode: one line per connect. In count mode no events arrive.
pub struct ConnectPrinter {
    pub formatter: Box<dyn ConnectFormatter>,
    pub output: Output,
}

impl ConnectPrinter {
    /// `with_header`: false in count mode, whose stdout is the final table.
    pub fn new(formatter: Box<dyn ConnectFormatter>, with_header: bool) -> Self {
        let mut output = Output::new();
        if with_header {
            formatter.write_header(output.buffer());
        }
        Self { formatter, output }
    }
}

impl EventHandler for ConnectPrinter {
    fn ready(&mut self) -> Result<Flow> {
        Ok(self.output.announce_start("connects")?)
    }

    fn handle_event(&mut self, data: &[u8]) {
        if let Some(event) = connect_event::decode(data) {
            self.formatter.write_event(self.output.buffer(), &event);
        }
    }

    fn end_of_batch(&mut self) -> Result<Flow> {
        self.formatter.resync_clock();
        Ok(self.output.flush()?)
    }
}

/// Count mode's table as the kernel left it.
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
