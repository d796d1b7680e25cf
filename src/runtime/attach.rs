//! The ways a tool can hook the kernel, and trying them in order until one
//! loads and attaches.

use crate::error::Error;

/// How a tool's programs hook the kernel. A tool offers some of these, each
/// with its own programs; they are tried best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// BPF trampolines (fentry/fexit): the cheapest, and the function's
    /// arguments and return value in one program.
    Fentry,
    /// kprobe/kretprobe, where the kernel has CONFIG_KPROBES.
    Kprobe,
    /// A tracepoint as a BTF tracepoint (tp_btf): handed kernel objects, no
    /// trace record to fill, no tracefs.
    BtfTracepoint,
    /// The classic tracepoint, for kernels without BTF (--btf) or tp_btf.
    Tracepoint,
}

impl Way {
    /// The `--attach` value this way belongs to.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fentry => "fentry",
            Self::Kprobe => "kprobe",
            Self::BtfTracepoint | Self::Tracepoint => "tracepoint",
        }
    }

    /// What the kernel must offer, for error messages.
    pub fn requirement(self) -> &'static str {
        match self {
            Self::Fentry => {
                "BPF trampolines (fentry/fexit: Linux >= 5.5 with BTF, not refused by the \
                 kernel's lockdown or sandbox)"
            }
            Self::Kprobe => "kprobes (CONFIG_KPROBES=y)",
            Self::BtfTracepoint | Self::Tracepoint => "the tracepoints",
        }
    }
}

/// Whether programs in these sections are found through tracefs: classic
/// tracepoints, and kprobes on kernels without the kprobe PMU. Trampolines
/// and BTF or raw tracepoints are not.
pub fn hooks_need_tracefs(hooks: &[String]) -> bool {
    const FOUND_THROUGH_TRACEFS: [&str; 5] =
        ["tracepoint/", "tp/", "kprobe/", "kretprobe/", "ksyscall/"];
    let found_there = |hook: &String| FOUND_THROUGH_TRACEFS.iter().any(|p| hook.starts_with(p));
    hooks.iter().any(found_there)
}

/// One way tried: what it hooks (when it got that far) and why it failed.
pub struct Failure {
    pub way: Way,
    pub hooks: Vec<String>,
    pub error: Error,
}

/// What trying the ways found: the first that worked, if any, and each
/// failure before it.
pub struct Attempts<L> {
    pub attached: Option<(Way, Vec<String>, L)>,
    pub failures: Vec<Failure>,
}

/// `fentry (fexit/tcp_v4_connect, fexit/tcp_v6_connect)`.
fn describe(way: Way, hooks: &[String]) -> String {
    match hooks {
        [] => way.name().to_string(),
        _ => format!("{} ({})", way.name(), hooks.join(", ")),
    }
}

impl<L> Attempts<L> {
    /// Tries `attach` with each way in turn until one works, handing it
    /// what goes with the way (`with`). Each attempt reports the hooks it
    /// got as far as choosing, so failures name them.
    pub fn run<W>(
        ways: impl IntoIterator<Item = (Way, W)>,
        mut attach: impl FnMut(Way, W, &mut Vec<String>) -> Result<L, Error>,
    ) -> Self {
        let mut failures = Vec::new();
        for (way, with) in ways {
            let mut hooks = Vec::new();
            match attach(way, with, &mut hooks) {
                Ok(loaded) => {
                    return Self {
                        attached: Some((way, hooks, loaded)),
                        failures,
                    }
                }
                Err(error) => failures.push(Failure { way, hooks, error }),
            }
        }
        Self {
            attached: None,
            failures,
        }
    }

    /// For -v: why each way before the one used failed, and which is used.
    pub fn tell(&self, tool: &str) {
        for failure in &self.failures {
            let way = describe(failure.way, &failure.hooks);
            eprintln!("{tool}: {way} not usable: {}", failure.error);
        }
        if let Some((way, hooks, _)) = &self.attached {
            eprintln!("{tool}: attached with {}", describe(*way, hooks));
        }
    }

    /// Every failure as `hooks: reason`, joined for one error line; ways
    /// that failed for the same reason are named together.
    pub fn reasons(&self) -> String {
        let mut groups: Vec<(Vec<String>, String)> = Vec::new();
        for failure in &self.failures {
            let reason = failure.error.to_string();
            let hooks = match failure.hooks.is_empty() {
                true => vec![failure.way.name().to_string()],
                false => failure.hooks.clone(),
            };
            match groups.iter_mut().find(|(_, known)| *known == reason) {
                Some((named, _)) => {
                    for hook in hooks {
                        if !named.contains(&hook) {
                            named.push(hook);
                        }
                    }
                }
                None => groups.push((hooks, reason)),
            }
        }
        let groups = groups
            .iter()
            .map(|(hooks, reason)| format!("{}: {reason}", hooks.join(", ")));
        groups.collect::<Vec<_>>().join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ways_are_tried_in_order_until_one_works() {
        let mut tried = Vec::new();
        let attempts = Attempts::run(
            [
                Way::Fentry,
                Way::Kprobe,
                Way::Tracepoint,
                Way::BtfTracepoint,
            ]
            .map(|way| (way, ())),
            |way, (), hooks| {
                tried.push(way);
                hooks.push(format!("hook/{}", way.name()));
                match way {
                    Way::Tracepoint => Ok("loaded"),
                    _ => Err(Error::new("refused")),
                }
            },
        );
        assert_eq!(tried, [Way::Fentry, Way::Kprobe, Way::Tracepoint]);
        let (way, hooks, loaded) = attempts.attached.as_ref().unwrap();
        assert_eq!(
            (*way, hooks.as_slice(), *loaded),
            (
                Way::Tracepoint,
                &["hook/tracepoint".to_string()][..],
                "loaded"
            )
        );
        // The same reason is given once, for every hook it stopped.
        assert_eq!(attempts.reasons(), "hook/fentry, hook/kprobe: refused");
    }

    #[test]
    fn tracefs_is_needed_by_classic_tracepoints_and_kprobes_only() {
        let hooks = |list: &[&str]| list.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        assert!(hooks_need_tracefs(&hooks(&[
            "tracepoint/syscalls/sys_enter_execve"
        ])));
        assert!(hooks_need_tracefs(&hooks(&["kretprobe/tcp_v4_connect"])));
        assert!(!hooks_need_tracefs(&hooks(&["tp_btf/sched_process_exec"])));
        assert!(!hooks_need_tracefs(&hooks(&[
            "fexit/tcp_v4_connect",
            "raw_tp/sys_enter"
        ])));
    }
}
