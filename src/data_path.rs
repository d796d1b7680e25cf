//! The data path every tool shares, in order: a record from the kernel is
//! decoded into a typed event (the tool's `event.rs`), filtered (its
//! `filter.rs`, for what only user space can decide), formatted into lines
//! (its `format.rs`: text columns or JSON) and written to stdout in batches
//! (`output`). The `Printer` strings the steps together for the event loop.

use crate::error::Result;
use crate::output::{Flow, Output};
use crate::runtime::event_loop::EventHandler;

/// Step 1: a tool's record type. The event may borrow from the record.
pub trait Decode {
    type Event<'a>;
    /// None for a record too short to be one (never expected).
    fn decode(record: &[u8]) -> Option<Self::Event<'_>>;
}

/// A variable-size record: a fixed header (`H`, the skeleton's type), then
/// sections of the sizes the header gives, in order. None for a record too
/// short for its header (never expected); a section the record does not
/// hold whole is cut to what it holds.
pub fn split_record<H: plain::Plain + Default>(record: &[u8]) -> Option<(H, Sections<'_>)> {
    let header_size = std::mem::size_of::<H>();
    let mut header = H::default();
    plain::copy_from_bytes(&mut header, record.get(..header_size)?).ok()?;
    Some((
        header,
        Sections {
            rest: &record[header_size..],
        },
    ))
}

/// What follows a record's header.
pub struct Sections<'a> {
    rest: &'a [u8],
}

impl<'a> Sections<'a> {
    /// The next section, of `size` bytes (fewer when the record ends first).
    pub fn take(&mut self, size: usize) -> &'a [u8] {
        let (taken, left) = self.rest.split_at(size.min(self.rest.len()));
        self.rest = left;
        taken
    }
}

/// Step 2: what user space filters on (everything the kernel can decide is
/// decided there).
pub trait Filter<D: Decode> {
    fn matches(&self, event: &D::Event<'_>) -> bool;
}

/// Step 3: events into lines, appended to the output buffer.
pub trait Formatter<D: Decode> {
    /// What comes before the first event: the column header (none for JSON
    /// Lines, nor for a table printed at the end).
    fn write_header(&self, _out: &mut Vec<u8>) {}
    fn write_event(&mut self, out: &mut Vec<u8>, event: &D::Event<'_>);
    /// Called once per batch: follows wall-clock steps (NTP, suspend).
    fn resync_clock(&mut self) {}
    /// `count` events were lost (on `cpu`): a record in the stream itself
    /// for formats that carry one (JSON); text says so on stderr only.
    fn write_loss(&mut self, _out: &mut Vec<u8>, _count: u64, _cpu: Option<usize>) {}
}

/// Decodes, filters and formats each record into the output.
pub struct Printer<D: Decode> {
    filter: Option<Box<dyn Filter<D>>>,
    formatter: Box<dyn Formatter<D>>,
    pub output: Output,
    /// What the tool traces, for the ready line ("exec()s").
    traced: &'static str,
}

impl<D: Decode> Printer<D> {
    pub fn new(
        traced: &'static str,
        filter: Option<Box<dyn Filter<D>>>,
        formatter: Box<dyn Formatter<D>>,
    ) -> Self {
        let mut output = Output::new();
        formatter.write_header(output.buffer());
        Self {
            filter,
            formatter,
            output,
            traced,
        }
    }
}

impl<D: Decode> EventHandler for Printer<D> {
    fn ready(&mut self) -> Result<Flow> {
        Ok(self.output.announce_start(self.traced)?)
    }

    fn handle_event(&mut self, record: &[u8]) {
        if self.output.stopped() {
            return;
        }
        let Some(event) = D::decode(record) else {
            return;
        };
        if self
            .filter
            .as_ref()
            .is_none_or(|filter| filter.matches(&event))
        {
            self.formatter.write_event(self.output.buffer(), &event);
            self.output.flush_if_full();
        }
    }

    fn end_of_batch(&mut self) -> Result<Flow> {
        self.formatter.resync_clock();
        Ok(self.output.flush()?)
    }

    /// Upstream's lines on stderr, and the formatter's record in the stream.
    fn events_lost(&mut self, count: u64, cpu: Option<usize>) {
        match cpu {
            Some(cpu) => eprintln!("Lost {count} events on CPU #{cpu}!"),
            None => eprintln!("Lost {count} events!"),
        }
        self.formatter.write_loss(self.output.buffer(), count, cpu);
    }
}
