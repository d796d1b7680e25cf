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
	__u8 reserved[3];
	__u32 netns; /* --dns: the socket's network namespace (its inode number) */
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

/*
 * --dns: a DNS answer that matched a query of the same network namespace
 * (the query's id, addresses and ports), with the query it answers, for
 * user space to check the question and read the names. Addresses as in
 * connect_event. Sent up to the last byte of answer copied; even so far
 * larger than a connect_event, which is how user space tells the two
 * records apart.
 */
struct dns_answer {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC, when the answer arrived */
	__u32 netns;
	__u16 family;
	__u16 query_len; /* bytes of query */
	__u16 answer_len; /* bytes of answer copied: at most DNS_ANSWER_MAX */
	__u16 udp_len; /* the answer's length, as its UDP header says */
	__u8 reserved[4];
	__u8 server[16];
	__u8 query[DNS_QUERY_MAX];
	__u8 answer[DNS_ANSWER_MAX];
};

/*
 * --dns over TCP: the header of a segment of a connection to or from port
 * 53, which bpf_skb_output follows with the packet's first bytes (TCP keeps
 * a segment's data in page fragments, which only the kernel's copy reads).
 * Sent for each segment a namespace sends to port 53 with data (queries),
 * and for each it receives from port 53 on a connection that sent one
 * (answers); user space splits the data into messages (a 2-byte length
 * each) and pairs answers with queries by DNS id. Addresses as in
 * connect_event.
 */
struct dns_segment {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC */
	__u32 netns;
	__u16 family;
	__u16 client_port;
	__u32 seq; /* the TCP sequence number of the segment's first byte of data */
	__u16 data_offset; /* where the data starts in the packet's bytes that follow */
	__u16 data_len; /* bytes of data in the segment (those copied may be fewer) */
	__u8 sent; /* 1: a query's segment, sent to port 53; 0: an answer's */
	__u8 reserved[7];
	__u8 client[16];
	__u8 server[16];
};

#endif /* __TCPCONNECT_H__ */
