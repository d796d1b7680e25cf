// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * exitsnoop: one event per process that ends (with -T, per thread).
 *
 * sched:sched_process_exit fires for every thread, after the thread has
 * left its group's count of live threads (signal->live). A process ends when
 * its last thread does: the thread that finds the count at zero reports it,
 * with the status wait(2) will give the parent (the group's exit code when
 * the whole group exits, else the main thread's) and the age of the
 * process. Upstream reports the main thread's exit instead, which comes
 * early, or with the wrong status, when the main thread ends first.
 *
 * Two threads ending at once may both find the count at zero: the first to
 * claim the process in reported_exits reports it, so one row per process.
 *
 * The command line (--max-args) is gone by then (the thread has dropped
 * its memory). It is read where the exit begins, while the memory is still
 * there: at exit_group(2), at a fatal signal's delivery, and at exit(2) of
 * the last live thread; kept by process until its last thread ends.
 */
#include "vmlinux.h"
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "exitsnoop.h"
#include "task_context.bpf.h"
#include "cgroup_dir.bpf.h"

const volatile pid_t filter_pid = 0;
/* -x: only exits with a non-zero status. */
const volatile bool failed_only = false;
/* -T: a row per thread. */
const volatile bool per_thread = false;
/* The context sections of the record: --ancestors, --container, --max-args. */
const volatile bool report_ancestors = false;
const volatile bool report_cgroup_path = false;
const volatile bool report_cmdline = false;

/* The processes reported, by identity; LRU: only the moment two threads
 * end together matters. */
struct process_key {
	u64 start_boottime;
	u32 pid;
	u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct process_key);
	__type(value, u8);
} reported_exits SEC(".maps");

/* --max-args: command lines of exiting processes, by tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_EXITING);
	__type(key, u32);
	__type(value, struct exiting_cmdline);
} exiting_cmdlines SEC(".maps");

/* Exits shown without their command line (see CMDLINE_UNKNOWN), by
 * reason (the CMDLINE_LOSS_* slots of src/bpf/constants.rs). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CMDLINE_LOSSES);
	__type(key, u32);
	__type(value, u64);
} unknown_cmdlines SEC(".maps");

/* Command lines read but not stored: the table refused them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} unstored_cmdlines SEC(".maps");

/* Slot 0: CLOCK_MONOTONIC when every program was attached (user space
 * writes it then); a process begun later began to end while traced. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} tracing_since SEC(".maps");

/* Records are built here: too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct exit_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct exiting_cmdline);
} cmdline_scratch SEC(".maps");

static __always_inline bool task_passes_filters(struct task_struct *task)
{
	if (filter_pid && BPF_CORE_READ(task, tgid) != filter_pid)
		return false;
	if (!in_cgroup_dir())
		return false;
	return common_filters_pass();
}

/* Keeps the command line of the current task's process, read from its
 * memory, unless kept already (every thread of a killed process sees the
 * signal). */
static __always_inline void keep_cmdline(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	unsigned long arg_start, arg_end, len;
	struct exiting_cmdline *cmdline;
	u32 zero = 0;

	if (bpf_map_lookup_elem(&exiting_cmdlines, &tgid) || !task_passes_filters(task))
		return;
	cmdline = bpf_map_lookup_elem(&cmdline_scratch, &zero);
	if (!cmdline)
		return;
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	cmdline->cut = len > CMDLINE_MAX_LEN - 1;
	if (cmdline->cut)
		len = CMDLINE_MAX_LEN - 1;
	cmdline->size = len;
	cmdline->unreadable =
		len && bpf_probe_read_user(cmdline->text, len & (CMDLINE_MAX_LEN - 1),
					   (void *)arg_start);
	if (bpf_map_update_elem(&exiting_cmdlines, &tgid, cmdline, BPF_ANY))
		count_one(&unstored_cmdlines);
}

SEC("tracepoint/syscalls/sys_enter_exit_group")
int keep_cmdline_at_exit_group(struct trace_event_raw_sys_enter *ctx)
{
	keep_cmdline();
	return 0;
}

/* exit(2) ends one thread: the process too when it is the last one live
 * (with -T, every thread's row shows the command line). */
SEC("tracepoint/syscalls/sys_enter_exit")
int keep_cmdline_at_exit(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (per_thread || BPF_CORE_READ(task, signal, live.counter) == 1)
		keep_cmdline();
	return 0;
}

/* Signals whose default action is not to terminate (the generic numbering
 * of every architecture the project builds for). */
static __always_inline bool terminates_by_default(int sig)
{
	switch (sig) {
	case 17: /* SIGCHLD */
	case 18: /* SIGCONT */
	case 19: /* SIGSTOP */
	case 20: /* SIGTSTP */
	case 21: /* SIGTTIN */
	case 22: /* SIGTTOU */
	case 23: /* SIGURG */
	case 28: /* SIGWINCH */
		return false;
	default:
		return true;
	}
}

/* A signal taken with its default action (SIG_DFL) that ends the process. */
SEC("tracepoint/signal/signal_deliver")
int keep_cmdline_at_fatal_signal(struct trace_event_raw_signal_deliver *ctx)
{
	if (ctx->sa_handler == 0 && terminates_by_default(ctx->sig))
		keep_cmdline();
	return 0;
}

/* The status wait(2) gives for the process: the group's exit code when
 * the whole group exits (exit_group, a fatal signal), else its main
 * thread's (which ended first, its group going on without it). */
static __always_inline s32 process_exit_status(struct task_struct *task)
{
	struct signal_struct *signal = BPF_CORE_READ(task, signal);

	if (BPF_CORE_READ(signal, flags) & SIGNAL_GROUP_EXIT)
		return BPF_CORE_READ(signal, group_exit_code);
	return BPF_CORE_READ(task, group_leader, exit_code);
}

