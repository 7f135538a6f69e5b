// The C reference of the enabled user_events case (bench/kernel.sh): the
// same record as bench/_fixtures.ts RECORD, encoded per event into the same
// EventHeader bytes the TypeScript UserEventsProcessor writes (header,
// metadata, then PartA time/ext_cloud_role, PartC attributes, PartB), one
// write() per event after checking the enable word, as the processor does.
//
//   cc -O2 -o bench/bin/ue_emit bench/ue_emit.c
//   ue_emit --dump                 # print one event (hex, no index), no kernel
//   ue_emit --encode-only N ROUNDS # time the encode alone (fastest round); prints JSON
//   ue_emit N ROUNDS [PROVIDER]    # register PROVIDER_L4K1, enable it, time
//                                  # ROUNDS x N emits; prints JSON
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct user_reg {
	uint32_t size;
	uint8_t enable_bit;
	uint8_t enable_size;
	uint16_t flags;
	uint64_t enable_addr;
	uint64_t name_args;
	uint32_t write_index;
} __attribute__((__packed__));

#define DIAG_IOCSREG 0xc0082a00UL
#define TRACEFS "/sys/kernel/tracing"

static volatile uint32_t enable_word __attribute__((aligned(8)));

// The record (bench/_fixtures.ts RECORD, service.name "bench").
// The record's time: UE_TIME_MS (whole ms since the epoch, what the
// TypeScript side's RECORD.timestamp was: bench/kernel.sh passes it), else a
// fixed one.
static uint64_t TIME_NS = 1700000000123000000ULL;
static const char *SERVICE = "bench";
static const int64_t USER_ID = 4242;
static const char *METHOD = "POST";
static const char *PATH = "/api/v1/sessions";
static const int RETRY = 0;
static const char *BODY = "user signed in";
static const int16_t SEVERITY = 9;
static const char *SEVERITY_TEXT = "INFO";
static const uint8_t LEVEL = 4;

static uint8_t meta[512];
static size_t meta_len;

static void meta_name(const char *s) { size_t n = strlen(s) + 1; memcpy(meta + meta_len, s, n); meta_len += n; }
static void meta_byte(uint8_t b) { meta[meta_len++] = b; }

static void build_metadata(void)
{
	meta_len = 0;
	meta_name("Log");
	meta_name("__csver__"); meta_byte(0x84); meta_byte(0x01);
	meta_name("PartA"); meta_byte(0x81); meta_byte(2);
	meta_name("time"); meta_byte(0x0a);
	meta_name("ext_cloud_role"); meta_byte(0x0a);
	meta_name("PartC"); meta_byte(0x81); meta_byte(4);
	meta_name("user.id"); meta_byte(0x85); meta_byte(0x02);
	meta_name("http.request.method"); meta_byte(0x0a);
	meta_name("url.path"); meta_byte(0x0a);
	meta_name("retry"); meta_byte(0x82); meta_byte(0x07);
	meta_name("PartB"); meta_byte(0x81); meta_byte(4);
	meta_name("_typeName"); meta_byte(0x0a);
	meta_name("body"); meta_byte(0x0a);
	meta_name("severityNumber"); meta_byte(0x83); meta_byte(0x02);
	meta_name("severityText"); meta_byte(0x0a);
}

static inline uint8_t *put_str(uint8_t *p, const char *s, size_t n)
{
	p[0] = (uint8_t)n; p[1] = (uint8_t)(n >> 8);
	memcpy(p + 2, s, n);
	return p + 2 + n;
}

static inline uint8_t *put_digits(uint8_t *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) { p[i] = (uint8_t)('0' + v % 10); v /= 10; }
	return p + width;
}

// RFC 3339 UTC with 0/3/6/9 fraction digits and a Z suffix, length-prefixed.
static uint8_t *put_time(uint8_t *p, uint64_t ns)
{
	uint8_t *len = p;
	p += 2;
	uint64_t secs = ns / 1000000000ULL;
	unsigned frac = (unsigned)(ns % 1000000000ULL);
	struct tm tm;
	time_t t = (time_t)secs;
	gmtime_r(&t, &tm);
	p = put_digits(p, (unsigned)tm.tm_year + 1900, 4); *p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mon + 1, 2); *p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mday, 2); *p++ = 'T';
	p = put_digits(p, (unsigned)tm.tm_hour, 2); *p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_min, 2); *p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_sec, 2);
	if (frac != 0) {
		*p++ = '.';
		if (frac % 1000000 == 0) p = put_digits(p, frac / 1000000, 3);
		else if (frac % 1000 == 0) p = put_digits(p, frac / 1000, 6);
		else p = put_digits(p, frac, 9);
	}
	*p++ = 'Z';
	size_t n = (size_t)(p - len - 2);
	len[0] = (uint8_t)n; len[1] = (uint8_t)(n >> 8);
	return p;
}

