// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpconnect: one event per active TCP open the kernel accepted.
 *
 * Three ways to see it; user space loads the first the kernel allows:
 *  1. fexit on tcp_v4_connect/tcp_v6_connect: arguments and return value in
 *     one program, no map between entry and return.
 *  2. kprobe + kretprobe on the same functions (upstream's way): the entry
 *     keeps the socket per thread until the return.
 *  3. the sock:inet_sock_set_state tracepoint, at the move to SYN_SENT
 *     (needs neither kprobes nor trampolines), as a BTF tracepoint where the
 *     kernel has BTF, else as a classic one. tcp_v*_connect() makes that move
 *     before it picks the source port, and can still fail then (no free
 *     port); so the event is held until the connect has surely started: the
 *     socket's next state change, or its first SYN retransmission.
 *
 * An IPv6 socket connecting to an IPv4-mapped address goes through
 * tcp_v6_connect into tcp_v4_connect; it is reported once, as IPv4.
 * All filters run here, before anything is sent or counted.
 */
#include "vmlinux.h"
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcpconnect.h"
#include "task_context.bpf.h"

#define IPPROTO_TCP 6
#define TCP_SYN_SENT 2

const volatile pid_t filter_pid = 0;
/* 0, AF_INET or AF_INET6 (-4 / -6) */
const volatile u16 filter_family = 0;
const volatile u32 filter_ports_len = 0;
const volatile u16 filter_ports[MAX_PORTS] = {};
const volatile bool count_mode = false;
/* Count mode counts per source port too (-c -s). */
const volatile bool count_by_sport = false;

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

/* tracepoint path: events waiting for their source port, by socket. Not LRU:
 * an event must not vanish to make room; a full map counts it as lost. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, const void *);
	__type(value, struct connect_event);
} awaiting_sport SEC(".maps");

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
	/* Unrolled: bounded loops need Linux 5.3, the rest of the program 5.2. */
#pragma unroll
	for (i = 0; i < MAX_PORTS; i++) {
		if (i >= filter_ports_len)
			break;
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

static __always_inline void fill_task(struct connect_event *event)
{
	event->timestamp_ns = bpf_ktime_get_ns();
	event->cgroup_id = bpf_get_current_cgroup_id();
	remember_cgroup_path(event->cgroup_id);
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->uid = (u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(&event->comm, sizeof(event->comm));
}

static __always_inline void read_sock_endpoints(struct connect_event *event, struct sock *sk)
{
	event->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* Sizes spelled out: BPF_CORE_READ_INTO would copy sizeof(*dst), one byte. */
	if (event->family == AF_INET) {
		bpf_core_read(event->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(event->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(event->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(event->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	event->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	event->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/* Counts or sends a complete event that passed the filters. */
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

/* fexit and kretprobe: the call returned ret for this socket. */
static __always_inline int connect_returned(void *ctx, struct sock *sk, int ret, bool via_v6)
{
	struct connect_event event = {};

	if (ret != 0 || !task_passes_filters())
		return 0;
	read_sock_endpoints(&event, sk);
	unmap_v4(&event);
	/* tcp_v6_connect delegated a v4-mapped address to tcp_v4_connect, which reported it. */
	if (via_v6 && event.family == AF_INET)
		return 0;
	if (!endpoint_passes_filters(event.family, event.dport))
		return 0;
	fill_task(&event);
	emit(ctx, &event);
	return 0;
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(fexit_tcp_v4_connect, struct sock *sk, struct sockaddr *uaddr, int addr_len, int ret)
{
	return connect_returned(ctx, sk, ret, false);
}

SEC("fexit/tcp_v6_connect")
int BPF_PROG(fexit_tcp_v6_connect, struct sock *sk, struct sockaddr *uaddr, int addr_len, int ret)
{
	return connect_returned(ctx, sk, ret, true);
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
	connect_returned(ctx, *skp, ret, via_v6);
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

/*
 * The source port of a socket that may be closing: the bound port (skc_num)
 * is released before the move to CLOSE is traced, inet_sport stays.
 */
static __always_inline u16 source_port(struct sock *sk)
{
	return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

/* Completes an event held for its source port, once the kernel has chosen it. */
static __always_inline void release_awaiting(void *ctx, const void *skaddr, u16 sport)
{
	struct connect_event *event = bpf_map_lookup_elem(&awaiting_sport, &skaddr);

	if (!event)
		return;
	/* No port was ever bound: tcp_v*_connect failed after the move to
	 * SYN_SENT (no free port), so connect() returned an error. */
	if (sport) {
		event->sport = sport;
		emit(ctx, event);
	}
	bpf_map_delete_elem(&awaiting_sport, &skaddr);
}

/* The move to SYN_SENT of a socket whose endpoints are in event: filter, then
 * hold it until the connect has started (a port is bound), or send it now if
 * the socket was bound before connect(). */
static __always_inline void syn_sent(void *ctx, const void *skaddr, struct connect_event *event)
{
	unmap_v4(event);
	if (!endpoint_passes_filters(event->family, event->dport))
		return;
	fill_task(event);
	if (event->sport)
		emit(ctx, event);
	else if (bpf_map_update_elem(&awaiting_sport, &skaddr, event, BPF_ANY))
		count_lost_event();
}

SEC("tracepoint/sock/inet_sock_set_state")
int tracepoint_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const void *skaddr = ctx->skaddr;
	struct connect_event event = {};

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->oldstate == TCP_SYN_SENT) {
		release_awaiting(ctx, skaddr, ctx->sport);
		return 0;
	}
	if (ctx->newstate != TCP_SYN_SENT || !task_passes_filters())
		return 0;

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
	syn_sent(ctx, skaddr, &event);
	return 0;
}

/* A SYN that goes unanswered is resent after about a second: its port is known by then. */
SEC("tracepoint/tcp/tcp_retransmit_skb")
int tracepoint_tcp_retransmit_skb(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb)) {
		struct trace_event_raw_tcp_retransmit_skb *record = ctx;

		if (record->state == TCP_SYN_SENT)
			release_awaiting(ctx, record->skaddr, record->sport);
	} else {
		struct trace_event_raw_tcp_event_sk_skb *record = ctx;

		if (record->state == TCP_SYN_SENT)
			release_awaiting(ctx, record->skaddr, record->sport);
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
	struct connect_event event = {};

	if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_SYN_SENT) {
		release_awaiting(ctx, sk, source_port(sk));
		return 0;
	}
	if (newstate != TCP_SYN_SENT || !task_passes_filters())
		return 0;
	read_sock_endpoints(&event, sk);
	syn_sent(ctx, sk, &event);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_btf_tcp_retransmit_skb, struct sock *sk)
{
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_SYN_SENT)
		release_awaiting(ctx, sk, source_port(sk));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
