/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small kselftest-style harness: TEST() bodies run in a forked child,
 * ASSERT_* ends the child on the first failure, EXPECT_* records it and
 * goes on, SKIP() ends it with a reason. Output is TAP 13.
 *
 *   prog [-r substring] [-l]   run tests whose name contains substring,
 *                              or list the tests
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
#include <unistd.h>

#define BT_EXIT_PASS	0
#define BT_EXIT_FAIL	1
#define BT_EXIT_SKIP	4
#define BT_TIMEOUT	120

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct bt_test {
	const char *name;
	void (*fn)(void);
	struct bt_test *next;
};

struct bt_shared {
	int failed;
	char skip_reason[256];
};

extern struct bt_shared *bt_shared;
void bt_register(struct bt_test *t);

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

static int bt_run_one(struct bt_test *t, int num)
{
	int status = 0;
	pid_t pid;

	memset(bt_shared, 0, sizeof(*bt_shared));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(BT_TIMEOUT);
		t->fn();
		_exit(bt_shared->failed ? BT_EXIT_FAIL : BT_EXIT_PASS);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("not ok %d %s # fork/wait failed\n", num, t->name);
		return BT_EXIT_FAIL;
	}
	if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d%s\n", t->name,
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
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
