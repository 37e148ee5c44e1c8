/* For the libFuzzer targets of the option parsers (fuzz_netopt.c,
 * fuzz_smbios_opt.c): the input split at '\n' into options, and the check
 * every parser's error line must pass. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* The next line of data from *pos (advanced past it and its '\n') into
 * opt, NUL-terminated and cut at optlen - 1 bytes. */
static inline void fuzz_next_opt(const uint8_t *data, size_t size, size_t *pos, char *opt,
				 size_t optlen)
{
	size_t len = 0;

	while (*pos < size && data[*pos] != '\n' && len < optlen - 1)
		opt[len++] = (char)data[(*pos)++];
	(*pos)++;
	opt[len] = 0;
}

/* A parser returns 0 or -EINVAL, and sets its error line exactly on
 * failure, as one line of printable ASCII. */
static inline void fuzz_check_err(int r, const char *err)
{
	if (r != 0 && r != -EINVAL)
		abort();
	if ((r == 0) != (err[0] == 0))
		abort();
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
			abort();
}
