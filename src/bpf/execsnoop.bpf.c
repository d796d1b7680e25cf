// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * execsnoop: one event per exec().
 *
 * Successful execs are taken from sched:sched_process_exec (as a BTF
 * tracepoint where the kernel has BTF), which fires once the new program is in
 * place, whatever called exec (execve, execveat, a non-leader thread, the
 * kernel's usermode helper). Its arguments are read from the new process's
 * argument area, which the kernel has just written, so the pages are resident
 * and the read cannot fail the way a read of the caller's argv at syscall
 * entry can. One program per exec by default.
 *
 * Failed execs (-x) need the syscall tracepoints: entry keeps the caller's
 * argv pointer per thread, exit reads it when the return value is an error.
 * What is not resident in the caller's memory then cannot be read (a
 * tracepoint program cannot take a page fault): it is marked, not skipped.
 *
 * The context columns (--ancestors, --container, --cwd) are read here too,
 * while the task is current, so that a parent, a cgroup or a directory that
 * is gone right after the exec is still named.
 */
#include "vmlinux.h"
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "execsnoop.h"
#include "task_context.bpf.h"
#include "cgroup_dir.bpf.h"

const volatile pid_t filter_ppid = 0;
/* -x: the syscall tracepoints are loaded and keep pending_execs. */
const volatile bool report_failed = false;
/* The process's start time (its identity, with pid): JSON shows it. */
const volatile bool record_process_start = false;
/* The context sections of the record: --ancestors, --container, --cwd. */
const volatile bool report_ancestors = false;
const volatile bool report_cgroup_path = false;
const volatile bool report_cwd = false;

struct exec_args {
	const char *filename;
	const char *const *argv;
};

/* exec() calls in flight, by thread id; LRU so an exec killed midway cannot leak. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct exec_args);
} pending_execs SEC(".maps");

/* The event is built here: it is too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct exec_event);
} scratch SEC(".maps");

static __always_inline bool task_passes_filters(struct task_struct *task)
{
	if (filter_ppid && BPF_CORE_READ(task, real_parent, tgid) != filter_ppid)
		return false;
	if (!in_cgroup_dir())
		return false;
	return common_filters_pass();
}

static __always_inline struct exec_event *new_event(struct task_struct *task, int retval)
{
	u32 zero = 0;
	struct exec_event *event = bpf_map_lookup_elem(&scratch, &zero);
	struct task_struct *parent;

	if (!event)
		return NULL;
	parent = BPF_CORE_READ(task, real_parent);
	event->header.timestamp_ns = bpf_ktime_get_ns();
	event->header.cgroup_id = bpf_get_current_cgroup_id();
	event->header.pid = bpf_get_current_pid_tgid() >> 32;
	event->header.process_start_boottime_ns =
		record_process_start ? process_start_boottime(task) : 0;
	event->header.ppid = BPF_CORE_READ(parent, tgid);
	event->header.uid = (u32)bpf_get_current_uid_gid();
	event->header.retval = retval;
	event->header.cpu = bpf_get_smp_processor_id();
	event->header.unreadable_args = 0;
	event->header.args_size = 0;
	event->header.cgroup_path_size = 0;
	event->header.cwd_size = 0;
	event->header.args_truncated = 0;
	event->header.argv_unreadable = 0;
	event->header.ancestor_count = 0;
	event->header.ancestors_cut = 0;
	event->header.cgroup_path_cut = 0;
	event->header.cwd_cut = 0;
	event->header.cwd_unreachable = 0;
	bpf_get_current_comm(&event->header.comm, sizeof(event->header.comm));
	bpf_probe_read_kernel_str(&event->header.pcomm, sizeof(event->header.pcomm), &parent->comm);
	return event;
}

/*
 * Writes the context sections asked for at the start of the record's data;
 * returns where the arguments go (below 8192, see DATA_BUF_SIZE).
 */
static __always_inline u32 read_exec_context(struct exec_event *event, struct task_struct *task)
{
	struct path_builder *path;
	u32 offset = 0, len;

	if (report_ancestors)
		offset = read_ancestors(task, (void *)event->data, &event->header.ancestor_count,
					&event->header.ancestors_cut) & 255;
	if (report_cgroup_path)
		offset = append_cgroup_path(task, event->data, offset,
					    &event->header.cgroup_path_size,
					    &event->header.cgroup_path_cut);
	if (report_cwd) {
		path = read_cwd(task, CWD_MAX_LEN);
		if (path) {
			len = path_len(path) & CWD_MAX_LEN;
			bpf_probe_read_kernel(event->data + (offset & 2047), len, path_text(path));
			event->header.cwd_size = len;
			event->header.cwd_cut = path->cut;
			event->header.cwd_unreachable = path->unreachable;
			offset += len;
		}
	}
	return offset & 8191;
}

static __always_inline void send_event(void *ctx, struct exec_event *event, u32 args_offset)
{
	u32 size = (args_offset & 8191) + event->header.args_size;

	if (size > DATA_BUF_SIZE)
		size = DATA_BUF_SIZE;
	submit_event(ctx, event, offsetof(struct exec_event, data) + size);
}

