/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the bsdmem selftests. */
#ifndef BSDMEM_TEST_UTIL_H
#define BSDMEM_TEST_UTIL_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <linux/bsdmem.h>

#define PAGE_SZ		4096UL
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/* Physical address of a resident page of ours, 0 if not present. */
uint64_t virt_to_phys_pagemap(const void *addr);
/* Address of a kernel symbol from /proc/kallsyms, 0 if missing. */
uint64_t kallsyms_lookup(const char *name);
/* CPU physical/virtual address widths from /proc/cpuinfo. */
unsigned int cpu_phys_bits(void);
/* Drop CAP_SYS_RAWIO from every capability set of this process. */
int drop_cap_sys_rawio(void);
/* A page-aligned, locked, resident page filled with a pattern. */
void *locked_page(int fill);
/* Open a device or exit the test as failed. */
int open_dev(const char *path, int flags);
/* MEM_KERNELDUMP into fd on a fresh /dev/bsdmem: its result, errno kept. */
int kerneldump(int fd, int comp, int flags);
/*
 * pread(2) refuses negative offsets before any driver sees them, and kernel
 * virtual addresses are negative as off_t: seek, then read or write.
 */
ssize_t kread(int fd, void *buf, size_t len, uint64_t addr);
ssize_t kwrite(int fd, const void *buf, size_t len, uint64_t addr);
/* Read a sysfs/procfs file's first line into buf. */
int read_line(const char *path, char *buf, size_t len);
/* Write val to a sysfs/procfs file in one write(2); 0 or -1. */
int write_line(const char *path, const char *val);
/*
 * Touch *p (a load, or a store of the byte already there) in a child
 * process; returns the signal that killed it, 0 if none did.
 */
int probe_access(uint8_t *p, bool write);
/*
 * Keep this process (and its children) on the CPU it runs on: the kernel
 * batches page references per CPU, and only the local batch is drained
 * when a page is unmapped. 0 or -1.
 */
int stay_on_this_cpu(void);
/*
 * Empty the per-CPU page batches of every CPU (lru_add, mlock), whose
 * references outlive an munmap on kernels that no longer drain them there
 * (7.x): compacting memory drains them first. 0 or -1.
 */
int drain_page_batches(void);
/* The first /proc/iomem region named name: its start, 0 if none. */
uint64_t iomem_find(const char *name, uint64_t *end);

#endif
