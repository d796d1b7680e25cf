//! `--soak SECONDS`: the exec storm without pause against our execsnoop,
//! to see that nothing is lost and that memory stays flat over time.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use crate::measure::{lost_notices, mib, resident_kib, OutputFollower};
use crate::tool::Tool;
use crate::workload::ExecStorm;

const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// After the storm, how long the tool may go without writing before it is
/// taken to have written all it will.
const CATCH_UP_QUIET: Duration = Duration::from_secs(2);

/// Err when our execsnoop does not start or its output cannot be read.
pub fn run(ours: &Tool, duration: Duration, scratch: &Path) -> Result<(), String> {
    println!(
        "soak: exec storm for {duration:?} against {}",
        ours.path.display()
    );
    let running = ours
        .start(scratch, "soak")
        .map_err(|reason| format!("{} failed to start: {reason}", ours.path.display()))?;
    let pid = running.pid();
    let storm = ExecStorm::new("soak");
    // Counted as the tool writes, so the wait at the end stops once it has caught up.
    let mut follower = match OutputFollower::open(&running.stdout_path, storm.pattern()) {
        Ok(follower) => follower,
        Err(err) => {
            running.stop();
            return Err(format!("cannot read the soak output: {err}"));
        }
    };
    let mut rss_samples = Vec::new();
    rss_samples.extend(resident_kib(pid));
    let cpu_at_attach = running.cpu_used();

    let started = Instant::now();
    let mut next_sample = started + SAMPLE_INTERVAL;
    let (mut caused, mut attempts) = (0, 0);
    while started.elapsed() < duration {
        if storm.exec_one(attempts) {
            caused += 1;
        }
        attempts += 1;
        if Instant::now() >= next_sample {
            rss_samples.extend(resident_kib(pid));
            follower.read_appended();
            next_sample += SAMPLE_INTERVAL;
        }
    }
    let storm_wall = started.elapsed();

    let mut last_growth = Instant::now();
    while follower.counts().reported < caused && last_growth.elapsed() < CATCH_UP_QUIET {
        if follower.read_appended() {
            last_growth = Instant::now();
        } else {
            thread::sleep(Duration::from_millis(50));
        }
    }
    rss_samples.extend(resident_kib(pid));
    let cpu_before_stop = running.cpu_used();
    let stderr_path = running.stderr_path.clone();
    let exited = running.stop();
    let counts = follower.finish();
    let lost = lost_notices(&stderr_path);

    let rate = caused as f64 / storm_wall.as_secs_f64();
    println!(
        "execs caused:        {caused} ({rate:.0}/s, {} failed)",
        attempts - caused
    );
    println!(
        "events reported:     {} ({:.3}%), complete args {}",
        counts.reported,
        counts.reported as f64 * 100.0 / caused.max(1) as f64,
        counts.complete_args
    );
    println!(
        "missing from output: {}; lost-event lines on stderr: {} (adding up to {} events)",
        caused.saturating_sub(counts.reported),
        lost.lines,
        lost.events
    );
    if let (Some(first), Some(last)) = (rss_samples.first(), rss_samples.last()) {
        let middle = rss_samples[rss_samples.len() / 2];
        let peak = rss_samples.iter().max().copied().unwrap_or_default();
        println!(
            "RSS (VmRSS, {} samples): start {}, middle {}, end {}, highest sample {}; \
             peak (ru_maxrss) {}",
            rss_samples.len(),
            mib(*first),
            mib(middle),
            mib(*last),
            mib(peak),
            mib(exited.peak_rss_kib)
        );
    }
    if let (Some(start), Some(end)) = (cpu_at_attach, cpu_before_stop) {
        let storm_cpu = end.saturating_sub(start).as_secs_f64();
        println!(
            "tool CPU from attached to stop: {storm_cpu:.2} s ({:.3} s per 10k events)",
            storm_cpu * 10_000.0 / counts.reported.max(1) as f64
        );
    }
    println!(
        "tool CPU in all: {:.2} s, {}",
        exited.cpu.as_secs_f64(),
        exited.status_text()
    );
    Ok(())
}
