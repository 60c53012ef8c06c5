// SPDX-License-Identifier: GPL-2.0
/*
 * dump-to-disk: take one live dump per compression straight onto a raw
 * block device, for the host to read back. The first 4 KiB of the device
 * get an index, one line per dump: "name offset length".
 *
 *   dump-to-disk [-S] /dev/vda [NAME]...
 *
 * NAME is whole.zst, core, core.gz, core.zst (the ELF core), or kdump,
 * kdump.gz, kdump.zst, kdump-flat.gz (the kdump-compressed format:
 * MEM_KERNELDUMP_KDUMP; the flat one through a pipe, so in makedumpfile's
 * flattened format, which a child copies to the disk). With names, only
 * those dumps are taken (the smoke level takes one), in that order. whole.zst is a whole-RAM dump (bsdmem's dump_whole_ram
 * parameter set for it), taken only when named: the differential reader
 * check compares a minidump with it. With -S the first dump is taken
 * while the spinner module (tools/testing/spinner) spins on its CPU with
 * interrupts disabled, and then keeps that CPU busy until the dump is
 * written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bsdmem.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define ALIGN_MB(x)	(((x) + (1 << 20) - 1) & ~((off_t)(1 << 20) - 1))
#define WHOLE_RAM	"/sys/module/bsdmem/parameters/dump_whole_ram"

static int set_whole_ram(const char *val)
{
	int fd = open(WHOLE_RAM, O_WRONLY);
	int ok = fd >= 0 && write(fd, val, 1) == 1;

	if (fd >= 0)
		close(fd);
	if (!ok)
		perror("dump-to-disk: " WHOLE_RAM);
	return ok ? 0 : -1;
}

#define SPINNER		"/sys/module/spinner/parameters/"
#define KTHREADD	2

static cpu_set_t kthreadd_cpus;

/* Write one parameter of the spinner. */
static int spinner_write(const char *param, const char *val)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), SPINNER "%s", param);
	fd = open(path, O_WRONLY);
	ret = fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val);
	if (ret)
		fprintf(stderr, "dump-to-disk: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret ? -1 : 0;
}

/*
 * Start the spinner: once the write returns, its CPU spins until the
 * dump's NMI, then stays busy until spin_end(). A task woken while it
 * spins may be queued on that CPU and wait for the spin to end: keep what
 * the dump needs off it, this process and kthreadd (which starts the
 * dump's thread, and whose CPUs that thread first runs on). The dump's
 * thread then never lands there, as no CPU but an idle one or its own is
 * picked when it wakes.
 */
static int spin_start(void)
{
	cpu_set_t others;
	int cpu = -1;
	FILE *f = fopen(SPINNER "cpu", "r");

	if (!f || fscanf(f, "%d", &cpu) != 1 || cpu < 0 || cpu >= CPU_SETSIZE) {
		fprintf(stderr, "dump-to-disk: no spinner CPU in " SPINNER "cpu\n");
		return -1;
	}
	fclose(f);
	if (sched_getaffinity(0, sizeof(others), &others) ||
	    sched_getaffinity(KTHREADD, sizeof(kthreadd_cpus), &kthreadd_cpus)) {
		perror("dump-to-disk: sched_getaffinity");
		return -1;
	}
	CPU_CLR(cpu, &others);
	if (sched_setaffinity(0, sizeof(others), &others) ||
	    sched_setaffinity(KTHREADD, sizeof(others), &others)) {
		perror("dump-to-disk: sched_setaffinity");
		return -1;
	}
	return spinner_write("spin", "1");
}

/* The dump is written: release the spinner's CPU, and kthreadd. */
static void spin_end(void)
{
	spinner_write("spin", "0");
	if (sched_setaffinity(KTHREADD, sizeof(kthreadd_cpus), &kthreadd_cpus))
		perror("dump-to-disk: sched_setaffinity (kthreadd)");
}

/*
 * A child that copies the read end of a pipe to the disk from off on, and
 * then reports how many bytes it copied through report.
 */
static pid_t pipe_to_disk(const int data[2], int disk, off_t off,
			  const int report[2])
{
	static char buf[1 << 16];
	long long total = 0;
	pid_t pid = fork();
	int in = data[0];
	ssize_t n;

	if (pid)
		return pid;
	/* the end of the data is when no one else holds its write end */
	close(data[1]);
	close(report[0]);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (pwrite(disk, buf, n, off + total) != n) {
			perror("dump-to-disk: pwrite");
			_exit(1);
		}
		total += n;
	}
	if (n < 0 || write(report[1], &total, sizeof(total)) != sizeof(total)) {
		perror("dump-to-disk: pipe");
		_exit(1);
	}
	_exit(0);
}