/*
 * A successful exec: filename is the file passed to exec (kernel memory);
 * interpreted says the kernel ran an interpreter (#! or binfmt_misc), which
 * put its own entries before the caller's arguments in argv.
 */
static __always_inline void exec_done(void *ctx, u32 old_tid, const char *filename, bool interpreted)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long arg_start, arg_end, argv_len;
	struct exec_event *event;
	long filename_len;
	u32 args_offset;
	u8 *args;

	/* The syscall-entry record is not needed any more. */
	if (report_failed)
		bpf_map_delete_elem(&pending_execs, &old_tid);

	if (!task_passes_filters(task))
		return;
	event = new_event(task, 0);
	if (!event)
		return;
	event->header.interpreted = interpreted;
	args_offset = read_exec_context(event, task);
	args = event->data + (args_offset & 8191);

	filename_len = bpf_probe_read_kernel_str(args, FILENAME_MAX_LEN, filename);
	if (filename_len <= 0) {
		args[0] = 0;
		filename_len = 1;
	}

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	argv_len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (argv_len >= ARGV_MAX_LEN) {
		argv_len = ARGV_MAX_LEN - 1;
		event->header.args_truncated = 1;
	}
	event->header.args_size = filename_len;
	if (argv_len > 0) {
		if (bpf_probe_read_user(event->data + ((args_offset + filename_len) & 16383),
					argv_len & (ARGV_MAX_LEN - 1), (void *)arg_start) == 0)
			event->header.args_size = filename_len + argv_len;
		else
			/* The kernel has just written it, so this is not expected;
			 * if it happens, the row says so. */
			event->header.argv_unreadable = 1;
	}
	send_event(ctx, event, args_offset);
}

/* With kernel BTF (Linux >= 5.5): handed the exec's bprm, no trace record. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	const char *filename = BPF_CORE_READ(bprm, filename);

	exec_done(ctx, old_pid, filename, BPF_CORE_READ(bprm, interp) != filename);
	return 0;
}

/* Without it: the same tracepoint's record, which does not say whether an
 * interpreter ran. */
SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	exec_done(ctx, ctx->old_pid, (void *)ctx + (ctx->__data_loc_filename & 0xFFFF), false);
	return 0;
}

static __always_inline int exec_enter(const char *filename, const char *const *argv)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct exec_args args = { .filename = filename, .argv = argv };

	if (!task_passes_filters(task))
		return 0;
	bpf_map_update_elem(&pending_execs, &tid, &args, BPF_ANY);
	return 0;
}

/*
 * Copies the file name and argv from the caller's memory, one string at a
 * time, until about ARGV_MAX_LEN bytes or MAX_ARGS entries (as many as can be
 * shown). A string that is not resident is kept empty and marked in
 * unreadable_args, and the rest is read on; an argv array that is not
 * resident ends the list, marked with argv_unreadable. The running length
 * lives in the header, not in a register: every step then looks alike to the
 * verifier, whatever the steps before it read.
 */
static __always_inline void read_failed_exec_args(struct exec_event *event, struct exec_args *args,
						  u32 args_offset)
{
	const char *arg = NULL;
	u32 offset, at;
	long len;
	int i;

	len = bpf_probe_read_user_str(event->data + (args_offset & 8191), FILENAME_MAX_LEN,
				      args->filename);
	if (len <= 0) {
		event->data[args_offset & 8191] = 0;
		event->header.unreadable_args = 1;
		len = 1;
	}
	event->header.args_size = len;
	/* execve(path, NULL, envp) runs the program with an empty argv. */
	if (!args->argv)
		return;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_ARGS; i++) {
		if (bpf_probe_read_user(&arg, sizeof(arg), &args->argv[i])) {
			event->header.argv_unreadable = 1;
			return;
		}
		if (!arg)
			return;
		offset = event->header.args_size;
		if (offset >= ARGV_MAX_LEN) {
			event->header.args_truncated = 1;
			return;
		}
		at = args_offset + offset;
		/* clang would drop the mask as redundant; the verifier needs it. */
		barrier_var(at);
		len = bpf_probe_read_user_str(event->data + (at & 16383), FILENAME_MAX_LEN, arg);
		if (len <= 0) {
			event->data[at & 16383] = 0;
			event->header.unreadable_args |= 1ULL << (i + 1);
			len = 1;
		}
		event->header.args_size = offset + len;
	}
	if (bpf_probe_read_user(&arg, sizeof(arg), &args->argv[MAX_ARGS]))
		event->header.argv_unreadable = 1;
	else if (arg)
		event->header.args_truncated = 1;
}

static __always_inline int exec_exit(void *ctx, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct exec_event *event;
	struct exec_args *args;

	args = bpf_map_lookup_elem(&pending_execs, &tid);
	if (!args)
		return 0;
	/* Successful execs were reported by handle_exec. */
	if (ret < 0) {
		event = new_event(task, ret);
		if (event) {
			u32 args_offset = read_exec_context(event, task);

			read_failed_exec_args(event, args, args_offset);
			send_event(ctx, event, args_offset);
		}
	}
	bpf_map_delete_elem(&pending_execs, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int handle_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter((const char *)ctx->args[0], (const char *const *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int handle_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter((const char *)ctx->args[1], (const char *const *)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int handle_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int handle_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
