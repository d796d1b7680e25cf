// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpconnect: one event per active TCP open the kernel accepted; with
 * --outcome, one event per such connect once its result is known.
 *
 * Three ways to see a connect; user space loads the first the kernel allows:
 *  1. fexit on tcp_v4_connect/tcp_v6_connect: arguments and return value in
 *     one program, no map between entry and return.
 *  2. kprobe + kretprobe on the same functions (upstream's way): the entry
 *     keeps the socket per thread until the return.
 *  3. the sock:inet_sock_set_state tracepoint, at the move to SYN_SENT
 *     (needs neither kprobes nor trampolines), as a BTF tracepoint where the
 *     kernel has BTF, else as a classic one. tcp_v*_connect() makes that move
 *     before it picks the source port, and can still fail then (no free
 *     port); so the connect is held until it has surely started: the
 *     socket's next state change, or its first SYN retransmission.
 *
 * With --outcome every way follows each connect to its result through
 * inet_sock_set_state: the move out of SYN_SENT says established, refused,
 * timed out (the error the kernel left in the socket) or closed. fentry
 * pairs with the BTF tracepoint, kprobes with the classic one.
 *
 * A connect being followed waits in a table by socket: preallocated, it is
 * the cheapest place. When the table is full, it is kept in its socket
 * instead (BPF socket storage), where the kernel lets tracing programs do
 * that and list what they keep (Linux >= 5.11): a socket's storage lives
 * and dies with it, and no number of connects elsewhere can use it up.
 * Elsewhere a connect that finds the table full is reported at once, as
 * unconfirmed (RESULT_UNKNOWN), and counted: never dropped, never evicted.
 *
 * An IPv6 socket connecting to an IPv4-mapped address goes through
 * tcp_v6_connect into tcp_v4_connect; it is reported once, as IPv4.
 * All filters run here, at the connect, before anything is kept, sent or
 * counted.
 */
#include "vmlinux.h"
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcpconnect.h"
#include "task_context.bpf.h"
#include "dns_answers.bpf.h"

#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

const volatile pid_t filter_pid = 0;
/* 0, AF_INET or AF_INET6 (-4 / -6) */
const volatile u16 filter_family = 0;
const volatile u32 filter_ports_len = 0;
const volatile u16 filter_ports[MAX_PORTS] = {};
const volatile bool count_mode = false;
/* Count mode counts per source port too (-c -s). */
const volatile bool count_by_sport = false;
/* --outcome: each connect is reported once its result is known. */
const volatile bool outcome_mode = false;
/* --failed: connects whose result is RESULT_OK are not reported. */
const volatile bool failed_only = false;
/* When connect_by_socket is full, connects are kept in their sockets
 * (connect_in_socket). Only the tracing programs (fentry, tp_btf) can. */
const volatile bool overflow_to_sockets = false;

/* Count mode's table. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct connect_key);
	__type(value, u64);
} connect_counts SEC(".maps");

/* kprobe path: the socket of a tcp_v*_connect call in flight, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct sock *);
} connecting_socks SEC(".maps");

/* Connects being followed, by socket. Not LRU: a connect must not vanish
 * to make room. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, const void *);
	__type(value, struct connect_event);
} connect_by_socket SEC(".maps");

/* Connects being followed that found connect_by_socket full, each in its
 * socket (overflow_to_sockets). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct connect_event);
} connect_in_socket SEC(".maps");

/* Connects reported unconfirmed because there was no room to follow them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} unfollowed_connects SEC(".maps");

static __always_inline bool task_passes_filters(void)
{
	if (filter_pid && (bpf_get_current_pid_tgid() >> 32) != filter_pid)
		return false;
	return common_filters_pass();
}

static __always_inline bool endpoint_passes_filters(u16 family, u16 dport)
{
	u32 i;

	if (filter_family && family != filter_family)
		return false;
	if (!filter_ports_len)
		return true;
	/* A loop, not unrolled: unrolled over MAX_PORTS it was 4.6 KB of every
	 * connect program, kept by libbpf for the tool's life. */
#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_PORTS && i < filter_ports_len; i++) {
		if (filter_ports[i] == dport)
			return true;
	}
	return false;
}

static __always_inline bool is_v4_mapped(const u8 *addr)
{
	const u32 *words = (const u32 *)addr;

	return words[0] == 0 && words[1] == 0 && words[2] == bpf_htonl(0x0000ffff);
}

