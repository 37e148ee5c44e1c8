/* Hexadecimal digits, for the option parsers that read MAC addresses and
 * UUIDs as text. Header-only, so the pure parser libraries need no link
 * dependency. */
#pragma once

/* The value of one hex digit (either case), or -1. */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte written as the two hex digits s[0] s[1], or -1 if either is not
 * a hex digit. */
static inline int hex_byte(const char *s)
{
	int hi = hex_digit(s[0]), lo = hex_digit(s[1]);

	return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}
