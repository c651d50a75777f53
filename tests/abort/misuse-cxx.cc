// C++ misuses: each must end in SIGABRT with the words run.sh expects.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

static void *(*volatile opaque_fn)(void *);

static void *
identity(void *p)
{
	return p;
}

template <typename T>
static T *
opaque(T *p)
{
	return static_cast<T *>(opaque_fn(p));
}

int
main(int argc, char **argv)
{
	opaque_fn = identity;
	if (argc != 2) {
		std::fprintf(stderr, "usage: misuse-cxx CASE\n");
		return 2;
	}
	const char *c = argv[1];
	if (!std::strcmp(c, "delete-twice")) {
		int *p = new int(7);
		delete opaque(p);
		delete opaque(p);
	} else if (!std::strcmp(c, "delete-array-twice")) {
		int *p = new int[10];
		delete[] opaque(p);
		delete[] opaque(p);
	} else if (!std::strcmp(c, "delete-stack")) {
		int local = 0;
		delete opaque(&local);
	} else if (!std::strcmp(c, "malloc-delete")) {
		int *p = static_cast<int *>(std::malloc(sizeof(int)));
		delete opaque(p);
	} else if (!std::strcmp(c, "new-free")) {
		int *p = new int(7);
		std::free(opaque(p));
	} else if (!std::strcmp(c, "new-array-delete")) {
		int *p = new int[10];
		delete opaque(p);
	} else if (!std::strcmp(c, "new-delete-array")) {
		int *p = new int(3);
		delete[] opaque(p);
	} else if (!std::strcmp(c, "sized-delete-wrong")) {
		void *p = ::operator new(40);
		::operator delete(opaque(p), 32);
	} else {
		std::fprintf(stderr, "misuse-cxx: unknown case '%s'\n", c);
		return 2;
	}
	return 0;
}
