/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A BPF LSM program, built by hand (no compiler, no libbpf): on the
 * security_file_permission() hook, refuse MAY_WRITE with EPERM to one
 * process, whichever file it writes. An LSM sees the task that writes as
 * current, and current's credentials; the program tells which task it is
 * by its thread group id.
 *
 * Needs "bpf" among the active LSMs (/sys/kernel/security/lsm; Debian's
 * kernels have it in CONFIG_LSM) and the kernel's BTF, to name the hook.
 */
#ifndef BSDMEM_BPF_LSM_H
#define BSDMEM_BPF_LSM_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#define BPF_LSM_MAY_WRITE	2	/* include/linux/fs.h */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static long bpf_lsm_sys(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Is the BPF LSM active? Read the list of LSMs; 0 if it cannot be read. */
static int bpf_lsm_active(void)
{
	char list[512] = "";
	int fd = open("/sys/kernel/security/lsm", O_RDONLY);
	ssize_t n;
	char *tok, *save;

	if (fd < 0)
		return 0;
	n = read(fd, list, sizeof(list) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	list[n] = 0;
	for (tok = strtok_r(list, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

/* Bytes that follow a struct btf_type of this kind, -1 if unknown. */
static long btf_extra(const struct btf_type *t)
{
	unsigned int vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
		return 4;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return 4;
	case 19:			/* BTF_KIND_ENUM64 */
		return (long)vlen * 12;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	}
	return -1;
}

/*
 * The BTF id of the kernel function name (a BTF_KIND_FUNC), from
 * /sys/kernel/btf/vmlinux; 0 if there is no BTF or no such function, -1
 * if the BTF holds a kind this parser does not know.
 */
static long btf_vmlinux_func(const char *name)
{
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
	const struct btf_header *h;
	const char *types, *strs, *p;
	size_t len = 0, cap = 1 << 22;
	char *buf = malloc(cap);
	long id = 1, found = 0;
	ssize_t n;

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return 0;
	}
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			char *more = realloc(buf, cap * 2);

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
	}
	close(fd);
	h = (const void *)buf;
	if (len < sizeof(*h) || h->magic != BTF_MAGIC ||
	    h->hdr_len + h->str_off + h->str_len > len) {
		free(buf);
		return 0;
	}
	types = buf + h->hdr_len + h->type_off;
	strs = buf + h->hdr_len + h->str_off;
	for (p = types; p < types + h->type_len; id++) {
		const struct btf_type *t = (const void *)p;
		long extra = btf_extra(t);

		if (extra < 0) {
			found = -1;
			break;
		}
		if (BTF_INFO_KIND(t->info) == BTF_KIND_FUNC &&
		    t->name_off < h->str_len && !strcmp(strs + t->name_off, name)) {
			found = id;
			break;
		}
		p += sizeof(*t) + extra;
	}
	free(buf);
	return found;
}

#define BPF_INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
			    .off = (o), .imm = (i) })

/*
 * Load and attach the program for thread group tgid. Returns the link's
 * descriptor (closing it detaches the program), or -1 with errno; the
 * verifier's log goes to log.
 */
static int bpf_lsm_deny_writes_of(pid_t tgid, long btf_id, char *log,
				  size_t log_len)
{
	const struct bpf_insn prog[] = {
		/* r6 = ctx: the hook's arguments (file, mask), 8 bytes each */
		BPF_INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
		BPF_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
		BPF_INSN(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 32),
		/* not the process: allow (to insn 9) */
		BPF_INSN(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 5, tgid),
		BPF_INSN(BPF_LDX | BPF_MEM | BPF_DW, 2, 6, 8, 0),
		BPF_INSN(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, BPF_LSM_MAY_WRITE),
		/* not a write: allow */
		BPF_INSN(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 2, 0),
		BPF_INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, -EPERM),
		BPF_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		BPF_INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		BPF_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	static const char license[] = "GPL";
	union bpf_attr attr;
	int prog_fd, link_fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_LSM;
	attr.expected_attach_type = BPF_LSM_MAC;
	attr.attach_btf_id = btf_id;
	attr.insns = (uintptr_t)prog;
	attr.insn_cnt = ARRAY_SIZE(prog);
	attr.license = (uintptr_t)license;
	attr.log_buf = (uintptr_t)log;
	attr.log_size = log_len;
	attr.log_level = log_len ? 1 : 0;
	prog_fd = bpf_lsm_sys(BPF_PROG_LOAD, &attr);
	if (prog_fd < 0)
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.prog_fd = prog_fd;
	link_fd = bpf_lsm_sys(BPF_RAW_TRACEPOINT_OPEN, &attr);
	close(prog_fd);
	return link_fd;
}

#endif
