/* The JSON half of ctl_print.h: what a script reads. Strings from the VM
 * are made valid UTF-8 first; json-c escapes the controls. */
#include <json-c/json.h>
#include <stdlib.h>

#include "config.h"
#include "ctl_escape.h"
#include "ctl_print.h"

/* A JSON string of s, valid UTF-8 whatever s holds. */
static struct json_object *jstring(const char *s)
{
	char *clean = ctl_utf8_clean(s ? s : "");
	struct json_object *o = json_object_new_string(clean ? clean : "");

	free(clean);
	return o;
}

static struct json_object *jlines(char **lines, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, jstring(lines[i]));
	return a;
}

static struct json_object *jprocess(const Moat__Ctl__Process *p)
{
	struct json_object *o = json_object_new_object();
	struct json_object *counters = json_object_new_object();

	json_object_object_add(o, "kind", jstring(p->kind));
	json_object_object_add(o, "id", jstring(p->id));
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "state", jstring(p->state));
	json_object_object_add(o, "restarts", json_object_new_int64(p->restarts));
	json_object_object_add(o, "backend", jstring(p->backend));
	for (size_t i = 0; i < p->n_counters; i++) {
		char *name = ctl_utf8_clean(p->counters[i]->name ? p->counters[i]->name : "");

		if (name)
			json_object_object_add(counters, name,
					       json_object_new_uint64(p->counters[i]->value));
		free(name);
	}
	json_object_object_add(o, "counters", counters);
	return o;
}

static struct json_object *jstatus(const Moat__Ctl__Status *st)
{
	struct json_object *o = json_object_new_object();
	struct json_object *procs = json_object_new_array();

	json_object_object_add(o, "name", jstring(st->name));
	json_object_object_add(o, "state", jstring(st->state));
	json_object_object_add(o, "uptime_ms", json_object_new_uint64(st->uptime_ms));
	json_object_object_add(o, "cpus", json_object_new_int64(st->cpus));
	json_object_object_add(o, "mem_bytes", json_object_new_uint64(st->mem_bytes));
	json_object_object_add(o, "mem_backing", jstring(st->mem_backing));
	json_object_object_add(o, "mem_prealloc", json_object_new_boolean(st->mem_prealloc));
	json_object_object_add(o, "mem_huge_bytes", json_object_new_uint64(st->mem_huge_bytes));
	json_object_object_add(o, "monitor_pid", json_object_new_int(st->monitor_pid));
	for (size_t i = 0; i < st->n_processes; i++)
		json_object_array_add(procs, jprocess(st->processes[i]));
	json_object_object_add(o, "processes", procs);
	return o;
}

/* The document for an ok reply to cmd. */
static struct json_object *jreply(const struct ctl_cmd *cmd, const Moat__Ctl__Reply *r)
{
	struct json_object *o;

	switch (cmd->op) {
	case CTL_STATUS:
		return jstatus(r->status);
	case CTL_HOSTFWD_LIST:
		o = json_object_new_object();
		json_object_object_add(o, "net", jstring(r->hostfwd->net_id));
		json_object_object_add(o, "rules", jlines(r->hostfwd->rules, r->hostfwd->n_rules));
		return o;
	case CTL_AUDIT_TAIL:
		o = json_object_new_object();
		json_object_object_add(o, "lines", jlines(r->audit->lines, r->audit->n_lines));
		return o;
	case CTL_VERSION:
		o = json_object_new_object();
		json_object_object_add(o, "client", json_object_new_string(MOAT_VERSION));
		json_object_object_add(o, "vm", jstring(r->moat_version));
		return o;
	case CTL_DEVICE_RESTART:
		o = json_object_new_object();
		json_object_object_add(o, "id", jstring(r->device_restarted->id));
		json_object_object_add(o, "kind", jstring(r->device_restarted->kind));
		json_object_object_add(o, "pid", json_object_new_int(r->device_restarted->pid));
		json_object_object_add(o, "restarts",
				       json_object_new_int64(r->device_restarted->restarts));
		return o;
	default:
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		return o;
	}
}

int ctl_print_json(const struct ctl_cmd *cmd, const Moat__Ctl__Reply *r, FILE *out, FILE *errout)
{
	struct json_object *o = jreply(cmd, r);
	const char *text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE)
			     : NULL;

	if (!text) {
		fprintf(errout, "moat: ctl: out of memory\n");
		json_object_put(o);
		return 1;
	}
	fprintf(out, "%s\n", text);
	json_object_put(o);
	return 0;
}