/*
 * One dump through a pipe: returns the ioctl's result (errno in *err) and
 * sets *end past what the child wrote.
 */
static int dump_through_pipe(int mem, struct mem_livedump_arg *a, int disk,
			     off_t off, off_t *end, int *err)
{
	int data[2], report[2], status, ret;
	long long total = -1;
	pid_t pid;

	if (pipe(data) || pipe(report)) {
		perror("dump-to-disk: pipe");
		return -1;
	}
	pid = pipe_to_disk(data, disk, off, report);
	if (pid < 0) {
		perror("dump-to-disk: fork");
		return -1;
	}
	close(data[0]);
	close(report[1]);
	a->fd = data[1];
	ret = ioctl(mem, MEM_KERNELDUMP, a);
	*err = errno;
	close(data[1]);
	if (read(report[0], &total, sizeof(total)) != sizeof(total))
		total = -1;
	close(report[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || total < 0) {
		fprintf(stderr, "dump-to-disk: the pipe's copy failed\n");
		return -1;
	}
	*end = off + total;
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int comp, whole, flags, pipe;
	} kinds[] = {
		{ "whole.zst", KERNELDUMP_COMP_ZSTD, 1, 0, 0 },
		{ "core", KERNELDUMP_COMP_NONE, 0, 0, 0 },
		{ "core.gz", KERNELDUMP_COMP_GZIP, 0, 0, 0 },
		{ "core.zst", KERNELDUMP_COMP_ZSTD, 0, 0, 0 },
		{ "kdump", KERNELDUMP_COMP_NONE, 0, MEM_KERNELDUMP_KDUMP, 0 },
		{ "kdump.gz", KERNELDUMP_COMP_GZIP, 0, MEM_KERNELDUMP_KDUMP, 0 },
		{ "kdump.zst", KERNELDUMP_COMP_ZSTD, 0, MEM_KERNELDUMP_KDUMP, 0 },
		{ "kdump-flat.gz", KERNELDUMP_COMP_GZIP, 0,
		  MEM_KERNELDUMP_KDUMP, 1 },
	};
	char index[4096] = "";
	off_t off = 1 << 20;
	int mem, disk, want[ARRAY_SIZE(kinds)], spin = 0;

	if (argc > 1 && !strcmp(argv[1], "-S")) {
		spin = 1;
		argv++;
		argc--;
	}
	if (argc < 2)
		return 2;
	for (unsigned int i = 0; i < ARRAY_SIZE(kinds); i++)
		want[i] = argc == 2 && !kinds[i].whole;
	for (int a = 2; a < argc; a++) {
		unsigned int i = 0;

		while (i < ARRAY_SIZE(kinds) && strcmp(argv[a], kinds[i].name))
			i++;
		if (i == ARRAY_SIZE(kinds)) {
			fprintf(stderr, "dump-to-disk: no dump named %s\n", argv[a]);
			return 2;
		}
		want[i] = 1;
	}
	mem = open(BSDMEM_DEV_PATH, O_RDONLY);
	disk = open(argv[1], O_RDWR);
	if (mem < 0 || disk < 0) {
		perror("dump-to-disk: open");
		return 1;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct mem_livedump_arg a = { .fd = disk,
					      .flags = kinds[i].flags,
					      .compression = kinds[i].comp };
		off_t end = off;
		int ret, err = EIO;

		if (!want[i])
			continue;
		if (lseek(disk, off, SEEK_SET) != off) {
			perror("dump-to-disk: lseek");
			return 1;
		}
		if (kinds[i].whole && set_whole_ram("1"))
			return 1;
		if (spin && spin_start())
			return 1;
		if (kinds[i].pipe) {
			ret = dump_through_pipe(mem, &a, disk, off, &end, &err);
		} else {
			ret = ioctl(mem, MEM_KERNELDUMP, &a);
			err = errno;
			end = lseek(disk, 0, SEEK_CUR);
		}
		if (spin)
			spin_end();
		spin = 0;
		if (ret)
			fprintf(stderr, "dump-to-disk: %s: %s\n", kinds[i].name,
				strerror(err));
		if (kinds[i].whole && set_whole_ram("0"))
			return 1;
		if (ret)
			return 1;
		snprintf(index + strlen(index), sizeof(index) - strlen(index),
			 "%s %lld %lld\n", kinds[i].name, (long long)off,
			 (long long)(end - off));
		printf("dumped %s: %lld bytes\n", kinds[i].name,
		       (long long)(end - off));
		off = ALIGN_MB(end);
	}
	if (pwrite(disk, index, sizeof(index), 0) != sizeof(index) ||
	    fsync(disk)) {
		perror("dump-to-disk: index");
		return 1;
	}
	return 0;
}
