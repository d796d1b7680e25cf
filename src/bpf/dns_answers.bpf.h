/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcpconnect --dns: the DNS answers that name connects' destinations.
 *
 * Two BTF tracepoints on the packet path, which need neither kprobes nor
 * trampolines and see every network namespace: net_dev_queue sees each
 * packet a namespace sends, netif_receive_skb each one it receives
 * (loopback and veth included). A UDP datagram, or a TCP segment with data,
 * to port 53 is a query: it is remembered by its namespace, addresses and
 * ports (and a datagram's DNS id). A datagram or segment from port 53 is an
 * answer only if it matches a remembered query of the same namespace, with
 * the addresses and ports swapped; it is then sent to user space, which
 * checks the id and question against the query's and reads the names.
 * Anything else from port 53 names nothing, and is counted. So a packet
 * forged in one namespace, or one no query asked for, never names a
 * connect; one namespace's answers never name another's connects.
 *
 * A datagram's answer goes with its query in one record (struct
 * dns_answer). TCP keeps a segment's data in page fragments, which a
 * tracing program cannot read, so a segment is handed whole to the kernel's
 * own copy, bpf_skb_output, after a struct dns_segment: queries' segments
 * and matching answers' both, and user space splits them into messages
 * (each behind its 2-byte length) and pairs each answer with its
 * connection's query of the same id. A message split over segments is
 * counted, not read.
 *
 * Not seen: DNS over TLS or HTTPS; IPv6 extension headers and IP
 * fragments; what a process or a resolver in another namespace had cached.
 */
#ifndef __DNS_ANSWERS_BPF_H__
#define __DNS_ANSWERS_BPF_H__

#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define DNS_PORT 53
#define UDP_HEADER_LEN 8
#define IPV6_HEADER_LEN 40
#define DNS_HEADER_LEN 12
/* The first bytes of a TCP header: ports, sequence number, acknowledgment,
 * data offset. */
#define TCP_HEADER_START 13
/* A TCP message's length before it. */
#define DNS_TCP_LENGTH_LEN 2
/* IPv4's frag_off: more fragments, and the fragment's offset. */
#define IP_FRAGMENTED 0x3fff

/* A query, as the packets of its exchange identify it; ports in host order. */
struct dns_exchange {
	u32 netns;
	u16 family;
	u16 id; /* a datagram's DNS id, as on the wire; 0 over TCP */
	u16 client_port;
	u16 protocol; /* IPPROTO_UDP or IPPROTO_TCP */
	u8 client[16];
	u8 server[16];
};

struct dns_query {
	u64 timestamp_ns;
	u16 len;
	u8 reserved[6];
	u8 data[DNS_QUERY_MAX];
};

/* Queries waiting for their answer (over TCP, connections that sent one:
 * only the key counts). LRU: a query never answered (or answered over
 * another way) makes room in time; its answer, if it comes after, matches
 * nothing and is counted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct dns_exchange);
	__type(value, struct dns_query);
} dns_queries SEC(".maps");

/* The room to build a query and an answer in (too large for the stack),
 * one of each: an answer's program may interrupt a query's on its CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct dns_query);
} dns_query_room SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct dns_answer);
} dns_answer_room SEC(".maps");

/* The room to build a TCP segment's header in (which also gives it a
 * skeleton type). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct dns_segment);
} dns_segment_room SEC(".maps");

/* Segments over TCP, each a struct dns_segment and the packet's bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} dns_segments SEC(".maps");

/*
 * UDP answers, when the events travel on per-CPU perf buffers: user space
 * reads these whole before it names each connect, as it reads the TCP
 * segments (on the events' buffers, an answer in another CPU's ring than
 * its connect's could be read after the connect).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} dns_answers_perfbuf SEC(".maps");

/* Datagrams and segments from port 53 that answered no query of their
 * namespace. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} unmatched_dns_answers SEC(".maps");

/* A datagram's DNS message or a segment's data, where the packet holds it. */
struct dns_packet {
	const u8 *payload;
	u32 offset; /* of the payload from skb->data */
	u32 len; /* bytes of payload the packet holds in one piece (UDP) */
	u32 payload_len; /* the payload's length: UDP's header says it, TCP's the IP header */
	u32 seq; /* TCP: the sequence number of the payload's first byte */
};

