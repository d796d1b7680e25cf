//! Reading what a tool left behind: which of a storm's events its output
//! reports and with which arguments, its lost-event notices, its memory.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

/// How the lines of one storm's events are recognised in a tool's output.
pub enum EventPattern {
    /// Exec lines: ` <marker_prefix><index>` then the fixed arguments.
    Exec {
        marker_prefix: String,
        /// The fixed arguments, each preceded by a space, as a line shows them.
        fixed_args: String,
    },
    /// Connect lines: DPORT, the last column, or before `RESULT LAT(ms)`
    /// with --outcome (the storm's connects are all `ok`), or before QUERY
    /// with -d, is the storm listener's port.
    Connect { port: String },
    /// Exit lines (exitsnoop's columns: PCOMM PID PPID ...): a `comm`
    /// process whose parent is `ppid` (the storm), each pid counted once.
    Exit { comm: String, ppid: String },
    /// Lines holding ` <marker_prefix><index>` (tcpconnect -d's QUERY
    /// column: the name of each connect's own lookup), each index once.
    Named { marker_prefix: String },
}

#[derive(Clone, Copy, Debug, Default)]
pub struct EventCounts {
    /// Distinct events of the storm found in the output.
    pub reported: usize,
    /// Of those, exec lines showing every argument.
    pub complete_args: usize,
}

struct EventTally {
    pattern: EventPattern,
    /// Exec marker indices (exit pids) already counted, so a repeated line
    /// counts once.
    seen_markers: Vec<bool>,
    counts: EventCounts,
}

impl EventTally {
    fn add_line(&mut self, line: &str) {
        match &self.pattern {
            EventPattern::Exec {
                marker_prefix,
                fixed_args,
            } => {
                let Some(rest) = first_sight(&mut self.seen_markers, line, marker_prefix) else {
                    return;
                };
                self.counts.reported += 1;
                let complete = rest
                    .strip_prefix(fixed_args.as_str())
                    .is_some_and(|rest| rest.chars().next().is_none_or(char::is_whitespace));
                if complete {
                    self.counts.complete_args += 1;
                }
            }
            EventPattern::Named { marker_prefix } => {
                if first_sight(&mut self.seen_markers, line, marker_prefix).is_some() {
                    self.counts.reported += 1;
                }
            }
            EventPattern::Exit { comm, ppid } => {
                let mut columns = line.split_whitespace();
                let (Some(shown_comm), Some(pid), Some(shown_ppid)) =
                    (columns.next(), columns.next(), columns.next())
                else {
                    return;
                };
                let Ok(pid) = pid.parse::<usize>() else {
                    return;
                };
                if shown_comm != comm || shown_ppid != ppid {
                    return;
                }
                if pid >= self.seen_markers.len() {
                    self.seen_markers.resize(pid + 1, false);
                }
                if !std::mem::replace(&mut self.seen_markers[pid], true) {
                    self.counts.reported += 1;
                }
            }
            EventPattern::Connect { port } => {
                // -d: the storm's connects are to loopback, QUERY `localhost`.
                let line = line.strip_suffix(" localhost").unwrap_or(line);
                let mut last = line.split_whitespace().rev();
                let dport = match (last.next(), last.next(), last.next()) {
                    (Some(_latency), Some("ok"), dport) => dport,
                    (dport, _, _) => dport,
                };
                if dport == Some(port.as_str()) {
                    self.counts.reported += 1;
                }
            }
        }
    }
}

/// The text after ` <marker_prefix><index>` in `line`, if that index was not
/// `seen` before (it is now).
fn first_sight<'a>(seen: &mut Vec<bool>, line: &'a str, marker_prefix: &str) -> Option<&'a str> {
    let after_marker = find_marker(line, marker_prefix)?;
    let digits = after_marker
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after_marker.len());
    let index = after_marker[..digits].parse::<usize>().ok()?;
    if index >= seen.len() {
        seen.resize(index + 1, false);
    }
    (!std::mem::replace(&mut seen[index], true)).then_some(&after_marker[digits..])
}

/// The text right after ` <marker_prefix>` in a line, where the index starts.
fn find_marker<'a>(line: &'a str, marker_prefix: &str) -> Option<&'a str> {
    line.match_indices(marker_prefix)
        .find(|&(at, _)| line[..at].ends_with(' '))
        .map(|(at, _)| &line[at + marker_prefix.len()..])
}

/// Counts a storm's events in a tool's output file while the tool is still
/// writing it: each call reads only what was appended since the last.
pub struct OutputFollower {
    file: File,
    /// The start of a line whose end is not written yet.
    partial_line: Vec<u8>,
    tally: EventTally,
}

impl OutputFollower {
    pub fn open(path: &Path, pattern: EventPattern) -> io::Result<Self> {
        Ok(Self {
            file: File::open(path)?,
            partial_line: Vec::new(),
            tally: EventTally {
                pattern,
                seen_markers: Vec::new(),
                counts: EventCounts::default(),
            },
        })
    }

