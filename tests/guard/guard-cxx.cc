/*
 * guard-cxx.cc — operator new and delete under DBGALLOC_GUARD, one case
 * named by argv[1]: "uses" checks what every form gives (sizes,
 * alignment, contents, containers) and prints "cxx: right"; the others
 * write one byte past a block, which tests/guard/run.sh expects to fault
 * under DBGALLOC_GUARD_ALIGN=1, or use a block after its delete. Built
 * without dbgalloc, run under LD_PRELOAD.
 */
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

static void *(*volatile opaque_fn)(void *);

static void *
identity(void *p)
{
	return p;
}

template <class T>
static T *
opaque(T *p)
{
	return static_cast<T *>(opaque_fn(p));
}

struct thirteen {
	char c[13];
};

struct alignas(64) wide {
	char c[128];
};

static int failures;

static void
check(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "guard-cxx: wrong: %s\n", what);
		failures++;
	}
}

static bool
aligned(const void *p, std::size_t a)
{
	return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

static int
uses()
{
	int *i = opaque(new int(42));
	check(*i == 42, "new int");
	delete i;
	char *a = opaque(new char[13]);
	std::memset(a, 'x', 13);
	check(a[12] == 'x', "new char[13]");
	delete[] a;
	wide *w = opaque(new wide);
	check(aligned(w, 64), "aligned new");
	std::memset(w->c, 1, sizeof(w->c));
	delete w;
	wide *wa = opaque(new wide[3]);
	check(aligned(wa, 64), "aligned new[]");
	delete[] wa;
	void *v = ::operator new(100, std::align_val_t(256));
	check(aligned(v, 256), "operator new(100, align 256)");
	::operator delete(v, std::align_val_t(256));
	int *n = new (std::nothrow) int[5]();
	check(n != nullptr && n[4] == 0, "nothrow new[]");
	delete[] n;
	std::vector<std::string> strings;
	std::map<int, std::string> map;
	for (int k = 0; k < 2000; k++) {
		strings.push_back(std::string(k % 50, 'a' + k % 26));
		map[k] = strings.back();
	}
	std::size_t total = 0;
	for (const auto &kv : map)
		total += kv.second.size();
	check(total == 49000, "containers");
	std::puts(failures ? "cxx: wrong" : "cxx: right");
	return failures != 0;
}

int
main(int argc, char **argv)
{
	opaque_fn = identity;
	if (argc < 2)
		return 2;
	const char *c = argv[1];
	if (!std::strcmp(c, "uses"))
		return uses();
	if (!std::strcmp(c, "new-array")) {
		volatile char *p = opaque(new char[13]);
		p[13] = 1;
	} else if (!std::strcmp(c, "new-scalar")) {
		thirteen *t = opaque(new thirteen);
		reinterpret_cast<volatile char *>(t)[13] = 1;
	} else if (!std::strcmp(c, "new-aligned")) {
		wide *w = opaque(new wide);
		reinterpret_cast<volatile char *>(w)[sizeof(wide)] = 1;
	} else if (!std::strcmp(c, "delete-then-read")) {
		char *p = opaque(new char[13]);
		volatile char *v = opaque(p);
		v[0] = 1;
		delete[] p;
		std::fprintf(stderr, "guard-cxx: read %d\n", v[0]);
	} else {
		std::fprintf(stderr, "guard-cxx: no case %s\n", c);
		return 2;
	}
	std::fprintf(stderr, "guard-cxx: %s went on\n", c);
	return 1;
}
