/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syscall_errors — failed mmap, brk, connect and open/openat/openat2.
 *
 * Hooks: the per-syscall tracepoints syscalls:sys_enter_X / sys_exit_X (need tracefs and
 * CONFIG_FTRACE_SYSCALLS). The enter side remembers the arguments (length, requested break,
 * sockaddr pointer, path pointer) by thread id; the exit side emits a record when the call
 * failed: ret < 0 and its errno not in `ignore_errnos`, or for brk a break that did not
 * move where it was asked to (brk reports failure that way, ENOMEM in practice). The loader
 * only attaches the syscalls listed in `syscall_errors.syscalls`.
 *
 * Record: struct tapio_syscall_err (216 bytes): ret, the length/break/flags argument, the
 * connect destination, the open path.
 *
 * Overhead: only the chosen syscalls are traced (not raw_syscalls, which fires on every
 * syscall): a hash update on enter and a lookup+delete on exit, ~0.2–0.5 µs per traced call.
 * openat is the hot one (thousands/s on a busy host). Records are rate limited in kernel
 * (`rate_limit`, default 100/s for this program).
 */
#include "tapio_common.bpf.h"

struct tapio_sys_args {
	__u64 arg;      /* mmap length, brk request, open flags */
	__u64 ptr;      /* connect sockaddr / open path (user pointers) */
	__u32 syscall;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* entries of threads that die mid-call must not fill it */
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct tapio_sys_args);
} tapio_sys_inflight SEC(".maps");

static __always_inline int tapio_enter(__u32 syscall, __u64 arg, __u64 ptr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tapio_sys_args a = { .arg = arg, .ptr = ptr, .syscall = syscall };
	bpf_map_update_elem(&tapio_sys_inflight, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline bool tapio_ignored(struct tapio_config *cfg, long ret)
{
	if (ret >= 0 || ret < -255 || !cfg)
		return ret >= 0;
	__u32 e = (__u32)(-ret) & 255;
	return (cfg->ignore_errnos[e >> 6] >> (e & 63)) & 1;
}

static __always_inline int tapio_exit(__u32 syscall, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tapio_sys_args *a = bpf_map_lookup_elem(&tapio_sys_inflight, &tid);
	if (!a)
		return 0;
	struct tapio_sys_args args = *a;
	bpf_map_delete_elem(&tapio_sys_inflight, &tid);
	if (args.syscall != syscall)
		return 0;

	struct tapio_config *cfg = tapio_config();
	if (syscall == TAPIO_SYS_BRK) {
		/* brk(0) asks for the current break; otherwise success returns the request. */
		if (args.arg == 0 || (__u64)ret == args.arg)
			return 0;
	} else if (tapio_ignored(cfg, ret)) {
		return 0;
	}
	char comm[TAPIO_COMM_LEN] = {};
	bpf_get_current_comm(&comm, sizeof(comm));
	if (tapio_filtered(cfg, bpf_get_current_pid_tgid() >> 32, comm) || !tapio_admit(cfg, false))
		return 0;

	struct tapio_syscall_err *r = tapio_reserve(sizeof(*r));
	if (!r)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	tapio_fill_current(&r->hdr, TAPIO_REC_SYSCALL);
	r->ret = ret;
	r->arg = args.arg;
	r->syscall = syscall;
	if (syscall == TAPIO_SYS_CONNECT && args.ptr) {
		__u16 family = 0;
		bpf_probe_read_user(&family, sizeof(family), (void *)args.ptr);
		r->family = family;
		if (family == 2 || family == 10) {
			__u16 port = 0;
			bpf_probe_read_user(&port, sizeof(port), (void *)(args.ptr + 2));
			r->port = __builtin_bswap16(port);
			if (family == 2)
				bpf_probe_read_user(r->addr, 4, (void *)(args.ptr + 4));
			else
				bpf_probe_read_user(r->addr, 16, (void *)(args.ptr + 8));
		}
	} else if (syscall == TAPIO_SYS_OPEN && args.ptr) {
		bpf_probe_read_user_str(r->path, sizeof(r->path), (void *)args.ptr);
	}
	tapio_submit(r);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int tapio_enter_mmap(struct syscall_trace_enter *ctx) { return tapio_enter(TAPIO_SYS_MMAP, ctx->args[1], 0); }
SEC("tracepoint/syscalls/sys_exit_mmap")
int tapio_exit_mmap(struct syscall_trace_exit *ctx) { return tapio_exit(TAPIO_SYS_MMAP, ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_brk")
int tapio_enter_brk(struct syscall_trace_enter *ctx) { return tapio_enter(TAPIO_SYS_BRK, ctx->args[0], 0); }
SEC("tracepoint/syscalls/sys_exit_brk")
int tapio_exit_brk(struct syscall_trace_exit *ctx) { return tapio_exit(TAPIO_SYS_BRK, ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_connect")
int tapio_enter_connect(struct syscall_trace_enter *ctx) { return tapio_enter(TAPIO_SYS_CONNECT, 0, ctx->args[1]); }
SEC("tracepoint/syscalls/sys_exit_connect")
int tapio_exit_connect(struct syscall_trace_exit *ctx) { return tapio_exit(TAPIO_SYS_CONNECT, ctx->ret); }

/* open(path, flags, mode) exists on x86_64 only; the loader skips it where it is missing. */
SEC("tracepoint/syscalls/sys_enter_open")
int tapio_enter_open(struct syscall_trace_enter *ctx) { return tapio_enter(TAPIO_SYS_OPEN, ctx->args[1], ctx->args[0]); }
SEC("tracepoint/syscalls/sys_exit_open")
int tapio_exit_open(struct syscall_trace_exit *ctx) { return tapio_exit(TAPIO_SYS_OPEN, ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_openat")
int tapio_enter_openat(struct syscall_trace_enter *ctx) { return tapio_enter(TAPIO_SYS_OPEN, ctx->args[2], ctx->args[1]); }
SEC("tracepoint/syscalls/sys_exit_openat")
int tapio_exit_openat(struct syscall_trace_exit *ctx) { return tapio_exit(TAPIO_SYS_OPEN, ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_openat2")
int tapio_enter_openat2(struct syscall_trace_enter *ctx) { return tapio_enter(TAPIO_SYS_OPEN, 0, ctx->args[1]); }
SEC("tracepoint/syscalls/sys_exit_openat2")
int tapio_exit_openat2(struct syscall_trace_exit *ctx) { return tapio_exit(TAPIO_SYS_OPEN, ctx->ret); }
