// SPDX-License-Identifier: GPL-2.0
/*
 * Memory hotplug against bsdmem's own references.
 *
 * Offlining a memory block migrates every page in it and retries for as
 * long as a page is still referenced, so a page pinned by a RAM memory
 * range or held by a /dev/bsdmem mapping would make it retry forever.
 * Onlining a block turns device space into RAM: a process that maps it,
 * or a device memory range over it, would keep the device's cache type
 * over pages the allocator hands out. Either is refused at once with
 * EBUSY and a message that says who holds the memory. A change that may
 * go ahead first closes the block to new readers, pins and faults
 * (bsdmem_page.c's window), so nothing of ours enters it meanwhile.
 */
#include <linux/memory.h>
#include <linux/notifier.h>
#include <linux/printk.h>
#include "bsdmem.h"

static int bsdmem_block_changing(unsigned long start, unsigned long end,
				 const char *change)
{
	const char *holder = NULL;

	bsdmem_page_block_changing(start, end);
	if (bsdmem_ranges_cover(start, end))
		holder = "a memory range (memcontrol list; remove it first)";
	else if (bsdmem_maps_hold(start, end))
		holder = "a /dev/bsdmem mapping";
	if (!holder)
		return 0;
	bsdmem_page_block_settled();
	pr_info_ratelimited("bsdmem: memory %#llx-%#llx cannot go %s: held by %s\n",
			    (u64)PFN_PHYS(start), (u64)PFN_PHYS(end) - 1,
			    change, holder);
	return -EBUSY;
}

static int bsdmem_memory_notify(struct notifier_block *nb,
				unsigned long action, void *data)
{
	struct memory_notify *mn = data;
	unsigned long end = mn->start_pfn + mn->nr_pages;
	int ret = 0;

	switch (action) {
	case MEM_GOING_OFFLINE:
		ret = bsdmem_block_changing(mn->start_pfn, end, "offline");
		break;
	case MEM_GOING_ONLINE:
		ret = bsdmem_block_changing(mn->start_pfn, end, "online");
		break;
	case MEM_OFFLINE:
	case MEM_CANCEL_OFFLINE:
	case MEM_ONLINE:
	case MEM_CANCEL_ONLINE:
		bsdmem_page_block_settled();
		break;
	}
	return notifier_from_errno(ret);
}

static struct notifier_block bsdmem_memory_nb = {
	.notifier_call	= bsdmem_memory_notify,
};

int bsdmem_hotplug_register(void)
{
	return register_memory_notifier(&bsdmem_memory_nb);
}

void bsdmem_hotplug_unregister(void)
{
	unregister_memory_notifier(&bsdmem_memory_nb);
}
