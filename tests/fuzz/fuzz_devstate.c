/* libFuzzer target: devstate_read() (ipc/devstate.c) on a state file
 * whose every byte a hostile earlier device process chose. The input is
 * the file's first bytes (the rest zero). Checks: the answer is an error,
 * none, or a payload no longer than the reader's buffer; and a successor
 * that takes a record can write on and read back its own. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static struct devstate st;
	static uint8_t buf[256], back[256];
	int n;

	if (fd < 0 && ((fd = devstate_create_fd(0)) < 0 || devstate_map(fd, &st) < 0))
		abort();
	memset(st.base, 0, DEVSTATE_SIZE);
	memcpy(st.base, data, size < DEVSTATE_SIZE ? size : DEVSTATE_SIZE);
	st.next = 0;
	n = devstate_read(&st, buf, sizeof(buf));
	if (n != -EBADMSG && (n < 0 || n > (int)sizeof(buf)))
		abort();
	if (n < 0)
		return 0;
	/* the successor writes on (to the other record) and reads its own */
	if (devstate_write(&st, buf, (size_t)n) < 0 || devstate_read(&st, back, sizeof(back)) != n ||
	    memcmp(buf, back, (size_t)n) != 0)
		abort();
	return 0;
}
