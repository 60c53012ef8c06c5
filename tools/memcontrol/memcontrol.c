// SPDX-License-Identifier: GPL-2.0
/*
 * memcontrol: FreeBSD's memcontrol(8) for Linux, over /dev/bsdmem.
 *
 *   memcontrol list [-a] [-o owner]
 *   memcontrol set -b base -l length [-o owner] attribute ...
 *   memcontrol clear -o owner
 *   memcontrol clear -b base -l length
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/bsdmem.h>

#define SETTABLE	1

static const struct {
	const char *name;
	int val;
	int kind;
} attrnames[] = {
	{ "uncacheable",	MDF_UNCACHEABLE,	SETTABLE },
	{ "write-combine",	MDF_WRITECOMBINE,	SETTABLE },
	{ "write-through",	MDF_WRITETHROUGH,	SETTABLE },
	{ "write-back",		MDF_WRITEBACK,		SETTABLE },
	{ "write-protect",	MDF_WRITEPROTECT,	SETTABLE },
	{ "force",		(int)MDF_FORCE,		SETTABLE },
	{ "unknown",		MDF_UNKNOWN,		0 },
	{ "fixed-base",		MDF_FIXBASE,		0 },
	{ "fixed-length",	MDF_FIXLEN,		0 },
	{ "set-by-firmware",	MDF_FIRMWARE,		0 },
	{ "active",		MDF_ACTIVE,		0 },
	{ "bogus",		MDF_BOGUS,		0 },
	{ "fixed-active",	MDF_FIXACTIVE,		0 },
	{ "busy",		MDF_BUSY,		0 },
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NATTR		ARRAY_SIZE(attrnames)

static const char *devpath = BSDMEM_DEV_PATH;

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: memcontrol list [-a] [-o owner]\n"
		"       memcontrol set -b base -l length [-o owner] attribute ...\n"
		"       memcontrol clear -o owner\n"
		"       memcontrol clear -b base -l length\n");
	exit(2);
}

/* What each errno of the spec means for a memory range request. */
static const char *range_strerror(int err)
{
	switch (err) {
	case EINVAL:
		return "invalid range, attribute, or conflicting overlap with another range";
	case ENOSPC:
		return "no free range slot";
	case ENOENT:
		return "no range matches that base and length";
	case EPERM:
		return "range is fixed (set by firmware) or permission denied";
	case EBUSY:
		return "range is busy (mapped through " BSDMEM_DEV_PATH ")";
	case EOPNOTSUPP:
		return "memory ranges are not supported on this system";
	case ENXIO:
		return "no memory range descriptors available";
	case EACCES:
		return "permission denied";
	}
	return strerror(err);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "memcontrol: %s: %s\n", what, range_strerror(err));
	exit(1);
}

static int open_mem(void)
{
	int fd = open(devpath, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "memcontrol: %s: %s\n", devpath, strerror(errno));
		exit(1);
	}
	return fd;
}

/* The whole table; *n gets the count. */
static struct mem_range_desc *fetch_table(int fd, int *n)
{
	struct mem_range_op op = { .mo_desc = NULL, .mo_arg = { 0, 0 } };
	struct mem_range_desc *d;

	if (ioctl(fd, MEMRANGE_GET, &op))
		die("can't size range descriptor table", errno);
	d = calloc(op.mo_arg[0], sizeof(*d));
	if (!d)
		die("calloc", ENOMEM);
	op.mo_desc = d;
	if (ioctl(fd, MEMRANGE_GET, &op))
		die("can't fetch range descriptor table", errno);
	*n = op.mo_arg[0];
	return d;
}

static int do_list(int argc, char **argv)
{
	const char *owner = NULL;
	int all = 0, opt, n, fd = open_mem();
	struct mem_range_desc *d;

	while ((opt = getopt(argc, argv, "ao:")) != -1) {
		if (opt == 'a')
			all = 1;
		else if (opt == 'o')
			owner = optarg;
		else
			bad_usage();
	}
	d = fetch_table(fd, &n);
	for (int i = 0; i < n; i++) {
		if (!all && !(d[i].mr_flags & MDF_ACTIVE))
			continue;
		if (owner && strncmp(d[i].mr_owner, owner, sizeof(d[i].mr_owner)))
			continue;
		printf("0x%" PRIx64 "/0x%" PRIx64 " %.8s ", (uint64_t)d[i].mr_base,
		       (uint64_t)d[i].mr_len,
		       d[i].mr_owner[0] ? d[i].mr_owner : "-");
		for (unsigned int j = 0; j < NATTR; j++)
			if (d[i].mr_flags & attrnames[j].val)
				printf("%s ", attrnames[j].name);
		printf("\n");
	}
	free(d);
	return 0;
}

