//! execsnoop: every exec() on the host. The data path is laid out in order:
//! event.rs (decode), filter.rs (user-space filters), format.rs (text or
//! JSON), and the handler below that strings them to the output.

pub mod cli;
pub mod event;
pub mod filter;
pub mod format;

bpf_skeleton!("execsnoop");

use crate::error::Result;
use crate::output::{Flow, Output};
use crate::runtime::event_loop::EventHandler;
use event::ExecEvent;
use filter::EventFilter;
use format::ExecFormatter;

/// Which program reports successful execs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecHook {
    /// sched_process_exec as a BTF tracepoint: handed the exec's state (and
    /// so whether an interpreter ran), no trace record to fill, no tracefs.
    BtfTracepoint,
    /// The classic tracepoint, for kernels without BTF (--btf) or tp_btf.
    Tracepoint,
}

impl ExecHook {
    pub fn name(self) -> &'static str {
        match self {
            Self::BtfTracepoint => "tp_btf/sched_process_exec",
            Self::Tracepoint => "tracepoint/sched/sched_process_exec",
        }
    }
}

/// Decodes, filters and formats each exec event into the output.
pub struct ExecPrinter {
    pub filter: EventFilter,
    pub formatter: Box<dyn ExecFormatter>,
    pub output: Output,
}

impl ExecPrinter {
    pub fn new(filter: EventFilter, formatter: Box<dyn ExecFormatter>) -> Self {
        let mut output = Output::new();
        formatter.write_header(output.buffer());
        Self {
            filter,
            formatter,
            output,
        }
    }
}

impl EventHandler for ExecPrinter {
    fn ready(&mut self) -> Result<Flow> {
        Ok(self.output.announce_start("exec()s")?)
    }

    fn handle_event(&mut self, data: &[u8]) {
        if let Some(event) = ExecEvent::decode(data) {
            if self.filter.matches(&event) {
                self.formatter.write_event(self.output.buffer(), &event);
            }
        }
    }

    fn end_of_batch(&mut self) -> Result<Flow> {
        self.formatter.resync_clock();
        Ok(self.output.flush()?)
    }
}
