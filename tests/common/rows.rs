//! Reading a tool's text rows by column name: a [`Trace`] waits for the
//! header, then for rows that match. tcpconnect's tests match rows this way
//! (by port and pid, whatever else the row shows); execsnoop's compare whole
//! lines, since every column of their rows is known in advance, and so does
//! the pipeline's contract (tests/common/contract.rs) with the row each
//! tool says an event makes.

use std::collections::HashMap;
use std::process::Command;

use nix::sys::signal::Signal;

use super::{Finished, Tool, TIMEOUT};

/// One row, by column name.
#[derive(Debug)]
pub struct Row(HashMap<String, String>);

impl Row {
    #[track_caller]
    pub fn get(&self, column: &str) -> &str {
        self.0
            .get(column)
            .unwrap_or_else(|| panic!("no {column} column in {self:?}"))
    }
}

/// Columns whose values may contain spaces: a command name (only one such
/// column per layout), and ARGS, which is last and takes the rest.
const NAME_COLUMNS: [&str; 2] = ["COMM", "PCOMM"];
const REST_COLUMN: &str = "ARGS";

/// The columns of a header, split around the command name column.
pub struct Layout {
    before_name: Vec<String>,
    name: String,
    after_name: Vec<String>,
    rest: Option<String>,
}

impl Layout {
    #[track_caller]
    pub fn from_header(header: &str) -> Self {
        let mut names: Vec<String> = header.split_whitespace().map(String::from).collect();
        let rest = match names.last().map(String::as_str) {
            Some(REST_COLUMN) => names.pop(),
            _ => None,
        };
        let name_at = names
            .iter()
            .position(|n| NAME_COLUMNS.contains(&n.as_str()));
        let name_at = name_at.unwrap_or_else(|| panic!("no command name column in {header:?}"));
        Self {
            before_name: names[..name_at].to_vec(),
            name: names[name_at].clone(),
            after_name: names[name_at + 1..].to_vec(),
            rest,
        }
    }

    /// None for lines that are not rows of this layout (the header
    /// included: a row's last column before ARGS is a number, or `-` for
    /// one not known). With ARGS the name is one word; without, it is
    /// whatever lies between the columns before and after it.
    pub fn parse(&self, line: &str) -> Option<Row> {
        let mut row = HashMap::new();
        let words: Vec<&str> = match &self.rest {
            Some(rest) => {
                let count = self.before_name.len() + 1 + self.after_name.len();
                let (words, args) = split_words(line, count)?;
                row.insert(rest.clone(), args.to_string());
                words
            }
            None => line.split_whitespace().collect(),
        };
        let name_end = words.len().checked_sub(self.after_name.len())?;
        let name_start = self.before_name.len();
        let last = words.last()?;
        if name_end <= name_start || (*last != "-" && last.parse::<f64>().is_err()) {
            return None;
        }
        for (column, value) in self.before_name.iter().zip(&words) {
            row.insert(column.clone(), value.to_string());
        }
        row.insert(self.name.clone(), words[name_start..name_end].join(" "));
        for (column, value) in self.after_name.iter().zip(&words[name_end..]) {
            row.insert(column.clone(), value.to_string());
        }
        Some(Row(row))
    }
}

/// The first `count` words of `line`, and what follows the one space after
/// them (ARGS, each argument followed by a space).
fn split_words(line: &str, count: usize) -> Option<(Vec<&str>, &str)> {
    let mut words = Vec::with_capacity(count);
    let mut rest = line;
    while words.len() < count {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ').unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        words.push(&rest[..end]);
        rest = &rest[end..];
    }
    Some((words, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// A tool in trace mode, its header printed (which it prints once its
/// programs are attached, so events from then on are traced).
pub struct Trace {
    pub tool: Tool,
    pub header: String,
    layout: Layout,
}

impl Trace {
    #[track_caller]
    pub fn start(command: Command) -> Self {
        let mut tool = Tool::spawn(command);
        let header = tool.wait_for_header(TIMEOUT);
        let layout = Layout::from_header(&header);
        Self {
            tool,
            header,
            layout,
        }
    }

    /// The first row that `matches`, waiting for it; returned with its line.
    #[track_caller]
    pub fn expect_row(&mut self, matches: impl Fn(&Row) -> bool) -> (Row, String) {
        let layout = &self.layout;
        let line = self.tool.expect_line(
            |line| layout.parse(line).is_some_and(|row| matches(&row)),
            TIMEOUT,
        );
        (layout.parse(&line).expect("a matched row parses"), line)
    }

    /// Only meaningful after a sentinel row arrived (see the harness).
    #[track_caller]
    pub fn assert_no_row(&mut self, matches: impl Fn(&Row) -> bool) {
        let layout = &self.layout;
        self.tool
            .assert_no_line(|line| layout.parse(line).is_some_and(|row| matches(&row)));
    }

    pub fn rows_matching(&mut self, matches: impl Fn(&Row) -> bool) -> Vec<String> {
        let layout = &self.layout;
        let lines = self.tool.stdout_lines().iter();
        let matching = lines.filter(|line| layout.parse(line).is_some_and(|row| matches(&row)));
        matching.cloned().collect()
    }

    /// SIGINT, which must end the tool with status 0.
    #[track_caller]
    pub fn stop(self) -> Finished {
        let finished = self.tool.stop_with(Signal::SIGINT);
        assert!(finished.status.success(), "SIGINT: {}", finished.status);
        finished
    }
}
