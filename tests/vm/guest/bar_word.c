// SPDX-License-Identifier: GPL-2.0
/*
 * bar_word: read, or write then read, one 64-bit word of a PCI memory BAR
 * through its sysfs resource file, for guest scripts that need to look at
 * device memory (the test kernel has no /dev/mem).
 *
 * Usage: bar_word RESOURCE_FILE OFFSET [VALUE]
 * Prints the word at OFFSET (after writing VALUE, when given) as 0x%016x.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t off, value;
	volatile uint64_t *word;
	uint8_t *map;
	int fd;

	if (argc < 3 || argc > 4 || parse_u64(argv[2], &off) || off % sizeof(uint64_t) ||
	    (argc == 4 && parse_u64(argv[3], &value))) {
		fprintf(stderr, "usage: bar_word RESOURCE_FILE OFFSET [VALUE] (OFFSET 8-byte aligned)\n");
		return 2;
	}
	fd = open(argv[1], argc == 4 ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "bar_word: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	map = mmap(NULL, page, argc == 4 ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd,
		   off & ~(uint64_t)(page - 1));
	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, "bar_word: mmap %s at 0x%" PRIx64 ": %s\n", argv[1], off,
			strerror(errno));
		return 1;
	}
	word = (volatile uint64_t *)(map + (off & (page - 1)));
	if (argc == 4)
		*word = value;
	printf("0x%016" PRIx64 "\n", *word);
	munmap(map, page);
	return 0;
}
