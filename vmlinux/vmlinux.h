/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Hand-kept CO-RE header: only the kernel types our BPF programs touch.
 *
 * Every kernel-internal struct is marked preserve_access_index, so clang emits
 * CO-RE relocations and libbpf fixes each field offset against the running
 * kernel's BTF at load time. Field order and the fields we leave out therefore
 * do not matter; only the names and types of the fields we use do. That makes
 * one header valid for every architecture and kernel version. The only
 * per-architecture part is the register layout kprobes see (bottom of file),
 * which is user-visible ABI and written out exactly.
 *
 * To extend it: look the type up in the kernel's BTF
 *   bpftool btf dump file /sys/kernel/btf/vmlinux format c | less
 * and copy just the fields you read, keeping their names and types.
 */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __s8 s8;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __s32 s32;
typedef __u32 u32;
typedef __s64 s64;
typedef __u64 u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u64 __be64;
typedef __u32 __wsum;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef _Bool bool;
enum { false = 0, true = 1 };

/* Kernel constants the programs' records use. */
#define TASK_COMM_LEN 16

/* UAPI constants (include/uapi/linux/bpf.h): stable across kernels. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_CGROUP_ARRAY = 8,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
	BPF_MAP_TYPE_SK_STORAGE = 24,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_F_NO_PREALLOC = 1U << 0,
};

enum {
	BPF_SK_STORAGE_GET_F_CREATE = 1ULL << 0,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

enum {
	BPF_F_INDEX_MASK = 0xffffffffULL,
	BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK,
};

enum {
	BPF_RB_NO_WAKEUP = 1ULL << 0,
	BPF_RB_FORCE_WAKEUP = 1ULL << 1,
};

enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

/* Tracepoint records. */
struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
	char __data[0];
};

struct trace_event_raw_sys_exit {
	struct trace_entry ent;
	long id;
	long ret;
	char __data[0];
};

struct trace_event_raw_sched_process_exec {
	struct trace_entry ent;
	u32 __data_loc_filename;
	pid_t pid;
	pid_t old_pid;
	char __data[0];
};

struct trace_event_raw_inet_sock_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate;
	int newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
	char __data[0];
};

/* tcp:tcp_retransmit_skb's record: its own type since Linux 6.13, shared before. */
struct trace_event_raw_tcp_retransmit_skb {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	char __data[0];
};

struct trace_event_raw_tcp_event_sk_skb {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	char __data[0];
};

struct trace_event_raw_signal_deliver {
	struct trace_entry ent;
	int sig;
	int errno;
	int code;
	unsigned long sa_handler;
	unsigned long sa_flags;
	char __data[0];
};

/* Tasks and namespaces. */
struct ns_common {
	unsigned int inum;
};

struct mnt_namespace {
	struct ns_common ns;
};

struct nsproxy {
	struct mnt_namespace *mnt_ns;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
};

struct linux_binprm {
	const char *filename;
	const char *interp;
};

/* Cgroups: a task's cgroup v2 directory and its kernfs name chain. */
struct kernfs_node {
	/* Named parent before Linux 6.15: see kernfs_node___pre_6_15. */
	struct kernfs_node *__parent;
	const char *name;
};

struct kernfs_node___pre_6_15 {
	struct kernfs_node *parent;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct css_set {
	struct cgroup *dfl_cgrp;
};

/* Paths: a task's root and working directory, and the mounts they are on. */
struct qstr {
	union {
		struct {
			u32 hash;
			u32 len;
		};
		u64 hash_len;
	};
	const unsigned char *name;
};

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
};

struct vfsmount {
	struct dentry *mnt_root;
};

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct fs_struct {
	struct path root;
	struct path pwd;
};

typedef struct {
	int counter;
} atomic_t;

/* What a thread group shares: its live threads, and how it exits. */
struct signal_struct {
	atomic_t live;
	unsigned int flags;
	int group_exit_code;
};

/* signal_struct's flags: the whole group exits with group_exit_code. */
#define SIGNAL_GROUP_EXIT 0x00000004

/* task_struct's flags: a kernel thread (no user memory, no command line). */
#define PF_KTHREAD 0x00200000

struct task_struct {
	unsigned int flags;
	pid_t pid;
	pid_t tgid;
	int exit_code;
	/* CLOCK_MONOTONIC at fork; boot time (suspend included) at fork,
	 * which /proc/PID/stat gives in clock ticks (start_boottime: 5.5+) */
	u64 start_time;
	u64 start_boottime;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	struct nsproxy *nsproxy;
	struct fs_struct *fs;
	struct css_set *cgroups;
	struct signal_struct *signal;
	char comm[16];
};

