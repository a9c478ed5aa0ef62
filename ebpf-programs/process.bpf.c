/* SPDX-License-Identifier: Apache-2.0 */
/*
 * process — exec and exit of every process.
 *
 * Hooks: tp_btf/sched_process_exec (after a successful execve, in the new image) and
 * tp_btf/sched_process_exit (every exiting thread; a record only when the last thread of the
 * group exits, i.e. once per process, with the wait status: exit code, signal, core dump).
 *
 * Records: struct tapio_exec (312 bytes: ppid, uid, filename, the first 128 bytes of argv
 * NUL-separated) and struct tapio_exit (72 bytes: ppid, wait status, lifetime, uid).
 *
 * Overhead: a BTF tracepoint costs tens of ns; a record costs a ring-buffer reserve/submit
 * (~100 ns) plus, for exec, one user-memory read of argv. With thousands of short-lived
 * processes per second use `sampling`/`rate_limit` (both in kernel).
 */
#include "tapio_common.bpf.h"

/* The task passes the pid/comm filters, sampling and the rate limit (shared by exec and exit). */
static __always_inline bool tapio_task_wanted(struct task_struct *p)
{
	struct tapio_config *cfg = tapio_config();
	char comm[TAPIO_COMM_LEN] = {};
	__u32 tgid = BPF_CORE_READ(p, tgid);

	BPF_CORE_READ_STR_INTO(&comm, p, comm);
	return !tapio_filtered(cfg, tgid, comm) && tapio_admit(cfg, false);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tapio_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!tapio_task_wanted(p))
		return 0;
	struct tapio_exec *r = tapio_reserve(sizeof(*r));
	if (!r)
		return 0;
	tapio_fill_task(&r->hdr, TAPIO_REC_EXEC, p);
	r->ppid = BPF_CORE_READ(p, real_parent, tgid);
	r->uid = BPF_CORE_READ(p, cred, uid.val);
	const char *filename = BPF_CORE_READ(bprm, filename);
	if (bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), filename) < 0)
		r->filename[0] = 0;

	/* argv lives in the new image's stack: [arg_start, arg_end). */
	unsigned long start = BPF_CORE_READ(p, mm, arg_start);
	unsigned long end = BPF_CORE_READ(p, mm, arg_end);
	unsigned long len = end > start ? end - start : 0;
	if (len > sizeof(r->args) - 1)
		len = sizeof(r->args) - 1;
	len &= sizeof(r->args) - 1; /* tells the verifier len < sizeof(args) */
	/* zeroed first: userspace trims trailing NULs, so no length field is needed */
	__builtin_memset(r->args, 0, sizeof(r->args));
	if (bpf_probe_read_user(r->args, len, (void *)start) < 0)
		r->args[0] = 0;
	tapio_submit(r);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tapio_process_exit, struct task_struct *p)
{
	/* signal->live reaches 0 when the last thread of the group exits (decremented before
	 * this tracepoint); earlier threads are not processes exiting. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	if (!tapio_task_wanted(p))
		return 0;
	struct tapio_exit *r = tapio_reserve(sizeof(*r));
	if (!r)
		return 0;
	tapio_fill_task(&r->hdr, TAPIO_REC_EXIT, p);
	r->ppid = BPF_CORE_READ(p, real_parent, tgid);
	/* A group exit (signal, exit_group) records the status in signal->group_exit_code. */
	__u32 code = BPF_CORE_READ(p, exit_code);
	__u32 group_code = BPF_CORE_READ(p, signal, group_exit_code);
	r->exit_code = group_code ? group_code : code;
	__u64 started = BPF_CORE_READ(p, start_boottime);
	r->duration_ns = r->hdr.ts_boot_ns > started ? r->hdr.ts_boot_ns - started : 0;
	r->uid = BPF_CORE_READ(p, cred, uid.val);
	r->_pad = 0;
	tapio_submit(r);
	return 0;
}
