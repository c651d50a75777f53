// impossible-alloc-cxx.cc — the C++ side of impossible-alloc.c: a 64 TiB
// new[] must throw std::bad_alloc (no new-handler is installed), and the
// nothrow forms must return nullptr, as they do with glibc's malloc under
// libstdc++. Skipped (exit 77) when vm.overcommit_memory = 1 (the kernel
// would grant the memory to glibc too) or the machine has 64 TiB of RAM.
// Nothing is touched if an allocation wrongly succeeds. probe.h is C only,
// so this program does its own (smaller) probing.
//
//   impossible-alloc-cxx [--expect-dbgalloc]

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

#include "shim/dbgalloc.h"

#ifndef DA_TEST_LINKED
#pragma weak dbgalloc_version
#endif

namespace
{

// Through a volatile, so that the compiler cannot see the size.
volatile size_t impossible = size_t(1) << 46;

int failures;

void
report(const char *what, bool ok)
{
	std::printf("%s%s\n", ok ? "" : "FAIL: ", what);
	if (!ok)
		failures++;
}

// The first number on the line of /proc file path that starts with key.
long
proc_number(const char *path, const std::string &key)
{
	std::ifstream in(path);
	std::string line;

	while (std::getline(in, line))
		if (line.compare(0, key.size(), key) == 0)
			return std::strtol(line.c_str() + key.size(), nullptr,
			                   10);
	return -1;
}

// dbgalloc's version if it is in the process, else nullptr.
const char *
dbgalloc_present()
{
#ifdef DA_TEST_LINKED
	return dbgalloc_version();
#else
	return dbgalloc_version != nullptr ? dbgalloc_version() : nullptr;
#endif
}

} // namespace

int
main(int argc, char **argv)
{
	const size_t n = impossible;
	bool expect = false;

#ifdef DA_TEST_LINKED
	expect = true;
#endif
	for (int i = 1; i < argc; i++)
		if (std::strcmp(argv[i], "--expect-dbgalloc") == 0)
			expect = true;
	if (dbgalloc_present() != nullptr)
		std::printf("allocator: dbgalloc %s\n", dbgalloc_present());
	else if (expect) {
		std::printf("FAIL: dbgalloc expected but not in the process\n");
		return 1;
	} else
		std::printf("allocator: system\n");
	if (proc_number("/proc/sys/vm/overcommit_memory", "") == 1) {
		std::printf("SKIP: vm.overcommit_memory = 1\n");
		return 77;
	}
	if (proc_number("/proc/meminfo", "MemTotal:") >= long(n >> 10)) {
		std::printf("SKIP: this machine has 64 TiB\n");
		return 77;
	}

	try {
		char *p = new char[n];
		report("new char[64 TiB] returned memory", false);
		delete[] p;
	} catch (const std::bad_alloc &) {
		report("new char[64 TiB] threw std::bad_alloc", true);
	}
	try {
		void *p = ::operator new(n);
		report("operator new(64 TiB) returned memory", false);
		::operator delete(p);
	} catch (const std::bad_alloc &) {
		report("operator new(64 TiB) threw std::bad_alloc", true);
	}
	char *q = new (std::nothrow) char[n];
	report(q == nullptr ? "new (nothrow) char[64 TiB] = nullptr"
	                    : "new (nothrow) char[64 TiB] returned memory",
	       q == nullptr);
	delete[] q;
	void *r = ::operator new(n, std::align_val_t(4096), std::nothrow);
	report(r == nullptr
	               ? "operator new(64 TiB, align 4096, nothrow) = nullptr"
	               : "operator new(64 TiB, align 4096, nothrow) returned "
	                 "memory",
	       r == nullptr);
	::operator delete(r, std::align_val_t(4096));
	std::printf("%d failures\n", failures);
	return failures == 0 ? 0 : 1;
}
