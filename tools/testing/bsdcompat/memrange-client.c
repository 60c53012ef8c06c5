// SPDX-License-Identifier: GPL-2.0
/*
 * A FreeBSD mem(4) client as it is written on FreeBSD; only the device path
 * differs. It must build on Linux with one extra -I<bsdmem>/include/bsd.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/memrange.h>
#include <sys/kerneldump.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#ifndef BSD_MEM_PATH
#define BSD_MEM_PATH "/dev/bsdmem"
#endif

int main(void)
{
	struct mem_range_op mro = { 0 };
	struct mem_extract me = { 0 };
	struct mem_livedump_arg marg = { 0 };
	int fd = open(BSD_MEM_PATH, O_RDONLY);

	if (fd < 0)
		return 1;
	mro.mo_arg[0] = 0;
	if (ioctl(fd, MEMRANGE_GET, &mro) == 0)
		printf("%d memory ranges\n", mro.mo_arg[0]);
	me.me_vaddr = (uintptr_t)&me;
	if (ioctl(fd, MEM_EXTRACT_PADDR, &me) == 0 &&
	    me.me_state == ME_STATE_MAPPED)
		printf("paddr %#jx domain %d\n", (uintmax_t)me.me_paddr,
		       me.me_domain);
	marg.compression = KERNELDUMP_COMP_ZSTD;
	(void)marg;
	printf("flags %#x %#x\n", MDF_WRITECOMBINE | MDF_ACTIVE,
	       (unsigned int)MDF_FORCE);
	close(fd);
	return 0;
}
