//! The three ways tcpconnect can hook connects, in order of preference.

use super::cli::AttachChoice;
use super::skel::OpenTcpconnectProgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachMethod {
    Fentry,
    Kprobe,
    /// The tracepoint as a BTF tracepoint (tp_btf): handed the socket, no
    /// trace record to fill, so every TCP state change costs less.
    BtfTracepoint,
    /// The classic tracepoint, for kernels without BTF (--btf) or tp_btf.
    Tracepoint,
}

impl AttachMethod {
    /// The longest list `candidates` returns.
    pub const MOST_CANDIDATES: usize = 4;

    /// What to try, in order, for the operator's --attach choice.
    pub fn candidates(choice: AttachChoice) -> &'static [AttachMethod] {
        match choice {
            AttachChoice::Auto => &[
                Self::Fentry,
                Self::Kprobe,
                Self::BtfTracepoint,
                Self::Tracepoint,
            ],
            AttachChoice::Fentry => &[Self::Fentry],
            AttachChoice::Kprobe => &[Self::Kprobe],
            AttachChoice::Tracepoint => &[Self::BtfTracepoint, Self::Tracepoint],
        }
    }

    /// The --attach value this way belongs to.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fentry => "fentry",
            Self::Kprobe => "kprobe",
            Self::BtfTracepoint | Self::Tracepoint => "tracepoint",
        }
    }

    /// What exactly is hooked, for -v.
    pub fn hooks(self) -> &'static str {
        match self {
            Self::Fentry => "fexit/tcp_v4_connect, fexit/tcp_v6_connect",
            Self::Kprobe => "kprobe+kretprobe on tcp_v4_connect, tcp_v6_connect",
            Self::BtfTracepoint => "tp_btf/inet_sock_set_state",
            Self::Tracepoint => "tracepoint/sock/inet_sock_set_state",
        }
    }

    /// Classic tracepoints are found through tracefs, and so are kprobes on
    /// kernels without the kprobe PMU; trampolines and BTF tracepoints not.
    pub fn needs_tracefs(self) -> bool {
        matches!(self, Self::Kprobe | Self::Tracepoint)
    }

    /// What the kernel must offer for this way, for error messages.
    pub fn requirement(self) -> &'static str {
        match self {
            Self::Fentry => {
                "BPF trampolines (fexit on tcp_v4_connect/tcp_v6_connect: Linux >= 5.5 with BTF, \
                 not refused by the kernel's lockdown or sandbox)"
            }
            Self::Kprobe => "kprobes on tcp_v4_connect/tcp_v6_connect (CONFIG_KPROBES=y)",
            Self::BtfTracepoint | Self::Tracepoint => {
                "the sock:inet_sock_set_state tracepoint (Linux >= 5.2)"
            }
        }
    }

    /// Loads this way's programs and no others.
    pub fn select_programs(self, progs: &mut OpenTcpconnectProgs<'_>) {
        let fentry = self == Self::Fentry;
        let kprobe = self == Self::Kprobe;
        let btf_tracepoint = self == Self::BtfTracepoint;
        let tracepoint = self == Self::Tracepoint;
        progs.fexit_tcp_v4_connect.set_autoload(fentry);
        progs.fexit_tcp_v6_connect.set_autoload(fentry);
        progs.kprobe_tcp_v4_connect.set_autoload(kprobe);
        progs.kretprobe_tcp_v4_connect.set_autoload(kprobe);
        progs.kprobe_tcp_v6_connect.set_autoload(kprobe);
        progs.kretprobe_tcp_v6_connect.set_autoload(kprobe);
        progs
            .tracepoint_inet_sock_set_state
            .set_autoload(tracepoint);
        progs.tracepoint_tcp_retransmit_skb.set_autoload(tracepoint);
        progs
            .tp_btf_inet_sock_set_state
            .set_autoload(btf_tracepoint);
        progs.tp_btf_tcp_retransmit_skb.set_autoload(btf_tracepoint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_prefers_trampolines_then_kprobes_then_the_tracepoint() {
        assert_eq!(
            AttachMethod::candidates(AttachChoice::Auto),
            [
                AttachMethod::Fentry,
                AttachMethod::Kprobe,
                AttachMethod::BtfTracepoint,
                AttachMethod::Tracepoint
            ]
        );
        assert_eq!(
            AttachMethod::candidates(AttachChoice::Kprobe),
            [AttachMethod::Kprobe]
        );
        // The BTF flavor first: the kernel fills no trace record for it.
        assert_eq!(
            AttachMethod::candidates(AttachChoice::Tracepoint),
            [AttachMethod::BtfTracepoint, AttachMethod::Tracepoint]
        );
        let most = [
            AttachChoice::Auto,
            AttachChoice::Fentry,
            AttachChoice::Kprobe,
            AttachChoice::Tracepoint,
        ]
        .map(|choice| AttachMethod::candidates(choice).len());
        assert_eq!(most.into_iter().max(), Some(AttachMethod::MOST_CANDIDATES));
    }
}
