/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp — refused connections, resets and retransmits, with the 4-tuple and, where knowable,
 * the owning process.
 *
 * Hooks:
 *  - tp_btf/inet_sock_set_state: CLOSE → SYN_SENT happens inside connect(), in the caller's
 *    context, so it records the socket's owner (pid, tid, comm, cgroup) in an LRU map keyed
 *    by the socket; → CLOSE forgets it.
 *  - tp_btf/tcp_receive_reset: an RST arrived. In SYN_SENT that is a refused connection
 *    (the kernel reports ECONNREFUSED), in any other state a reset.
 *  - tp_btf/tcp_retransmit_skb: a segment was retransmitted.
 * RSTs and retransmits are handled in softirq context, where "current" is whoever was on the
 * CPU, so pid/comm/cgroup come from the owner map; sockets not opened by connect() (accepted
 * ones) have owner_known = 0 and pid 0.
 *
 * Record: struct tapio_tcp (96 bytes). Overhead: state changes happen a few times per
 * connection (one map update/delete each); resets and retransmits are rare on a healthy host
 * and subject to `sampling`/`rate_limit` when they are not.
 */
#include "tapio_common.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define IPPROTO_TCP 6

struct tapio_owner {
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__u32 cgroup_hier;
	__u32 _pad;
	char comm[TAPIO_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tapio_owner);
} tapio_sock_owner SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tapio_tcp_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT) {
		struct tapio_owner o = {};
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		__u64 pid_tgid = bpf_get_current_pid_tgid();
		o.pid = pid_tgid >> 32;
		o.tid = (__u32)pid_tgid;
		bpf_get_current_comm(&o.comm, sizeof(o.comm));
		tapio_task_cgroup(task, &o.cgroup_id, &o.cgroup_hier);
		bpf_map_update_elem(&tapio_sock_owner, &key, &o, BPF_ANY);
	} else if (newstate == TCP_CLOSE) {
		/* tcp_receive_reset runs before the socket moves to CLOSE, so this is safe. */
		bpf_map_delete_elem(&tapio_sock_owner, &key);
	}
	return 0;
}

static __always_inline int tapio_tcp_emit(const struct sock *sk, __u32 kind)
{
	struct tapio_config *cfg = tapio_config();
	__u64 key = (__u64)sk;
	struct tapio_owner *o = bpf_map_lookup_elem(&tapio_sock_owner, &key);
	char nocomm[TAPIO_COMM_LEN] = {};

	if (tapio_filtered(cfg, o ? o->pid : 0, o ? o->comm : nocomm))
		return 0;
	if (!tapio_admit(cfg, false))
		return 0;
	struct tapio_tcp *r = tapio_reserve(sizeof(*r));
	if (!r)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	r->hdr.ts_boot_ns = bpf_ktime_get_boot_ns();
	r->hdr.type = TAPIO_REC_TCP;
	if (o) {
		r->hdr.pid = o->pid;
		r->hdr.tid = o->tid;
		r->hdr.cgroup_id = o->cgroup_id;
		r->hdr.cgroup_hier = o->cgroup_hier;
		__builtin_memcpy(r->hdr.comm, o->comm, sizeof(r->hdr.comm));
		r->owner_known = 1;
	}
	r->kind = kind;
	r->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	r->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (r->family == AF_INET) {
		/* __be32 fields: the first 4 bytes of the 16-byte address */
		bpf_core_read(r->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(r->daddr, 4, &sk->__sk_common.skc_daddr);
	} else if (r->family == AF_INET6) {
		BPF_CORE_READ_INTO(&r->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	tapio_submit(r);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tapio_tcp_receive_reset, struct sock *sk)
{
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	return tapio_tcp_emit(sk, state == TCP_SYN_SENT ? TAPIO_TCP_REFUSED : TAPIO_TCP_RESET);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tapio_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	return tapio_tcp_emit(sk, TAPIO_TCP_RETRANSMIT);
}
