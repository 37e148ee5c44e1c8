/* moat-smc: the Apple System Management Controller (ports 0x300-0x31F) in
 * its own sandboxed process. It holds the OSK, and nothing else does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devproc.h"
#include "devstate.h"
#include "ioring.h"
#include "pol.h"
#include "smc_model.h"

static int smc_dev_init(void **model, const Moat__Dev__StartRequest *req, char *err, size_t errlen)
{
	struct smc_options opt = {0};
	struct smc *s;
	int rc;

	if (req->config_case != MOAT__DEV__START_REQUEST__CONFIG_SMC || !req->smc ||
	    req->smc->osk.len != 64) {
		snprintf(err, errlen, "start: no valid SMC configuration (the OSK is 64 bytes)");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = smc_init(s, req->smc->osk.data, &opt);
	if (rc < 0) {
		free(s);
		snprintf(err, errlen, "SMC model: %s", strerror(-rc));
		return rc;
	}
	*model = s;
	return 0;
}

/* The SMC is byte-wide: wider accesses are split into bytes, lowest port
 * first, as the bus would. MMIO is not ours: reads float high. */
static void smc_dev_io(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		       uint64_t *data)
{
	struct smc *s = model;
	uint64_t v = is_write ? *data : 0;

	for (unsigned i = 0; i < size; i++) {
		uint64_t port = addr + i;
		if (space != IORING_SPACE_PIO || port < SMC_BASE_PORT ||
		    port >= SMC_BASE_PORT + SMC_NR_PORTS) {
			v |= is_write ? 0 : (uint64_t)0xff << (8 * i);
			continue;
		}
		if (is_write)
			smc_write(s, (uint16_t)(port - SMC_BASE_PORT), (uint8_t)(v >> (8 * i)));
		else
			v |= (uint64_t)smc_read(s, (uint16_t)(port - SMC_BASE_PORT)) << (8 * i);
	}
	if (!is_write)
		*data = v;
}

/* Restart (issue 15): the values of the keys the guest wrote. The OSK is
 * never among them (its keys are read-only): it comes from the monitor. */
_Static_assert(SMC_STATE_MAX <= DEVSTATE_MAX_PAYLOAD, "the SMC's state fits its state file");

static size_t smc_dev_save(void *model, uint8_t *buf, size_t cap)
{
	return smc_state_save(model, buf, cap);
}

/* The SMC keeps nothing in a live area: its file has none. */
static int smc_dev_restore(void *model, const uint8_t *buf, size_t len, void *live, size_t live_len,
			   char *err, size_t errlen)
{
	int rc;

	if (len == 0)
		return 0; /* a first start */
	rc = smc_state_load(model, buf, len);

	if (rc < 0)
		snprintf(err, errlen, "the SMC state the previous process left is not valid");
	return rc;
}

static void smc_dev_destroy(void *model)
{
	if (model)
		smc_destroy(model);
	free(model);
}

/* One thread, no descriptor of its own, and no guest RAM: the only kind
 * whose address space is bounded too. What it maps after entry is its I/O
 * ring (a few KiB), the model and the control messages; 64 MiB leaves
 * ample room for malloc and the stack, and stops a compromised process
 * from taking the host's memory. */
#define SMC_AS_EXTRA (64u << 20)

static int smc_dev_sandbox(const Moat__Dev__StartRequest *req, const char **policy,
			   struct pol_options *o, char *err, size_t errlen)
{
	static const struct pol_limits lim = {
	    .nofile_extra = DEV_NOFILE_EXTRA,
	    .nproc = 1,
	    .as_extra = SMC_AS_EXTRA,
	};

	o->limits = &lim;
	return 0;
}

static const struct dev_kind smc_kind = {
    .kind = "smc",
    .sandbox = smc_dev_sandbox,
    .init = smc_dev_init,
    .io = smc_dev_io,
    .save = smc_dev_save,
    .restore = smc_dev_restore,
    .destroy = smc_dev_destroy,
};

int main(void)
{
	return dev_main(&smc_kind);
}
