//! The ways tcpconnect can hook connects, in order of preference, the
//! programs each way loads, and where it keeps the connects it follows.

use std::mem::MaybeUninit;
use std::path::Path;

use super::cli::AttachChoice;
use super::skel::OpenTcpconnectProgs;
use super::TcpconnectBpf;
use crate::runtime::attach::Way;
use crate::error::Error;
use crate::runtime::object;

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

/// Chooses the programs of `way` (src/bpf/tcpconnect.bpf.c). With
/// --outcome, fentry and kprobes see each result through the state-change
/// tracepoint of their kind (tracing programs with tracing programs, so a
/// connect can be kept in its socket). Connects kept in sockets are listed
/// on exit by an iterator.
pub fn choose(progs: &mut OpenTcpconnectProgs<'_>, way: Way, outcome: bool, storage: Option<Storage>) {
    let mut chosen = match way {
        Way::Fentry => vec![&mut progs.fexit_tcp_v4_connect, &mut progs.fexit_tcp_v6_connect],
        Way::Kprobe => vec![
            &mut progs.kprobe_tcp_v4_connect,
            &mut progs.kretprobe_tcp_v4_connect,
            &mut progs.kprobe_tcp_v6_connect,
            &mut progs.kretprobe_tcp_v6_connect,
        ],
        Way::BtfTracepoint => vec![
            &mut progs.tp_btf_inet_sock_set_state,
            &mut progs.tp_btf_tcp_retransmit_skb,
        ],
        Way::Tracepoint => vec![
            &mut progs.tracepoint_inet_sock_set_state,
            &mut progs.tracepoint_tcp_retransmit_skb,
        ],
    };
    if outcome {
        match way {
            Way::Fentry => chosen.push(&mut progs.tp_btf_connect_result),
            Way::Kprobe => chosen.push(&mut progs.tracepoint_connect_result),
            Way::BtfTracepoint | Way::Tracepoint => {}
        }
    }
    if storage == Some(Storage::TableThenSockets) {
        chosen.push(&mut progs.dump_connects_in_sockets);
    }
    for prog in chosen {
        prog.set_autoload(true);
    }
}

/// --dns: the programs that see DNS queries and answers (BTF tracepoints
/// on the packet path, whatever way sees the connects).
pub fn choose_dns(progs: &mut OpenTcpconnectProgs<'_>) {
    progs.dns_query_sent.set_autoload(true);
    progs.dns_answer_received.set_autoload(true);
}

/// Whether this kernel lets BPF tracing programs keep data in sockets
/// (bpf_sk_storage_get from fentry and BTF tracepoints: Linux >= 5.11) and
/// list it (an iterator over socket storage; some sandboxes refuse them):
/// a program that does each is loaded, then discarded.
pub fn socket_storage_usable(tool: &str, btf: Option<&Path>) -> bool {
    let mut place = MaybeUninit::uninit();
    let probe = |place| {
        let mut probe = object::open::<TcpconnectBpf>(tool, btf, place)?;
        probe.progs.probe_socket_storage.set_autoload(true);
        probe.progs.dump_connects_in_sockets.set_autoload(true);
        object::create_global_data_only(&mut probe)?;
        let storage = &mut probe.maps.connect_in_socket;
        storage
            .set_autocreate(true)
            .map_err(|err| Error::from_libbpf("creating socket storage", &err))?;
        object::load(probe).map(drop)
    };
    probe(&mut place).is_ok()
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
    fn each_way_chooses_its_programs_and_the_iterator_with_sockets_only() {
        for way in ways(AttachChoice::Auto) {
            for outcome in [false, true] {
                for usable in [false, true] {
                    let storage = storage(way, outcome, || usable);
                    let mut place = MaybeUninit::uninit();
                    let object = object::open::<TcpconnectBpf>("tcpconnect", None, &mut place);
                    let mut object = object.expect("open the object");
                    choose(&mut object.progs, way, outcome, storage);
                    let hooks = object::hooks(&object);
                    let in_sockets = hooks.iter().any(|hook| hook.starts_with("iter/"));
                    assert_eq!(
                        in_sockets,
                        storage == Some(Storage::TableThenSockets),
                        "{way:?} {outcome} {hooks:?}"
                    );
                    let connect_programs = match way {
                        Way::Kprobe => 4,
                        _ => 2,
                    };
                    let result_program = outcome && matches!(way, Way::Fentry | Way::Kprobe);
                    let expected = connect_programs + usize::from(result_program) + usize::from(in_sockets);
                    assert_eq!(hooks.len(), expected, "{way:?} {outcome} {hooks:?}");
                }
            }
        }
    }
}
