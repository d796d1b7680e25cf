/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __EXITSNOOP_H__
#define __EXITSNOOP_H__

/* Bytes of a process's command line kept for --max-args (its argument
 * area: argv[0], argv[1], ..., each NUL-terminated); a power of two, so
 * that it also masks lengths for the verifier. */
#define CMDLINE_MAX_LEN 4096
/* Processes whose command line is kept between the start of their exit
 * and the exit of their last thread (normally microseconds apart). */
#define MAX_EXITING 1024
/* The record's data: the ancestors (below 256 bytes), the cgroup path
 * (below 256 + 1024), then the command line. */
#define EXIT_DATA_SIZE (2048 + CMDLINE_MAX_LEN)

/* One exit, as sent to user space: this header, then data. */
struct exit_event_header {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC, at the exit */
	__u64 start_ns; /* CLOCK_MONOTONIC, when the process (-T: the thread) started */
	__u64 process_start_boottime_ns; /* the process's identity, with pid */
	__u64 cgroup_id;
	__u32 pid;
	__u32 ppid;
	__u32 tid;
	__u32 uid;
	/* As wait(2) reports it: the exit status << 8, or the signal (| 0x80
	 * when it dumped core). */
	__s32 exit_status;
	__u32 cpu;
	__u16 cmdline_size;
	__u16 cgroup_path_size;
	__u8 cmdline_state;
	__u8 cmdline_cut;
	__u8 ancestor_count;
	__u8 ancestors_cut;
	__u8 cgroup_path_cut;
	__u8 comm[TASK_COMM_LEN];
};

/* data holds ancestor_count struct task_ancestor, cgroup_path_size bytes of
 * cgroup path, then cmdline_size bytes of command line. */
struct exit_event {
	struct exit_event_header header;
	__u8 data[EXIT_DATA_SIZE];
};

/* A command line, kept from the start of a process's exit to its end. */
struct exiting_cmdline {
	__u16 size;
	__u8 cut;
	/* Its memory could not be read: no text. */
	__u8 unreadable;
	__u8 text[CMDLINE_MAX_LEN];
};

#endif /* __EXITSNOOP_H__ */
