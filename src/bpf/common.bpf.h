/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every tool's BPF side shares: the event channel (BPF ring buffer, or a
 * perf buffer on kernels older than 5.8, chosen by user space before load),
 * the count of events that could not be sent, and the filters both tools
 * have (-u, and the pinned maps).
 */
#ifndef __COMMON_BPF_H__
#define __COMMON_BPF_H__

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define ENOSPC 28
#define INVALID_UID ((uid_t)-1)

/* Set by user space before load; the verifier prunes the branch not taken. */
const volatile bool use_ringbuf = true;
const volatile uid_t filter_uid = INVALID_UID;
const volatile bool filter_by_cgroupmap = false;
const volatile bool filter_by_mntnsmap = false;

/* Size is set by user space; autocreate is turned off for the one not used. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events_ringbuf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events_perfbuf SEC(".maps");

/*
 * Events that could not be delivered, per CPU: ring buffer full, a tool's
 * table full, no perf buffer for a CPU. A full perf buffer is counted by the
 * kernel instead.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} lost_events SEC(".maps");

/*
 * The operator's pinned hash maps of ids (BCC's --cgroupmap / --mntnsmap) go
 * in slot 0 of these map-in-map arrays after load. User space makes each
 * pinned map its own array's inner-map template, so any hash map with 8-byte
 * keys fits, and the operator's later updates take effect while we trace.
 * Not created at all when the filter is not used.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} mntns_filter SEC(".maps");

static __always_inline bool id_in_filter(void *filter, u64 id)
{
	u32 zero = 0;
	void *ids = bpf_map_lookup_elem(filter, &zero);

	return ids && bpf_map_lookup_elem(ids, &id);
}

/* The filters both tools have: -u, --cgroupmap, --mntnsmap. */
static __always_inline bool common_filters_pass(void)
{
	if (filter_uid != INVALID_UID && (u32)bpf_get_current_uid_gid() != filter_uid)
		return false;
	if (filter_by_cgroupmap && !id_in_filter(&cgroup_filter, bpf_get_current_cgroup_id()))
		return false;
	if (filter_by_mntnsmap) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		if (!id_in_filter(&mntns_filter, BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum)))
			return false;
	}
	return true;
}

/* An event that could not be delivered: user space reports the count. */
static __always_inline void count_lost_event(void)
{
	u32 zero = 0;
	u64 *lost = bpf_map_lookup_elem(&lost_events, &zero);

	if (lost)
		__sync_fetch_and_add(lost, 1);
}

/* Sends size bytes of data; size must be bounded for the verifier. */
static __always_inline void submit_event(void *ctx, void *data, u64 size)
{
	long err;

	if (use_ringbuf)
		err = bpf_ringbuf_output(&events_ringbuf, data, size, 0);
	else
		err = bpf_perf_event_output(ctx, &events_perfbuf, BPF_F_CURRENT_CPU, data, size);

	/* A full perf buffer (-ENOSPC) is counted by the kernel and reported to
	 * user space; any other failure would go unnoticed. */
	if (err && (use_ringbuf || err != -ENOSPC))
		count_lost_event();
}

#endif /* __COMMON_BPF_H__ */