// Encodes the event after the 4-byte write index; returns the total length.
static size_t encode(uint8_t *buf, uint32_t write_index)
{
	uint8_t *p = buf;
	memcpy(p, &write_index, 4); p += 4;
	static const uint8_t header[8] = { 0x07, 0, 0, 0, 0, 0, 0, 0 };
	memcpy(p, header, 8); p[7] = LEVEL; p += 8;
	p[0] = (uint8_t)meta_len; p[1] = (uint8_t)(meta_len >> 8); p[2] = 1; p[3] = 0; p += 4;
	memcpy(p, meta, meta_len); p += meta_len;
	uint32_t csver = 0x400; memcpy(p, &csver, 4); p += 4;
	p = put_time(p, TIME_NS);
	p = put_str(p, SERVICE, strlen(SERVICE));
	memcpy(p, &USER_ID, 8); p += 8;
	p = put_str(p, METHOD, strlen(METHOD));
	p = put_str(p, PATH, strlen(PATH));
	*p++ = (uint8_t)RETRY;
	p = put_str(p, "Log", 3);
	p = put_str(p, BODY, strlen(BODY));
	memcpy(p, &SEVERITY, 2); p += 2;
	p = put_str(p, SEVERITY_TEXT, strlen(SEVERITY_TEXT));
	return (size_t)(p - buf);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0) return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static uint8_t buf[65536];
	static struct user_reg reg;
	build_metadata();
	const char *time_ms = getenv("UE_TIME_MS");
	if (time_ms != NULL && *time_ms != 0) TIME_NS = strtoull(time_ms, NULL, 10) * 1000000ULL;
	if (argc >= 2 && strcmp(argv[1], "--dump") == 0) {
		size_t n = encode(buf, 0);
		for (size_t i = 4; i < n; i++) printf("%02x", buf[i]);
		printf("\n");
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "--encode-only") == 0) {
		// The encode alone (no write): the C side of the encode-cost rows.
		long n = atol(argv[2]);
		int rounds = atoi(argv[3]);
		double best = 1e18, sum = 0;
		for (int r = -1; r < rounds; r++) {
			double t0 = now_ns();
			for (long i = 0; i < n; i++) {
				size_t len = encode(buf, (uint32_t)i);
				__asm__ volatile("" : : "r"(buf), "r"(len) : "memory");
			}
			double per = (now_ns() - t0) / (double)n;
			if (r >= 0) { sum += per; if (per < best) best = per; }
		}
		printf("{\"runtime\":\"c\",\"variant\":\"c-encode-only\",\"nsPerOp\":%.1f,\"meanNsPerOp\":%.1f}\n", best, sum / rounds);
		return 0;
	}
	int devnull = argc >= 2 && strcmp(argv[1], "--devnull") == 0;
	if (devnull) {
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: ue_emit --dump | ue_emit [--devnull] N ROUNDS [PROVIDER]\n");
		return 2;
	}
	long n = atol(argv[1]);
	int rounds = atoi(argv[2]);
	const char *provider = argc > 3 ? argv[3] : "bench";
	char name[256], command[512], path[512];
	int fd;
	if (devnull) {
		fd = open("/dev/null", O_WRONLY);
		reg.write_index = 0;
		enable_word = 1;
		path[0] = 0;
		goto measure;
	}
	snprintf(name, sizeof(name), "%s_L%xK1", provider, LEVEL);
	snprintf(command, sizeof(command),
		 "%s u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; u8 level", name);

	fd = open(TRACEFS "/user_events_data", O_WRONLY);
	if (fd < 0) { perror("open user_events_data"); return 1; }
	memset(&reg, 0, sizeof(reg));
	reg.size = sizeof(reg);
	reg.enable_size = 4;
	reg.enable_addr = (uint64_t)(uintptr_t)&enable_word;
	reg.name_args = (uint64_t)(uintptr_t)command;
	if (ioctl(fd, DIAG_IOCSREG, &reg) < 0) { perror("DIAG_IOCSREG"); return 1; }
	snprintf(path, sizeof(path), TRACEFS "/events/user_events/%s/enable", name);
	if (write_file(path, "1") < 0) { perror(path); return 1; }
	for (int i = 0; i < 2000 && enable_word == 0; i++) usleep(1000);
	if (enable_word == 0) { fprintf(stderr, "enable bit never set\n"); return 1; }

measure:;
	long written = 0, failed = 0;
	double *per = calloc((size_t)rounds, sizeof(double));
	for (int r = -1; r < rounds; r++) { // round -1 warms up
		double t0 = now_ns();
		for (long i = 0; i < n; i++) {
			if (enable_word == 0) continue;
			size_t len = encode(buf, reg.write_index);
			if (write(fd, buf, len) >= 0) written++;
			else failed++;
		}
		double t1 = now_ns();
		if (r >= 0) per[r] = (t1 - t0) / (double)n;
	}
	if (!devnull) write_file(path, "0");
	double sorted[rounds];
	memcpy(sorted, per, sizeof(double) * (size_t)rounds);
	qsort(sorted, (size_t)rounds, sizeof(double), cmp);
	printf("{\"runtime\":\"c\",\"variant\":\"%s\",\"nsPerOp\":%.1f,\"rounds\":[",
	       devnull ? "c-encode-write-devnull" : "c-encode-write", sorted[rounds / 2]);
	for (int r = 0; r < rounds; r++) printf("%s%.1f", r ? "," : "", per[r]);
	printf("],\"written\":%ld,\"failed\":%ld,\"eventBytes\":%zu}\n", written, failed, encode(buf, 0));
	return 0;
}
