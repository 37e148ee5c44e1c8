/* Images for the parser tests, on the heap in buffers of exactly their
 * size, so that a sanitizer sees any read past the end: a copy of a
 * synthesised image, or a file read whole. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A malloc'd copy of img[0..len) (one byte when len is 0), or NULL. */
static inline uint8_t *img_copy(const uint8_t *img, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy)
		memcpy(copy, img, len);
	return copy;
}

/* The file at path in a malloc'd buffer of its size (*buf, *len: what was
 * read); 0, or -errno when it cannot be opened, -EIO when it is empty or
 * not readable. The caller frees *buf. */
static inline int img_read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || !(*buf = malloc((size_t)st.st_size))) {
		close(fd);
		return -EIO;
	}
	while (got < (size_t)st.st_size && (n = read(fd, *buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	*len = got;
	return 0;
}
