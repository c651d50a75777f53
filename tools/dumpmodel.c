/*
 * tools/dumpmodel.c — where a dump read into memory is kept (see dump.h):
 * arrays that double as they fill, so that what is kept grows with the
 * records read; the indexes of stacks and modules by id; the lookups; and
 * freeing it all. The capacity of an array is not stored: it is always the
 * smallest power of two, at least 8, that holds its count.
 */
#include "tools/dump.h"
#include "tools/dumpmodel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int
da_dump_reserve(void **arr, size_t n, size_t add, size_t size)
{
	size_t cap = 8, want = n + add;
	while (cap < n)
		cap *= 2;
	if (n > 0 && want <= cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > SIZE_MAX / size)
		return ENOMEM;
	void *p = realloc(*arr, cap * size);
	if (p == NULL)
		return ENOMEM;
	*arr = p;
	return 0;
}

/*
 * The indexes: open addressing over a power-of-two table of index + 1,
 * probed linearly from a hash of the id. The ids come from the file, so
 * the hash is keyed with a random salt per dump: a file made to put every
 * id in one chain would make reading it quadratic.
 */
static size_t
slot_of(const struct da_dump *d, uint64_t id, size_t slots)
{
	/* splitmix64's finalizer: every bit of the id moves every bit. */
	uint64_t z = id ^ d->salt;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (size_t)(z ^ (z >> 31)) & (slots - 1);
}

static uint64_t
fresh_salt(const struct da_dump *d)
{
	uint64_t salt;
	struct timespec ts;
	if (getrandom(&salt, sizeof(salt), GRND_NONBLOCK) == sizeof(salt))
		return salt;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
	       (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)d;
}

static uint64_t
stack_id(const struct da_dump *d, size_t i)
{
	return d->stacks[i].id;
}

static uint64_t
module_id(const struct da_dump *d, size_t i)
{
	return d->modules[i].id;
}

static uint32_t
index_find(const struct da_dump *d, const uint32_t *index, size_t slots,
           uint64_t (*key)(const struct da_dump *, size_t), uint64_t id)
{
	if (slots == 0)
		return 0;
	for (size_t s = slot_of(d, id, slots);; s = (s + 1) & (slots - 1)) {
		if (index[s] == 0 || key(d, index[s] - 1) == id)
			return index[s];
	}
}

/* Adds element n (its id already in place) to the index, growing it. */
static int
index_add(struct da_dump *d, uint32_t **index, size_t *slots, size_t n,
          uint64_t (*key)(const struct da_dump *, size_t))
{
	if (n >= UINT32_MAX - 1)
		return ENOMEM;
	if (d->stack_slots == 0 && d->module_slots == 0)
		d->salt = fresh_salt(d);
	if ((n + 1) * 2 > *slots) {
		size_t grown = *slots ? *slots * 2 : 64;
		uint32_t *t = calloc(grown, sizeof(*t));
		if (t == NULL)
			return ENOMEM;
		for (size_t i = 0; i < n; i++) {
			size_t s = slot_of(d, key(d, i), grown);
			while (t[s] != 0)
				s = (s + 1) & (grown - 1);
			t[s] = (uint32_t)i + 1;
		}
		free(*index);
		*index = t;
		*slots = grown;
	}
	size_t s = slot_of(d, key(d, n), *slots);
	while ((*index)[s] != 0)
		s = (s + 1) & (*slots - 1);
	(*index)[s] = (uint32_t)n + 1;
	return 0;
}

int
da_dump_index_stack(struct da_dump *d, size_t i)
{
	return index_add(d, &d->stack_index, &d->stack_slots, i, stack_id);
}

int
da_dump_index_module(struct da_dump *d, size_t i)
{
	return index_add(d, &d->module_index, &d->module_slots, i, module_id);
}

const struct da_dump_stack *
da_dump_stack(const struct da_dump *d, uint64_t id)
{
	uint32_t i =
	        index_find(d, d->stack_index, d->stack_slots, stack_id, id);
	return i ? &d->stacks[i - 1] : NULL;
}

const struct da_dump_module *
da_dump_module(const struct da_dump *d, uint64_t id)
{
	uint32_t i =
	        index_find(d, d->module_index, d->module_slots, module_id, id);
	return i ? &d->modules[i - 1] : NULL;
}

const char *
da_dump_header(const struct da_dump *d, const char *key)
{
	for (size_t i = 0; i < d->nheaders; i++)
		if (strcmp(d->headers[i].key, key) == 0)
			return d->headers[i].value;
	return NULL;
}

uint64_t
da_dump_counter(const struct da_dump *d, const char *name)
{
	for (size_t i = 0; i < d->ncounters; i++)
		if (strcmp(d->counters[i].name, name) == 0)
			return d->counters[i].value;
	return DA_DUMP_NONE;
}

void
da_dump_free(struct da_dump *d)
{
	for (size_t i = 0; i < d->nheaders; i++) {
		free(d->headers[i].key);
		free(d->headers[i].value);
	}
	for (size_t i = 0; i < d->ncounters; i++)
		free(d->counters[i].name);
	for (size_t i = 0; i < d->nmodules; i++) {
		free(d->modules[i].build_id);
		free(d->modules[i].path);
	}
	for (size_t i = 0; i < d->nepochs; i++)
		free(d->epochs[i].name);
	for (size_t i = 0; i < d->nsamples; i++)
		free(d->samples[i].reason);
	free(d->headers);
	free(d->counters);
	free(d->modules);
	free(d->segments);
	free(d->stacks);
	free(d->classes);
	free(d->sites);
	free(d->blocks);
	free(d->epochs);
	free(d->samples);
	free(d->pcs);
	free(d->life);
	free(d->stack_index);
	free(d->module_index);
	memset(d, 0, sizeof(*d));
}
