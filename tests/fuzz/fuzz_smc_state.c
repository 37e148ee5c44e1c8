/* libFuzzer target: smc_state_load() (devproc/smc/smc_model.c) on the
 * saved state a hostile earlier device process could leave in shared
 * memory. The input is that saved state, as it is. Checks:
 *  - a refused input (-EBADMSG) leaves the model exactly as smc_init()
 *    made it;
 *  - an accepted one saves again into bytes that a second model accepts,
 *    and both models then save the same bytes;
 *  - an accepted non-empty input is what smc_state_save() writes (the
 *    format has one layout per table, so there is no second spelling);
 *  - the saved bytes never hold either half of the OSK. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smc_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t osk[SMC_OSK_LEN] =
    "fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-fuzz-osk-!";

/* Save s, which must work, and check the bytes for the OSK. */
static size_t save_checked(const struct smc *s, uint8_t *buf)
{
	size_t n = smc_state_save(s, buf, SMC_STATE_MAX);

	if (n == 0 || n > SMC_STATE_MAX)
		abort();
	if (memmem(buf, n, osk, 32) || memmem(buf, n, osk + 32, 32))
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smc a, b, fresh;
	uint8_t sa[SMC_STATE_MAX], sb[SMC_STATE_MAX];
	size_t na, nb;
	int r;

	if (smc_init(&a, osk, NULL) || smc_init(&b, osk, NULL) || smc_init(&fresh, osk, NULL))
		abort();
	r = smc_state_load(&a, data, size);
	if (r == -EBADMSG) {
		if (memcmp(&a, &fresh, sizeof(a)))
			abort();
		return 0;
	}
	if (r != 0)
		abort();
	na = save_checked(&a, sa);
	if (size && (size != na || memcmp(data, sa, na)))
		abort();
	if (smc_state_load(&b, sa, na))
		abort();
	nb = save_checked(&b, sb);
	if (na != nb || memcmp(sa, sb, na) || memcmp(&a, &b, sizeof(a)))
		abort();
	return 0;
}
