/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __EXECSNOOP_H__
#define __EXECSNOOP_H__

/* Bytes of the exec'd file name kept (PATH_MAX). */
#define FILENAME_MAX_LEN 4096
/*
 * Bytes of argv kept. Powers of two: offsets and lengths are bounded for the
 * verifier by masking with ARGV_MAX_LEN - 1, so the largest write ends below
 * ARGV_MAX_LEN + FILENAME_MAX_LEN <= ARGS_BUF_SIZE.
 */
#define ARGV_MAX_LEN 8192
#define ARGS_BUF_SIZE 16384

/* One exec, as sent to user space: this header, then args_size bytes of args. */
struct exec_event_header {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC, at exec */
	__u64 cgroup_id;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 retval;
	__u32 cpu;
	__u16 args_size;
	/* argv had more bytes or entries than were captured */
	__u8 args_truncated;
	/* an interpreter ran: argv starts with its entries, up to the file name */
	__u8 interpreted;
	__u8 comm[TASK_COMM_LEN];
	__u8 pcomm[TASK_COMM_LEN];
};

/*
 * args holds NUL-terminated strings: the file name passed to exec, then
 * argv[0], argv[1], ... (user space drops argv[0], like upstream). When argv
 * was cut short, the last string may lack its NUL.
 */
struct exec_event {
	struct exec_event_header header;
	__u8 args[ARGS_BUF_SIZE];
};

#endif /* __EXECSNOOP_H__ */