/* An IPv4-mapped IPv6 pair is an IPv4 connection: keep the embedded addresses. */
static __always_inline void unmap_v4(struct connect_event *event)
{
	if (event->family == AF_INET6 && is_v4_mapped(event->daddr)) {
		event->family = AF_INET;
		__builtin_memcpy(event->saddr, event->saddr + 12, 4);
		__builtin_memcpy(event->daddr, event->daddr + 12, 4);
		__builtin_memset(event->saddr + 4, 0, 12);
		__builtin_memset(event->daddr + 4, 0, 12);
	}
}

/* --container: cgroup paths by cgroup id, read while the connecting task
 * runs, for src/container/table.rs (an event held for its source port is
 * sent when the task may be gone). Created only then. */
const volatile bool name_cgroups = false;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2048);
	__type(key, u64);
	__type(value, struct cgroup_path_entry);
} cgroup_paths SEC(".maps");

static __always_inline void remember_cgroup_path(u64 cgroup_id)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct cgroup_path_entry *entry;
	struct path_builder *path;

	if (!name_cgroups || bpf_map_lookup_elem(&cgroup_paths, &cgroup_id))
		return;
	path = read_cgroup_path(task, CGROUP_PATH_MAX_LEN);
	if (!path)
		return;
	entry = &path->entry;
	entry->len = path_len(path) & CGROUP_PATH_MAX_LEN;
	entry->cut = path->cut;
	bpf_probe_read_kernel(entry->path, entry->len & CGROUP_PATH_MAX_LEN, path_text(path));
	bpf_map_update_elem(&cgroup_paths, &cgroup_id, entry, BPF_ANY);
}

/* Whether the output shows the uid, the cgroup: each helper call is paid on
 * every connect of the host, so only what is shown is read (7% of a
 * connect's BPF time for these two). */
const volatile bool record_uid = true;
const volatile bool record_cgroup = true;
/* The process's start time (its identity, with pid): JSON shows it. */
const volatile bool record_process_start = true;
/* --dns: the socket's network namespace, which keys the names of answers. */
const volatile bool record_netns = false;

