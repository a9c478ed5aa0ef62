// SPDX-License-Identifier: Apache-2.0
/*
 * tapio-ebpf-loader: loads Tapio's CO-RE BPF objects, attaches them, and streams their
 * ring-buffer records to stdout for @tapio/receiver-ebpf.
 *
 * A separate process rather than a Node addon: a crash or a verifier/libbpf bug here cannot
 * take the collector down, only this process needs CAP_BPF/CAP_PERFMON (it can carry file
 * capabilities while the collector runs unprivileged), and it does not depend on Node's ABI.
 * The cost is one pipe hop, amortised by writing records in large batches.
 *
 * Output: frames of  u32 length (bytes after this field) | u32 frame type | body
 *   type 1  record: u32 program index, then the raw record (tapio_records.h)
 *   type 2  JSON line: {"t":"ready"|"stats"|"cgroup"|"warn"|"error", ...}
 * When stdout is slow the writes block, the ring buffers fill and the programs count lost
 * records (reported in "stats"): back-pressure never grows memory here.
 *
 * Exit codes: 0 stopped by SIGTERM/SIGINT/parent exit; 2 a prerequisite is missing (an
 * "error" frame says which and how to fix it); 3 load/attach failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tapio_records.h"

#define MAX_PROGRAMS 4
#define MAX_FILTERS 256
#define FRAME_RECORD 1
#define FRAME_JSON 2
#define FILEID_KERNFS 0xfe

static const char *const program_names[MAX_PROGRAMS] = { "oom", "tcp", "process", "syscall_errors" };

struct program {
	const char *name;
	bool wanted;
	bool loaded;
	struct bpf_object *obj;
	int stats_fd;
	__u32 rate_limit;
	__u32 sample_every;
};

static struct program programs[MAX_PROGRAMS];
static struct {
	const char *dir;
	__u32 ringbuf_bytes;
	int stats_interval_ms;
	bool best_effort;
	__u32 pids[MAX_FILTERS];
	int npids;
	char comms[MAX_FILTERS][TAPIO_COMM_LEN];
	int ncomms;
	__u64 ignore_errnos[4];
	bool syscalls[5]; /* indexed by enum tapio_syscall */
} opt = { .dir = ".", .ringbuf_bytes = 1 << 20, .stats_interval_ms = 1000 };

static volatile sig_atomic_t stopping;

/* ---- output ---------------------------------------------------------------------------- */

static char outbuf[1 << 18];
static size_t outlen;

static void flush_out(void)
{
	size_t off = 0;
	while (off < outlen) {
		ssize_t n = write(STDOUT_FILENO, outbuf + off, outlen - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			exit(0); /* the receiver went away */
		}
		off += (size_t)n;
	}
	outlen = 0;
}

static void put_frame(__u32 type, const void *a, size_t alen, const void *b, size_t blen)
{
	__u32 head[2] = { (__u32)(4 + alen + blen), type };
	if (outlen + sizeof(head) + alen + blen > sizeof(outbuf))
		flush_out();
	memcpy(outbuf + outlen, head, sizeof(head));
	outlen += sizeof(head);
	if (alen) memcpy(outbuf + outlen, a, alen);
	outlen += alen;
	if (blen) memcpy(outbuf + outlen, b, blen);
	outlen += blen;
}

static void put_json(const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0) return;
	if ((size_t)n >= sizeof(line)) n = sizeof(line) - 1;
	put_frame(FRAME_JSON, line, (size_t)n, NULL, 0);
}

/* JSON string escaping for paths and messages (quotes, backslashes, control chars). */
static const char *json_str(const char *s, char *buf, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') { buf[o++] = '\\'; buf[o++] = (char)c; }
		else if (c < 0x20) o += (size_t)snprintf(buf + o, cap - o, "\\u%04x", c);
		else buf[o++] = (char)c;
	}
	buf[o] = 0;
	return buf;
}

/* Prints a clear "what is missing, how to fix it" error and exits 2. */
static void fatal_missing(const char *missing, const char *fix)
{
	char a[1024], b[1024];
	put_json("{\"t\":\"error\",\"missing\":\"%s\",\"fix\":\"%s\"}", json_str(missing, a, sizeof(a)), json_str(fix, b, sizeof(b)));
	flush_out();
	fprintf(stderr, "tapio-ebpf-loader: %s; %s\n", missing, fix);
	exit(2);
}

