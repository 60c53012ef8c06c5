// SPDX-License-Identifier: GPL-2.0
/*
 * bsdmem: FreeBSD's mem(4) and kmem devices and their ioctls for Linux.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include "bsdmem.h"

bool bsdmem_strict_devmem;
module_param_named(strict_devmem, bsdmem_strict_devmem, bool, 0444);
MODULE_PARM_DESC(strict_devmem,
		 "Limit /dev/bsdmem to what Linux's STRICT_DEVMEM + IO_STRICT_DEVMEM /dev/mem allows (default: off)");

static int __init bsdmem_init(void)
{
	int ret;

	ret = bsdmem_hotplug_register();
	if (ret)
		return ret;
	ret = bsdmem_dev_register();
	if (ret)
		bsdmem_hotplug_unregister();
	return ret;
}

static void __exit bsdmem_exit(void)
{
	bsdmem_dev_unregister();
	bsdmem_ranges_release_all();
	bsdmem_mmap_exit();
	bsdmem_hotplug_unregister();
	bsdmem_dump_regs_exit();
}

module_init(bsdmem_init);
module_exit(bsdmem_exit);

MODULE_DESCRIPTION("FreeBSD mem(4)/kmem devices and ioctls");
MODULE_AUTHOR("The bsdmem developers");
MODULE_LICENSE("GPL");
