/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where a task runs, read in the kernel while the task is current: its cgroup
 * v2 path and its working directory (execsnoop's --container and --cwd,
 * tcpconnect's --container). Both are walked up from the leaf (a
 * kernfs node, a dentry) and written backwards into a per-CPU buffer, as the
 * kernel's own d_path does, so a path deeper than the buffer keeps its leaf
 * side (the part that names a container or a directory) and is marked cut.
 *
 * The walks are bounded loops (Linux >= 5.3), not unrolled: unrolled, they
 * made every program ten times larger, and the object embedded in the tool
 * (and its memory) with it. They keep their position in map memory rather
 * than in registers: every step then looks the same to the verifier, which
 * prunes instead of following each combination of steps.
 */
#ifndef __TASK_CONTEXT_BPF_H__
#define __TASK_CONTEXT_BPF_H__

/* Bytes of a path kept, its first '/' included: PATH_MAX. */
#define PATH_BUF_SIZE 4096
/* A name is at most NAME_MAX (255) bytes; the slack after the buffer lets
 * the verifier see that a name written below PATH_BUF_SIZE stays inside. */
#define NAME_BUF_SIZE 256
/* Bytes of a cgroup path kept (--container), the NUL left out; one less
 * than a power of two, so that it also masks lengths for the verifier. */
#define CGROUP_PATH_MAX_LEN 1023
/* Levels of cgroup nesting walked. */
#define CGROUP_MAX_DEPTH 32
/* Steps of a working directory walk: one per name, one per mount crossed. */
#define CWD_MAX_STEPS 64

/* Parents listed with --ancestors. */
#define MAX_ANCESTORS 8

/* One ancestor (--ancestors): the tgid and comm of a parent, grandparent...
 * (read by src/ancestry.rs). */
struct task_ancestor {
	u32 pid;
	u8 comm[TASK_COMM_LEN];
};

/* A cgroup path as a table keyed by cgroup id keeps it (tcpconnect's; read
 * by src/container/table.rs). */
struct cgroup_path_entry {
	u16 len;
	u8 cut;
	u8 reserved;
	char path[CGROUP_PATH_MAX_LEN + 1];
};

struct path_builder {
	/* The path is buf[start, PATH_BUF_SIZE). */
	u32 start;
	/* The lowest start allowed: the caller's limit on the path's length. */
	u32 floor;
	/* Names nearer the root did not fit (or were beyond the walk's steps). */
	u8 cut;
	/* The working directory is outside the task's root (a chroot entered
	 * without chdir): the path is from its mount namespace's root. */
	u8 unreachable;
	char buf[PATH_BUF_SIZE + NAME_BUF_SIZE];
	/* A kernfs name, read here first to learn its length. */
	char name[NAME_BUF_SIZE];
	/* Where a cgroup path is put together for a table (no room on the stack). */
	struct cgroup_path_entry entry;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct path_builder);
} path_scratch SEC(".maps");

/* An empty path of at most max_len bytes (at most PATH_BUF_SIZE). */
static __always_inline struct path_builder *path_begin(u32 max_len)
{
	u32 zero = 0;
	struct path_builder *path = bpf_map_lookup_elem(&path_scratch, &zero);

	if (!path)
		return NULL;
	path->start = PATH_BUF_SIZE;
	path->floor = PATH_BUF_SIZE - max_len;
	path->cut = 0;
	path->unreachable = 0;
	return path;
}

/* Puts "/name" in front of the path; false (and cut) when it does not fit. */
static __always_inline bool path_prepend(struct path_builder *path, const void *name, u32 len)
{
	u32 start = path->start;

	if (len >= NAME_BUF_SIZE || start < path->floor + len + 1) {
		path->cut = 1;
		return false;
	}
	start -= len + 1;
	path->buf[start & (PATH_BUF_SIZE - 1)] = '/';
	bpf_probe_read_kernel(&path->buf[(start + 1) & (PATH_BUF_SIZE - 1)],
			      len & (NAME_BUF_SIZE - 1), name);
	path->start = start;
	return true;
}

/* The root itself is "/". */
static __always_inline void path_end(struct path_builder *path)
{
	if (path->start == PATH_BUF_SIZE && !path->cut) {
		path->start = PATH_BUF_SIZE - 1;
		path->buf[PATH_BUF_SIZE - 1] = '/';
	}
}

static __always_inline u32 path_len(struct path_builder *path)
{
	return (PATH_BUF_SIZE - path->start) & (2 * PATH_BUF_SIZE - 1);
}

static __always_inline const char *path_text(struct path_builder *path)
{
	return &path->buf[path->start & (PATH_BUF_SIZE - 1)];
}

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	struct kernfs_node___pre_6_15 *old = (void *)kn;

	if (bpf_core_field_exists(old->parent))
		return BPF_CORE_READ(old, parent);
	return BPF_CORE_READ(kn, __parent);
}

/*
 * The task's cgroup v2 directory, as a path under the cgroup2 mount: the
 * names of its kernfs node and of each parent, up to the hierarchy's root
 * (which has no parent and no name). The node lives as long as the cgroup's
 * css_set holds it, so the names are there even if the directory is being
 * removed meanwhile.
 */
