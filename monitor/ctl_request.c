#include "ctl_request.h"

#include <errno.h>
#include <stdio.h>

int mon_ctl_parse(const uint8_t *buf, size_t len, struct mon_ctl_req *out, char *err,
		  size_t errlen)
{
	snprintf(err, errlen, "not built yet");
	return -EPROTO;
}
