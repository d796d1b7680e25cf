/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcpconnect --dns: the DNS answers that name connects' destinations.
 *
 * Two BTF tracepoints on the packet path, which need neither kprobes nor
 * trampolines and see every network namespace: net_dev_queue sees each
 * datagram a namespace sends, netif_receive_skb each one it receives
 * (loopback and veth included). A UDP datagram to port 53 is a query: it is
 * remembered by its namespace, id, addresses and ports. A datagram from
 * port 53 is an answer only if it matches a remembered query of the same
 * namespace, with the addresses and ports swapped; it is then sent to user
 * space with that query, which checks the question and reads the names.
 * Anything else from port 53 names nothing, and is counted. So a datagram
 * forged in one namespace, or one no query asked for, never names a
 * connect; one namespace's answers never name another's connects.
 *
 * Not seen: DNS over TCP, TLS or HTTPS; IPv6 extension headers and IP
 * fragments; what a process or a resolver in another namespace had cached.
 */
#ifndef __DNS_ANSWERS_BPF_H__
#define __DNS_ANSWERS_BPF_H__

#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP 17
#define DNS_PORT 53
#define UDP_HEADER_LEN 8
#define IPV6_HEADER_LEN 40
#define DNS_HEADER_LEN 12
/* IPv4's frag_off: more fragments, and the fragment's offset. */
#define IP_FRAGMENTED 0x3fff

/* A query, as the datagrams of its exchange identify it; ports in host order. */
struct dns_exchange {
	u32 netns;
	u16 family;
	u16 id; /* the DNS id, as on the wire */
	u16 client_port;
	u16 reserved;
	u8 client[16];
	u8 server[16];
};

struct dns_query {
	u64 timestamp_ns;
	u16 len;
	u8 reserved[6];
	u8 data[DNS_QUERY_MAX];
};

/* Queries waiting for their answer. LRU: a query never answered (or
 * answered over another way) makes room in time; its answer, if it comes
 * after, matches nothing and is counted. */
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

/* Datagrams from port 53 that answered no query of their namespace. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} unmatched_dns_answers SEC(".maps");

/* A UDP datagram's DNS message, where the packet holds it. */
struct dns_datagram {
	const u8 *payload;
	u32 len; /* bytes of payload the packet holds in one piece */
	u32 udp_len; /* the payload's length, as the UDP header says */
};

/*
 * The bytes of dgram to copy, at most max; 64-bit and behind a barrier, so
 * that clang tests the very register the copy is given (else it may test a
 * zero-extended copy of it, and the verifier refuses the copy's size).
 */
static __always_inline u64 dns_bytes(const struct dns_datagram *dgram, u64 max)
{
	u64 len = dgram->len < dgram->udp_len ? dgram->len : dgram->udp_len;

	if (len > max)
		len = max;
	barrier_var(len);
	return len;
}

/*
 * Whether skb is a UDP datagram to port 53 (sent) or from it (received);
 * if so, its exchange (namespace, addresses, ports, id) into key and where
 * its DNS message is into dgram. A received packet's network header is at
 * data; a sent one's, after its link-layer header.
 */
static __always_inline bool dns_datagram(struct sk_buff *skb, bool sent, struct dns_exchange *key,
					 struct dns_datagram *dgram)
{
	const u8 *data = skb->data;
	const u8 *l3 = sent ? skb->head + skb->network_header : data;
	u32 linear = skb->len - skb->data_len;
	u32 offset = l3 - data, l3_len;
	u16 protocol = bpf_ntohs(skb->protocol), ports[3], udp_len;
	u8 header[IPV6_HEADER_LEN];
	u8 *client, *server;

	if (protocol == ETH_P_IP) {
		if (bpf_probe_read_kernel(header, 20, l3) || header[9] != IPPROTO_UDP)
			return false;
		if (bpf_ntohs(*(u16 *)&header[6]) & IP_FRAGMENTED)
			return false;
		l3_len = (header[0] & 0x0f) * 4;
		if (l3_len < 20)
			return false;
		key->family = AF_INET;
		client = sent ? &header[12] : &header[16];
		server = sent ? &header[16] : &header[12];
		__builtin_memcpy(key->client, client, 4);
		__builtin_memcpy(key->server, server, 4);
	} else if (protocol == ETH_P_IPV6) {
		if (bpf_probe_read_kernel(header, IPV6_HEADER_LEN, l3) || header[6] != IPPROTO_UDP)
			return false;
		l3_len = IPV6_HEADER_LEN;
		key->family = AF_INET6;
		client = sent ? &header[8] : &header[24];
		server = sent ? &header[24] : &header[8];
		__builtin_memcpy(key->client, client, 16);
		__builtin_memcpy(key->server, server, 16);
	} else {
		return false;
	}
	/* Source port, destination port, length; then the DNS id. */
	if (bpf_probe_read_kernel(ports, sizeof(ports), l3 + l3_len))
		return false;
	if (bpf_ntohs(ports[sent ? 1 : 0]) != DNS_PORT)
		return false;
	key->client_port = bpf_ntohs(ports[sent ? 0 : 1]);
	udp_len = bpf_ntohs(ports[2]);
	offset += l3_len + UDP_HEADER_LEN + DNS_HEADER_LEN;
	if (offset > linear || udp_len < UDP_HEADER_LEN + DNS_HEADER_LEN)
		return false;
	dgram->payload = l3 + l3_len + UDP_HEADER_LEN;
	dgram->udp_len = udp_len - UDP_HEADER_LEN;
	dgram->len = linear - offset + DNS_HEADER_LEN;
	if (bpf_probe_read_kernel(&key->id, sizeof(key->id), dgram->payload))
		return false;
	key->netns = skb->dev->nd_net.net->ns.inum;
	return true;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(dns_query_sent, struct sk_buff *skb)
{
	struct dns_exchange key = {};
	struct dns_datagram dgram;
	struct dns_query *query;
	u32 zero = 0;
	u64 len;

	if (!dns_datagram(skb, true, &key, &dgram))
		return 0;
	query = bpf_map_lookup_elem(&dns_query_room, &zero);
	if (!query)
		return 0;
	len = dns_bytes(&dgram, DNS_QUERY_MAX);
	query->timestamp_ns = bpf_ktime_get_ns();
	query->len = len;
	if (bpf_probe_read_kernel(query->data, len, dgram.payload))
		return 0;
	bpf_map_update_elem(&dns_queries, &key, query, BPF_ANY);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(dns_answer_received, struct sk_buff *skb)
{
	struct dns_exchange key = {};
	struct dns_datagram dgram;
	struct dns_answer *answer;
	struct dns_query *query;
	u32 zero = 0;
	u64 len;

	if (!dns_datagram(skb, false, &key, &dgram))
		return 0;
	query = bpf_map_lookup_elem(&dns_queries, &key);
	if (!query) {
		count_one(&unmatched_dns_answers);
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
	len = dns_bytes(&dgram, DNS_ANSWER_MAX);
	answer->answer_len = len;
	answer->udp_len = dgram.udp_len;
	if (bpf_probe_read_kernel(answer->answer, len, dgram.payload))
		return 0;
	/* Only the bytes of the answer copied: most answers are a few hundred. */
	submit_event(ctx, answer, offsetof(struct dns_answer, answer) + len);
	return 0;
}

#endif /* __DNS_ANSWERS_BPF_H__ */
