/*
 * oom-clean — allocates with malloc, calloc, realloc and strdup, checks
 * every result and, on the first NULL, frees what it holds and exits with
 * status 1: an out-of-memory path that is right at every allocation.
 * tests/integration/oom-sweep.sh sweeps it and wants every run clean.
 * Built without dbgalloc, run under the launcher; prints nothing, so that
 * stdio makes no allocation of its own.
 */
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char *name;
};

static void
free_list(struct node *n)
{
	while (n != NULL) {
		struct node *next = n->next;
		free(n->name);
		free(n);
		n = next;
	}
}

/* A list of count nodes, each with a name; NULL when out of memory. */
static struct node *
make_list(int count)
{
	struct node *head = NULL;
	for (int i = 0; i < count; i++) {
		struct node *n = malloc(sizeof(*n));
		if (n == NULL)
			goto fail;
		n->next = head;
		n->name = strdup("a node");
		head = n;
		if (n->name == NULL)
			goto fail;
	}
	return head;
fail:
	free_list(head);
	return NULL;
}

int
main(void)
{
	struct node *list = make_list(4);
	if (list == NULL)
		return 1;
	int *table = calloc(16, sizeof(*table));
	if (table == NULL) {
		free_list(list);
		return 1;
	}
	char *buf = NULL;
	for (size_t size = 8; size <= 64; size *= 2) {
		char *grown = realloc(buf, size);
		if (grown == NULL) {
			free(buf);
			free(table);
			free_list(list);
			return 1;
		}
		buf = grown;
	}
	free(buf);
	free(table);
	free_list(list);
	return 0;
}
