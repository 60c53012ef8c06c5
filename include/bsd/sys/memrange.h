/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * FreeBSD <sys/memrange.h> for Linux: build a FreeBSD mem(4) client with
 * -I<bsdmem>/include/bsd and open /dev/bsdmem instead of /dev/mem.
 */
#ifndef _BSDMEM_COMPAT_SYS_MEMRANGE_H
#define _BSDMEM_COMPAT_SYS_MEMRANGE_H

/* FreeBSD's <sys/types.h> provides the fixed-width types; glibc's does not. */
#include <stdint.h>
#include <sys/ioctl.h>
#include "../../uapi/linux/bsdmem.h"

#endif
