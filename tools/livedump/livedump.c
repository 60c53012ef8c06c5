// SPDX-License-Identifier: GPL-2.0
/*
 * livedump: a live minidump of the running kernel through MEM_KERNELDUMP,
 * like FreeBSD's "savecore -L".
 *
 *   livedump [-q] [-k] [-z | -Z] [directory | -]
 *
 * Writes directory/livecore.N (.gz with -z, .zst with -Z), N taken from
 * and advanced in directory/bounds as savecore does; "-" writes the dump
 * to standard output, e.g.  livedump -Z - | ssh host 'cat > core.zst'.
 * With -k the dump is in the kdump-compressed format that crash and drgn
 * open as it is, each page compressed with zlib (-z) or zstd (-Z):
 * directory/livecore.N.kdump, or on a pipe makedumpfile's flattened
 * format (makedumpfile -R restores it). A progress bar goes to a
 * terminal on standard error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bsdmem.h>

#define PROGRESS "/sys/module/bsdmem/parameters/dump_progress"

static int dumping = 1;

static void bad_usage(void)
{
	fprintf(stderr, "usage: livedump [-q] [-k] [-z | -Z] [directory | -]\n");
	exit(2);
}

static const char *dump_strerror(int err)
{
	switch (err) {
	case EPERM:
		return "not permitted (needs CAP_SYS_RAWIO; refused under lockdown or by a security module)";
	case EBUSY:
		return "a dump is already in progress";
	case EBADF:
		return "output is not open for writing";
	case EINVAL:
		return "invalid request, or the output cannot be written by the kernel";
	case EOPNOTSUPP:
		return "live dumps are not supported on this system";
	case EINTR:
		return "interrupted";
	}
	return strerror(err);
}

static void *progress(void *arg)
{
	int tty = *(int *)arg;
	long long planned, written;

	while (__atomic_load_n(&dumping, __ATOMIC_RELAXED)) {
		FILE *f = fopen(PROGRESS, "r");

		if (f && fscanf(f, "%lld %lld", &planned, &written) == 2 &&
		    planned > 0 && tty) {
			int pct = (int)(100 * written / planned), i;

			fprintf(stderr, "\rlivedump: [");
			for (i = 0; i < 40; i++)
				fputc(i < pct * 40 / 100 ? '#' : ' ', stderr);
			fprintf(stderr, "] %3d%% %lld/%lld pages", pct, written,
				planned);
		}
		if (f)
			fclose(f);
		usleep(100000);
	}
	return NULL;
}

/* Next dump number from dir/bounds, which is then advanced. */
static int next_bound(const char *dir)
{
	char path[PATH_MAX];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bounds", dir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1 || n < 0)
			n = 0;
		fclose(f);
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", n + 1) < 0) {
		fprintf(stderr, "livedump: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	struct mem_livedump_arg arg = { 0 };
	const char *dir = "/var/crash", *ext = "", *kext = ".kdump";
	char path[PATH_MAX] = "-";
	int opt, quiet = 0, tty, mem, out, err = 0;
	pthread_t th;
	struct stat st;

	while ((opt = getopt(argc, argv, "qkzZ")) != -1) {
		switch (opt) {
		case 'q':
			quiet = 1;
			break;
		case 'k':
			arg.flags |= MEM_KERNELDUMP_KDUMP;
			break;
		case 'z':
			arg.compression = KERNELDUMP_COMP_GZIP;
			ext = ".gz";
			break;
		case 'Z':
			arg.compression = KERNELDUMP_COMP_ZSTD;
			ext = ".zst";
			break;
		default:
			bad_usage();
		}
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind != argc)
		bad_usage();
	/* a kdump file is no gzip or zstd stream: its pages are compressed */
	if (arg.flags & MEM_KERNELDUMP_KDUMP)
		ext = kext;

	mem = open(BSDMEM_DEV_PATH, O_RDONLY);
	if (mem < 0) {
		fprintf(stderr, "livedump: %s: %s\n", BSDMEM_DEV_PATH, strerror(errno));
		return 1;
	}
	if (!strcmp(dir, "-")) {
		out = STDOUT_FILENO;
	} else {
		snprintf(path, sizeof(path), "%s/livecore.%d%s", dir,
			 next_bound(dir), ext);
		out = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (out < 0) {
			fprintf(stderr, "livedump: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	arg.fd = out;
	tty = !quiet && isatty(STDERR_FILENO);
	pthread_create(&th, NULL, progress, &tty);
	if (ioctl(mem, MEM_KERNELDUMP, &arg))
		err = errno;
	__atomic_store_n(&dumping, 0, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	if (tty)
		fputc('\n', stderr);
	if (err) {
		fprintf(stderr, "livedump: %s: %s\n", path, dump_strerror(err));
		if (out != STDOUT_FILENO)
			unlink(path);
		return 1;
	}
	if (out != STDOUT_FILENO && !quiet && !fstat(out, &st))
		fprintf(stderr, "livedump: wrote %s (%lld bytes)\n", path,
			(long long)st.st_size);
	return close(out) ? 1 : 0;
}
