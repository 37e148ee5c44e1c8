/* The protocol discipline of every channel from a child (as OpenSSH's
 * mon_dispatch table): each message a child may send has a rule saying in
 * which states it is allowed, how often in the child's life, and whether it
 * may only answer a request the monitor made. A message outside its rule,
 * one carrying descriptors (no child message has a reason to), or one that
 * does not unpack, cuts the child off as hostile (child.h). The per-channel
 * modules (proto_vcpu.c, proto_dev.c) hold the tables, the sender stubs and
 * the handlers side by side. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "children.h"

#define MON_IN(state) (1u << (state))
#define MON_STARTING  MON_IN(MON_PROC_STARTING)
#define MON_READY     MON_IN(MON_PROC_READY)

struct mon_msg_rule {
	const char *name; /* "READY"; NULL: not a message a child may send */
	unsigned states;  /* MON_IN(MON_PROC_STARTING) | ... */
	unsigned max;	  /* times in the child's life; 0: no limit */
	bool answer;	  /* only as the answer to one of our requests */
	/* mon_answer_<op>: handles the envelope once it passed the checks */
	void (*handle)(void *ctx, const ProtobufCMessage *env);
};

/* Serve every message pending from p: each is checked against rules
 * (indexed by the envelope's oneof case, nrules entries, at most
 * MON_PROTO_MAX_MSG) and handed to its rule's handler with ctx. Stops when
 * nothing is pending, or p hung up (mon_proc_hangup) or was cut off
 * (mon_proc_hostile). */
void mon_proto_serve(struct mon_proc *p, const ProtobufCMessageDescriptor *desc,
		     const struct mon_msg_rule *rules, unsigned nrules, void *ctx);

/* The same with a rule table's size taken from the array itself. */
#define MON_PROTO_SERVE(p, desc, rules, ctx)                                                       \
	do {                                                                                       \
		_Static_assert(sizeof(rules) / sizeof((rules)[0]) <= MON_PROTO_MAX_MSG,            \
			       "more envelope cases than MON_PROTO_MAX_MSG");                      \
		mon_proto_serve(p, desc, rules, sizeof(rules) / sizeof((rules)[0]), ctx);          \
	} while (0)

/* Note that we sent p a request it must answer (rule.answer). */
void mon_proto_asked(struct mon_proc *p);