static void fatal_load(const char *fmt, ...)
{
	char msg[1024], esc[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_json("{\"t\":\"error\",\"message\":\"%s\"}", json_str(msg, esc, sizeof(esc)));
	flush_out();
	fprintf(stderr, "tapio-ebpf-loader: %s\n", msg);
	exit(3);
}

static void warn(const char *fmt, ...)
{
	char msg[1024], esc[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_json("{\"t\":\"warn\",\"message\":\"%s\"}", json_str(msg, esc, sizeof(esc)));
}

/* ---- clocks ---------------------------------------------------------------------------- */

/* Wall clock minus boot clock: added to bpf_ktime_get_boot_ns() gives unix ns. */
static long long realtime_minus_boottime(void)
{
	struct timespec r, b;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_BOOTTIME, &b);
	return (r.tv_sec - b.tv_sec) * 1000000000LL + (r.tv_nsec - b.tv_nsec);
}

/* ---- cgroup id → path ------------------------------------------------------------------ */

struct hier_mount {
	int hier;
	int fd;
	char path[PATH_MAX];
};
static struct hier_mount mounts[8];
static int nmounts;

/* Finds the cgroup v2 mount (hierarchy 0) and the cgroup v1 memory mount (if any). */
static void find_cgroup_mounts(void)
{
	int memory_hier = -1;
	char line[4096];
	FILE *f = fopen("/proc/cgroups", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char name[64];
			int hier;
			if (sscanf(line, "%63s %d", name, &hier) == 2 && strcmp(name, "memory") == 0)
				memory_hier = hier;
		}
		fclose(f);
	}
	f = fopen("/proc/self/mountinfo", "r");
	if (!f) return;
	while (fgets(line, sizeof(line), f) && nmounts < 8) {
		/* id parent major:minor root mountpoint opts ... - fstype source superopts */
		char mnt[PATH_MAX], fstype[64], superopts[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1) continue;
		if (sscanf(dash + 3, "%63s %*s %1023s", fstype, superopts) != 2) continue;
		int hier = -1;
		if (strcmp(fstype, "cgroup2") == 0) hier = 0;
		else if (strcmp(fstype, "cgroup") == 0 && memory_hier > 0 && strstr(superopts, "memory")) hier = memory_hier;
		if (hier < 0) continue;
		bool dup = false;
		for (int i = 0; i < nmounts; i++) dup |= mounts[i].hier == hier;
		if (dup) continue;
		int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) continue;
		mounts[nmounts].hier = hier;
		mounts[nmounts].fd = fd;
		snprintf(mounts[nmounts].path, sizeof(mounts[nmounts].path), "%s", mnt);
		nmounts++;
	}
	fclose(f);
}

/* The cgroup's path inside its hierarchy ("/kubepods/..."), or "" when it is gone. */
static void cgroup_path(__u64 id, __u32 hier, char *out, size_t cap)
{
	out[0] = 0;
	for (int i = 0; i < nmounts; i++) {
		if (mounts[i].hier != (int)hier) continue;
		struct { struct file_handle fh; __u64 id; } h = { .fh = { .handle_bytes = 8, .handle_type = FILEID_KERNFS }, .id = id };
		int fd = open_by_handle_at(mounts[i].fd, &h.fh, O_RDONLY | O_CLOEXEC);
		if (fd < 0) return;
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		close(fd);
		if (n <= 0) return;
		target[n] = 0;
		size_t plen = strlen(mounts[i].path);
		const char *rel = strncmp(target, mounts[i].path, plen) == 0 ? target + plen : target;
		snprintf(out, cap, "%s", *rel ? rel : "/");
		return;
	}
}

/* Remembers which cgroups were already announced; cleared when it fills (re-announcing is harmless). */
#define SEEN_SLOTS 8192
static __u64 seen[SEEN_SLOTS];
static int nseen;

