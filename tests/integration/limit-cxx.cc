// limit-cxx.cc — C++ allocation under dbgalloc_limit_set, linked with
// libdbgalloc: operator new and new[] (plain and aligned) throw
// std::bad_alloc past the limit, the nothrow forms return nullptr, a
// new-handler installed with std::set_new_handler is called and, when it
// frees a reserve block, the retry succeeds; a container that runs into
// the limit keeps what it held. A plain main as in cxx.cc: one line per
// test, then "N passed, M failed"; exit 1 on any failure.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "shim/dbgalloc.h"

namespace
{

int checks_failed; // failed CHECKs in the current test

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

const std::size_t KiB = 1024;

dbgalloc_stats
stats()
{
	dbgalloc_stats st;
	dbgalloc_stats_get(&st);
	return st;
}

// Sets the limit so that exactly room bytes more may be allocated.
void
leave_room(std::size_t room)
{
	dbgalloc_limit_set(stats().live_bytes + room);
}

// Runs alloc; true if it threw std::bad_alloc (what it returned is freed
// with free_it).
template <class A, class F>
bool
throws_bad_alloc(A alloc, F free_it)
{
	try {
		free_it(alloc());
	} catch (const std::bad_alloc &) {
		return true;
	}
	return false;
}

// Every throwing form, one byte past the room, throws; the room itself
// is granted.
void
test_new_throws_bad_alloc()
{
	const std::size_t room = 64 * KiB;
	const std::align_val_t al{256};
	unsigned long long failed = stats().failed_allocs;

	leave_room(room);
	CHECK(throws_bad_alloc([&] { return ::operator new(opaque(room + 1)); },
	                       [](void *p) { ::operator delete(p); }));
	CHECK(throws_bad_alloc(
	        [&] { return ::operator new[](opaque(room + 1)); },
	        [](void *p) { ::operator delete[](p); }));
	CHECK(throws_bad_alloc(
	        [&] { return ::operator new(opaque(room + 1), al); },
	        [&](void *p) { ::operator delete(p, al); }));
	CHECK(throws_bad_alloc(
	        [&] { return ::operator new[](opaque(room + 1), al); },
	        [&](void *p) { ::operator delete[](p, al); }));
	CHECK(throws_bad_alloc(
	        [&] { return opaque(new char[opaque(room + 1)]); },
	        [](char *p) { delete[] p; }));
	CHECK(throws_bad_alloc(
	        [&] { return opaque(new std::uint64_t[opaque(room / 8 + 1)]); },
	        [](std::uint64_t *p) { delete[] p; }));
	CHECK(stats().failed_allocs == failed + 6);

	CHECK(!throws_bad_alloc([&] { return ::operator new(opaque(room)); },
	                        [](void *p) { ::operator delete(p); }));
	CHECK(!throws_bad_alloc([&] { return opaque(new char[opaque(room)]); },
	                        [](char *p) { delete[] p; }));
	CHECK(!throws_bad_alloc(
	        [&] { return ::operator new[](opaque(room), al); },
	        [&](void *p) { ::operator delete[](p, al); }));
	dbgalloc_limit_set(0);
}

// The nothrow forms return nullptr past the limit, and a block within it.
void
test_nothrow_null()
{
	const std::size_t room = 64 * KiB;
	const std::align_val_t al{128};

	leave_room(room);
	CHECK(::operator new(opaque(room + 1), std::nothrow) == nullptr);
	CHECK(::operator new[](opaque(room + 1), std::nothrow) == nullptr);
	CHECK(::operator new(opaque(room + 1), al, std::nothrow) == nullptr);
	CHECK(::operator new[](opaque(room + 1), al, std::nothrow) == nullptr);
	CHECK(new (std::nothrow) char[opaque(room + 1)] == nullptr);
	char *p = new (std::nothrow) char[opaque(room)];
	CHECK(p != nullptr);
	delete[] p;
	dbgalloc_limit_set(0);
}

int handler_calls;
void *reserve;

void
handler_uninstalls()
{
	handler_calls++;
	std::set_new_handler(nullptr);
}

// Frees the reserve block on the first call; gives up on the next.
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

// Past the limit new calls the handler; one that frees nothing and
// uninstalls itself leaves new to throw.
void
test_new_handler_called()
{
	const std::size_t room = 16 * KiB;

	leave_room(room);
	for (int form = 0; form < 3; form++) {
		handler_calls = 0;
		std::set_new_handler(handler_uninstalls);
		bool thrown = throws_bad_alloc(
		        [&]() -> void * {
			        switch (form) {
			        case 0:
				        return ::operator new(opaque(room + 1));
			        case 1:
				        return ::operator new[](
				                opaque(room + 1));
			        default:
				        return ::operator new(
				                opaque(room + 1),
				                std::align_val_t(64));
			        }
		        },
		        [&](void *p) {
			        if (form == 2)
				        ::operator delete(p,
				                          std::align_val_t(64));
			        else
				        ::operator delete(p);
		        });
		CHECK(thrown);
		CHECK(handler_calls == 1);
		CHECK(std::get_new_handler() == nullptr);
	}
	dbgalloc_limit_set(0);
}

// A handler that frees a reserve block makes room: the retry succeeds,
// for new, new[] and aligned new.
void
test_new_handler_frees_reserve()
{
	const std::size_t big = 256 * KiB;

	for (int form = 0; form < 3; form++) {
		reserve = ::operator new(opaque(big));
		std::memset(reserve, 0x5a, big);
		leave_room(16 * KiB);
		handler_calls = 0;
		std::set_new_handler(handler_frees_reserve);
		void *p = nullptr;
		try {
			switch (form) {
			case 0:
				p = ::operator new(opaque(big - KiB));
				break;
			case 1:
				p = opaque(new char[opaque(big)]);
				break;
			default:
				p = ::operator new[](opaque(big),
				                     std::align_val_t(4096));
				break;
			}
		} catch (const std::bad_alloc &) {
			p = nullptr;
		}
		std::set_new_handler(nullptr);
		CHECK(p != nullptr);
		CHECK(handler_calls == 1);
		CHECK(reserve == nullptr);
		if (p != nullptr)
			std::memset(p, 0xa5, big - KiB);
		// The reserve's bytes are in use again: nothing more fits.
		CHECK(::operator new(opaque(big), std::nothrow) == nullptr);
		if (form == 0)
			::operator delete(p);
		else if (form == 1)
			delete[] static_cast<char *>(p);
		else
			::operator delete[](p, std::align_val_t(4096));
		dbgalloc_limit_set(0);
		if (reserve != nullptr) {
			::operator delete(reserve);
			reserve = nullptr;
		}
	}
}

// A vector that runs into the limit throws from push_back and keeps its
// elements (the strong guarantee holds: the old buffer is untouched);
// after it is cleared, the room is there again.
void
test_container_at_limit()
{
	const std::size_t room = 512 * KiB;
	std::vector<std::uint32_t> v;
	bool thrown = false;

	leave_room(room);
	try {
		for (std::uint32_t i = 0; i < room; i++)
			v.push_back(i * 2654435761u);
	} catch (const std::bad_alloc &) {
		thrown = true;
	}
	CHECK(thrown);
	CHECK(!v.empty() && v.size() < room / 4);
	for (std::size_t i = 0; i < v.size(); i++)
		if (v[i] != static_cast<std::uint32_t>(i) * 2654435761u) {
			CHECK(v[i] ==
			      static_cast<std::uint32_t>(i) * 2654435761u);
			break;
		}
	std::vector<std::uint32_t>().swap(v);
	CHECK(!throws_bad_alloc([&] { return opaque(new char[opaque(room)]); },
	                        [](char *p) { delete[] p; }));
	std::string s;
	thrown = false;
	try {
		s.assign(opaque(room + 1), 'x');
	} catch (const std::bad_alloc &) {
		thrown = true;
	}
	CHECK(thrown);
	dbgalloc_limit_set(0);
}

struct Test {
	const char *name;
	void (*run)();
};

const Test tests[] = {
        {"new_throws_bad_alloc", test_new_throws_bad_alloc},
        {"nothrow_null", test_nothrow_null},
        {"new_handler_called", test_new_handler_called},
        {"new_handler_frees_reserve", test_new_handler_frees_reserve},
        {"container_at_limit", test_container_at_limit},
};

} // namespace

int
main()
{
	int passed = 0, failed = 0;

	std::printf("allocator: dbgalloc %s\n", dbgalloc_version());
	for (const Test &t : tests) {
		checks_failed = 0;
		t.run();
		dbgalloc_limit_set(0);
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
