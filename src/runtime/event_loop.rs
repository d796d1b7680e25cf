//! Polls the event channel until a signal, the end of stdout, or an error,
//! and says on stderr how many events the kernel could not hand over.

use std::cell::{Cell, RefCell};
use std::thread;
use std::time::{Duration, Instant};

use libbpf_rs::{ErrorKind, Map, MapCore, MapFlags, PerfBufferBuilder, RingBufferBuilder};

use crate::error::{Error, Result};
use crate::output::Flow;
use crate::runtime::channel::{EventChannel, PERF_BUFFER_PAGES};
use crate::runtime::object::LoadedBpf;
use crate::runtime::signals::stop_requested;

/// How often the loop wakes without events, to notice a stop request.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// After a batch, events are left to gather this long before the next one is
/// taken: at most 20 wakeups and writes a second however fast events come
/// (the cost per event falls as the rate rises), each line is out within
/// 50 ms, and an event on an idle system still wakes the loop at once.
const BATCH_GATHER: Duration = Duration::from_millis(50);
/// How often the BPF side's lost-event counter is read.
const LOST_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// What a tool does with the records it receives.
pub trait EventHandler {
    /// The channel is open: every event from now on is delivered. The moment
    /// to tell the operator (header, ready line); by default, what is pending
    /// in the output (the header) is written.
    fn ready(&mut self) -> Result<Flow> {
        self.end_of_batch()
    }
    /// One record, as the BPF program sent it.
    fn handle_event(&mut self, data: &[u8]);
    /// Called after each batch of records: the moment to write output.
    /// `Flow::Stop` (stdout closed) ends the loop.
    fn end_of_batch(&mut self) -> Result<Flow>;
    /// `count` events could not be delivered (on `cpu`, for a perf buffer).
    fn events_lost(&mut self, count: u64, cpu: Option<i32>) {
        match cpu {
            Some(cpu) => eprintln!("Lost {count} events on CPU #{cpu}!"),
            None => eprintln!("Lost {count} events!"),
        }
    }
}

/// Opens the channel, tells the handler it is ready, then runs until
/// SIGINT/SIGTERM/SIGHUP or until the handler says stop. (A perf buffer drops
/// what is sent before it is open, so readiness is announced only then.)
pub fn run_event_loop(
    channel: EventChannel,
    object: &LoadedBpf,
    handler: &mut impl EventHandler,
) -> Result<()> {
    let handler = RefCell::new(handler);
    let received = Cell::new(0u64);
    let on_event = |data: &[u8]| {
        received.set(received.get() + 1);
        handler.borrow_mut().handle_event(data);
    };
    let batches = Batches {
        handler: &handler,
        received: &received,
    };
    let channel_error = |err: libbpf_rs::Error| Error::from_libbpf("reading events", &err);
    let events = object.map(channel.map_name())?;
    let lost_events = object.map("lost_events")?;
    let mut lost = LostEvents::new(&lost_events);
    let report_lost = |count, cpu| handler.borrow_mut().events_lost(count, cpu);

    match channel {
        EventChannel::RingBuffer => {
            let mut builder = RingBufferBuilder::new();
            builder
                .add(&events, |data| {
                    on_event(data);
                    0
                })
                .map_err(channel_error)?;
            let ring = builder.build().map_err(channel_error)?;
            batches.run(
                |timeout| ring.poll(timeout),
                || ring.consume(),
                || lost.report_if_due(report_lost),
            )?;
        }
        EventChannel::PerfBuffer => {
            let perf = PerfBufferBuilder::new(&events)
                .pages(PERF_BUFFER_PAGES)
                .sample_cb(|_cpu, data| on_event(data))
                .lost_cb(|cpu, count| report_lost(count, Some(cpu)))
                .build()
                .map_err(channel_error)?;
            batches.run(
                |timeout| perf.poll(timeout),
                || perf.consume(),
                || lost.report_if_due(report_lost),
            )?;
        }
    }
    lost.report(report_lost);
    Ok(())
}

/// The loop both channels share: wait for events, hand the batch to the
/// handler, let the next batch gather.
struct Batches<'a, H> {
    handler: &'a RefCell<H>,
    received: &'a Cell<u64>,
}

impl<H: EventHandler> Batches<'_, &mut H> {
    fn run(
        &self,
        poll: impl Fn(Duration) -> libbpf_rs::Result<()>,
        drain: impl Fn() -> libbpf_rs::Result<()>,
        mut after_batch: impl FnMut(),
    ) -> Result<()> {
        if self.handler.borrow_mut().ready()? == Flow::Stop {
            return Ok(());
        }
        while !stop_requested() {
            let before = self.received.get();
            let polled = poll(POLL_INTERVAL);
            if self.handler.borrow_mut().end_of_batch()? == Flow::Stop {
                return Ok(());
            }
            if let Err(err) = polled {
                if err.kind() != ErrorKind::Interrupted {
                    return Err(Error::from_libbpf("reading events", &err));
                }
            }
            after_batch();
            if self.received.get() != before {
                thread::sleep(BATCH_GATHER);
            }
        }
        // Stopped by a signal: what the kernel already sent is still shown
        // (a stdout closed meanwhile changes nothing now).
        let _ = drain();
        let _ = self.handler.borrow_mut().end_of_batch()?;
        Ok(())
    }
}

/// The per-CPU count of events the BPF side could not send (ring buffer full,
/// a table full); full perf buffers are reported by their own callback.
struct LostEvents<'a, 'obj> {
    map: &'a Map<'obj>,
    reported: u64,
    last_check: Instant,
}

impl<'a, 'obj> LostEvents<'a, 'obj> {
    fn new(map: &'a Map<'obj>) -> Self {
        Self {
            map,
            reported: 0,
            last_check: Instant::now(),
        }
    }

    fn total(&self) -> u64 {
        let key = 0u32.to_ne_bytes();
        match self.map.lookup_percpu(&key, MapFlags::ANY) {
            Ok(Some(per_cpu)) => per_cpu
                .iter()
                .filter_map(|value| value.get(..8)?.try_into().ok())
                .map(u64::from_ne_bytes)
                .sum(),
            _ => 0,
        }
    }

    fn report_if_due(&mut self, report: impl Fn(u64, Option<i32>)) {
        if self.last_check.elapsed() >= LOST_CHECK_INTERVAL {
            self.report(report);
        }
    }

    fn report(&mut self, report: impl Fn(u64, Option<i32>)) {
        self.last_check = Instant::now();
        let total = self.total();
        if total > self.reported {
            report(total - self.reported, None);
            self.reported = total;
        }
    }
}
