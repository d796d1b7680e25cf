/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __TCPCONNECT_H__
#define __TCPCONNECT_H__

/* One accepted active TCP open. Ports in host order; IPv4 addresses in the first 4 bytes. */
struct connect_event {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC */
	__u64 cgroup_id;
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 pid;
	__u32 uid;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 sport;
	__u16 dport;
	__u16 reserved;
	__u8 comm[TASK_COMM_LEN];
};

/* What count mode (-c) counts by; sport is 0 unless -s. */
struct connect_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 reserved;
};

#endif /* __TCPCONNECT_H__ */
