/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __TCPCONNECT_H__
#define __TCPCONNECT_H__

/*
 * One accepted active TCP open; with --outcome, with its result. Ports in
 * host order; IPv4 addresses in the first 4 bytes. Also what is kept of a
 * connect while it is followed.
 */
struct connect_event {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC, when the connect was made */
	__u64 cgroup_id;
	__u64 latency_ns; /* with a result: from the connect to that result */
	/* The process's identity, with pid: when it started, in boot-time ns. */
	__u64 process_start_boottime_ns;
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 pid;
	__u32 uid;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 sport; /* 0 while not known */
	__u16 dport;
	__u16 error; /* RESULT_FAILED: the errno */
	__u8 result; /* RESULT_* (constants.rs) */
	__u8 reserved[7];
	__u8 comm[TASK_COMM_LEN];
};

/* What count mode (-c) counts by; sport is 0 unless -s, result
 * RESULT_NONE unless --outcome. */
struct connect_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 error;
	__u8 result;
	__u8 reserved[3];
};

#endif /* __TCPCONNECT_H__ */
