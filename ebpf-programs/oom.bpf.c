/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oom — one record per OOM kill.
 *
 * Hooks:
 *  - tp_btf/mark_victim(struct task_struct *victim, uid_t uid): the OOM killer marked its
 *    victim (global and memcg OOMs alike). Emits the record. Needs a kernel whose tracepoint
 *    passes the task (6.x; older ones passed only the pid).
 *  - fentry/oom_kill_process(struct oom_control *oc, const char *message), optional (the
 *    loader drops it when the kernel cannot trace that function): runs just before, in the
 *    same task, and remembers the oom_control figures (memcg limit/usage, totalpages,
 *    badness, constraint) by thread id for mark_victim to pick up. Without it (e.g. kernels
 *    without BPF trampolines) the limit/usage are those of the victim's own memcg and
 *    totalpages/badness/constraint are 0.
 * kprobes are deliberately not used: many hardened/VM kernels build without CONFIG_KPROBES.
 * Both fire only during an OOM kill: no cost in steady state.
 *
 * Record: struct tapio_oom (tapio_records.h, 128 bytes): the header is the *victim* (pid,
 * tid, comm, cgroup); plus the memcg's limit and usage in pages (0 for a global OOM), the
 * pages the victim was scored against, its badness, its total_vm, the cgroup id of the memcg
 * at its limit, the OOM constraint and the pid/comm of the task whose allocation triggered
 * the kill. Never sampled or rate limited; the pid/comm filters apply to the victim.
 */
#include "tapio_common.bpf.h"

struct tapio_oom_ctx {
	__u64 memcg_limit_pages;
	__u64 memcg_usage_pages;
	__u64 total_pages;
	__s64 chosen_points;
	__u64 oom_cgroup_id;
	__u32 constraint;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* entries of threads that die mid-call must not fill it */
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct tapio_oom_ctx);
} tapio_oom_inflight SEC(".maps");

static __always_inline struct mem_cgroup *tapio_task_memcg(struct task_struct *task)
{
	struct cgroup_subsys_state *css = NULL;
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return NULL;
	int idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	if (cset && idx >= 0 && idx < CGROUP_SUBSYS_COUNT)
		bpf_probe_read_kernel(&css, sizeof(css), &cset->subsys[idx]);
	return (struct mem_cgroup *)css;
}

SEC("fentry/oom_kill_process")
int BPF_PROG(tapio_oom_ctx_opt, struct oom_control *oc, const char *message)
{
	struct tapio_oom_ctx c = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_cgroup *memcg = BPF_CORE_READ(oc, memcg);
	if (memcg) {
		c.memcg_limit_pages = BPF_CORE_READ(memcg, memory.max);
		c.memcg_usage_pages = BPF_CORE_READ(memcg, memory.usage.counter);
		c.oom_cgroup_id = BPF_CORE_READ(memcg, css.cgroup, kn, id);
	}
	c.total_pages = BPF_CORE_READ(oc, totalpages);
	c.chosen_points = BPF_CORE_READ(oc, chosen_points);
	c.constraint = BPF_CORE_READ(oc, constraint);
	bpf_map_update_elem(&tapio_oom_inflight, &tid, &c, BPF_ANY);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(tapio_oom_mark_victim, struct task_struct *victim)
{
	struct tapio_config *cfg = tapio_config();
	char comm[TAPIO_COMM_LEN] = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 tgid = BPF_CORE_READ(victim, tgid);
	struct tapio_oom_ctx *c = bpf_map_lookup_elem(&tapio_oom_inflight, &tid);

	BPF_CORE_READ_STR_INTO(&comm, victim, comm);
	if (tapio_filtered(cfg, tgid, comm))
		goto out;
	struct tapio_oom *r = tapio_reserve(sizeof(*r));
	if (!r)
		goto out;
	__builtin_memset(r, 0, sizeof(*r));
	tapio_fill_task(&r->hdr, TAPIO_REC_OOM, victim);
	if (c) {
		r->memcg_limit_pages = c->memcg_limit_pages;
		r->memcg_usage_pages = c->memcg_usage_pages;
		r->total_pages = c->total_pages;
		r->chosen_points = c->chosen_points;
		r->oom_cgroup_id = c->oom_cgroup_id;
		r->constraint = c->constraint;
	} else {
		/* Without fentry: the figures of the victim's own memcg (for a container, the one at
		 * its limit). css is the first member of struct mem_cgroup, so the pointers coincide. */
		struct mem_cgroup *memcg = tapio_task_memcg(victim);
		r->constraint = (__u32)-1; /* unknown */
		if (memcg) {
			r->memcg_limit_pages = BPF_CORE_READ(memcg, memory.max);
			r->memcg_usage_pages = BPF_CORE_READ(memcg, memory.usage.counter);
		}
	}
	r->victim_total_vm_pages = BPF_CORE_READ(victim, mm, total_vm);
	r->killer_pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&r->killer_comm, sizeof(r->killer_comm));
	tapio_submit(r);
out:
	if (c)
		bpf_map_delete_elem(&tapio_oom_inflight, &tid);
	return 0;
}
