// bench/ue_emit.c's encode() as a shared library, so that a runtime can time
// the C encode in the same process and the same moments as its own
// (bench/encode_vs_c.ts): this host's speed changes by up to 2x from one
// second to the next, for C and TypeScript alike, so a ratio of two
// measurements taken minutes apart says more about the host than the code.
//
// ue_devnull_loop is the C side of the host-proxy row: bench/ue_emit.c
// --devnull's per-event work (the enable word, the encode, one write(2) to
// /dev/null) for n events in one call, so the FFI call that starts a round
// is spread over n events, as in the standalone program.
//
//   cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c
#define main ue_emit_main
#include "ue_emit.c"
#undef main

static int ready;
static int devnull_fd = -1;

static void ensure_ready(void)
{
	if (!ready) {
		build_metadata();
		ready = 1;
	}
}

// Sets the event's time (whole ms since the epoch, RECORD.timestamp).
void ue_set_time_ms(double ms)
{
	TIME_NS = (uint64_t)ms * 1000000ULL;
}

// Encodes the event n times into a static buffer; returns ns per encode.
double ue_encode_loop(int n)
{
	static uint8_t buf[65536];
	ensure_ready();
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		size_t len = encode(buf, (uint32_t)i);
		__asm__ volatile("" : : "r"(buf), "r"(len) : "memory");
	}
	return (now_ns() - t0) / (double)n;
}

// Emits the event n times into /dev/null as bench/ue_emit.c --devnull does
// (enable word, encode, write(2)); returns ns per emit, or -1 when /dev/null
// cannot be opened or a write fails.
double ue_devnull_loop(int n)
{
	static uint8_t buf[65536];
	ensure_ready();
	if (devnull_fd < 0) {
		devnull_fd = open("/dev/null", O_WRONLY);
		if (devnull_fd < 0) return -1;
		enable_word = 1;
	}
	long failed = 0;
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		if (enable_word == 0) continue;
		size_t len = encode(buf, 0);
		if (write(devnull_fd, buf, len) < 0) failed++;
	}
	double per = (now_ns() - t0) / (double)n;
	return failed == 0 ? per : -1;
}

// Encodes one event (write index 0) into out; returns its length, or -1
// when cap is too small.
int ue_dump(uint8_t *out, int cap)
{
	static uint8_t buf[65536];
	ensure_ready();
	size_t len = encode(buf, 0);
	if (len > (size_t)cap) return -1;
	memcpy(out, buf, len);
	return (int)len;
}

// The C side of the VM row (bench/encode_vs_c.ts --case kernel, run by
// bench/kernel.sh in the user_events VM): bench/ue_emit.c's kernel path in
// the same process as the TypeScript processor, so that both are timed in
// alternating rounds a few milliseconds apart, not in separate processes
// minutes apart. ue_kernel_open registers bench_L4K1 (the event the
// processor registers, same format) with C's own enable word; enabling the
// event through tracefs sets both registrations' bits.
static int kernel_fd = -1;
static struct user_reg kernel_reg;

// Registers the event; returns 0, or -errno.
int ue_kernel_open(void)
{
	static char command[512];
	ensure_ready();
	if (kernel_fd >= 0) return 0;
	snprintf(command, sizeof(command),
		 "bench_L%xK1 u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; u8 level", LEVEL);
	int fd = open(TRACEFS "/user_events_data", O_WRONLY);
	if (fd < 0) return -errno;
	memset(&kernel_reg, 0, sizeof(kernel_reg));
	kernel_reg.size = sizeof(kernel_reg);
	kernel_reg.enable_size = 4;
	kernel_reg.enable_addr = (uint64_t)(uintptr_t)&enable_word;
	kernel_reg.name_args = (uint64_t)(uintptr_t)command;
	if (ioctl(fd, DIAG_IOCSREG, &kernel_reg) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	kernel_fd = fd;
	return 0;
}

// 1 when the kernel has set C's enable bit.
int ue_kernel_enabled(void)
{
	return enable_word != 0;
}

// bench/ue_emit.c's timed loop for n events (enable word, encode with the
// write index, write(2) to user_events_data); returns ns per emit, or -1
// when the event is not open or a write fails.
double ue_kernel_loop(int n)
{
	static uint8_t buf[65536];
	if (kernel_fd < 0) return -1;
	long failed = 0;
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		if (enable_word == 0) continue;
		size_t len = encode(buf, kernel_reg.write_index);
		if (write(kernel_fd, buf, len) < 0) failed++;
	}
	double per = (now_ns() - t0) / (double)n;
	return failed == 0 ? per : -1;
}
