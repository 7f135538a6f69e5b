/* A C EventHeader writer for the listener's real-kernel tests, independent
 * of the library's encoder: registers "<provider>_L5K1" through
 * user_events_data, waits for a listener, then writes N events named
 * "CEvent" with fields count (u32), msg (string16), delta (i64) and
 * ok (bool8), byte by byte as eventheader.h defines them.
 * Usage: _c_writer PROVIDER N [RATE [DELAY_MS]]      prints "written N"
 * RATE: events per second, paced by sleeping until each event's due time on
 * CLOCK_MONOTONIC (0 or absent: as fast as it can); DELAY_MS: wait that long after the enable bit is set
 * before the first write, or, when negative, until a byte arrives on stdin
 * (lets a listener that spawned it return to its event loop first). The
 * writing time goes to stderr as "ns T", then its CPU time and context
 * switches while writing as "cpu T vcsw N ivcsw N". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct __attribute__((packed)) user_reg {
	uint32_t size;
	uint8_t enable_bit;
	uint8_t enable_size;
	uint16_t flags;
	uint64_t enable_addr;
	uint64_t name_args;
	uint32_t write_index;
};

#define DIAG_IOCSREG 0xc0082a00

static volatile uint32_t enabled;

int main(int argc, char **argv) {
	if (argc < 3 || argc > 5) return 2;
	double rate = argc > 3 ? atof(argv[3]) : 0;
	int delay_ms = argc > 4 ? atoi(argv[4]) : 0;
	char name[300], command[400];
	snprintf(name, sizeof name, "%s_L5K1", argv[1]);
	snprintf(command, sizeof command,
		 "%s u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; u8 level", name);
	int n = atoi(argv[2]);
	int fd = open("/sys/kernel/tracing/user_events_data", O_WRONLY | O_CLOEXEC);
	if (fd < 0) { perror("open"); return 1; }
	struct user_reg reg = {0};
	reg.size = sizeof reg;
	reg.enable_size = 4;
	reg.enable_addr = (uint64_t)(uintptr_t)&enabled;
	reg.name_args = (uint64_t)(uintptr_t)command;
	if (ioctl(fd, DIAG_IOCSREG, &reg) < 0) { perror("DIAG_IOCSREG"); return 1; }
	for (int i = 0; i < 3000 && !enabled; i++) usleep(1000);
	if (!enabled) { fprintf(stderr, "nobody listens\n"); return 1; }

	/* eventheader: flags 0x07 (pointer64 | little-endian | extension), version 0,
	 * id 0, tag 0, opcode 0, level 5; then one metadata extension. */
	static const uint8_t meta[] = {
		'C', 'E', 'v', 'e', 'n', 't', 0,
		'c', 'o', 'u', 'n', 't', 0, 0x04,       /* value32, default format (unsigned) */
		'm', 's', 'g', 0, 0x0a,                 /* string_length16_char8 */
		'd', 'e', 'l', 't', 'a', 0, 0x85, 0x02, /* value64, format signed */
		'o', 'k', 0, 0x82, 0x07,                /* value8, format boolean */
	};
	uint8_t header[12] = {0x07, 0, 0, 0, 0, 0, 0, 5, sizeof meta, 0, 0x01, 0x00};
	const char *text = "from C";
	if (delay_ms > 0) usleep((useconds_t)delay_ms * 1000);
	if (delay_ms < 0) {
		char go;
		if (read(0, &go, 1) != 1) { fprintf(stderr, "no start byte\n"); return 1; }
	}
	struct timespec t0, now, c0, c1;
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		if (rate > 0) {
			/* Event i is due at t0 + i / rate; sleep until then (a
			 * spinning writer would starve the reader of the CPU). */
			long long due = (long long)((double)i * 1e9 / rate);
			struct timespec at = t0;
			at.tv_sec += (time_t)(due / 1000000000LL);
			at.tv_nsec += (long)(due % 1000000000LL);
			if (at.tv_nsec >= 1000000000L) { at.tv_sec++; at.tv_nsec -= 1000000000L; }
			/* Sleep only when 1 ms or more ahead: a sleep costs far more
			 * than an event under emulation; behind, it catches up. */
			clock_gettime(CLOCK_MONOTONIC, &now);
			long long ahead = (long long)(at.tv_sec - now.tv_sec) * 1000000000LL + (at.tv_nsec - now.tv_nsec);
			if (ahead >= 1000000LL)
				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) != 0) {}
		}
		uint8_t data[64];
		size_t p = 0;
		uint32_t count = (uint32_t)i;
		memcpy(data + p, &count, 4); p += 4;
		uint16_t len = (uint16_t)strlen(text);
		memcpy(data + p, &len, 2); p += 2;
		memcpy(data + p, text, len); p += len;
		int64_t delta = -(int64_t)i * 1000000007LL;
		memcpy(data + p, &delta, 8); p += 8;
		data[p++] = (uint8_t)(i % 2);
		struct iovec iov[4] = {
			{&reg.write_index, 4}, {header, sizeof header},
			{(void *)meta, sizeof meta}, {data, p},
		};
		if (writev(fd, iov, 4) < 0) { perror("writev"); return 1; }
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	getrusage(RUSAGE_SELF, &r1);
	fprintf(stderr, "ns %lld\n",
		(long long)(now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec));
	/* Benchmarks: CPU time and context switches while writing (how much of
	 * the writing time this process did not run, and why). */
	fprintf(stderr, "cpu %lld vcsw %ld ivcsw %ld\n",
		(long long)(c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec),
		r1.ru_nvcsw - r0.ru_nvcsw, r1.ru_nivcsw - r0.ru_nivcsw);
	printf("written %d\n", n);
	return 0;
}