static bool first_sight(__u64 id, __u32 hier)
{
	__u64 key = (id << 4) ^ hier ^ 1; /* never 0 */
	__u64 i = (key * 0x9E3779B97F4A7C15ULL) >> 51;
	for (;;) {
		if (seen[i] == key) return false;
		if (seen[i] == 0) break;
		i = (i + 1) & (SEEN_SLOTS - 1);
	}
	if (nseen > SEEN_SLOTS * 3 / 4) {
		memset(seen, 0, sizeof(seen));
		nseen = 0;
		return first_sight(id, hier);
	}
	seen[i] = key;
	nseen++;
	return true;
}

/* ---- ring buffer ------------------------------------------------------------------------ */

static int on_record(void *ctx, void *data, size_t size)
{
	__u32 prog = (__u32)(uintptr_t)ctx;
	if (size < sizeof(struct tapio_hdr)) return 0;
	const struct tapio_hdr *h = data;
	if (h->cgroup_id && first_sight(h->cgroup_id, h->cgroup_hier)) {
		char path[PATH_MAX], esc[PATH_MAX * 2];
		cgroup_path(h->cgroup_id, h->cgroup_hier, path, sizeof(path));
		put_json("{\"t\":\"cgroup\",\"id\":\"%llu\",\"hier\":%u,\"path\":\"%s\"}",
			 (unsigned long long)h->cgroup_id, h->cgroup_hier, json_str(path, esc, sizeof(esc)));
	}
	put_frame(FRAME_RECORD, &prog, sizeof(prog), data, size);
	return 0;
}

/* ---- prerequisites ---------------------------------------------------------------------- */

static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {};
	if (syscall(SYS_capget, &hdr, data) != 0) return false;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

static bool dir_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void check_prerequisites(void)
{
	/* CAP_BPF = 39, CAP_PERFMON = 38 (Linux 5.8+); CAP_SYS_ADMIN = 21 covers both. */
	bool privileged = has_cap(21) || (has_cap(39) && has_cap(38));
	if (!privileged) {
		char missing[256];
		snprintf(missing, sizeof(missing),
			 "insufficient privileges: loading eBPF programs needs root or CAP_BPF+CAP_PERFMON (running as uid %u without them)",
			 (unsigned)geteuid());
		fatal_missing(missing,
			      "run the collector as root, or grant the loader capabilities: setcap cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_admin+ep <receivers/ebpf/native/tapio-ebpf-loader>, or set optional: true to run without kernel events");
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		fatal_missing("kernel BTF missing: /sys/kernel/btf/vmlinux is not readable",
			      "CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian/Ubuntu/RHEL kernels >= 5.8 have it); upgrade the kernel or set optional: true");
	if (programs[3].wanted && !dir_exists("/sys/kernel/tracing/events") && !dir_exists("/sys/kernel/debug/tracing/events")) {
		/* syscalls:* tracepoints are looked up in tracefs; mount it when we may. */
		if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0 || !dir_exists("/sys/kernel/tracing/events")) {
			char missing[256];
			snprintf(missing, sizeof(missing), "tracefs is not mounted at /sys/kernel/tracing and mounting it failed (%s)", strerror(errno));
			if (opt.best_effort) {
				/* only syscall_errors needs tracefs: run the others */
				warn("skipping syscall_errors: %s; mount it as root: mount -t tracefs nodev /sys/kernel/tracing", missing);
				programs[3].wanted = false;
				return;
			}
			fatal_missing(missing, "mount it as root: mount -t tracefs nodev /sys/kernel/tracing (or drop syscall_errors from programs)");
		}
		warn("mounted tracefs at /sys/kernel/tracing");
	}
}

/* ---- loading ---------------------------------------------------------------------------- */

static bool tracepoint_exists(const char *category, const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "/sys/kernel/tracing/events/%s/%s", category, name);
	if (dir_exists(p)) return true;
	snprintf(p, sizeof(p), "/sys/kernel/debug/tracing/events/%s/%s", category, name);
	return dir_exists(p);
}

