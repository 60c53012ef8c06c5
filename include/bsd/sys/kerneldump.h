/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* FreeBSD <sys/kerneldump.h> for Linux: the KERNELDUMP_COMP_* values. */
#ifndef _BSDMEM_COMPAT_SYS_KERNELDUMP_H
#define _BSDMEM_COMPAT_SYS_KERNELDUMP_H

#include "../../uapi/linux/bsdmem.h"

#endif
