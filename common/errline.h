/* One line for the user about bad input, written where the caller asked
 * for it: parsers of options and configuration fill err and return
 * -EINVAL in one step:  return err_line(err, errlen, "--mem %s is too small", arg);
 * Header-only, so the pure parser libraries need no link dependency. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* The same with the error code the caller needs (-EPROTO, -EMSGSIZE...). */
__attribute__((format(printf, 4, 5))) static inline int err_line_code(int code, char *err,
								       size_t errlen,
								       const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

#define err_line(err, errlen, ...) err_line_code(-EINVAL, (err), (errlen), __VA_ARGS__)
