/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small kselftest-style harness: TEST() bodies run in a forked child,
 * ASSERT_* ends the child on the first failure, EXPECT_* records it and
 * goes on, SKIP() ends it with a reason. Output is TAP 13.
 *
 *   prog [-r substring] [-l]   run tests whose name contains substring,
 *                              or list the tests
 *
 * A test is killed as hung only once it has made no progress for
 * BT_STALL_SECS (or $BSDMEM_TEST_STALL_SECS) seconds: neither called
 * bt_progress() nor had a running dump write a page. A wall-clock limit
 * cannot tell a hang from a slow kernel (KASAN under TCG on a busy
 * machine); progress can. A test that arms alarm() itself has bounded
 * its own run, and the watchdog leaves it to that alarm. The QEMU run
 * around it all is the last backstop.
 */
#ifndef BSDMEM_HARNESS_H
#define BSDMEM_HARNESS_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BT_EXIT_PASS	0
#define BT_EXIT_FAIL	1
#define BT_EXIT_SKIP	4
#define BT_STALL_SECS	600
/* pages planned and written by the running dump: progress too */
#define BT_DUMP_PROGRESS "/sys/module/bsdmem/parameters/dump_progress"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct bt_test {
	const char *name;
	void (*fn)(void);
	struct bt_test *next;
};

struct bt_shared {
	int failed;
	unsigned long progress;
	long alarm_at;		/* when the test's own alarm() fires, or 0 */
	char skip_reason[256];
};

extern struct bt_shared *bt_shared;
void bt_register(struct bt_test *t);

/* The test is getting somewhere: from the code that must finish, only. */
static inline void bt_progress(void)
{
	__atomic_add_fetch(&bt_shared->progress, 1, __ATOMIC_RELAXED);
}

static inline double bt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* alarm() in a test: its own bound, which the watchdog then waits for */
static inline unsigned int bt_alarm(unsigned int secs)
{
	long at = secs ? (long)bt_now() + secs + 1 : 0;

	__atomic_store_n(&bt_shared->alarm_at, at, __ATOMIC_RELAXED);
	return alarm(secs);
}
#define alarm(secs)	bt_alarm(secs)

#define TEST(name)							\
	static void bt_fn_##name(void);					\
	static struct bt_test bt_t_##name = { #name, bt_fn_##name, NULL }; \
	__attribute__((constructor)) static void bt_reg_##name(void)	\
	{ bt_register(&bt_t_##name); }					\
	static void bt_fn_##name(void)

#define BT_REPORT(kind, a, b, as, bs, op)				\
	fprintf(stderr, "# %s:%d: %s(%s, %s): %lld %s %lld\n", __FILE__, \
		__LINE__, kind, as, bs, (long long)(a), op, (long long)(b))

#define BT_CMP(kind, fatal, a, op, b) do {				\
	long long bt_a = (long long)(a), bt_b = (long long)(b);		\
	if (!(bt_a op bt_b)) {						\
		BT_REPORT(kind, bt_a, bt_b, #a, #b, "vs");		\
		if (errno)						\
			fprintf(stderr, "#   errno %d (%s)\n", errno,	\
				strerror(errno));			\
		bt_shared->failed = 1;					\
		if (fatal)						\
			_exit(BT_EXIT_FAIL);				\
	}								\
} while (0)

#define ASSERT_EQ(a, b)	BT_CMP("ASSERT_EQ", 1, a, ==, b)
#define ASSERT_NE(a, b)	BT_CMP("ASSERT_NE", 1, a, !=, b)
#define ASSERT_GE(a, b)	BT_CMP("ASSERT_GE", 1, a, >=, b)
#define ASSERT_GT(a, b)	BT_CMP("ASSERT_GT", 1, a, >, b)
#define ASSERT_LT(a, b)	BT_CMP("ASSERT_LT", 1, a, <, b)
#define ASSERT_LE(a, b)	BT_CMP("ASSERT_LE", 1, a, <=, b)
#define EXPECT_EQ(a, b)	BT_CMP("EXPECT_EQ", 0, a, ==, b)
#define EXPECT_NE(a, b)	BT_CMP("EXPECT_NE", 0, a, !=, b)
#define ASSERT_TRUE(a)	BT_CMP("ASSERT_TRUE", 1, !!(a), ==, 1)
#define EXPECT_TRUE(a)	BT_CMP("EXPECT_TRUE", 0, !!(a), ==, 1)

/* a call that must fail with a given errno */
#define ASSERT_ERRNO(call, err) do {					\
	errno = 0;							\
	long long bt_r = (long long)(call);				\
	int bt_e = errno;						\
	if (bt_r != -1 || bt_e != (err)) {				\
		fprintf(stderr, "# %s:%d: %s: want -1/%s, got %lld/%s\n", \
			__FILE__, __LINE__, #call, strerror(err), bt_r,	\
			strerror(bt_e));				\
		_exit(BT_EXIT_FAIL);					\
	}								\
} while (0)

/* mmap() results: pointers are compared as pointers */
#define ASSERT_MAPPED(p) do {						\
	if ((void *)(p) == MAP_FAILED) {				\
		fprintf(stderr, "# %s:%d: %s failed: %s\n", __FILE__,	\
			__LINE__, #p, strerror(errno));			\
		_exit(BT_EXIT_FAIL);					\
	}								\
} while (0)

#define ASSERT_MMAP_ERRNO(call, err) do {				\
	errno = 0;							\
	void *bt_p = (call);						\
	int bt_e = errno;						\
	if (bt_p != MAP_FAILED || bt_e != (err)) {			\
		fprintf(stderr, "# %s:%d: %s: want MAP_FAILED/%s, got %p/%s\n", \
			__FILE__, __LINE__, #call, strerror(err), bt_p,	\
			strerror(bt_e));				\
		_exit(BT_EXIT_FAIL);					\
	}								\
} while (0)