static __always_inline void fill_task(struct connect_event *event)
{
	event->timestamp_ns = bpf_ktime_get_ns();
	if (record_cgroup) {
		event->cgroup_id = bpf_get_current_cgroup_id();
		remember_cgroup_path(event->cgroup_id);
	}
	event->pid = bpf_get_current_pid_tgid() >> 32;
	if (record_process_start)
		event->process_start_boottime_ns =
			process_start_boottime((struct task_struct *)bpf_get_current_task());
	if (record_uid)
		event->uid = (u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(&event->comm, sizeof(event->comm));
}

/*
 * Reading the socket: `typed` says sk came from a BTF tracepoint or a
 * trampoline, where the verifier knows its type and a field is a plain
 * load (which the kernel guards); elsewhere each read is a probe-read
 * helper call, several times dearer. A constant at every call site, so
 * each program holds one of the two.
 */
#define sock_read(typed, sk, field) ((typed) ? (sk)->field : BPF_CORE_READ(sk, field))
#define sock_read_bytes(typed, dst, size, src)                                                  \
	do {                                                                                    \
		if (typed)                                                                      \
			__builtin_memcpy(dst, src, size);                                       \
		else                                                                            \
			bpf_core_read(dst, size, src);                                          \
	} while (0)

static __always_inline void read_sock_endpoints(struct connect_event *event, struct sock *sk,
						bool typed)
{
	event->family = sock_read(typed, sk, __sk_common.skc_family);
	/* Sizes spelled out: BPF_CORE_READ_INTO would copy sizeof(*dst), one byte. */
	if (event->family == AF_INET) {
		sock_read_bytes(typed, event->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		sock_read_bytes(typed, event->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		sock_read_bytes(typed, event->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		sock_read_bytes(typed, event->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	event->sport = sock_read(typed, sk, __sk_common.skc_num);
	event->dport = bpf_ntohs(sock_read(typed, sk, __sk_common.skc_dport));
}

static __always_inline void read_sock_netns(struct connect_event *event, struct sock *sk, bool typed)
{
	if (!record_netns)
		return;
	if (typed)
		event->netns = sk->__sk_common.skc_net.net->ns.inum;
	else
		event->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * The source port of a socket that may be closing: the bound port (skc_num)
 * is released before the move to CLOSE is traced, inet_sport stays. The
 * bound port is a plain load where sk is typed; inet_sport lies beyond
 * struct sock, so the verifier lets it be reached only by a probe read.
 */
static __always_inline u16 source_port(struct sock *sk, bool typed)
{
	u16 bound = typed ? sk->__sk_common.skc_num : 0;

	if (bound)
		return bound;
	return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

/* Counts or sends a connect that passed the filters. */
static __always_inline void emit(void *ctx, struct connect_event *event)
{
	if (count_mode) {
		struct connect_key key = {};
		u64 one = 1, *count;

		__builtin_memcpy(key.saddr, event->saddr, sizeof(key.saddr));
		__builtin_memcpy(key.daddr, event->daddr, sizeof(key.daddr));
		key.family = event->family;
		key.sport = count_by_sport ? event->sport : 0;
		key.dport = event->dport;
		if (outcome_mode) {
			key.result = event->result;
			key.error = event->error;
		}
		count = bpf_map_lookup_elem(&connect_counts, &key);
		if (count) {
			__sync_fetch_and_add(count, 1);
			return;
		}
		if (!bpf_map_update_elem(&connect_counts, &key, &one, BPF_NOEXIST))
			return;
		/* Another CPU inserted the key first, or the table is full. */
		count = bpf_map_lookup_elem(&connect_counts, &key);
		if (count)
			__sync_fetch_and_add(count, 1);
		else
			count_lost_event();
		return;
	}
	submit_event(ctx, event, sizeof(*event));
}

/*
 * The helpers below key connect_by_socket with a copy of sk in a variable
 * of its own, not &sk: some verifiers (Linux 6.1's) take a pointer in a
 * stack slot whose address a helper was given for a scalar once the helper
 * returns, so sk could no longer be passed to the socket storage helpers,
 * and the programs were refused (EACCES).
 */

/* The connect followed on socket sk, if any. */
static __always_inline struct connect_event *followed_connect(struct sock *sk)
{
	const void *key = sk;
	struct connect_event *event = bpf_map_lookup_elem(&connect_by_socket, &key);

	if (event || !overflow_to_sockets)
		return event;
	return bpf_sk_storage_get(&connect_in_socket, sk, 0, 0);
}

/* Keeps event with socket sk; false when there is no room for it. */
static __always_inline bool follow(struct sock *sk, struct connect_event *event)
{
	const void *key = sk;
	struct connect_event *kept;

	if (!bpf_map_update_elem(&connect_by_socket, &key, event, BPF_ANY))
		return true;
	if (!overflow_to_sockets)
		return false;
	kept = bpf_sk_storage_get(&connect_in_socket, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!kept)
		return false;
	__builtin_memcpy(kept, event, sizeof(*event));
	return true;
}

static __always_inline void stop_following(struct sock *sk)
{
	const void *key = sk;

	if (bpf_map_delete_elem(&connect_by_socket, &key) && overflow_to_sockets)
		bpf_sk_storage_delete(&connect_in_socket, sk);
}

/*
 * A connect that passed the filters, as it starts on socket sk: sent now
 * when nothing is left to learn, else followed until its source port
 * (tracepoint way) or its result (--outcome) is known. With no room to
 * follow it, it is sent now all the same, unconfirmed, and counted.
 * port_bound: the caller knows the port is bound (tcp_v*_connect
 * returned); a constant, so that without --outcome the verifier does not
 * see those callers follow anything (they have no table then).
 */
static __always_inline void connect_started(void *ctx, struct sock *sk, struct connect_event *event,
					    bool port_bound)
{
	/* Without --outcome, a connect whose port is known has nothing left to learn. */
	if (!outcome_mode && (port_bound || event->sport)) {
		emit(ctx, event);
		return;
	}
	if (follow(sk, event))
		return;
	event->result = RESULT_UNKNOWN;
	count_one(&unfollowed_connects);
	emit(ctx, event);
}

/* The result of a connect whose socket sk moved to newstate, into event;
 * false when --failed does not show it. */
static __always_inline bool settle(struct connect_event *event, struct sock *sk, int newstate,
				   bool typed)
{
	int error = newstate == TCP_CLOSE ? sock_read(typed, sk, sk_err) : 0;

	event->latency_ns = bpf_ktime_get_ns() - event->timestamp_ns;
	if (newstate == TCP_ESTABLISHED) {
		event->result = RESULT_OK;
	} else if (error > 0) {
		/* tcp_connect_init() cleared it: this attempt's error. */
		event->result = RESULT_FAILED;
		event->error = error;
	} else {
		event->result = RESULT_CLOSED;
	}
	return !failed_only || event->result != RESULT_OK;
}

/*
 * Socket sk, carrying the followed connect event, left SYN_SENT (or, after
 * a simultaneous open, SYN_RECV) for newstate.
 */
static __always_inline void connect_moved_on(void *ctx, struct sock *sk, struct connect_event *event,
					     int newstate, bool typed)
{
	/* Both ends sent a SYN at once: the result comes with the next move. */
	if (outcome_mode && newstate == TCP_SYN_RECV)
		return;
	if (!event->sport)
		event->sport = source_port(sk, typed);
	/* No port was ever bound: tcp_v*_connect failed after the move to
	 * SYN_SENT (no free port), so connect() returned an error. */
	if (event->sport && (!outcome_mode || settle(event, sk, newstate, typed)))
		emit(ctx, event);
	stop_following(sk);
}

/*
 * Every state change of every TCP socket on the host comes here, so the
 * cheapest tests come first and nothing is read or looked up for the
 * sockets that carry no followed connect.
 */
static __always_inline void state_changed(void *ctx, struct sock *sk, int oldstate, int newstate,
					  bool typed)
{
	struct connect_event *event;

	if (oldstate != TCP_SYN_SENT && !(outcome_mode && oldstate == TCP_SYN_RECV))
		return;
	event = followed_connect(sk);
	if (event)
		connect_moved_on(ctx, sk, event, newstate, typed);
}

/* A SYN was resent (about a second after the first): its port is known by now. */
static __always_inline void syn_resent(void *ctx, struct sock *sk, u16 sport)
{
	struct connect_event *event = followed_connect(sk);

	if (!event)
		return;
	event->sport = sport;
	/* Held only for its port, it has surely started. */
	if (!outcome_mode) {
		emit(ctx, event);
		stop_following(sk);
	}
}

/*
 * The programs that follow connects to their results come first in this
 * file: libbpf attaches in this order, so a connect is not followed before
 * its end can be seen.
 */

/* With --outcome, the fentry way's results (a BTF tracepoint). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_connect_result, struct sock *sk, int oldstate, int newstate)
{
	state_changed(ctx, sk, oldstate, newstate, true);
	return 0;
}

/* With --outcome, the kprobe way's results (the classic tracepoint). */
SEC("tracepoint/sock/inet_sock_set_state")
int tracepoint_connect_result(struct trace_event_raw_inet_sock_set_state *ctx)
{
	state_changed(ctx, (struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate, false);
	return 0;
}

/* fexit (typed) and kretprobe: the call returned ret for this socket. */
static __always_inline int connect_returned(void *ctx, struct sock *sk, int ret, bool via_v6,
					    bool typed)
{
	struct connect_event event = {};

	if (ret != 0 || !task_passes_filters())
		return 0;
	read_sock_endpoints(&event, sk, typed);
	unmap_v4(&event);
	/* tcp_v6_connect delegated a v4-mapped address to tcp_v4_connect, which reported it. */
	if (via_v6 && event.family == AF_INET)
		return 0;
	if (!endpoint_passes_filters(event.family, event.dport))
		return 0;
	fill_task(&event);
	read_sock_netns(&event, sk, typed);
	connect_started(ctx, sk, &event, true);
	return 0;
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(fexit_tcp_v4_connect, struct sock *sk, struct sockaddr *uaddr, int addr_len, int ret)
{
	return connect_returned(ctx, sk, ret, false, true);
}

SEC("fexit/tcp_v6_connect")
int BPF_PROG(fexit_tcp_v6_connect, struct sock *sk, struct sockaddr *uaddr, int addr_len, int ret)
{
	return connect_returned(ctx, sk, ret, true, true);
}

static __always_inline int kprobe_entry(struct sock *sk)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();

	if (task_passes_filters())
		bpf_map_update_elem(&connecting_socks, &tid, &sk, BPF_ANY);
	return 0;
}

static __always_inline int kprobe_return(void *ctx, int ret, bool via_v6)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct sock **skp = bpf_map_lookup_elem(&connecting_socks, &tid);

	/* The nested v4 call of a v4-mapped v6 connect consumed the entry. */
	if (!skp)
		return 0;
	connect_returned(ctx, *skp, ret, via_v6, false);
	bpf_map_delete_elem(&connecting_socks, &tid);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_tcp_v4_connect, struct sock *sk)
{
	return kprobe_entry(sk);
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(kretprobe_tcp_v4_connect, int ret)
{
	return kprobe_return(ctx, ret, false);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_tcp_v6_connect, struct sock *sk)
{
	return kprobe_entry(sk);
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(kretprobe_tcp_v6_connect, int ret)
{
	return kprobe_return(ctx, ret, true);
}

/* The tracepoint way: the move to SYN_SENT of a socket whose endpoints are in event. */
static __always_inline void syn_sent(void *ctx, struct sock *sk, struct connect_event *event,
				     bool typed)
{
	unmap_v4(event);
	if (!endpoint_passes_filters(event->family, event->dport))
		return;
	fill_task(event);
	read_sock_netns(event, sk, typed);
	connect_started(ctx, sk, event, false);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tracepoint_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	struct connect_event event;

	if (ctx->newstate != TCP_SYN_SENT) {
		state_changed(ctx, sk, ctx->oldstate, ctx->newstate, false);
		return 0;
	}
	if (ctx->protocol != IPPROTO_TCP || !task_passes_filters())
		return 0;
	/* Cleared only here: every other state change of the host returned above. */
	__builtin_memset(&event, 0, sizeof(event));
	/* The record's arrays are copied with a helper: the verifier rejects
	 * byte copies through an offset tracepoint context pointer. */
	event.family = ctx->family;
	if (event.family == AF_INET) {
		bpf_probe_read_kernel(event.saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(event.daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(event.saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(event.daddr, 16, ctx->daddr_v6);
	}
	event.sport = ctx->sport;
	event.dport = ctx->dport;
	syn_sent(ctx, sk, &event, false);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tracepoint_tcp_retransmit_skb(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb)) {
		struct trace_event_raw_tcp_retransmit_skb *record = ctx;

		if (record->state == TCP_SYN_SENT)
			syn_resent(ctx, (struct sock *)record->skaddr, record->sport);
	} else {
		struct trace_event_raw_tcp_event_sk_skb *record = ctx;

		if (record->state == TCP_SYN_SENT)
			syn_resent(ctx, (struct sock *)record->skaddr, record->sport);
	}
	return 0;
}

/*
 * The same two tracepoints as BTF tracepoints (Linux >= 5.5 with kernel
 * BTF): the kernel passes the socket itself instead of filling a trace
 * record first, which makes every state change of every TCP socket cheaper
 * to watch. The record's fields are read from the socket instead.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_inet_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct connect_event event;

	if (newstate != TCP_SYN_SENT) {
		state_changed(ctx, sk, oldstate, newstate, true);
		return 0;
	}
	if (BPF_CORE_READ_BITFIELD(sk, sk_protocol) != IPPROTO_TCP || !task_passes_filters())
		return 0;
	/* Cleared only here: every other state change of the host returned above. */
	__builtin_memset(&event, 0, sizeof(event));
	read_sock_endpoints(&event, sk, true);
	syn_sent(ctx, sk, &event, true);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_btf_tcp_retransmit_skb, struct sock *sk)
{
	if (sk->__sk_common.skc_state == TCP_SYN_SENT)
		syn_resent(ctx, sk, source_port(sk, true));
	return 0;
}

/*
 * On exit, user space reads the connects still followed in sockets through
 * this iterator (the table it reads directly), with the source port as the
 * socket has it by then.
 */
SEC("iter/bpf_sk_storage_map")
int dump_connects_in_sockets(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct connect_event *kept = ctx->value;
	struct sock *sk = ctx->sk;
	struct connect_event event;

	if (!kept || !sk)
		return 0;
	__builtin_memcpy(&event, kept, sizeof(event));
	if (!event.sport)
		event.sport = source_port(sk, false);
	bpf_seq_write(ctx->meta->seq, &event, sizeof(event));
	return 0;
}

/* Loaded with the iterator alone, before the rest, to ask whether this
 * kernel lets tracing programs keep data in sockets (Linux >= 5.11) and
 * list it. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(probe_socket_storage, struct sock *sk)
{
	bpf_sk_storage_get(&connect_in_socket, sk, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
