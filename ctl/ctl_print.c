#include "ctl_print.h"

#include <json-c/json.h>
#include <stdlib.h>

#include "ctl_escape.h"

/* The result a command's reply must carry, and its name for an error. */
static Moat__Ctl__Reply__ResultCase expected_result(enum ctl_op op, const char **what)
{
	switch (op) {
	case CTL_STATUS:
		*what = "status";
		return MOAT__CTL__REPLY__RESULT_STATUS;
	case CTL_HOSTFWD_LIST:
		*what = "list of forwards";
		return MOAT__CTL__REPLY__RESULT_HOSTFWD;
	case CTL_AUDIT_TAIL:
		*what = "audit lines";
		return MOAT__CTL__REPLY__RESULT_AUDIT;
	case CTL_VERSION:
		*what = "version";
		return MOAT__CTL__REPLY__RESULT_MOAT_VERSION;
	case CTL_DEVICE_RESTART:
		*what = "restarted device";
		return MOAT__CTL__REPLY__RESULT_DEVICE_RESTARTED;
	default:
		*what = NULL;
		return MOAT__CTL__REPLY__RESULT__NOT_SET;
	}
}

/* {"ok":false,"error":...}: the refusal as data, for a script. */
static void print_refusal_json(const char *error, FILE *out)
{
	struct json_object *o = json_object_new_object();
	char *clean = ctl_utf8_clean(error);

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(clean ? clean : "?"));
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	free(clean);
}

int ctl_print_reply(const struct ctl_cmd *cmd, const Moat__Ctl__Reply *r, FILE *out, FILE *errout)
{
	const char *what;
	Moat__Ctl__Reply__ResultCase want = expected_result(cmd->op, &what);

	if (!r->ok) {
		const char *error = r->error && r->error[0] ? r->error : "refused, no reason given";

		if (cmd->json) {
			print_refusal_json(error, out);
		} else {
			fprintf(errout, "moat: ctl: %s: ", ctl_op_name(cmd->op));
			ctl_put_escaped(errout, error);
			fputc('\n', errout);
		}
		return 1;
	}
	if (what && r->result_case != want) {
		fprintf(errout, "moat: ctl: %s: the VM's reply carries no %s\n",
			ctl_op_name(cmd->op), what);
		return 1;
	}
	return cmd->json ? ctl_print_json(cmd, r, out, errout) : ctl_print_text(cmd, r, out);
}