/*
 * The bytes of pkt to copy, at most max; 64-bit and behind a barrier, so
 * that clang tests the very register the copy is given (else it may test a
 * zero-extended copy of it, and the verifier refuses the copy's size).
 */
static __always_inline u64 dns_bytes(const struct dns_packet *pkt, u64 max)
{
	u64 len = pkt->len < pkt->payload_len ? pkt->len : pkt->payload_len;

	if (len > max)
		len = max;
	barrier_var(len);
	return len;
}

/*
 * Whether skb is a UDP datagram, or a TCP segment with data, to port 53
 * (sent) or from it (received); if so, its exchange (namespace, protocol,
 * addresses, ports, a datagram's id) into key and where its payload is
 * into pkt. A received packet's network header is at data; a sent one's,
 * after its link-layer header.
 */
static __always_inline bool dns_packet(struct sk_buff *skb, bool sent, struct dns_exchange *key,
				       struct dns_packet *pkt)
{
	const u8 *data = skb->data;
	const u8 *l3 = sent ? skb->head + skb->network_header : data;
	u32 linear = skb->len - skb->data_len;
	u32 offset = l3 - data, l3_len, ip_payload;
	u16 protocol = bpf_ntohs(skb->protocol), udp_len;
	u8 header[IPV6_HEADER_LEN], transport[TCP_HEADER_START + 1];
	u8 *client, *server;

	if (protocol == ETH_P_IP) {
		if (bpf_probe_read_kernel(header, 20, l3))
			return false;
		if (bpf_ntohs(*(u16 *)&header[6]) & IP_FRAGMENTED)
			return false;
		l3_len = (header[0] & 0x0f) * 4;
		if (l3_len < 20)
			return false;
		ip_payload = bpf_ntohs(*(u16 *)&header[2]) - l3_len;
		key->family = AF_INET;
		client = sent ? &header[12] : &header[16];
		server = sent ? &header[16] : &header[12];
		__builtin_memcpy(key->client, client, 4);
		__builtin_memcpy(key->server, server, 4);
		key->protocol = header[9];
	} else if (protocol == ETH_P_IPV6) {
		if (bpf_probe_read_kernel(header, IPV6_HEADER_LEN, l3))
			return false;
		l3_len = IPV6_HEADER_LEN;
		ip_payload = bpf_ntohs(*(u16 *)&header[4]);
		key->family = AF_INET6;
		client = sent ? &header[8] : &header[24];
		server = sent ? &header[24] : &header[8];
		__builtin_memcpy(key->client, client, 16);
		__builtin_memcpy(key->server, server, 16);
		key->protocol = header[6];
	} else {
		return false;
	}
	if (key->protocol != IPPROTO_UDP && key->protocol != IPPROTO_TCP)
		return false;
	/* Source port, destination port; then UDP's length, or TCP's sequence
	 * number and data offset. */
	if (bpf_probe_read_kernel(transport, sizeof(transport), l3 + l3_len))
		return false;
	if (bpf_ntohs(*(u16 *)&transport[sent ? 2 : 0]) != DNS_PORT)
		return false;
	key->client_port = bpf_ntohs(*(u16 *)&transport[sent ? 0 : 2]);
	offset += l3_len;
	if (key->protocol == IPPROTO_TCP) {
		u32 tcp_len = (transport[12] >> 4) * 4;

		/* The IP header's length may be 0 (a large GSO packet): the
		 * skb's then, which alone may count link-layer padding. */
		if (ip_payload == 0 || ip_payload > skb->len - offset)
			ip_payload = skb->len - offset;
		if (tcp_len < 20 || ip_payload <= tcp_len)
			return false;
		pkt->offset = offset + tcp_len;
		pkt->payload_len = ip_payload - tcp_len;
		pkt->seq = bpf_ntohl(*(u32 *)&transport[4]);
		pkt->len = 0;
	} else {
		udp_len = bpf_ntohs(*(u16 *)&transport[4]);
		offset += UDP_HEADER_LEN + DNS_HEADER_LEN;
		if (offset > linear || udp_len < UDP_HEADER_LEN + DNS_HEADER_LEN)
			return false;
		pkt->payload = l3 + l3_len + UDP_HEADER_LEN;
		pkt->offset = offset - DNS_HEADER_LEN;
		pkt->payload_len = udp_len - UDP_HEADER_LEN;
		pkt->len = linear - offset + DNS_HEADER_LEN;
		if (bpf_probe_read_kernel(&key->id, sizeof(key->id), pkt->payload))
			return false;
	}
	key->netns = skb->dev->nd_net.net->ns.inum;
	return true;
}