    /// Reads what was appended; true when there was something.
    pub fn read_appended(&mut self) -> bool {
        let mut chunk = vec![0u8; 256 * 1024];
        let mut grew = false;
        while let Ok(len @ 1..) = self.file.read(&mut chunk) {
            grew = true;
            self.partial_line.extend_from_slice(&chunk[..len]);
            let Some(last_newline) = self.partial_line.iter().rposition(|&b| b == b'\n') else {
                continue;
            };
            for line in self.partial_line[..last_newline].split(|&b| b == b'\n') {
                self.tally.add_line(&String::from_utf8_lossy(line));
            }
            self.partial_line.drain(..=last_newline);
        }
        grew
    }

    pub fn counts(&self) -> EventCounts {
        self.tally.counts
    }

    /// The final counts, once the tool has exited: reads the rest, including
    /// a last line without its newline.
    pub fn finish(mut self) -> EventCounts {
        self.read_appended();
        let last_line = std::mem::take(&mut self.partial_line);
        if !last_line.is_empty() {
            self.tally.add_line(&String::from_utf8_lossy(&last_line));
        }
        self.tally.counts
    }
}

/// What a tool said on stderr about events it lost.
#[derive(Clone, Copy, Debug, Default)]
pub struct LostNotices {
    pub lines: usize,
    /// The counts those lines give, added up.
    pub events: u64,
}

pub fn lost_notices(stderr_path: &Path) -> LostNotices {
    let text = fs::read(stderr_path).unwrap_or_default();
    let mut notices = LostNotices::default();
    for line in String::from_utf8_lossy(&text).lines() {
        let lowered = line.to_ascii_lowercase();
        let Some(at) = lowered.find("lost") else {
            continue;
        };
        notices.lines += 1;
        notices.events += lowered[at..]
            .split(|c: char| !c.is_ascii_digit())
            .find_map(|word| word.parse::<u64>().ok())
            .unwrap_or(0);
    }
    notices
}

/// The last non-empty line of a file (a tool's stderr), to say why it failed.
pub fn last_line(path: &Path) -> Option<String> {
    let text = fs::read(path).ok()?;
    String::from_utf8_lossy(&text)
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map(|line| line.trim().to_owned())
}

/// A process's memory by kind, from /proc/PID/smaps_rollup, in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryKinds {
    /// Anonymous pages: heap, stacks, copied-on-write data; what the host
    /// cannot reclaim (there is no swap here).
    pub anonymous: u64,
    /// Private pages backed by a file (the binary, libraries no other
    /// process maps): clean, so the host can drop and reread them.
    pub private_file: u64,
    /// Pages other processes map too (libc, ld.so), and pages mapped twice
    /// (a BPF ring buffer's data pages).
    pub shared: u64,
    /// Proportional set size: each page divided by the processes mapping it.
    pub pss: u64,
    pub rss: u64,
}

impl MemoryKinds {
    /// The kinds of a running process now; None once it has gone.
    pub fn read(pid: i32) -> Option<Self> {
        let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        let field = |name: &str| -> Option<u64> {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        };
        let anonymous = field("Anonymous")?;
        let private = field("Private_Clean")? + field("Private_Dirty")?;
        Some(Self {
            anonymous,
            private_file: private.saturating_sub(anonymous),
            shared: field("Shared_Clean")? + field("Shared_Dirty")?,
            pss: field("Pss")?,
            rss: field("Rss")?,
        })
    }

    /// Each kind's largest value of the two (not necessarily at one moment).
    pub fn max(self, other: Self) -> Self {
        Self {
            anonymous: self.anonymous.max(other.anonymous),
            private_file: self.private_file.max(other.private_file),
            shared: self.shared.max(other.shared),
            pss: self.pss.max(other.pss),
            rss: self.rss.max(other.rss),
        }
    }
}

/// Resident pages of the process's own executable file (its mappings in
/// /proc/PID/smaps whose path is /proc/PID/exe), in KiB.
pub fn binary_resident_kib(pid: i32) -> Option<u64> {
    let exe = fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let exe_suffix = format!(" {}", exe.to_str()?);
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let mut total = 0;
    let mut in_binary = false;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            // A mapping's header: `start-end perms offset dev inode [path]`.
            Some(first) if first.contains('-') && !first.ends_with(':') => {
                in_binary = line.ends_with(&exe_suffix);
            }
            Some("Rss:") if in_binary => {
                total += words.next()?.parse::<u64>().ok()?;
            }
            _ => {}
        }
    }
    Some(total)
}

/// A process's current resident memory (VmRSS), in KiB.
pub fn resident_kib(pid: i32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Shows a size given in KiB as MiB, to 0.01.
pub fn mib2(kib: u64) -> String {
    format!("{:.2}", kib as f64 / 1024.0)
}

/// Shows a size given in KiB as MiB.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
