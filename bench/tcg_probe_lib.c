// The C side of bench/tcg_probe.ts: small loops whose JavaScript twins the
// probe times in the same process, on the host and in the user_events VM
// (QEMU TCG), to show what TCG does to JIT-compiled code against C, and an
// argument-free function for the cost of one FFI call.
//
//   cc -O2 -shared -fPIC -o bench/bin/libtcg_probe.so bench/tcg_probe_lib.c
#include <stdint.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uint32_t sink;

// n rounds of xorshift32 (registers only); ns per round.
double probe_arith_loop(int n)
{
	uint32_t x = 0x5eed;
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
	}
	sink = x;
	return (now_ns() - t0) / (double)n;
}

// The same, 8 rounds per iteration written out: 1/8 of the loop's own
// per-iteration work (branch, and in JIT code its interrupt check); ns per
// round.
double probe_arith8_loop(int n)
{
	uint32_t x = 0x5eed;
	double t0 = now_ns();
	for (int i = 0; i < n; i += 8) {
#define XS x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		XS XS XS XS XS XS XS XS
#undef XS
	}
	sink = x;
	return (now_ns() - t0) / (double)n;
}

static uint8_t buf[128];
static const uint8_t src[128] = "user signed in/api/v1/sessions POST INFO bench 2026-12-04T18:57:51.123Z "
	"0123456789abcdef0123456789abcdef0123456789abcdef01234";

// n copies of 120 bytes, one byte at a time with a running checksum (loads
// and stores, as an encoder's string copy; the checksum keeps the compiler
// from turning it into memcpy); ns per copy.
__attribute__((optimize("no-tree-vectorize")))
double probe_copy_loop(int n)
{
	uint32_t sum = 0;
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < 120; j++) {
			uint8_t c = src[j];
			sum = sum * 31 + c;
			buf[j] = c;
		}
		__asm__ volatile("" : : "r"(buf) : "memory");
	}
	sink = sum;
	return (now_ns() - t0) / (double)n;
}

__attribute__((noinline)) int32_t probe_noop(void)
{
	__asm__ volatile("");
	return 0;
}

static int32_t (*volatile noop_ptr)(void) = probe_noop;

// n indirect calls of probe_noop from C; ns per call.
double probe_call_loop(int n)
{
	double t0 = now_ns();
	for (int i = 0; i < n; i++) noop_ptr();
	return (now_ns() - t0) / (double)n;
}

// For bench/_c_loop.ts's openCLoop, which binds a setTime and a dump too.
void probe_set(double ms) { (void)ms; }
int32_t probe_dump(uint8_t *out, int32_t cap) { (void)out; (void)cap; return 0; }

// write(2)'s signature without the syscall: the cost of one FFI call with
// libc_*.ts's write arguments (fd, address, length).
__attribute__((noinline)) int32_t probe_take3(int32_t fd, uint64_t p, uint64_t n)
{
	__asm__ volatile("" : : "r"(fd), "r"(p), "r"(n));
	return (int32_t)n;
}