/* syscall_errors: attach only the chosen syscalls, and only those this kernel has. */
static void select_syscalls(struct bpf_object *obj)
{
	static const struct { const char *suffix; int sys; } table[] = {
		{ "mmap", TAPIO_SYS_MMAP }, { "brk", TAPIO_SYS_BRK }, { "connect", TAPIO_SYS_CONNECT },
		{ "open", TAPIO_SYS_OPEN }, { "openat", TAPIO_SYS_OPEN }, { "openat2", TAPIO_SYS_OPEN },
	};
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p); /* tapio_enter_X / tapio_exit_X */
		const char *suffix = strchr(name + 6, '_');
		bool keep = false;
		if (suffix) {
			suffix++;
			for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
				if (strcmp(suffix, table[i].suffix) != 0) continue;
				char tp[64];
				snprintf(tp, sizeof(tp), "sys_%s_%s", strncmp(name, "tapio_enter", 11) == 0 ? "enter" : "exit", suffix);
				keep = opt.syscalls[table[i].sys] && tracepoint_exists("syscalls", tp);
			}
		}
		bpf_program__set_autoload(p, keep);
	}
}

static int configure(struct program *pr)
{
	struct tapio_config cfg = {
		.filter_pids = opt.npids > 0,
		.filter_comms = opt.ncomms > 0,
		.sample_every = pr->sample_every,
		.rate_limit = pr->rate_limit,
	};
	memcpy(cfg.ignore_errnos, opt.ignore_errnos, sizeof(cfg.ignore_errnos));
	__u32 zero = 0;
	__u8 one = 1;
	int fd = bpf_object__find_map_fd_by_name(pr->obj, "tapio_cfg");
	if (fd < 0 || bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) != 0) return -1;
	fd = bpf_object__find_map_fd_by_name(pr->obj, "tapio_pids");
	for (int i = 0; i < opt.npids; i++)
		if (bpf_map_update_elem(fd, &opt.pids[i], &one, BPF_ANY) != 0) return -1;
	fd = bpf_object__find_map_fd_by_name(pr->obj, "tapio_comms");
	for (int i = 0; i < opt.ncomms; i++)
		if (bpf_map_update_elem(fd, opt.comms[i], &one, BPF_ANY) != 0) return -1;
	pr->stats_fd = bpf_object__find_map_fd_by_name(pr->obj, "tapio_stats");
	return 0;
}

static bool is_optional(struct bpf_program *p)
{
	const char *n = bpf_program__name(p);
	size_t len = strlen(n);
	return len > 4 && strcmp(n + len - 4, "_opt") == 0;
}

/* Opens and loads one object; `with_optional` false drops programs named *_opt. */
static const char *open_and_load(struct program *pr, bool with_optional, char *err, size_t cap)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.bpf.o", opt.dir, pr->name);
	pr->obj = bpf_object__open_file(path, NULL);
	if (!pr->obj) {
		snprintf(err, cap, "cannot open %.900s: %s", path, strerror(errno));
		return err;
	}
	struct bpf_map *rb = bpf_object__find_map_by_name(pr->obj, "tapio_events");
	if (rb) bpf_map__set_max_entries(rb, opt.ringbuf_bytes);
	if (strcmp(pr->name, "syscall_errors") == 0) select_syscalls(pr->obj);
	struct bpf_program *p;
	if (!with_optional)
		bpf_object__for_each_program(p, pr->obj) if (is_optional(p)) bpf_program__set_autoload(p, false);
	if (bpf_object__load(pr->obj) != 0) {
		snprintf(err, cap, "%s: the kernel refused the BPF object (%s); run the loader by hand for the libbpf log", pr->name, strerror(errno));
		bpf_object__close(pr->obj);
		pr->obj = NULL;
		return err;
	}
	return NULL;
}

/*
 * Opens, loads, configures and attaches one object. Programs named *_opt only add detail:
 * when one cannot be loaded or attached here, the object is loaded again without them.
 * Returns an error text or NULL.
 */
