// cxx.cc — C++ operators new/delete of libdbgalloc: every form (scalar,
// array, nothrow, sized, aligned, aligned nothrow), std::bad_alloc through
// the new-handler protocol, nothrow NULL results, and a container and
// exception workload, single- and multi-threaded. Built linked (cxx) and
// plain (cxx-plain, run preloaded by startup.sh with --expect-dbgalloc).
// A plain main: one line per test, then "N passed, M failed"; exit 1 on any
// failure.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "shim/dbgalloc.h"

// The plain build (cxx-plain, run under LD_PRELOAD) finds dbgalloc at run
// time; the linked build needs it at link time.
#ifndef DA_TEST_LINKED
#pragma weak dbgalloc_version
#pragma weak dbgalloc_owns
#endif

namespace
{

bool
have_dbgalloc()
{
#ifdef DA_TEST_LINKED
	return true;
#else
	return dbgalloc_version != nullptr && dbgalloc_owns != nullptr;
#endif
}

// p is a live dbgalloc block (always true without dbgalloc).
bool
owned(const void *p)
{
	return !have_dbgalloc() || dbgalloc_owns(p) == 1;
}

// p is not a live dbgalloc block (always true without dbgalloc).
bool
disowned(const void *p)
{
	return !have_dbgalloc() || dbgalloc_owns(p) == 0;
}

std::atomic<int> checks_failed; // failed CHECKs in the current test

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			std::fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, \
			             __LINE__, #cond);                       \
			++checks_failed;                                     \
		}                                                            \
	} while (0)

// Hides a value from the optimiser so new/delete pairs are not elided.
template <class T>
T
opaque(T v)
{
	__asm__ volatile("" : "+r"(v) : : "memory");
	return v;
}

