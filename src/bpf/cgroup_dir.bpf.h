/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * -c PATH (execsnoop, exitsnoop): only tasks in the cgroup v2 directory
 * given, or below it. User space opens the directory and puts it in slot 0
 * of cgroup_dir after load (src/runtime/cgroup.rs).
 */
#ifndef __CGROUP_DIR_BPF_H__
#define __CGROUP_DIR_BPF_H__

const volatile bool filter_by_cgroup = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} cgroup_dir SEC(".maps");

/* Whether the current task passes -c. */
static __always_inline bool in_cgroup_dir(void)
{
	return !filter_by_cgroup || bpf_current_task_under_cgroup(&cgroup_dir, 0) == 1;
}

#endif /* __CGROUP_DIR_BPF_H__ */
