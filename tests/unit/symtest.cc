// tests/unit/symtest.cc — the shared library symprog dlopen()s for
// tests/unit/test_symbols.c: a C++ method (a demangled name) that
// allocates 1004 bytes through the program's own operator new overload
// (an allocation wrapper, hidden by name), and the lines where each call
// is, given back by symtest_run (each taken on the line of its call).
#include <cstdlib>
#include <new>

namespace symtest
{
struct Arena {
	int unused;
};
struct Blob {
	char bytes[1004];
};
struct Box {
	static void make(int k);
};
} // namespace symtest

void *volatile symtest_sink;
static unsigned line_new, line_make;

__attribute__((noinline)) void *
operator new(std::size_t n, symtest::Arena &)
{
	void *p;
	p = std::malloc(n), line_new = __LINE__;
	if (p == nullptr)
		throw std::bad_alloc();
	return p;
}

__attribute__((noinline)) void
symtest::Box::make(int k)
{
	symtest::Arena a = {k};
	symtest_sink = new (a) Blob, line_make = __LINE__;
}

extern "C" void symtest_run(unsigned *lines);

extern "C" void
symtest_run(unsigned *lines)
{
	symtest::Box::make(1);
	lines[0] = line_new;
	lines[1] = line_make;
}