static const char *load_program(struct program *pr, char *err, size_t cap)
{
	bool with_optional = true;
	char first[512] = "";
	for (;;) {
		const char *e = open_and_load(pr, with_optional, err, cap);
		if (e && with_optional) { snprintf(first, sizeof(first), "%.500s", e); with_optional = false; continue; }
		if (e) return e;
		if (configure(pr) != 0) {
			snprintf(err, cap, "%s: cannot write its config maps: %s", pr->name, strerror(errno));
			return err;
		}
		struct bpf_program *p;
		bool retry = false;
		bpf_object__for_each_program(p, pr->obj) {
			if (!bpf_program__autoload(p)) continue;
			/* The link stays attached until the process exits; that is the lifetime we want. */
			if (bpf_program__attach(p)) continue;
			snprintf(err, cap, "%s: cannot attach %s (%s): %s", pr->name, bpf_program__name(p), bpf_program__section_name(p), strerror(errno));
			if (is_optional(p) && with_optional) { snprintf(first, sizeof(first), "%.500s", err); retry = true; break; }
			return err;
		}
		if (!retry) {
			if (!with_optional) warn("%s: running without its optional hooks (%.400s)", pr->name, first);
			return NULL;
		}
		bpf_object__close(pr->obj); /* also detaches what was attached */
		pr->obj = NULL;
		with_optional = false;
	}
}

static void emit_stats(void)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(__u64));
	char body[2048];
	size_t o = 0;
	o += (size_t)snprintf(body + o, sizeof(body) - o, "{\"t\":\"stats\",\"clock_offset_ns\":\"%lld\",\"programs\":{", realtime_minus_boottime());
	bool first = true;
	for (int i = 0; i < MAX_PROGRAMS && vals; i++) {
		struct program *pr = &programs[i];
		if (!pr->loaded) continue;
		__u64 sums[TAPIO_STAT_COUNT] = {};
		for (__u32 s = 0; s < TAPIO_STAT_COUNT; s++) {
			if (bpf_map_lookup_elem(pr->stats_fd, &s, vals) != 0) continue;
			for (int c = 0; c < ncpu; c++) sums[s] += vals[c];
		}
		o += (size_t)snprintf(body + o, sizeof(body) - o,
				      "%s\"%s\":{\"emitted\":%llu,\"lost\":%llu,\"rate_limited\":%llu,\"sampled_out\":%llu}",
				      first ? "" : ",", pr->name, (unsigned long long)sums[TAPIO_STAT_EMITTED],
				      (unsigned long long)sums[TAPIO_STAT_LOST], (unsigned long long)sums[TAPIO_STAT_RATE_LIMITED],
				      (unsigned long long)sums[TAPIO_STAT_SAMPLED_OUT]);
		first = false;
	}
	free(vals);
	snprintf(body + o, sizeof(body) - o, "}}");
	put_json("%s", body);
}

/* ---- arguments -------------------------------------------------------------------------- */

static int program_index(const char *name)
{
	for (int i = 0; i < MAX_PROGRAMS; i++)
		if (strcmp(program_names[i], name) == 0) return i;
	return -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tapio-ebpf-loader --dir DIR --programs oom,tcp,process,syscall_errors [--best-effort]\n"
		"       [--ringbuf-bytes N] [--pid N]... [--comm NAME]... [--rate-limit PROG=N]... [--sample PROG=N]...\n"
		"       [--syscalls mmap,brk,connect,open] [--ignore-errno N]... [--stats-interval-ms N]\n");
	exit(64);
}