/* Whether the process is reported here for the first time. */
static __always_inline bool first_report(u32 pid, u64 start_boottime)
{
	struct process_key key = { .start_boottime = start_boottime, .pid = pid };
	u8 reported = 1;

	return bpf_map_update_elem(&reported_exits, &key, &reported, BPF_NOEXIST) == 0;
}

/* Writes the context sections asked for; returns where the command line
 * goes (below 2048, see EXIT_DATA_SIZE). */
static __always_inline u32 read_exit_context(struct exit_event *event, struct task_struct *task)
{
	u32 offset = 0;

	if (report_ancestors)
		offset = read_ancestors(task, (void *)event->data, &event->header.ancestor_count,
					&event->header.ancestors_cut) & 255;
	if (report_cgroup_path)
		offset = append_cgroup_path(task, event->data, offset,
					    &event->header.cgroup_path_size,
					    &event->header.cgroup_path_cut);
	return offset & 2047;
}

/* Why nothing was kept for the process of task: it began before tracing
 * did (so may have begun to end before), or not. */
static __always_inline u32 not_kept_loss(struct task_struct *task)
{
	u64 started = BPF_CORE_READ(task, group_leader, start_time);
	u32 zero = 0;
	u64 *since = bpf_map_lookup_elem(&tracing_since, &zero);

	if (!since || !*since || started < *since)
		return CMDLINE_LOSS_BEGAN_BEFORE;
	return CMDLINE_LOSS_NOT_KEPT;
}

/* The command line kept for the process, after the context; the process's
 * is forgotten with its last thread. */
static __always_inline u32 read_cmdline(struct exit_event *event, struct task_struct *task,
					u32 tgid, u32 offset, bool group_dead)
{
	struct exiting_cmdline *cmdline = bpf_map_lookup_elem(&exiting_cmdlines, &tgid);
	u32 size;

	if (BPF_CORE_READ(task, flags) & PF_KTHREAD) {
		event->header.cmdline_state = CMDLINE_KERNEL_THREAD;
		return 0;
	}
	if (!cmdline || cmdline->unreadable) {
		event->header.cmdline_state = CMDLINE_UNKNOWN;
		count_one_at(&unknown_cmdlines,
			     cmdline ? CMDLINE_LOSS_UNREADABLE : not_kept_loss(task));
		if (cmdline && group_dead)
			bpf_map_delete_elem(&exiting_cmdlines, &tgid);
		return 0;
	}
	size = cmdline->size & (CMDLINE_MAX_LEN - 1);
	bpf_probe_read_kernel(event->data + (offset & 2047), size, cmdline->text);
	event->header.cmdline_state = CMDLINE_KEPT;
	event->header.cmdline_size = size;
	event->header.cmdline_cut = cmdline->cut;
	if (group_dead)
		bpf_map_delete_elem(&exiting_cmdlines, &tgid);
	return size;
}

static __always_inline void exit_seen(void *ctx, struct task_struct *task)
{
	bool group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	u32 tgid = BPF_CORE_READ(task, tgid);
	struct exit_event *event;
	u32 zero = 0, offset, size;
	u64 start_boottime;
	s32 status;

	if (!per_thread && !group_dead)
		return;
	status = per_thread ? BPF_CORE_READ(task, exit_code) : process_exit_status(task);
	if ((failed_only && status == 0) || !task_passes_filters(task)) {
		if (report_cmdline && group_dead)
			bpf_map_delete_elem(&exiting_cmdlines, &tgid);
		return;
	}
	start_boottime = process_start_boottime(task);
	if (!per_thread && !first_report(tgid, start_boottime))
		return;
	event = bpf_map_lookup_elem(&scratch, &zero);
	if (!event)
		return;

	event->header.timestamp_ns = bpf_ktime_get_ns();
	event->header.start_ns = per_thread ? BPF_CORE_READ(task, start_time)
					    : BPF_CORE_READ(leader, start_time);
	event->header.process_start_boottime_ns = start_boottime;
	event->header.cgroup_id = bpf_get_current_cgroup_id();
	event->header.pid = tgid;
	event->header.ppid = BPF_CORE_READ(task, real_parent, tgid);
	event->header.tid = per_thread ? BPF_CORE_READ(task, pid) : tgid;
	event->header.uid = (u32)bpf_get_current_uid_gid();
	event->header.exit_status = status;
	event->header.cpu = bpf_get_smp_processor_id();
	event->header.cmdline_size = 0;
	event->header.cgroup_path_size = 0;
	event->header.cmdline_state = CMDLINE_NOT_ASKED;
	event->header.cmdline_cut = 0;
	event->header.ancestor_count = 0;
	event->header.ancestors_cut = 0;
	event->header.cgroup_path_cut = 0;
	if (per_thread)
		bpf_get_current_comm(&event->header.comm, sizeof(event->header.comm));
	else
		bpf_probe_read_kernel_str(&event->header.comm, sizeof(event->header.comm),
					  &leader->comm);

	offset = read_exit_context(event, task);
	size = report_cmdline ? read_cmdline(event, task, tgid, offset, group_dead) : 0;
	submit_event(ctx, event,
		     offsetof(struct exit_event, data) + (offset & 2047) + (size & (CMDLINE_MAX_LEN - 1)));
}

/* With kernel BTF (Linux >= 5.5): handed the task, no trace record. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_btf, struct task_struct *task)
{
	exit_seen(ctx, task);
	return 0;
}

/* Without it: the exiting task is the current one. */
SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	exit_seen(ctx, (struct task_struct *)bpf_get_current_task());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