/*
 * A TCP segment of a DNS exchange, to user space: its dns_segment, then the
 * packet's bytes up to its data's end, at most DNS_ANSWER_MAX bytes of data
 * and a length (a message longer is too large, as a datagram would be).
 */
static __always_inline void dns_send_segment(struct sk_buff *skb, const struct dns_exchange *key,
					     const struct dns_packet *pkt, bool sent)
{
	struct dns_segment *segment;
	u64 data_len = pkt->payload_len, copied;
	u32 zero = 0;

	if (data_len > DNS_ANSWER_MAX + DNS_TCP_LENGTH_LEN)
		data_len = DNS_ANSWER_MAX + DNS_TCP_LENGTH_LEN;
	copied = pkt->offset + data_len;
	segment = bpf_map_lookup_elem(&dns_segment_room, &zero);
	if (!segment || copied > skb->len)
		return;
	segment->timestamp_ns = bpf_ktime_get_ns();
	segment->netns = key->netns;
	segment->family = key->family;
	segment->client_port = key->client_port;
	segment->seq = pkt->seq;
	segment->data_offset = pkt->offset;
	segment->data_len = pkt->payload_len;
	segment->sent = sent;
	__builtin_memcpy(segment->client, key->client, sizeof(segment->client));
	__builtin_memcpy(segment->server, key->server, sizeof(segment->server));
	/* A full buffer is counted by the buffer, and said by user space. */
	bpf_skb_output(skb, &dns_segments, BPF_F_CURRENT_CPU | (copied << 32), segment,
		       sizeof(*segment));
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(dns_query_sent, struct sk_buff *skb)
{
	struct dns_exchange key = {};
	struct dns_packet pkt;
	struct dns_query *query;
	u32 zero = 0;
	u64 len;

	if (!dns_packet(skb, true, &key, &pkt))
		return 0;
	query = bpf_map_lookup_elem(&dns_query_room, &zero);
	if (!query)
		return 0;
	query->timestamp_ns = bpf_ktime_get_ns();
	if (key.protocol == IPPROTO_TCP) {
		/* The connection is remembered; the query goes to user space. */
		query->len = 0;
		bpf_map_update_elem(&dns_queries, &key, query, BPF_ANY);
		dns_send_segment(skb, &key, &pkt, true);
		return 0;
	}
	len = dns_bytes(&pkt, DNS_QUERY_MAX);
	query->len = len;
	if (bpf_probe_read_kernel(query->data, len, pkt.payload))
		return 0;
	bpf_map_update_elem(&dns_queries, &key, query, BPF_ANY);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(dns_answer_received, struct sk_buff *skb)
{
	struct dns_exchange key = {};
	struct dns_packet pkt;
	struct dns_answer *answer;
	struct dns_query *query;
	u32 zero = 0;
	u64 len;

	if (!dns_packet(skb, false, &key, &pkt))
		return 0;
	query = bpf_map_lookup_elem(&dns_queries, &key);
	if (!query) {
		count_one(&unmatched_dns_answers);
		return 0;
	}
	if (key.protocol == IPPROTO_TCP) {
		/* A connection may carry several answers: it stays. */
		dns_send_segment(skb, &key, &pkt, false);
		return 0;
	}
	answer = bpf_map_lookup_elem(&dns_answer_room, &zero);
	if (!answer)
		return 0;
	answer->timestamp_ns = bpf_ktime_get_ns();
	answer->netns = key.netns;
	answer->family = key.family;
	__builtin_memcpy(answer->server, key.server, sizeof(answer->server));
	answer->query_len = query->len;
	bpf_probe_read_kernel(answer->query, sizeof(answer->query), query->data);
	/* One answer per query: a second one matches nothing. */
	bpf_map_delete_elem(&dns_queries, &key);
	len = dns_bytes(&pkt, DNS_ANSWER_MAX);
	answer->answer_len = len;
	answer->udp_len = pkt.payload_len;
	if (bpf_probe_read_kernel(answer->answer, len, pkt.payload))
		return 0;
	/* Only the bytes of the answer copied: most answers are a few hundred. */
	submit_event_via(ctx, &dns_answers_perfbuf, answer, offsetof(struct dns_answer, answer) + len);
	return 0;
}

#endif /* __DNS_ANSWERS_BPF_H__ */
