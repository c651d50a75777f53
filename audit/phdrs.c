/*
 * audit/phdrs.c — the copy of the module list that libunwind reads during
 * captures, and the GOT slot that sends it there (see phdrs.h).
 *
 * A copy lives in mmap'ed memory and is published with one atomic store;
 * an old one is never unmapped (a capture may still be reading it): one
 * copy is left behind per change of the module list that a capture saw.
 * Nothing here allocates or takes a lock of ours.
 */
#include "audit/phdrs.h"
#include "alloc/config.h"
#include "alloc/os.h"

#include <dlfcn.h>
#include <elf.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

__thread unsigned char da_phdrs_serve;

#if defined(__x86_64__) && defined(__GLIBC__) && __GLIBC_PREREQ(2, 35)
#define DA_PHDRS 1
#endif

/* One module: what dl_iterate_phdr said of it, its headers copied. */
struct mod {
	uintptr_t addr;   /* dlpi_addr */
	const char *name; /* dlpi_name: read only while the module is there */
	uintptr_t start;  /* its lowest loaded byte */
	uintptr_t eh;     /* its PT_GNU_EH_FRAME, 0 if none */
	unsigned ph;      /* its first header in the copy's array */
	unsigned phnum;
};

struct copy {
	size_t bytes; /* of its mapping */
	unsigned nmods, nph, cap_mods, cap_ph;
	unsigned long long adds; /* dlpi_adds when taken */
	struct mod *mods;        /* in dl_iterate_phdr's order */
	ElfW(Phdr) * ph;
};

static _Atomic(struct copy *) cur;
static _Atomic(int) hooked;

static int
copy_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct copy *c = arg;
	(void)size;
	uintptr_t start = UINTPTR_MAX, eh = 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type == PT_LOAD &&
		    info->dlpi_addr + p->p_vaddr < start)
			start = info->dlpi_addr + p->p_vaddr;
		else if (p->p_type == PT_GNU_EH_FRAME)
			eh = info->dlpi_addr + p->p_vaddr;
	}
	if (c->mods != NULL && c->nmods < c->cap_mods &&
	    c->nph + info->dlpi_phnum <= c->cap_ph) {
		c->mods[c->nmods] = (struct mod){
		        .addr = info->dlpi_addr,
		        .name = info->dlpi_name,
		        .start = start,
		        .eh = eh,
		        .ph = c->nph,
		        .phnum = info->dlpi_phnum,
		};
		memcpy(&c->ph[c->nph], info->dlpi_phdr,
		       info->dlpi_phnum * sizeof(ElfW(Phdr)));
		c->adds = info->dlpi_adds;
	}
	c->nmods++;
	c->nph += info->dlpi_phnum;
	return 0;
}

void
da_phdrs_reload(void)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		struct copy count = {0};
		dl_iterate_phdr(copy_visit, &count);
		unsigned cm = count.nmods + 8, cp = count.nph + 64;
		size_t bytes = sizeof(struct copy) + cm * sizeof(struct mod) +
		               cp * sizeof(ElfW(Phdr));
		bytes = (bytes + DA_PAGE - 1) & ~(size_t)(DA_PAGE - 1);
		struct copy *c = da_os_map(bytes);
		if (c == NULL)
			return;
		c->bytes = bytes;
		c->cap_mods = cm;
		c->cap_ph = cp;
		c->mods = (struct mod *)(c + 1);
		c->ph = (ElfW(Phdr) *)(c->mods + cm);
		dl_iterate_phdr(copy_visit, c);
		if (c->nmods <= cm && c->nph <= cp) {
			atomic_store_explicit(&cur, c, memory_order_release);
			return;
		}
		da_os_unmap(c, bytes);
	}
}

#ifdef DA_PHDRS
/* 1 if m is still loaded where it was, with the same unwind table. */
static int
still_there(const struct mod *m)
{
	struct dl_find_object fo;
	if (m->start == UINTPTR_MAX ||
	    _dl_find_object((void *)m->start, &fo) != 0)
		return 0;
	return (uintptr_t)fo.dlfo_map_start <= m->start &&
	       m->start < (uintptr_t)fo.dlfo_map_end &&
	       (uintptr_t)fo.dlfo_eh_frame == m->eh;
}
#endif

int
da_phdrs_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
#ifdef DA_PHDRS
	const struct copy *c = atomic_load_explicit(&cur, memory_order_acquire);
	if (da_phdrs_serve && c != NULL) {
		int rc = 0;
		for (unsigned i = 0; i < c->nmods && rc == 0; i++) {
			const struct mod *m = &c->mods[i];
			if (!still_there(m))
				continue;
			struct dl_phdr_info info;
			memset(&info, 0, sizeof(info));
			info.dlpi_addr = m->addr;
			info.dlpi_name = m->name;
			info.dlpi_phdr = &c->ph[m->ph];
			info.dlpi_phnum = (ElfW(Half))m->phnum;
			info.dlpi_adds = c->adds;
			rc = cb(&info, sizeof(info), data);
		}
		return rc;
	}
