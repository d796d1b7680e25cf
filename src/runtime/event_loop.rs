//! Polls the event channel until a signal, the end of stdout, or an error,
//! and accounts for every event the programs sent: each is handed to the
//! handler or counted as lost, up to the exit (the programs are detached
//! before the last drain, so nothing arrives after it).

use std::cell::{Cell, RefCell};
use std::thread;
use std::time::{Duration, Instant};

use libbpf_rs::{ErrorKind, MapMut, PerfBufferBuilder, RingBufferBuilder};

use crate::error::{Error, Result};
use crate::output::Flow;
use crate::runtime::channel::{ChannelKind, EventChannel, BATCH_INTERVAL};
use crate::runtime::object::{per_cpu_counts, Links, SharedMaps};
use crate::runtime::signals::stop_requested;

/// How long a poll waits without events, so a stop request is noticed.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often the programs' count of lost events is read.
const LOST_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// What a tool does with the records it receives.
pub trait EventHandler {
    /// The channel is open: every event from now on is delivered. The moment
    /// to tell the operator (header, ready line).
    fn ready(&mut self) -> Result<Flow>;
    /// One record, as the BPF program sent it.
    fn handle_event(&mut self, data: &[u8]);
    /// Called after each batch of records: the moment to write output.
    /// `Flow::Stop` (stdout closed) ends the loop.
    fn end_of_batch(&mut self) -> Result<Flow>;
    /// `count` events could not be delivered (on `cpu`, for per-CPU buffers).
    fn events_lost(&mut self, count: u64, cpu: Option<usize>);
}

/// Opens the channel, tells the handler it is ready, then runs until
/// SIGINT/SIGTERM/SIGHUP or until the handler says stop. (A perf buffer drops
/// what is sent before it is open, so readiness is announced only then.)
/// On a stop signal the programs are detached (`links`) before the last drain.
pub fn run_event_loop(
    channel: EventChannel,
    maps: &SharedMaps<'_, '_>,
    links: &mut Links,
    handler: &mut impl EventHandler,
) -> Result<()> {
    let handler = RefCell::new(handler);
    let received = Cell::new(0u64);
    let on_event = |data: &[u8]| {
        received.set(received.get() + 1);
        handler.borrow_mut().handle_event(data);
    };
    let channel_error = |err: libbpf_rs::Error| Error::from_libbpf("reading events", &err);
    let events = channel.map(maps);
    let mut lost = LostEvents::new(maps.lost_events, channel.kind);
    let report_lost = |count, cpu| handler.borrow_mut().events_lost(count, cpu);
    let batches = Batches {
        handler: &handler,
        received: &received,
        // Without the kernel's wake-up policy, records gather while user
        // space sleeps after a batch.
        gather: (!channel.kernel_batches).then_some(BATCH_INTERVAL),
    };

    let stopped_by_signal = match channel.kind {
        ChannelKind::RingBuffer => {
            let mut builder = RingBufferBuilder::new();
            builder
                .add(events, |data| {
                    on_event(data);
                    0
                })
                .map_err(channel_error)?;
            let ring = builder.build().map_err(channel_error)?;
            let stopped = batches.run(
                |timeout| ring.poll(timeout),
                || ring.consume(),
                || lost.report_if_due(report_lost),
            )?;
            if stopped {
                links.detach();
                let _ = ring.consume();
            }
            stopped
        }
        ChannelKind::PerfBuffer => {
            let perf = PerfBufferBuilder::new(events)
                .pages(channel.perf_pages_per_cpu())
                .sample_cb(|_cpu, data| on_event(data))
                .build()
                .map_err(channel_error)?;
            let stopped = batches.run(
                |timeout| perf.poll(timeout),
                || perf.consume(),
                || lost.report_if_due(report_lost),
            )?;
            if stopped {
                links.detach();
                let _ = perf.consume();
            }
            stopped
        }
    };
    if stopped_by_signal {
        // What the kernel sent before the programs were detached is shown,
        // and what it could not send is counted (a stdout closed meanwhile
        // changes nothing now).
        lost.report(report_lost);
        let _ = handler.borrow_mut().end_of_batch()?;
    }
    Ok(())
}

/// The loop both channels share: wait for events, hand the batch to the
/// handler, let the next batch gather.
struct Batches<'a, H> {
    handler: &'a RefCell<H>,
    received: &'a Cell<u64>,
    gather: Option<Duration>,
}

impl<H: EventHandler> Batches<'_, &mut H> {
    /// Runs until a stop signal (true) or the end of stdout (false). After
    /// each wait, whatever is in the channel is taken: records may gather
    /// there without waking us (the ring buffer's wake-up policy).
    fn run(
        &self,
        poll: impl Fn(Duration) -> libbpf_rs::Result<()>,
        drain: impl Fn() -> libbpf_rs::Result<()>,
        mut after_batch: impl FnMut(),
    ) -> Result<bool> {
        if self.handler.borrow_mut().ready()? == Flow::Stop {
            return Ok(false);
        }
        while !stop_requested() {
            let before = self.received.get();
            let polled = poll(POLL_INTERVAL).and_then(|()| drain());
            if self.handler.borrow_mut().end_of_batch()? == Flow::Stop {
                return Ok(false);
            }
            if let Err(err) = polled {
                if err.kind() != ErrorKind::Interrupted {
                    return Err(Error::from_libbpf("reading events", &err));
                }
            }
            after_batch();
            if let Some(gather) = self.gather.filter(|_| self.received.get() != before) {
                thread::sleep(gather);
            }
        }
        Ok(true)
    }
}

/// The programs' per-CPU count of events they could not send (channel full,
/// a table full), and how much of it has been reported.
struct LostEvents<'a, 'obj> {
    map: &'a MapMut<'obj>,
    /// Per-CPU buffers report per CPU, as upstream's perf buffer does.
    per_cpu: bool,
    reported: Vec<u64>,
    last_check: Instant,
}

impl<'a, 'obj> LostEvents<'a, 'obj> {
    fn new(map: &'a MapMut<'obj>, kind: ChannelKind) -> Self {
        Self {
            map,
            per_cpu: kind == ChannelKind::PerfBuffer,
            reported: Vec::new(),
            last_check: Instant::now(),
        }
    }

    fn counts(&self) -> Vec<u64> {
        per_cpu_counts(self.map).unwrap_or_default()
    }

    fn report_if_due(&mut self, report: impl Fn(u64, Option<usize>)) {
        if self.last_check.elapsed() >= LOST_CHECK_INTERVAL {
            self.report(report);
        }
    }

    fn report(&mut self, report: impl Fn(u64, Option<usize>)) {
        self.last_check = Instant::now();
        let counts = self.counts();
        self.reported.resize(counts.len(), 0);
        let new = counts
            .iter()
            .zip(&self.reported)
            .map(|(now, before)| now - before);
        if self.per_cpu {
            for (cpu, count) in new.enumerate().filter(|(_, count)| *count > 0) {
                report(count, Some(cpu));
            }
        } else {
            let total: u64 = new.sum();
            if total > 0 {
                report(total, None);
            }
        }
        self.reported = counts;
    }
}
