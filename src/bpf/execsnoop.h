/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __EXECSNOOP_H__
#define __EXECSNOOP_H__

/* Bytes of the exec'd file name kept (PATH_MAX). */
#define FILENAME_MAX_LEN 4096
/* Bytes of argv kept. */
#define ARGV_MAX_LEN 8192
/* Bytes of a working directory kept with --cwd (PATH_MAX, the NUL left
 * out); one less than a power of two, so that it also masks lengths. */
#define CWD_MAX_LEN 4095
/*
 * The record's data, in this order: the context sections asked for
 * (ancestors, cgroup path, working directory), then the file name and argv.
 * Offsets and lengths are bounded for the verifier by masking with powers
 * of two: the context ends below 8192, the file name below 8192 + 4096, and
 * argv, written below 16384, ends below 16384 + ARGV_MAX_LEN.
 */
#define DATA_BUF_SIZE (16384 + ARGV_MAX_LEN)

/* One exec, as sent to user space: this header, then data (see DATA_BUF_SIZE). */
struct exec_event_header {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC, at exec */
	__u64 cgroup_id;
	/* Failed execs: bit i says entry i of args (0: the file name, i > 0:
	 * argv[i - 1]) is not resident in the caller's memory and could not be
	 * read; it is kept as an empty string. */
	__u64 unreadable_args;
	/* The process's identity, with pid: when it started, in boot-time ns. */
	__u64 process_start_boottime_ns;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 retval;
	__u32 cpu;
	__u16 args_size;
	__u16 cgroup_path_size;
	__u16 cwd_size;
	/* argv had more bytes or entries than were captured */
	__u8 args_truncated;
	/* argv could not be read on from its last entry kept */
	__u8 argv_unreadable;
	/* an interpreter ran: argv starts with its entries, up to the file name */
	__u8 interpreted;
	__u8 ancestor_count;
	/* the chain of ancestors goes on above the last one listed */
	__u8 ancestors_cut;
	/* the cgroup path or cwd was too long or deep: only its leaf side is kept */
	__u8 cgroup_path_cut;
	__u8 cwd_cut;
	/* the cwd is outside the task's root: it is given from its mount
	 * namespace's root instead */
	__u8 cwd_unreachable;
	__u8 comm[TASK_COMM_LEN];
	__u8 pcomm[TASK_COMM_LEN];
};

/*
 * data holds ancestor_count struct task_ancestor, cgroup_path_size bytes of
 * cgroup path, cwd_size bytes of working directory, then args_size bytes of
 * NUL-terminated strings: the file name passed to exec, then argv[0],
 * argv[1], ... (user space drops argv[0], like upstream). When argv was cut
 * short, the last string may lack its NUL.
 */
struct exec_event {
	struct exec_event_header header;
	__u8 data[DATA_BUF_SIZE];
};

#endif /* __EXECSNOOP_H__ */
