//! The ways tcpconnect can hook connects, in order of preference, and the
//! programs each way loads.

use super::cli::AttachChoice;
use crate::runtime::attach::Way;

/// What to try, in order, for the operator's --attach choice: trampolines,
/// then kprobes, then the tracepoint (its BTF flavor first: the kernel fills
/// no trace record for it).
pub fn ways(choice: AttachChoice) -> Vec<Way> {
    match choice {
        AttachChoice::Auto => vec![
            Way::Fentry,
            Way::Kprobe,
            Way::BtfTracepoint,
            Way::Tracepoint,
        ],
        AttachChoice::Fentry => vec![Way::Fentry],
        AttachChoice::Kprobe => vec![Way::Kprobe],
        AttachChoice::Tracepoint => vec![Way::BtfTracepoint, Way::Tracepoint],
    }
}

/// The programs of each way (src/bpf/tcpconnect.bpf.c).
pub fn programs(way: Way) -> &'static [&'static str] {
    match way {
        Way::Fentry => &["fexit_tcp_v4_connect", "fexit_tcp_v6_connect"],
        Way::Kprobe => &[
            "kprobe_tcp_v4_connect",
            "kretprobe_tcp_v4_connect",
            "kprobe_tcp_v6_connect",
            "kretprobe_tcp_v6_connect",
        ],
        Way::BtfTracepoint => &["tp_btf_inet_sock_set_state", "tp_btf_tcp_retransmit_skb"],
        Way::Tracepoint => &[
            "tracepoint_inet_sock_set_state",
            "tracepoint_tcp_retransmit_skb",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_prefers_trampolines_then_kprobes_then_the_tracepoint() {
        assert_eq!(
            ways(AttachChoice::Auto),
            [
                Way::Fentry,
                Way::Kprobe,
                Way::BtfTracepoint,
                Way::Tracepoint
            ]
        );
        assert_eq!(ways(AttachChoice::Kprobe), [Way::Kprobe]);
        assert_eq!(
            ways(AttachChoice::Tracepoint),
            [Way::BtfTracepoint, Way::Tracepoint]
        );
    }
}
