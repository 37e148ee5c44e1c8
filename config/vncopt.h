/* The value of the monitor's --vnc option, parsed into plain data. Pure:
 * no I/O, no allocation, so the monitor, the unit tests and the fuzzer
 * run the same code.
 *
 *   --vnc [HOST]:N[,vram=SIZE]    TCP port 5900 + N on HOST (an IPv4
 *                                 address or "localhost"; empty:
 *                                 127.0.0.1, not every address as QEMU)
 *   --vnc unix:PATH[,vram=SIZE]   a unix socket at PATH
 *
 * vram: the video memory, a power of two from 4 MiB to 256 MiB (default
 * 16 MiB), which is also bochs-display's BAR0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNCOPT_PORT_BASE   5900
#define VNCOPT_MAX_DISPLAY (65535 - VNCOPT_PORT_BASE)
#define VNCOPT_PATH_MAX	   107 /* sun_path less its NUL */
#define VNCOPT_VRAM_MIN	   (4ULL << 20)
#define VNCOPT_VRAM_MAX	   (256ULL << 20)
#define VNCOPT_VRAM_DEF	   (16ULL << 20)
#define VNCOPT_ADDR_STRLEN 128 /* "unix:" + a path, or "255.255.255.255:65535" */

struct vncopt {
	bool is_unix;
	char path[VNCOPT_PATH_MAX + 1]; /* is_unix */
	uint32_t addr;			/* IPv4, host byte order */
	uint16_t port;			/* 5900 + N */
	uint64_t vram;			/* bytes */
};

/* Parse arg into *o. 0, or -EINVAL with one line in err naming the
 * problem. *o is written only on success. */
int vncopt_parse(const char *arg, struct vncopt *o, char *err, size_t errlen);
/* Where it listens, as the user would write it: "127.0.0.1:5901" (the
 * port, not the display number) or "unix:PATH". */
void vncopt_format(const struct vncopt *o, char *out, size_t outlen);
