/*
 * fuzz_image.c: libFuzzer harness for the checkpoint image reader.  The
 * input goes through ckpt_info(), which reads and checks a whole image as
 * a restore would (ck_read_meta(), ck_read_section(), every decoder) but
 * never creates a process.  It is put in a memfd, read like a file.
 *
 * The first byte picks the form of the rest:
 *	even	the rest is the image, as is (magic, version, checksums and
 *		all: the fuzzer learns little past the first checksum)
 *	odd	the rest is a list of sections without their checksums, each
 *		a byte of type, a 16-bit big-endian length and that many
 *		bytes (cut at the end of the input); the harness writes the
 *		file header and each section with its CRC-32C, so that the
 *		decoders behind the checksum are reached.  With bit 1 set
 *		too, the stream starts as a pre-copy ("SCPC"), and the
 *		image's own header follows the first PC_END section
 *
 *	make fuzz	(builds build/fuzz/fuzz_image with clang; then run it)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ckpt.h"
#include "ckpt-int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 memfd = -1;
static FILE	*devnull;

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static int
put(const void *p, size_t n)
{
	return ck_write_all(memfd, p, n);
}

/* The odd form: header, then each section with its checksum. */
static int
put_sections(const uint8_t *d, size_t n, int pc)
{
	uint8_t h[12];
	uint32_t type, len, crc;

	put32(h, pc ? CK_PC_MAGIC : CK_MAGIC);
	put32(h + 4, CK_VERSION);
	if (put(h, 8) != 0)
		return -1;
	while (n >= 3) {
		type = d[0] % (CK_SEC_LAST + 1);
		len = (uint32_t)d[1] << 8 | d[2];
		d += 3;
		n -= 3;
		if (len > n)
			len = n;
		put32(h, type);
		put32(h + 4, len);
		crc = ck_crc32c(0, h, 8);
		crc = ck_crc32c(crc, d, len);
		put32(h + 8, crc);
		if (put(h, 12) != 0 || put(d, len) != 0)
			return -1;
		d += len;
		n -= len;
		if (pc && type == CK_SEC_PC_END) {
			put32(h, CK_MAGIC);
			put32(h + 4, CK_VERSION);
			if (put(h, 8) != 0)
				return -1;
			pc = 0;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_err e;

	if (memfd == -1) {
		if ((memfd = memfd_create("fuzz_image", MFD_CLOEXEC)) == -1 ||
		    (devnull = fopen("/dev/null", "w")) == NULL)
			abort();
	}
	if (size == 0)
		return 0;
	if (ftruncate(memfd, 0) == -1 || lseek(memfd, 0, SEEK_SET) == -1)
		abort();
	if ((data[0] & 1) == 0) {
		if (put(data + 1, size - 1) != 0)
			abort();
	} else if (put_sections(data + 1, size - 1, (data[0] & 2) != 0) != 0)
		abort();
	if (lseek(memfd, 0, SEEK_SET) == -1)
		abort();
	memset(&e, 0, sizeof(e));
	(void)ckpt_info(memfd, devnull, &e);
	return 0;
}