#define ASSERT_MEMEQ(a, b, n) do {					\
	if (memcmp((a), (b), (n))) {					\
		fprintf(stderr, "# %s:%d: memory %s != %s (%zu bytes)\n", \
			__FILE__, __LINE__, #a, #b, (size_t)(n));	\
		_exit(BT_EXIT_FAIL);					\
	}								\
} while (0)

#define SKIP(...) do {							\
	snprintf(bt_shared->skip_reason,				\
		 sizeof(bt_shared->skip_reason), __VA_ARGS__);		\
	_exit(BT_EXIT_SKIP);						\
} while (0)

#define TH_LOG(...) do {						\
	fprintf(stderr, "# ");						\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
} while (0)

int bt_main(int argc, char **argv);

#ifndef BT_NO_MAIN
struct bt_shared *bt_shared;
static struct bt_test *bt_head, **bt_tail = &bt_head;

void bt_register(struct bt_test *t)
{
	*bt_tail = t;
	bt_tail = &t->next;
}

/* What counts as progress: the test's own count and the dump's pages. */
struct bt_mark {
	unsigned long progress;
	long long planned, written;
};

static void bt_mark(struct bt_mark *m)
{
	FILE *f = fopen(BT_DUMP_PROGRESS, "r");

	m->progress = __atomic_load_n(&bt_shared->progress, __ATOMIC_RELAXED);
	m->planned = 0;
	m->written = 0;
	if (f && fscanf(f, "%lld %lld", &m->planned, &m->written) != 2)
		m->written = 0;
	if (f)
		fclose(f);
}

/*
 * Wait for the test, as long as it makes progress (SIGCHLD is blocked, so
 * its exit ends the one-second naps at once). Returns 1 if it had to be
 * killed, -1 if it could not be reaped even then.
 */
static int bt_wait(pid_t pid, int *status, const sigset_t *chld)
{
	const char *env = getenv("BSDMEM_TEST_STALL_SECS");
	double stall = env ? strtod(env, NULL) : BT_STALL_SECS;
	double moved = bt_now(), killed = 0;
	struct bt_mark last, now;

	bt_mark(&last);
	for (;;) {
		struct timespec nap = { 1, 0 };
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return killed ? 1 : 0;
		if (w < 0)
			return -1;
		sigtimedwait(chld, NULL, &nap);
		if (killed) {
			/* stuck in the kernel: report it and go on */
			if (bt_now() - killed > 60)
				return -1;
			continue;
		}
		bt_mark(&now);
		if (now.progress != last.progress ||
		    now.planned != last.planned || now.written != last.written) {
			last = now;
			moved = bt_now();
		} else if (bt_now() - moved >= stall && bt_now() >=
			   __atomic_load_n(&bt_shared->alarm_at,
					   __ATOMIC_RELAXED)) {
			printf("# no progress for %.0f s: killing the test\n",
			       stall);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = bt_now();
		}
	}
}

static int bt_run_one(struct bt_test *t, int num)
{
	sigset_t chld, old;
	int status = 0, hung;
	pid_t pid;

	memset(bt_shared, 0, sizeof(*bt_shared));
	fflush(stdout);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* its own group, so a hung test goes with all its helpers */
		setpgid(0, 0);
		t->fn();
		_exit(bt_shared->failed ? BT_EXIT_FAIL : BT_EXIT_PASS);
	}
	if (pid > 0)
		setpgid(pid, pid);
	hung = pid > 0 ? bt_wait(pid, &status, &chld) : -1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (hung) {
		printf("# %s: %s\n", t->name, hung > 0 ? "hung, killed" :
		       pid < 0 ? "fork failed" : "not reaped (stuck)");
		printf("not ok %d %s\n", num, t->name);
		return BT_EXIT_FAIL;
	}
	if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d%s\n", t->name,
		       WTERMSIG(status), WTERMSIG(status) == SIGALRM ?
		       " (its own alarm)" : "");
		printf("not ok %d %s\n", num, t->name);
		return BT_EXIT_FAIL;
	}
	switch (WEXITSTATUS(status)) {
	case BT_EXIT_PASS:
		printf("ok %d %s\n", num, t->name);
		return BT_EXIT_PASS;
	case BT_EXIT_SKIP:
		printf("ok %d %s # SKIP %s\n", num, t->name,
		       bt_shared->skip_reason);
		return BT_EXIT_SKIP;
	}
	printf("not ok %d %s\n", num, t->name);
	return BT_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	int n = 0, num = 0, fails = 0, opt;
	struct bt_test *t;

	while ((opt = getopt(argc, argv, "r:l")) != -1) {
		switch (opt) {
		case 'r':
			filter = optarg;
			break;
		case 'l':
			for (t = bt_head; t; t = t->next)
				printf("%s\n", t->name);
			return 0;
		default:
			fprintf(stderr, "usage: %s [-r substring] [-l]\n", argv[0]);
			return 2;
		}
	}
	bt_shared = mmap(NULL, sizeof(*bt_shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bt_shared == MAP_FAILED)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (t = bt_head; t; t = t->next)
		n += !filter || strstr(t->name, filter);
	printf("TAP version 13\n1..%d\n", n);
	for (t = bt_head; t; t = t->next) {
		if (filter && !strstr(t->name, filter))
			continue;
		fails += bt_run_one(t, ++num) == BT_EXIT_FAIL;
	}
	printf("# %d tests, %d failed\n", n, fails);
	return fails ? 1 : 0;
}
#endif /* BT_NO_MAIN */

#endif /* BSDMEM_HARNESS_H */
