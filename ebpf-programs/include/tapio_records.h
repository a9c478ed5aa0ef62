/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed-layout records that the BPF programs write into their ring buffers, and the
 * configuration the loader writes into each object's `tapio_cfg` map. Shared by the BPF
 * programs (compiled with clang -target bpf) and the loader (compiled with cc), and mirrored
 * by receivers/ebpf/src/decode.ts. All fields are little-endian on x86_64/arm64, naturally
 * aligned, no implicit padding: every struct below is a multiple of 8 bytes and the
 * offsets are written next to each field. Change a layout → bump TAPIO_ABI_VERSION.
 */
#ifndef TAPIO_RECORDS_H
#define TAPIO_RECORDS_H

#define TAPIO_ABI_VERSION 1

#define TAPIO_COMM_LEN 16
#define TAPIO_PATH_LEN 128
#define TAPIO_ARGS_LEN 128

enum tapio_record_type {
	TAPIO_REC_OOM = 1,
	TAPIO_REC_EXEC = 2,
	TAPIO_REC_EXIT = 3,
	TAPIO_REC_TCP = 4,
	TAPIO_REC_SYSCALL = 5,
};

/* Common header, 48 bytes. The "task" is the process the event is about. */
struct tapio_hdr {
	__u64 ts_boot_ns;   /*  0: bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;    /*  8: kernfs id of the task's cgroup (memory hierarchy on cgroup v1, else v2) */
	__u32 type;         /* 16: enum tapio_record_type */
	__u32 pid;          /* 20: thread-group id (what userspace calls the pid); 0 = unknown */
	__u32 tid;          /* 24: thread id */
	__u32 cgroup_hier;  /* 28: hierarchy id of cgroup_id: 0 = cgroup v2, >0 = that v1 hierarchy */
	char comm[TAPIO_COMM_LEN]; /* 32 */
};

/* oom: kprobe oom_kill_process. 48 + 80 = 128 bytes. Header = the victim. */
struct tapio_oom {
	struct tapio_hdr hdr;
	__u64 memcg_limit_pages;   /* 48: limit of the memcg that hit its limit; 0 for a global OOM */
	__u64 memcg_usage_pages;   /* 56 */
	__u64 total_pages;         /* 64: oc->totalpages, what the victim was scored against */
	__s64 chosen_points;       /* 72: the victim's badness */
	__u64 victim_total_vm_pages; /* 80 */
	__u64 oom_cgroup_id;       /* 88: the memcg at its limit (may be an ancestor of the victim's) */
	__u32 killer_pid;          /* 96: the task whose allocation triggered the OOM */
	__u32 constraint;          /* 100: enum oom_constraint: 0 none, 1 cpuset, 2 mempolicy, 3 memcg; ~0 unknown */
	char killer_comm[TAPIO_COMM_LEN]; /* 104 */
	__u64 _pad;                /* 120 */
};

/* process: tp_btf sched_process_exec. 48 + 8 + 128 + 128 = 312 bytes. */
struct tapio_exec {
	struct tapio_hdr hdr;
	__u32 ppid;                       /* 48 */
	__u32 uid;                        /* 52 */
	char filename[TAPIO_PATH_LEN];    /* 56 */
	char args[TAPIO_ARGS_LEN];        /* 184: argv, NUL-separated, truncated */
};

/* process: tp_btf sched_process_exit, once per process (last thread). 48 + 24 = 72 bytes. */
struct tapio_exit {
	struct tapio_hdr hdr;
	__u32 ppid;          /* 48 */
	__u32 exit_code;     /* 52: wait status: (status << 8) | core(0x80) | signal(0x7f) */
	__u64 duration_ns;   /* 56: since process start */
	__u32 uid;           /* 64 */
	__u32 _pad;          /* 68 */
};

enum tapio_tcp_kind {
	TAPIO_TCP_REFUSED = 1,    /* RST received in SYN_SENT */
	TAPIO_TCP_RESET = 2,      /* RST received in any other state */
	TAPIO_TCP_RETRANSMIT = 3, /* segment retransmitted */
};

/* tcp: tp_btf tcp_receive_reset / tcp_retransmit_skb. 48 + 48 = 96 bytes.
 * Addresses are as seen from the local socket: saddr = local, daddr = remote. */
struct tapio_tcp {
	struct tapio_hdr hdr;
	__u32 kind;          /* 48: enum tapio_tcp_kind */
	__u16 family;        /* 52: AF_INET (2) / AF_INET6 (10) */
	__u16 sport;         /* 54: host byte order */
	__u16 dport;         /* 56: host byte order */
	__u8 state;          /* 58: TCP state at the time (TCP_SYN_SENT = 2, ...) */
	__u8 owner_known;    /* 59: 1 when pid/comm are the socket's owner (seen at connect) */
	__u32 _pad;          /* 60 */
	__u8 saddr[16];      /* 64: IPv4 in the first 4 bytes */
	__u8 daddr[16];      /* 80 */
};

enum tapio_syscall {
	TAPIO_SYS_MMAP = 1,
	TAPIO_SYS_BRK = 2,
	TAPIO_SYS_CONNECT = 3,
	TAPIO_SYS_OPEN = 4,
};

/* syscall_errors: syscalls:sys_enter_* / sys_exit_*. 48 + 40 + 128 = 216 bytes. */
struct tapio_syscall_err {
	struct tapio_hdr hdr;
	__s64 ret;            /* 48: the negative errno (brk: the unchanged break) */
	__u64 arg;            /* 56: mmap length / brk requested break / open flags */
	__u32 syscall;        /* 64: enum tapio_syscall */
	__u16 family;         /* 68: connect: address family */
	__u16 port;           /* 70: connect: host byte order */
	__u8 addr[16];        /* 72: connect: address */
	char path[TAPIO_PATH_LEN]; /* 88: open: the path */
};

/* Per-object configuration, one entry in the `tapio_cfg` array map; written by the loader. */
struct tapio_config {
	__u32 filter_pids;     /* 1: only tasks whose pid is in `tapio_pids` */
	__u32 filter_comms;    /* 1: only tasks whose comm is in `tapio_comms` */
	__u32 sample_every;    /* keep 1 in N records (0/1: all); never applied to oom */
	__u32 rate_limit;      /* records per second for this object, all CPUs; 0: unlimited */
	__u64 ignore_errnos[4];/* syscall_errors: bitmap of errnos (< 256) not to report */
};

/* Indexes into the per-CPU `tapio_stats` array. */
enum tapio_stat {
	TAPIO_STAT_EMITTED = 0,
	TAPIO_STAT_LOST = 1,        /* ring buffer full */
	TAPIO_STAT_RATE_LIMITED = 2,
	TAPIO_STAT_SAMPLED_OUT = 3,
	TAPIO_STAT_COUNT = 4,
};

#endif
