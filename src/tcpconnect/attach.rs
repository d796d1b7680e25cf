//! The ways tcpconnect can hook connects, in order of preference, the
//! programs each way loads, and where it keeps the connects it follows.

use std::path::Path;

use super::cli::AttachChoice;
use crate::runtime::attach::Way;
use crate::runtime::object::OpenBpf;

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

/// Where a way keeps the connects it follows until their source port
/// (tracepoint ways) or their result (--outcome) is known: first in a
/// preallocated table by socket, the cheapest place (socket storage costs
/// an allocation per connect).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The table only: a connect that finds it full is reported at once,
    /// unconfirmed, and counted.
    Table,
    /// The table, then the connect's own socket when the table is full (BPF
    /// socket storage): freed with the socket, and not to be used up by
    /// other connects.
    TableThenSockets,
}

/// The program that lists the connects kept in sockets on exit.
pub const SOCKET_STORAGE_ITERATOR: &str = "dump_connects_in_sockets";
const SOCKET_STORAGE_ITERATOR_HOOK: &str = "iter/bpf_sk_storage_map";
/// The table, and the socket storage.
pub const TABLE_MAP: &str = "connect_by_socket";
pub const SOCKET_STORAGE_MAP: &str = "connect_in_socket";

/// Whether `way` follows connects at all, and where: only the tracing
/// programs (fentry, BTF tracepoints) can use socket storage, and only
/// where the kernel lets them (`socket_storage_usable`, asked only then).
pub fn storage(
    way: Way,
    outcome: bool,
    socket_storage_usable: impl FnOnce() -> bool,
) -> Option<Storage> {
    let tracing = matches!(way, Way::Fentry | Way::BtfTracepoint);
    let follows = outcome || matches!(way, Way::BtfTracepoint | Way::Tracepoint);
    match follows {
        false => None,
        true if tracing && socket_storage_usable() => Some(Storage::TableThenSockets),
        true => Some(Storage::Table),
    }
}

/// The storage the programs chosen for loading use: they include the
/// iterator exactly when sockets keep connects too (`programs`).
pub fn storage_of(hooks: &[String]) -> Option<Storage> {
    let follows = hooks
        .iter()
        .any(|hook| hook.ends_with("/inet_sock_set_state"));
    let in_sockets = hooks
        .iter()
        .any(|hook| hook == SOCKET_STORAGE_ITERATOR_HOOK);
    match (follows, in_sockets) {
        (false, _) => None,
        (true, true) => Some(Storage::TableThenSockets),
        (true, false) => Some(Storage::Table),
    }
}

/// The programs of each way (src/bpf/tcpconnect.bpf.c). With --outcome,
/// fentry and kprobes see each result through the state-change tracepoint
/// of their kind (tracing programs with tracing programs, so a connect can
/// be kept in its socket).
pub fn programs(way: Way, outcome: bool, storage: Option<Storage>) -> Vec<&'static str> {
    let mut programs = match way {
        Way::Fentry => vec!["fexit_tcp_v4_connect", "fexit_tcp_v6_connect"],
        Way::Kprobe => vec![
            "kprobe_tcp_v4_connect",
            "kretprobe_tcp_v4_connect",
            "kprobe_tcp_v6_connect",
            "kretprobe_tcp_v6_connect",
        ],
        Way::BtfTracepoint => vec!["tp_btf_inet_sock_set_state", "tp_btf_tcp_retransmit_skb"],
        Way::Tracepoint => vec![
            "tracepoint_inet_sock_set_state",
            "tracepoint_tcp_retransmit_skb",
        ],
    };
    if outcome {
        match way {
            Way::Fentry => programs.push("tp_btf_connect_result"),
            Way::Kprobe => programs.push("tracepoint_connect_result"),
            Way::BtfTracepoint | Way::Tracepoint => {}
        }
    }
    if storage == Some(Storage::TableThenSockets) {
        programs.push(SOCKET_STORAGE_ITERATOR);
    }
    programs
}

/// The program that asks the kernel whether tracing programs may use
/// socket storage.
const SOCKET_STORAGE_PROBE: &str = "probe_socket_storage";

/// Whether this kernel lets BPF tracing programs keep data in sockets
/// (bpf_sk_storage_get from fentry and BTF tracepoints: Linux >= 5.11) and
/// list it (an iterator over socket storage; some sandboxes refuse them):
/// a program that does each is loaded, then discarded.
pub fn socket_storage_usable(tool: &str, object: &'static [u8], btf: Option<&Path>) -> bool {
    let probe = || {
        let mut probe = OpenBpf::open(tool, object, btf)?;
        probe.load_only(&[SOCKET_STORAGE_PROBE, SOCKET_STORAGE_ITERATOR])?;
        probe.create_only(&[SOCKET_STORAGE_MAP])?;
        probe.load()
    };
    probe().is_ok()
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

    #[test]
    fn connects_are_kept_in_sockets_only_by_tracing_programs_that_may() {
        let usable = || true;
        let sockets = Some(Storage::TableThenSockets);
        assert_eq!(storage(Way::Fentry, false, usable), None);
        assert_eq!(storage(Way::Kprobe, false, usable), None);
        assert_eq!(storage(Way::Fentry, true, usable), sockets);
        assert_eq!(storage(Way::Kprobe, true, usable), Some(Storage::Table));
        assert_eq!(storage(Way::BtfTracepoint, false, usable), sockets);
        assert_eq!(storage(Way::Tracepoint, true, usable), Some(Storage::Table));
        assert_eq!(
            storage(Way::BtfTracepoint, true, || false),
            Some(Storage::Table)
        );
        // Asked only when the answer matters.
        assert_eq!(
            storage(Way::Kprobe, true, || unreachable!()),
            Some(Storage::Table)
        );
    }

    #[test]
    fn the_storage_is_told_by_the_programs_chosen() {
        for way in ways(AttachChoice::Auto) {
            for outcome in [false, true] {
                for usable in [false, true] {
                    let storage = storage(way, outcome, || usable);
                    let object = OpenBpf::open("tcpconnect", super::super::OBJECT, None);
                    let mut object = object.expect("open the object");
                    object
                        .load_only(&programs(way, outcome, storage))
                        .expect("programs");
                    assert_eq!(storage_of(&object.hooks()), storage, "{way:?} {outcome}");
                }
            }
        }
    }
}
