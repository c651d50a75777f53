/*
 * audit/modules.c — the loaded modules and their build ids (modules.h).
 */
#include "audit/modules.h"

#include <elf.h>
#include <string.h>

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

/*
 * A note, as it lies in a PT_NOTE segment:
 *
 *   +----------+----------+------+--------------------+--------------------+
 *   | namesz 4 | descsz 4 | type | name, padded       | desc, padded       |
 *   +----------+----------+------+--------------------+--------------------+
 *
 * padded to the segment's alignment (4, or 8 for the notes of some
 * toolchains); the build id is the desc of type 3, name "GNU\0".
 */
static uintptr_t
align_up(uintptr_t v, uintptr_t a)
{
	return (v + a - 1) & ~(a - 1);
}

unsigned
da_modules_build_id(const ElfW(Phdr) * phdr, unsigned phnum, uintptr_t bias,
                    unsigned char *id)
{
	for (unsigned i = 0; i < phnum; i++) {
		const ElfW(Phdr) *ph = &phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		uintptr_t a = ph->p_align == 8 ? 8 : 4;
		uintptr_t p = bias + ph->p_vaddr, end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			uintptr_t name = p + sizeof(*n);
			uintptr_t desc = align_up(name + n->n_namesz, a);
			uintptr_t next = align_up(desc + n->n_descsz, a);
			if (desc > end || next > end || next <= p)
				break; /* malformed: stop at what we trust */
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp((const void *)name, "GNU", 4) == 0 &&
			    n->n_descsz > 0 && n->n_descsz <= DA_BUILD_ID_MAX) {
				memcpy(id, (const void *)desc, n->n_descsz);
				return n->n_descsz;
			}
			p = next;
		}
	}
	return 0;
}

struct each {
	int (*fn)(const struct da_module *m, void *arg);
	void *arg;
	unsigned index;
};

static int
each_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct each *e = arg;
	struct da_module m;
	m.index = e->index++;
	m.name = info->dlpi_name != NULL ? info->dlpi_name : "";
	m.is_main = m.index == 0 && m.name[0] == '\0';
	m.bias = info->dlpi_addr;
	m.phdr = info->dlpi_phdr;
	m.phnum = info->dlpi_phnum;
	m.lo = UINTPTR_MAX;
	m.hi = 0;
	for (unsigned i = 0; i < m.phnum; i++) {
		const ElfW(Phdr) *ph = &m.phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = m.bias + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (lo < m.lo)
			m.lo = lo;
		if (hi > m.hi)
			m.hi = hi;
	}
	if (m.hi == 0)
		m.lo = 0; /* no loadable segment */
	m.build_id_len =
	        da_modules_build_id(m.phdr, m.phnum, m.bias, m.build_id);
	return e->fn(&m, e->arg);
}

int
da_modules_each(int (*fn)(const struct da_module *m, void *arg), void *arg)
{
	struct each e = {fn, arg, 0};
	return dl_iterate_phdr(each_cb, &e);
}