bool
aligned_to(const void *p, std::size_t a)
{
	return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

// A fresh block: non-null, aligned, owned by dbgalloc, all n bytes usable.
void
check_fresh(void *p, std::size_t n, std::size_t align)
{
	CHECK(p != nullptr);
	if (p == nullptr)
		return;
	CHECK(aligned_to(p, align));
	CHECK(owned(p));
	std::memset(opaque(p), 0x3c, n);
	if (n > 0)
		CHECK(static_cast<volatile unsigned char *>(p)[n - 1] == 0x3c);
}

const std::size_t sizes[] = {0,    1,    7,    16,    17,      100,    255,
                             1000, 4096, 4097, 65536, 1 << 20, 3000000};
const std::size_t huge_sizes[] = {
        SIZE_MAX,
        SIZE_MAX - 1,
        SIZE_MAX - 4096,
        SIZE_MAX / 2 + 1,
        static_cast<std::size_t>(PTRDIFF_MAX),
        std::size_t(1) << 56,
};
const std::size_t default_align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

void
test_scalar_new_delete()
{
	for (std::size_t n : sizes) {
		void *p = ::operator new(opaque(n));
		check_fresh(p, n, default_align);
		::operator delete(opaque(p));
		CHECK(disowned(p));

		p = ::operator new(opaque(n));
		check_fresh(p, n, default_align);
		::operator delete(opaque(p), n);
		CHECK(disowned(p));
	}
}

void
test_array_new_delete()
{
	for (std::size_t n : sizes) {
		void *p = ::operator new[](opaque(n));
		check_fresh(p, n, default_align);
		::operator delete[](opaque(p));
		CHECK(disowned(p));

		p = ::operator new[](opaque(n));
		check_fresh(p, n, default_align);
		::operator delete[](opaque(p), n);
		CHECK(disowned(p));
	}
}

void
test_nothrow_new_delete()
{
	for (std::size_t n : sizes) {
		void *p = ::operator new(opaque(n), std::nothrow);
		check_fresh(p, n, default_align);
		::operator delete(opaque(p), std::nothrow);
		CHECK(disowned(p));

		p = ::operator new[](opaque(n), std::nothrow);
		check_fresh(p, n, default_align);
		::operator delete[](opaque(p), std::nothrow);
		CHECK(disowned(p));
	}
}

// Aligned forms, std::align_val_t from 32 to 64 KiB (and 1 MiB).
void
test_aligned_new_delete()
{
	for (std::size_t a = 32; a <= (std::size_t(1) << 20); a <<= 1) {
		if (a > 65536 && a != (std::size_t(1) << 20))
			continue;
		std::align_val_t al = static_cast<std::align_val_t>(a);
		for (std::size_t n : {std::size_t(1), a - 1, a, a + 1, 3 * a,
		                      std::size_t(100000)}) {
			void *p = ::operator new(opaque(n), al);
			check_fresh(p, n, a);
			::operator delete(opaque(p), al);
			CHECK(disowned(p));

			p = ::operator new(opaque(n), al);
			check_fresh(p, n, a);
			::operator delete(opaque(p), n, al);
			CHECK(disowned(p));

			p = ::operator new[](opaque(n), al);
			check_fresh(p, n, a);
			::operator delete[](opaque(p), al);
			CHECK(disowned(p));

			p = ::operator new[](opaque(n), al);
			check_fresh(p, n, a);
			::operator delete[](opaque(p), n, al);
			CHECK(disowned(p));
		}
	}
}

void
test_aligned_nothrow_new_delete()
{
	for (std::size_t a = 32; a <= 65536; a <<= 1) {
		std::align_val_t al = static_cast<std::align_val_t>(a);
		for (std::size_t n :
		     {std::size_t(1), a + 1, std::size_t(5000)}) {
			void *p = ::operator new(opaque(n), al, std::nothrow);
			check_fresh(p, n, a);
			::operator delete(opaque(p), al, std::nothrow);
			CHECK(disowned(p));

			p = ::operator new[](opaque(n), al, std::nothrow);
			check_fresh(p, n, a);
			::operator delete[](opaque(p), al, std::nothrow);
			CHECK(disowned(p));
		}
	}
}

struct alignas(256) Overaligned {
	char bytes[300];
};
struct Plain {
	long words[7];
};
struct WithDtor {
	std::string s{"a string long enough to need its own heap block"};
	~WithDtor()
	{
		s.clear();
	}
};

// New-expressions: the compiler picks sized and aligned operators itself.
void
test_new_expressions()
{
	for (int i = 0; i < 100; i++) {
		Plain *p = opaque(new Plain());
		CHECK(owned(p));
		CHECK(p->words[6] == 0);
		delete opaque(p);

		Overaligned *o = opaque(new Overaligned());
		CHECK(aligned_to(o, alignof(Overaligned)));
		CHECK(owned(o));
		o->bytes[299] = 1;
		delete opaque(o);

		Overaligned *oa = opaque(new Overaligned[5]());
		CHECK(aligned_to(oa, alignof(Overaligned)));
		oa[4].bytes[299] = 1;
		delete[] opaque(oa);

		WithDtor *w = opaque(new WithDtor[7]);
		CHECK(w[6].s.size() > 20);
		delete[] opaque(w);

		int *n = opaque(new (std::nothrow) int[1000]());
		CHECK(n != nullptr && n[999] == 0);
		delete[] n;
	}
}

// The throwing forms throw std::bad_alloc for sizes that cannot exist.
void
test_bad_alloc()
{
	for (std::size_t n : huge_sizes) {
		int thrown = 0;
		try {
			void *p = ::operator new(opaque(n));
			::operator delete(p);
		} catch (const std::bad_alloc &) {
			thrown++;
		}
		try {
			void *p = ::operator new[](opaque(n));
			::operator delete[](p);
		} catch (const std::bad_alloc &) {
			thrown++;
		}
		try {
			void *p =
			        ::operator new(opaque(n), std::align_val_t(64));
			::operator delete(p, std::align_val_t(64));
		} catch (const std::bad_alloc &) {
			thrown++;
		}
		try {
			void *p = ::operator new[](opaque(n),
			                           std::align_val_t(4096));
			::operator delete[](p, std::align_val_t(4096));
		} catch (const std::bad_alloc &) {
			thrown++;
		}
		CHECK(thrown == 4);
	}
	// A new-expression whose size the allocator refuses.
	bool thrown = false;
	try {
		char *c = opaque(new char[opaque(SIZE_MAX / 2)]);
		delete[] c;
	} catch (const std::bad_alloc &) {
		thrown = true;
	}
	CHECK(thrown);
}

// The nothrow forms return nullptr instead.
void
test_nothrow_null()
{
	for (std::size_t n : huge_sizes) {
		CHECK(::operator new(opaque(n), std::nothrow) == nullptr);
		CHECK(::operator new[](opaque(n), std::nothrow) == nullptr);
		CHECK(::operator new(opaque(n), std::align_val_t(128),
		                     std::nothrow) == nullptr);
		CHECK(::operator new[](opaque(n), std::align_val_t(65536),
		                       std::nothrow) == nullptr);
	}
	CHECK(new (std::nothrow) char[opaque(SIZE_MAX / 2)] == nullptr);
}

int handler_calls;

void
handler_uninstalls()
{
	handler_calls++;
	std::set_new_handler(nullptr);
}

void
handler_throws()
{
	handler_calls++;
	throw std::bad_alloc();
}

// Runs one allocation form with the handler installed; returns its result
// (nullptr if it threw std::bad_alloc).
template <class F>
void *
with_handler(std::new_handler h, F alloc)
{
	void *p = nullptr;

	handler_calls = 0;
	std::set_new_handler(h);
	try {
		p = alloc();
	} catch (const std::bad_alloc &) {
		p = nullptr;
	}
	std::set_new_handler(nullptr);
	return p;
}

// On failure new calls the installed handler before giving up.
void
test_new_handler_called()
{
	const std::size_t n = SIZE_MAX / 2;
	const std::align_val_t al{256};

	for (std::new_handler h : {handler_uninstalls, handler_throws}) {
		CHECK(with_handler(h, [&] {
			      return ::operator new(opaque(n));
		      }) == nullptr);
		CHECK(handler_calls == 1);
		CHECK(with_handler(h, [&] {
			      return ::operator new[](opaque(n));
		      }) == nullptr);
		CHECK(handler_calls == 1);
		CHECK(with_handler(h, [&] {
			      return ::operator new(opaque(n), al);
		      }) == nullptr);
		CHECK(handler_calls == 1);
		CHECK(with_handler(h, [&] {
			      return ::operator new[](opaque(n), al);
		      }) == nullptr);
		CHECK(handler_calls == 1);
		// dbgalloc's nothrow forms return NULL without calling the
		// handler (dbgalloc(3), BUGS): a handler that throws could not
		// be caught in the library, which does not link the C++
		// runtime, and would escape a noexcept function.
		CHECK(with_handler(h, [&] {
			      return ::operator new(opaque(n), std::nothrow);
		      }) == nullptr);
		CHECK(handler_calls == 0);
		CHECK(with_handler(h, [&] {
			      return ::operator new(opaque(n), al,
			                            std::nothrow);
		      }) == nullptr);
		CHECK(handler_calls == 0);
	}
	CHECK(std::get_new_handler() == nullptr);
}

void *reserve;

void
handler_frees_reserve()
{
	handler_calls++;
	if (reserve != nullptr) {
		::operator delete(reserve);
		reserve = nullptr;
	} else {
		std::set_new_handler(nullptr);
	}
}

std::size_t
address_space_in_use()
{
	unsigned long pages = 0;
	std::FILE *f = std::fopen("/proc/self/statm", "r");

	if (f == nullptr)
		return 0;
	if (std::fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	std::fclose(f);
	return pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// A handler that frees memory makes the retry succeed: with RLIMIT_AS just
// above what the process uses plus a 512 MiB reserve block, a 640 MiB
// request fails until the handler frees the reserve.
void
test_new_handler_makes_retry_succeed()
{
	const std::size_t MiB = std::size_t(1) << 20;
	struct rlimit old, lim;

	CHECK(getrlimit(RLIMIT_AS, &old) == 0);
	reserve = ::operator new(opaque(512 * MiB));
	CHECK(reserve != nullptr);
	lim = old;
	lim.rlim_cur = address_space_in_use() + 384 * MiB;
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < lim.rlim_cur) {
		std::printf("  (RLIMIT_AS already low: not tested)\n");
		::operator delete(reserve);
		return;
	}
	CHECK(setrlimit(RLIMIT_AS, &lim) == 0);

	for (int form = 0; form < 3; form++) {
		if (reserve == nullptr)
			reserve =
			        ::operator new(opaque(512 * MiB), std::nothrow);
		CHECK(reserve != nullptr);
		void *p = with_handler(handler_frees_reserve, [&]() -> void * {
			switch (form) {
			case 0:
				return ::operator new(opaque(640 * MiB));
			case 1:
				return ::operator new[](opaque(640 * MiB),
				                        std::align_val_t(4096));
			default:
				return ::operator new(opaque(640 * MiB),
				                      std::nothrow);
			}
		});
		if (form == 2) {
			// nothrow: NULL, and the handler is not called
			// (dbgalloc(3), BUGS), so the reserve is still there.
			CHECK(p == nullptr);
			CHECK(handler_calls == 0);
			CHECK(reserve != nullptr);
			continue;
		}
		CHECK(p != nullptr);
		CHECK(handler_calls == 1);
		CHECK(reserve == nullptr);
		if (p != nullptr) {
			CHECK(owned(p));
			static_cast<volatile char *>(p)[640 * MiB - 1] = 1;
			if (form == 1)
				::operator delete[](p, std::align_val_t(4096));
			else
				::operator delete(p);
		}
	}
	CHECK(setrlimit(RLIMIT_AS, &old) == 0);
	if (reserve != nullptr)
		::operator delete(reserve);
	reserve = nullptr;
}

// Containers and strings: values must survive growth, rehash and erase.
unsigned long
container_workload(unsigned seed)
{
	std::vector<std::string> words;
	std::map<int, std::string> ordered;
	std::unordered_map<std::string, int> hashed;
	std::deque<std::unique_ptr<Plain>> queue;
	std::list<std::shared_ptr<std::vector<int>>> lists;
	unsigned long digest = 0;
	unsigned x = seed;

	for (int i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		std::string w = std::to_string(x % 100000) +
		                std::string((x >> 16) % 40, 'a' + i % 26);
		words.push_back(w);
		ordered[static_cast<int>(x % 30000)] = w;
		hashed[w] = i;
		queue.push_back(std::make_unique<Plain>());
		queue.back()->words[0] = i;
		if (queue.size() > 100) {
			digest += static_cast<unsigned long>(
			        queue.front()->words[0]);
			queue.pop_front();
		}
		if (i % 100 == 0)
			lists.push_back(std::make_shared<std::vector<int>>(
			        static_cast<std::size_t>(i % 1000), i));
	}
	std::sort(words.begin(), words.end());
	words.erase(std::unique(words.begin(), words.end()), words.end());
	for (const auto &w : words)
		digest = digest * 31 + std::hash<std::string>{}(w) % 1000003;
	for (const auto &kv : ordered)
		digest +=
		        static_cast<unsigned long>(kv.first) * kv.second.size();
	for (auto it = hashed.begin(); it != hashed.end();)
		it = it->second % 2 ? hashed.erase(it) : std::next(it);
	digest += hashed.size();
	for (const auto &l : lists)
		digest += l->size();
	std::string big;
	for (int i = 0; i < 20000; i++)
		big += std::to_string(i);
	digest += big.size();
	if (!words.empty())
		CHECK(owned(words.data()));
	return digest;
}

void
test_container_workload()
{
	unsigned long a = container_workload(7);
	unsigned long b = container_workload(7);
	CHECK(a == b);
	CHECK(a != 0);
}

// Exceptions allocate with __cxa_allocate_exception and strings inside.
void
test_exceptions()
{
	int caught = 0;
	for (int i = 0; i < 20000; i++) {
		try {
			throw std::runtime_error("exception number " +
			                         std::to_string(i) +
			                         std::string(100, 'x'));
		} catch (const std::runtime_error &e) {
			caught += std::strlen(e.what()) > 100;
		}
	}
	CHECK(caught == 20000);
}

// The same workload on four threads at once, each checked against the
// single-threaded result; threads also throw and free each other's data.
void
test_threads()
{
	const unsigned long want = container_workload(11);
	std::atomic<int> bad{0};
	std::vector<std::unique_ptr<std::vector<std::string>>> handoff(4);
	std::vector<std::thread> threads;

	for (int t = 0; t < 4; t++) {
		threads.emplace_back([&, t] {
			if (container_workload(11) != want)
				bad++;
			auto v = std::make_unique<std::vector<std::string>>();
			for (int i = 0; i < 10000; i++) {
				try {
					throw std::string(50, 'e');
				} catch (const std::string &s) {
					v->push_back(s + std::to_string(i));
				}
			}
			handoff[static_cast<std::size_t>(t)] = std::move(v);
		});
	}
	for (auto &th : threads)
		th.join();
	CHECK(bad.load() == 0);
	for (auto &v : handoff) {
		CHECK(v && v->size() == 10000);
		v.reset(); // freed by a thread other than the allocating one
	}
}

struct Test {
	const char *name;
	void (*run)();
};

const Test tests[] = {
        {"scalar_new_delete", test_scalar_new_delete},
        {"array_new_delete", test_array_new_delete},
        {"nothrow_new_delete", test_nothrow_new_delete},
        {"aligned_new_delete", test_aligned_new_delete},
        {"aligned_nothrow_new_delete", test_aligned_nothrow_new_delete},
        {"new_expressions", test_new_expressions},
        {"bad_alloc", test_bad_alloc},
        {"nothrow_null", test_nothrow_null},
        {"new_handler_called", test_new_handler_called},
        {"new_handler_makes_retry_succeed",
         test_new_handler_makes_retry_succeed},
        {"container_workload", test_container_workload},
        {"exceptions", test_exceptions},
        {"threads", test_threads},
};

} // namespace

int
main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	bool expect = have_dbgalloc();

	for (int i = 1; i < argc; i++)
		expect = expect ||
		         std::strcmp(argv[i], "--expect-dbgalloc") == 0;
	if (!have_dbgalloc()) {
		std::printf("allocator: system\n");
		if (expect) {
			std::printf("FAIL: dbgalloc expected but not in the "
			            "process (LD_PRELOAD not effective?)\n");
			return 1;
		}
	} else {
		std::printf("allocator: dbgalloc %s\n", dbgalloc_version());
	}
	for (const Test &t : tests) {
		checks_failed = 0;
		t.run();
		if (checks_failed == 0) {
			passed++;
			std::printf("ok   %s\n", t.name);
		} else {
			failed++;
			std::printf("FAIL %s\n", t.name);
		}
		std::fflush(stdout);
	}
	std::printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
