/*
 * oom-cxx — operator new when memory runs out: load_table catches
 * std::bad_alloc and gives up (exit status 1), name_it does not, so that a
 * failure there ends in std::terminate and SIGABRT.
 * tests/integration/oom-sweep.sh wants the sweep to name SIGABRT and
 * name_it for those runs alone. Built without dbgalloc, run under the
 * launcher; prints nothing.
 */
#include <new>
#include <string>
#include <vector>

static std::vector<int> *volatile table;

__attribute__((noinline)) static int
load_table()
{
	try {
		table = new std::vector<int>(64);
	} catch (const std::bad_alloc &) {
		return 1;
	}
	return 0;
}

__attribute__((noinline)) static void
name_it()
{
	std::string *name = new std::string(100, 'x'); /* not caught */
	delete name;
}

int
main()
{
	if (load_table() != 0)
		return 1;
	name_it();
	delete table;
	return 0;
}