/* start_boottime was real_start_time before Linux 5.5. */
struct task_struct___pre_5_5 {
	u64 real_start_time;
};

/* Sockets. */
struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be16 u6_addr16[8];
		__be32 u6_addr32[4];
	} in6_u;
};

/* A socket's or a device's network namespace (CONFIG_NET_NS). */
struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	union {
		struct {
			__be32 skc_daddr;
			__be32 skc_rcv_saddr;
		};
	};
	union {
		struct {
			__be16 skc_dport;
			__u16 skc_num;
		};
	};
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
	possible_net_t skc_net;
};

struct sock {
	struct sock_common __sk_common;
	/* A bitfield before Linux 5.6: read with BPF_CORE_READ_BITFIELD_PROBED. */
	__u16 sk_protocol;
	int sk_err;
};

struct inet_sock {
	struct sock sk;
	__be16 inet_sport;
};

struct sockaddr;

/* Packets, as the net_dev_queue and netif_receive_skb tracepoints see them. */
struct net_device {
	possible_net_t nd_net;
};

struct sk_buff {
	struct net_device *dev;
	unsigned int len;
	unsigned int data_len;
	__be16 protocol;
	__u16 network_header;
	unsigned char *head;
	unsigned char *data;
};

/* BPF iterators: what an iter/bpf_sk_storage_map program is handed. */
struct seq_file;
struct bpf_map;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__bpf_sk_storage_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	struct sock *sk;
	void *value;
};

#pragma clang attribute pop

/*
 * Registers as kprobes see them, per architecture, limited to what
 * bpf_tracing.h's PT_REGS_PARM1() and PT_REGS_RC() read. These layouts are
 * user-visible ABI (ptrace), so they are written out exactly.
 */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
struct pt_regs {
	struct user_pt_regs user_regs;
};
#elif defined(__TARGET_ARCH_riscv)
struct user_regs_struct {
	unsigned long pc, ra, sp, gp, tp, t0, t1, t2, s0, s1;
	unsigned long a0, a1, a2, a3, a4, a5, a6, a7;
	unsigned long s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
	unsigned long t3, t4, t5, t6;
};
struct pt_regs {
	struct user_regs_struct user_regs;
};
#elif defined(__TARGET_ARCH_powerpc)
struct pt_regs {
	unsigned long gpr[32];
	unsigned long nip, msr, orig_gpr3, ctr, link, xer, ccr, softe, trap, dar, dsisr, result;
};
#elif defined(__TARGET_ARCH_s390)
typedef struct {
	unsigned long mask;
	unsigned long addr;
} psw_t;
/* arch/s390/include/uapi/asm/ptrace.h */
typedef struct {
	unsigned long args[1];
	psw_t psw;
	unsigned long gprs[16];
} user_pt_regs;
struct pt_regs {
	user_pt_regs user_regs;
};
#elif defined(__TARGET_ARCH_loongarch)
struct user_pt_regs {
	unsigned long regs[32];
	unsigned long orig_a0;
	unsigned long csr_era;
	unsigned long csr_badv;
	unsigned long reserved[10];
};
struct pt_regs {
	struct user_pt_regs user_regs;
};
#else
#error "unsupported architecture: define __TARGET_ARCH_{x86,arm64,riscv,powerpc,s390,loongarch}"
#endif

/*
 * The registers kprobes read (first argument, return value) are not
 * relocated: their offsets are checked here against each kernel's ptrace
 * layout, so a wrong definition fails the build instead of reading garbage.
 */
#define __PT_REGS_OFFSET_IS(type, field, offset) \
	_Static_assert(__builtin_offsetof(type, field) == (offset), #type "." #field)
#if defined(__TARGET_ARCH_x86)
__PT_REGS_OFFSET_IS(struct pt_regs, di, 112);
__PT_REGS_OFFSET_IS(struct pt_regs, ax, 80);
#elif defined(__TARGET_ARCH_arm64)
__PT_REGS_OFFSET_IS(struct user_pt_regs, regs[0], 0);
#elif defined(__TARGET_ARCH_riscv)
__PT_REGS_OFFSET_IS(struct user_regs_struct, a0, 80);
#elif defined(__TARGET_ARCH_powerpc)
__PT_REGS_OFFSET_IS(struct pt_regs, gpr[3], 24);
#elif defined(__TARGET_ARCH_s390)
__PT_REGS_OFFSET_IS(user_pt_regs, gprs[2], 40);
#elif defined(__TARGET_ARCH_loongarch)
__PT_REGS_OFFSET_IS(struct user_pt_regs, regs[4], 32);
#endif

#endif /* __VMLINUX_H__ */