#endif
	return dl_iterate_phdr(cb, data);
}

#ifdef DA_PHDRS
/* The address of the GOT slot through which the module with link map lm
 * calls dl_iterate_phdr, or 0. The dynamic section's addresses are
 * absolute where the loader has relocated them, else offsets. */
static uintptr_t
slot_of(const struct link_map *lm)
{
	uintptr_t base = lm->l_addr, jmprel = 0, rela = 0, symtab = 0,
	          strtab = 0;
	size_t pltsz = 0, relasz = 0, strsz = 0;
	for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_JMPREL:
			jmprel = d->d_un.d_ptr;
			break;
		case DT_PLTRELSZ:
			pltsz = d->d_un.d_val;
			break;
		case DT_RELA:
			rela = d->d_un.d_ptr;
			break;
		case DT_RELASZ:
			relasz = d->d_un.d_val;
			break;
		case DT_SYMTAB:
			symtab = d->d_un.d_ptr;
			break;
		case DT_STRTAB:
			strtab = d->d_un.d_ptr;
			break;
		case DT_STRSZ:
			strsz = d->d_un.d_val;
			break;
		}
	}
#define ABS(a) ((a) != 0 && (a) < base ? (a) + base : (a))
	jmprel = ABS(jmprel);
	rela = ABS(rela);
	symtab = ABS(symtab);
	strtab = ABS(strtab);
#undef ABS
	if (symtab == 0 || strtab == 0)
		return 0;
	const ElfW(Sym) *sym = (const ElfW(Sym) *)symtab;
	const char *str = (const char *)strtab;
	const struct {
		uintptr_t at;
		size_t n;
	} tables[2] = {{jmprel, pltsz / sizeof(ElfW(Rela))},
	               {rela, relasz / sizeof(ElfW(Rela))}};
	for (unsigned t = 0; t < 2; t++) {
		const ElfW(Rela) *r = (const ElfW(Rela) *)tables[t].at;
		for (size_t i = 0; r != NULL && i < tables[t].n; i++) {
			unsigned long type = ELF64_R_TYPE(r[i].r_info);
			if (type != R_X86_64_JUMP_SLOT &&
			    type != R_X86_64_GLOB_DAT)
				continue;
			ElfW(Word) name = sym[ELF64_R_SYM(r[i].r_info)].st_name;
			if (name < strsz &&
			    strcmp(str + name, "dl_iterate_phdr") == 0)
				return base + r[i].r_offset;
		}
	}
	return 0;
}

/* [lo, hi) of the module at base's PT_GNU_RELRO in copy c, or 0s. */
static void
relro_of(const struct copy *c, uintptr_t base, uintptr_t *lo, uintptr_t *hi)
{
	*lo = *hi = 0;
	for (unsigned i = 0; c != NULL && i < c->nmods; i++) {
		const struct mod *m = &c->mods[i];
		if (m->addr != base)
			continue;
		for (unsigned k = 0; k < m->phnum; k++) {
			const ElfW(Phdr) *p = &c->ph[m->ph + k];
			if (p->p_type == PT_GNU_RELRO) {
				*lo = base + p->p_vaddr;
				*hi = *lo + p->p_memsz;
			}
		}
	}
}
#endif

int
da_phdrs_hook(void *h)
{
#ifdef DA_PHDRS
	struct link_map *lm = NULL;
	if (h == NULL || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL)
		return 0;
	uintptr_t slot = slot_of(lm);
	if (slot == 0)
		return 0;
	uintptr_t lo, hi;
	relro_of(atomic_load(&cur), lm->l_addr, &lo, &hi);
	int ro = slot >= lo && slot < hi;
	uintptr_t page = slot & ~(uintptr_t)(DA_PAGE - 1);
	if (ro && mprotect((void *)page, DA_PAGE, PROT_READ | PROT_WRITE) != 0)
		return 0;
	__atomic_store_n((uintptr_t *)slot, (uintptr_t)da_phdrs_iterate,
	                 __ATOMIC_RELEASE);
	if (ro)
		mprotect((void *)page, DA_PAGE, PROT_READ);
	atomic_store(&hooked, 1);
	return 1;
#else
	(void)h;
	return 0;
#endif
}

int
da_phdrs_hooked(void)
{
	return atomic_load(&hooked);
}