static int set_range(int fd, int op, uint64_t base, uint64_t len, int flags,
		     const char *owner)
{
	struct mem_range_desc d = { .mr_base = base, .mr_len = len,
				    .mr_flags = flags };
	struct mem_range_op mro = { .mo_desc = &d, .mo_arg = { op, 0 } };

	if (owner)
		memcpy(d.mr_owner, owner,
		       strnlen(owner, sizeof(d.mr_owner) - 1));
	return ioctl(fd, MEMRANGE_SET, &mro) ? errno : 0;
}

static uint64_t number(const char *s, const char *what)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "memcontrol: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* -b base -l length -o owner, shared by set and clear */
struct range_args {
	uint64_t base, len;
	const char *owner;
	int have_b, have_l;
};

static void parse_range_args(int argc, char **argv, struct range_args *a)
{
	int opt;

	while ((opt = getopt(argc, argv, "b:l:o:")) != -1) {
		if (opt == 'b')
			a->base = number(optarg, "base"), a->have_b = 1;
		else if (opt == 'l')
			a->len = number(optarg, "length"), a->have_l = 1;
		else if (opt == 'o')
			a->owner = optarg;
		else
			bad_usage();
	}
}

static int do_set(int argc, char **argv)
{
	struct range_args a = { .owner = "user" };
	int flags = 0, err;
	char what[96];

	parse_range_args(argc, argv, &a);
	if (!a.have_b || !a.have_l || optind >= argc)
		bad_usage();
	for (; optind < argc; optind++) {
		unsigned int j;

		for (j = 0; j < NATTR; j++)
			if (attrnames[j].kind == SETTABLE &&
			    !strcmp(argv[optind], attrnames[j].name))
				break;
		if (j == NATTR) {
			fprintf(stderr, "memcontrol: unknown attribute '%s'\n",
				argv[optind]);
			exit(2);
		}
		flags |= attrnames[j].val;
	}
	err = set_range(open_mem(), MEMRANGE_SET_UPDATE, a.base, a.len, flags,
			a.owner);
	snprintf(what, sizeof(what), "set 0x%" PRIx64 "/0x%" PRIx64, a.base,
		 a.len);
	if (err)
		die(what, err);
	return 0;
}

static int do_clear(int argc, char **argv)
{
	struct range_args a = { 0 };
	int fd = open_mem(), n, err;
	struct mem_range_desc *d;
	char what[96];

	parse_range_args(argc, argv, &a);
	if (a.owner && !a.have_b && !a.have_l) {
		d = fetch_table(fd, &n);
		for (int i = 0; i < n; i++) {
			if (strncmp(d[i].mr_owner, a.owner, sizeof(d[i].mr_owner)))
				continue;
			err = set_range(fd, MEMRANGE_SET_REMOVE, d[i].mr_base,
					d[i].mr_len, 0, NULL);
			snprintf(what, sizeof(what), "clear 0x%" PRIx64 "/0x%" PRIx64,
				 (uint64_t)d[i].mr_base, (uint64_t)d[i].mr_len);
			if (err)
				die(what, err);
		}
		free(d);
		return 0;
	}
	if (a.owner || !a.have_b || !a.have_l)
		bad_usage();
	err = set_range(fd, MEMRANGE_SET_REMOVE, a.base, a.len, 0, NULL);
	snprintf(what, sizeof(what), "clear 0x%" PRIx64 "/0x%" PRIx64, a.base,
		 a.len);
	if (err)
		die(what, err);
	return 0;
}

int main(int argc, char **argv)
{
	if (getenv("BSDMEM_DEVICE"))
		devpath = getenv("BSDMEM_DEVICE");
	if (argc < 2)
		bad_usage();
	argv++;
	argc--;
	if (!strcmp(argv[0], "list"))
		return do_list(argc, argv);
	if (!strcmp(argv[0], "set"))
		return do_set(argc, argv);
	if (!strcmp(argv[0], "clear"))
		return do_clear(argc, argv);
	bad_usage();
	return 2;
}
