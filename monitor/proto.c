#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "fdsink.h"

static const char *const state_names[] = {
    [MON_PROC_STARTING] = "before READY",
    [MON_PROC_READY] = "while serving",
    [MON_PROC_ENDING] = "after saying it was ending",
    [MON_PROC_GONE] = "after its end",
};

/* 0 when m is allowed now, else -EPROTO with the reason in why. */
static int check(struct mon_proc *p, const struct mon_msg_rule *rules, unsigned nrules, int msg,
		 unsigned nfds, char *why, size_t len)
{
	const struct mon_msg_rule *r = msg > 0 && (unsigned)msg < nrules ? &rules[msg] : NULL;

	if (!r || !r->name || !r->handle) {
		snprintf(why, len, "sent a message of unknown kind %d", msg);
		return -EPROTO;
	}
	if (nfds) {
		snprintf(why, len, "sent %u descriptors with %s", nfds, r->name);
		return -EPROTO;
	}
	if (r->max && p->seen[msg] >= r->max) {
		snprintf(why, len, "sent %s more than %u time%s", r->name, r->max,
			 r->max == 1 ? "" : "s");
		return -EPROTO;
	}
	if (!(r->states & MON_IN(p->state))) {
		snprintf(why, len, "sent %s %s", r->name, state_names[p->state]);
		return -EPROTO;
	}
	if (r->answer && !p->requests) {
		snprintf(why, len, "sent %s that nobody asked for", r->name);
		return -EPROTO;
	}
	p->seen[msg]++;
	if (r->answer)
		p->requests--;
	return 0;
}

/* One message: 1 with *out and *msg, 0 when nothing is pending, -1 when p
 * is done for now. */
static int recv_one(struct mon_proc *p, const ProtobufCMessageDescriptor *desc,
		    const struct mon_msg_rule *rules, unsigned nrules, ProtobufCMessage **out,
		    int *msg)
{
	ProtobufCMessage *m = NULL;
	unsigned nfds = 0;
	char why[128];
	int rc;

	if (p->ctl < 0)
		return -1;
	/* Descriptors go to the sink unclosed: see fdsink.h. */
	rc = ipc_recv_nofds(p->ctl, desc, &m, &nfds, mon_fdsink_put);
	if (rc == -EAGAIN)
		return 0;
	if (rc == -EPIPE) {
		mon_proc_hangup(p);
		return -1;
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "sent an unreadable control message (%s%s)",
			 strerror(-rc), nfds ? ", with descriptors" : "");
		mon_proc_hostile(p, why);
		return -1;
	}
	*msg = ipc_envelope_case(m);
	if (check(p, rules, nrules, *msg, nfds, why, sizeof(why)) < 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		mon_proc_hostile(p, why);
		return -1;
	}
	*out = m;
	return 1;
}

void mon_proto_serve(struct mon_proc *p, const ProtobufCMessageDescriptor *desc,
		     const struct mon_msg_rule *rules, unsigned nrules, void *ctx)
{
	ProtobufCMessage *m;
	int msg;

	while (recv_one(p, desc, rules, nrules, &m, &msg) == 1) {
		rules[msg].handle(ctx, m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

void mon_proto_asked(struct mon_proc *p)
{
	p->requests++;
}
