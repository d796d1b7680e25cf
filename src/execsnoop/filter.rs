//! Step 2 of the data path: the filters that run in user space (-n, -l).
//! Everything cheaper to decide in the kernel is decided there.

use regex::bytes::Regex;

use super::event::{Exec, ExecEvent};
use crate::data_path::Filter;

#[derive(Debug, Default)]
pub struct EventFilter {
    /// -n: searched in the command name.
    pub name: Option<Regex>,
    /// -l: searched in the arguments joined with spaces, file name first.
    pub line: Option<Regex>,
}

impl Filter<Exec> for EventFilter {
    fn matches(&self, event: &ExecEvent<'_>) -> bool {
        if let Some(name) = &self.name {
            if !name.is_match(event.comm()) {
                return false;
            }
        }
        if let Some(line) = &self.line {
            // An argument that could not be read matches as empty.
            let args = event.args().map(Option::unwrap_or_default);
            let joined = args.collect::<Vec<_>>().join(&b' ');
            if !line.is_match(&joined) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execsnoop::event::tests::record;

    fn filter(name: Option<&str>, line: Option<&str>) -> EventFilter {
        EventFilter {
            name: name.map(|n| Regex::new(n).unwrap()),
            line: line.map(|l| Regex::new(l).unwrap()),
        }
    }

    #[test]
    fn name_is_a_regex_on_comm() {
        let data = record("sshd", b"/usr/sbin/sshd\0sshd\0-D\0", false);
        let event = ExecEvent::decode(&data).unwrap();
        assert!(filter(None, None).matches(&event));
        assert!(filter(Some("ssh"), None).matches(&event));
        assert!(filter(Some("^s.hd$"), None).matches(&event));
        assert!(!filter(Some("^ssh$"), None).matches(&event));
    }

    #[test]
    fn line_is_a_regex_on_the_arguments_not_the_name() {
        let data = record(
            "curl",
            b"/usr/bin/curl\0curl\0-s\0http://example.test\0",
            false,
        );
        let event = ExecEvent::decode(&data).unwrap();
        assert!(filter(None, Some("-s http://")).matches(&event));
        assert!(filter(None, Some("^/usr/bin/curl -s")).matches(&event));
        assert!(!filter(None, Some("wget")).matches(&event));
        // upstream C compares -l with the name; we do not.
        let data = record("curl", b"/usr/bin/true\0true\0", false);
        assert!(!filter(None, Some("curl")).matches(&ExecEvent::decode(&data).unwrap()));
    }
}
