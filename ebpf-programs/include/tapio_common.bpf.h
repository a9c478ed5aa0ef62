/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every Tapio BPF object shares: its ring buffer, its config and filter maps, the
 * per-CPU counters the loader reports as self-telemetry, and the helpers that fill the
 * common header and decide whether a record is emitted (filters → sampling → rate limit).
 */
#ifndef TAPIO_COMMON_BPF_H
#define TAPIO_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "tapio_records.h"

char LICENSE[] SEC("license") = "GPL";

/* Resized by the loader (ring_buffer_size) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} tapio_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tapio_config);
} tapio_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TAPIO_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tapio_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} tapio_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[TAPIO_COMM_LEN]);
	__type(value, __u8);
} tapio_comms SEC(".maps");

/* Shared window counter for the rate limit; races at the window edge only loosen it slightly. */
struct tapio_window {
	__u64 start_ns;
	__u64 count;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tapio_window);
} tapio_limiter SEC(".maps");

static __always_inline void tapio_count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&tapio_stats, &stat);
	if (v)
		*v += 1;
}

static __always_inline struct tapio_config *tapio_config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tapio_cfg, &zero);
}

/* True when the pid/comm filters exclude this task. */
static __always_inline bool tapio_filtered(struct tapio_config *cfg, __u32 pid, const char *comm)
{
	if (!cfg)
		return false;
	if (cfg->filter_pids && !bpf_map_lookup_elem(&tapio_pids, &pid))
		return true;
	if (cfg->filter_comms && !bpf_map_lookup_elem(&tapio_comms, comm))
		return true;
	return false;
}

/* Sampling then rate limiting; counts what it suppresses. `always` bypasses both (OOM kills). */
static __always_inline bool tapio_admit(struct tapio_config *cfg, bool always)
{
	if (!cfg || always)
		return true;
	if (cfg->sample_every > 1 && bpf_get_prandom_u32() % cfg->sample_every != 0) {
		tapio_count(TAPIO_STAT_SAMPLED_OUT);
		return false;
	}
	if (cfg->rate_limit) {
		__u32 zero = 0;
		struct tapio_window *w = bpf_map_lookup_elem(&tapio_limiter, &zero);
		if (w) {
			__u64 now = bpf_ktime_get_ns();
			if (now - w->start_ns > 1000000000ULL) {
				w->start_ns = now;
				w->count = 0;
			}
			if (__sync_fetch_and_add(&w->count, 1) >= cfg->rate_limit) {
				tapio_count(TAPIO_STAT_RATE_LIMITED);
				return false;
			}
		}
	}
	return true;
}

/* Reserve a record in the ring buffer, counting a full buffer as a lost record. */
static __always_inline void *tapio_reserve(__u64 size)
{
	void *rec = bpf_ringbuf_reserve(&tapio_events, size, 0);
	if (!rec)
		tapio_count(TAPIO_STAT_LOST);
	return rec;
}

static __always_inline void tapio_submit(void *rec)
{
	bpf_ringbuf_submit(rec, 0);
	tapio_count(TAPIO_STAT_EMITTED);
}

/*
 * The cgroup a task belongs to, as (kernfs id, hierarchy id). On a cgroup v1 / hybrid host
 * the memory controller's hierarchy is the one container runtimes and OOM kills care about;
 * on a pure cgroup v2 host (memory css lives in the default hierarchy, id 0) it is the
 * task's v2 cgroup.
 */
static __always_inline void tapio_task_cgroup(struct task_struct *task, __u64 *id, __u32 *hier)
{
	struct cgroup *cg;
	*id = 0;
	*hier = 0;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		int idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
		struct cgroup_subsys_state *css = NULL;
		struct css_set *cset = BPF_CORE_READ(task, cgroups);
		if (cset && idx >= 0 && idx < CGROUP_SUBSYS_COUNT)
			bpf_probe_read_kernel(&css, sizeof(css), &cset->subsys[idx]);
		if (css) {
			cg = BPF_CORE_READ(css, cgroup);
			int h = BPF_CORE_READ(cg, root, hierarchy_id);
			if (cg && h != 0) {
				*id = BPF_CORE_READ(cg, kn, id);
				*hier = h;
				return;
			}
		}
	}
	cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (cg)
		*id = BPF_CORE_READ(cg, kn, id);
}

/* Header for a task (not necessarily current). */
static __always_inline void tapio_fill_task(struct tapio_hdr *h, __u32 type, struct task_struct *task)
{
	h->ts_boot_ns = bpf_ktime_get_boot_ns();
	h->type = type;
	h->pid = BPF_CORE_READ(task, tgid);
	h->tid = BPF_CORE_READ(task, pid);
	BPF_CORE_READ_STR_INTO(&h->comm, task, comm);
	tapio_task_cgroup(task, &h->cgroup_id, &h->cgroup_hier);
}

static __always_inline void tapio_fill_current(struct tapio_hdr *h, __u32 type)
{
	tapio_fill_task(h, type, (struct task_struct *)bpf_get_current_task());
}

#endif