static void parse_prog_value(const char *arg, bool rate)
{
	char name[64];
	unsigned long v;
	if (sscanf(arg, "%63[^=]=%lu", name, &v) != 2 || program_index(name) < 0) usage();
	if (rate) programs[program_index(name)].rate_limit = (__u32)v;
	else programs[program_index(name)].sample_every = (__u32)v;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 0; i < MAX_PROGRAMS; i++) programs[i].name = program_names[i];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--best-effort") == 0) { opt.best_effort = true; continue; }
		if (!v) usage();
		i++;
		if (strcmp(a, "--dir") == 0) opt.dir = v;
		else if (strcmp(a, "--programs") == 0 || strcmp(a, "--syscalls") == 0) {
			char *list = strdup(v), *save = NULL;
			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (a[2] == 'p') {
					int idx = program_index(t);
					if (idx < 0) usage();
					programs[idx].wanted = true;
				} else if (strcmp(t, "mmap") == 0) opt.syscalls[TAPIO_SYS_MMAP] = true;
				else if (strcmp(t, "brk") == 0) opt.syscalls[TAPIO_SYS_BRK] = true;
				else if (strcmp(t, "connect") == 0) opt.syscalls[TAPIO_SYS_CONNECT] = true;
				else if (strcmp(t, "open") == 0) opt.syscalls[TAPIO_SYS_OPEN] = true;
				else usage();
			}
			free(list);
		} else if (strcmp(a, "--ringbuf-bytes") == 0) opt.ringbuf_bytes = (__u32)strtoul(v, NULL, 10);
		else if (strcmp(a, "--stats-interval-ms") == 0) opt.stats_interval_ms = atoi(v);
		else if (strcmp(a, "--pid") == 0 && opt.npids < MAX_FILTERS) opt.pids[opt.npids++] = (__u32)strtoul(v, NULL, 10);
		else if (strcmp(a, "--comm") == 0 && opt.ncomms < MAX_FILTERS) strncpy(opt.comms[opt.ncomms++], v, TAPIO_COMM_LEN - 1);
		else if (strcmp(a, "--rate-limit") == 0) parse_prog_value(v, true);
		else if (strcmp(a, "--sample") == 0) parse_prog_value(v, false);
		else if (strcmp(a, "--ignore-errno") == 0) {
			unsigned long e = strtoul(v, NULL, 10);
			if (e < 256) opt.ignore_errnos[e >> 6] |= 1ULL << (e & 63);
		} else usage();
	}
	/* A ring buffer must be a power-of-two multiple of the page size. */
	__u32 page = (__u32)sysconf(_SC_PAGESIZE), size = page;
	while (size < opt.ringbuf_bytes && size < (1U << 30)) size <<= 1;
	opt.ringbuf_bytes = size;
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG) return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the collector */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(libbpf_log);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);

	/* A bigger pipe gives the receiver more slack before the ring buffers have to absorb a stall. */
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
	check_prerequisites();
	find_cgroup_mounts();

	struct ring_buffer *rb = NULL;
	char names[256] = "", err[1024];
	for (int i = 0; i < MAX_PROGRAMS; i++) {
		struct program *pr = &programs[i];
		if (!pr->wanted) continue;
		const char *e = load_program(pr, err, sizeof(err));
		if (e) {
			if (!opt.best_effort) fatal_load("%s", e);
			warn("skipping %s", e);
			continue;
		}
		int fd = bpf_object__find_map_fd_by_name(pr->obj, "tapio_events");
		if (!rb) rb = ring_buffer__new(fd, on_record, (void *)(uintptr_t)i, NULL);
		else if (ring_buffer__add(rb, fd, on_record, (void *)(uintptr_t)i) != 0) rb = NULL;
		if (!rb) fatal_load("%s: cannot open its ring buffer: %s", pr->name, strerror(errno));
		pr->loaded = true;
		size_t n = strlen(names);
		snprintf(names + n, sizeof(names) - n, "%s\"%s\"", n ? "," : "", pr->name);
	}
	if (!rb) fatal_load("no program could be loaded");

	put_json("{\"t\":\"ready\",\"abi\":%d,\"programs\":[%s],\"clock_offset_ns\":\"%lld\",\"ringbuf_bytes\":%u,\"page_size\":%ld}",
		 TAPIO_ABI_VERSION, names, realtime_minus_boottime(), opt.ringbuf_bytes, sysconf(_SC_PAGESIZE));
	flush_out();

	struct timespec last, now;
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!stopping) {
		int n = ring_buffer__poll(rb, 100);
		if (n < 0 && n != -EINTR) fatal_load("ring buffer poll failed: %s", strerror(-n));
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long ms = (now.tv_sec - last.tv_sec) * 1000LL + (now.tv_nsec - last.tv_nsec) / 1000000;
		if (ms >= opt.stats_interval_ms) {
			emit_stats();
			last = now;
		}
		flush_out();
	}
	/* Drain what is already in the buffers, report final counts, then detach by exiting. */
	ring_buffer__consume(rb);
	emit_stats();
	flush_out();
	ring_buffer__free(rb);
	for (int i = 0; i < MAX_PROGRAMS; i++)
		if (programs[i].obj) bpf_object__close(programs[i].obj);
	return 0;
}
