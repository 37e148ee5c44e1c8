/* Descriptor helpers shared by monitor and children. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Read exactly len bytes at offset (pread loop); 0 or -errno (-EIO on a
 * short file). */
int fd_pread_full(int fd, void *buf, size_t len, off_t off);
/* Write all of buf (write loop, EINTR-safe); 0 or -errno. */
int fd_write_full(int fd, const void *buf, size_t len);
/* Close every descriptor except those listed (keep[] need not be sorted). */
int fd_close_all_except(const int *keep, size_t nkeep);
int fd_set_nonblock(int fd, bool on);
int fd_set_cloexec(int fd, bool on);