static __always_inline struct path_builder *read_cgroup_path(struct task_struct *task, u32 max_len)
{
	struct path_builder *path = path_begin(max_len);
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	int i;

	if (!path)
		return NULL;
#pragma clang loop unroll(disable)
	for (i = 0; i < CGROUP_MAX_DEPTH; i++) {
		struct kernfs_node *parent = kernfs_parent(kn);
		long len;

		if (!kn || !parent)
			goto done;
		len = bpf_probe_read_kernel_str(path->name, sizeof(path->name), BPF_CORE_READ(kn, name));
		if (len <= 0 || !path_prepend(path, path->name, len - 1))
			goto done;
		kn = parent;
	}
	/* Deeper than the walk goes. */
	path->cut = 1;
done:
	path_end(path);
	return path;
}

/*
 * Appends the task's cgroup path (see read_cgroup_path) to a record's data at
 * offset (below 256: after the ancestors, if any), with its size and whether
 * it was cut; returns the offset after it.
 */
static __always_inline u32 append_cgroup_path(struct task_struct *task, u8 *data, u32 offset,
					      u16 *size, u8 *cut)
{
	struct path_builder *path = read_cgroup_path(task, CGROUP_PATH_MAX_LEN);
	u32 len;

	if (!path)
		return offset;
	len = path_len(path) & CGROUP_PATH_MAX_LEN;
	bpf_probe_read_kernel(data + (offset & 255), len, path_text(path));
	*size = len;
	*cut = path->cut;
	return offset + len;
}

/*
 * The task's working directory, relative to the task's own root directory
 * (what getcwd() returns in it: in a chroot or a container, the path it
 * sees). Walks dentries up to the root of each mount, then on from the
 * mount point in the parent mount, as d_path does.
 */
static __always_inline struct path_builder *read_cwd(struct task_struct *task, u32 max_len)
{
	struct path_builder *path = path_begin(max_len);
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct dentry *root = BPF_CORE_READ(fs, root.dentry);
	struct vfsmount *root_mnt = BPF_CORE_READ(fs, root.mnt);
	struct dentry *dentry = BPF_CORE_READ(fs, pwd.dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(fs, pwd.mnt);
	/* container_of(vfsmnt, struct mount, mnt), at this kernel's offset */
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	int i;

	if (!path)
		return NULL;
#pragma clang loop unroll(disable)
	for (i = 0; i < CWD_MAX_STEPS; i++) {
		struct dentry *parent;

		if (dentry == root && vfsmnt == root_mnt)
			goto done;
		if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
			struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

			/* The root mount of the namespace: the walk did not meet the
			 * task's root on its way, so its cwd is outside it. */
			if (mnt_parent == mnt) {
				path->unreachable = 1;
				goto done;
			}
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			vfsmnt = (void *)mnt + bpf_core_field_offset(struct mount, mnt);
			continue;
		}
		parent = BPF_CORE_READ(dentry, d_parent);
		/* The root of a file system that is mounted nowhere (a lazily
		 * unmounted directory): nothing above it to name. */
		if (parent == dentry) {
			path->unreachable = 1;
			goto done;
		}
		if (!path_prepend(path, BPF_CORE_READ(dentry, d_name.name),
				  BPF_CORE_READ(dentry, d_name.len)))
			goto done;
		dentry = parent;
	}
	path->cut = 1;
done:
	path_end(path);
	return path;
}

/*
 * The parent of task, its parent, ... up to init (whose parent is the idle
 * task, pid 0), at most MAX_ANCESTORS of them into slots, each named by its
 * process's main thread (a parent thread may have a name of its own); count
 * says how many, cut whether the chain goes on above them. Returns the bytes
 * written.
 */
static __always_inline u32 read_ancestors(struct task_struct *task, struct task_ancestor *slots,
					  u8 *count, u8 *cut)
{
	struct task_struct *ancestor = BPF_CORE_READ(task, real_parent);
	int i;

	*count = 0;
	*cut = 0;
	/* A loop, not unrolled: see above. */
#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_ANCESTORS; i++) {
		pid_t pid = BPF_CORE_READ(ancestor, tgid);

		if (pid == 0)
			goto done;
		slots[i].pid = pid;
		bpf_probe_read_kernel_str(slots[i].comm, sizeof(slots[i].comm),
					  &BPF_CORE_READ(ancestor, group_leader)->comm);
		*count = i + 1;
		ancestor = BPF_CORE_READ(ancestor, real_parent);
	}
	*cut = BPF_CORE_READ(ancestor, tgid) != 0;
done:
	return *count * sizeof(struct task_ancestor);
}

/* When task's process started, in boot-time nanoseconds (suspend included):
 * with its pid, unique on the host for the life of the boot, and what
 * /proc/PID/stat's starttime gives in clock ticks. A thread's exec takes
 * its process's, so this is the same before and after an exec. */
static __always_inline u64 process_start_boottime(struct task_struct *task)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	if (bpf_core_field_exists(leader->start_boottime))
		return BPF_CORE_READ(leader, start_boottime);
	return BPF_CORE_READ((struct task_struct___pre_5_5 *)leader, real_start_time);
}

#endif /* __TASK_CONTEXT_BPF_H__ */
