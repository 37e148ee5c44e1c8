/* The text half of ctl_print.h: what a person reads. Every string from the
 * VM goes through ctl_put_escaped. */
#include <inttypes.h>
#include <stdint.h>

#include "config.h"
#include "ctl_escape.h"
#include "ctl_print.h"

#define COL_MAX 40 /* columns wider than this are not padded */

static const char *str(const char *s)
{
	return s ? s : "";
}

/* s escaped, padded with spaces to width, then the column gap. */
static void put_cell(FILE *f, const char *s, size_t width)
{
	size_t n = ctl_put_escaped(f, s);

	for (; n < width; n++)
		fputc(' ', f);
	fputs("  ", f);
}

static void put_uptime(FILE *f, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		fprintf(f, "%" PRIu64 "d ", s / 86400);
	fprintf(f, "%02u:%02u:%02u\n", (unsigned)(s % 86400 / 3600), (unsigned)(s % 3600 / 60),
		(unsigned)(s % 60));
}

/* b in the largest unit that divides it, then `after`. */
static void put_size(FILE *f, uint64_t b, const char *after)
{
	if (b && b % (1ull << 30) == 0)
		fprintf(f, "%" PRIu64 " GiB%s", b >> 30, after);
	else if (b && b % (1ull << 20) == 0)
		fprintf(f, "%" PRIu64 " MiB%s", b >> 20, after);
	else
		fprintf(f, "%" PRIu64 " bytes%s", b, after);
}

static void put_bytes(FILE *f, uint64_t b)
{
	put_size(f, b, "\n");
}

static void widen(size_t *w, const char *s)
{
	size_t n = ctl_put_escaped(NULL, s);

	if (n > *w)
		*w = n < COL_MAX ? n : COL_MAX;
}

/* The processes as a table: kind, id, pid, state, restarts, backend,
 * counters. */
static void put_processes(FILE *f, const Moat__Ctl__Status *st)
{
	size_t wk = 4, wi = 2, ws = 5, wr = 8, wb = 7;

	for (size_t i = 0; i < st->n_processes; i++) {
		const Moat__Ctl__Process *p = st->processes[i];
		int digits = snprintf(NULL, 0, "%u", (unsigned)p->restarts);

		widen(&wk, str(p->kind));
		widen(&wi, str(p->id));
		widen(&ws, str(p->state));
		if (digits > 0 && (size_t)digits > wr)
			wr = (size_t)digits;
		widen(&wb, p->backend && p->backend[0] ? p->backend : "-");
	}
	fputc('\n', f);
	put_cell(f, "KIND", wk);
	put_cell(f, "ID", wi);
	fprintf(f, "%-7s  ", "PID");
	put_cell(f, "STATE", ws);
	put_cell(f, "RESTARTS", wr);
	put_cell(f, "BACKEND", wb);
	fputs("COUNTERS\n", f);
	for (size_t i = 0; i < st->n_processes; i++) {
		const Moat__Ctl__Process *p = st->processes[i];

		put_cell(f, str(p->kind), wk);
		put_cell(f, str(p->id), wi);
		if (p->pid > 0)
			fprintf(f, "%-7d  ", (int)p->pid);
		else
			fprintf(f, "%-7s  ", "-");
		put_cell(f, str(p->state), ws);
		fprintf(f, "%-*u  ", (int)wr, (unsigned)p->restarts);
		put_cell(f, p->backend && p->backend[0] ? p->backend : "-", wb);
		for (size_t c = 0; c < p->n_counters; c++) {
			if (c)
				fputc(' ', f);
			ctl_put_escaped(f, str(p->counters[c]->name));
			fprintf(f, "=%" PRIu64, p->counters[c]->value);
		}
		fputc('\n', f);
	}
}

static void put_status(FILE *f, const Moat__Ctl__Status *st)
{
	fputs("name     ", f);
	ctl_put_escaped(f, st->name && st->name[0] ? st->name : "-");
	fputs("\nstate    ", f);
	ctl_put_escaped(f, str(st->state));
	fputs("\nuptime   ", f);
	put_uptime(f, st->uptime_ms);
	fprintf(f, "cpus     %u\n", (unsigned)st->cpus);
	fputs("memory   ", f);
	put_bytes(f, st->mem_bytes);
	if (st->mem_backing && st->mem_backing[0]) {
		/* what the monitor chose, then what /proc shows KVM uses */
		fputs("backing  ", f);
		ctl_put_escaped(f, st->mem_backing);
		fprintf(f, "%s, ", st->mem_prealloc ? " (preallocated)" : "");
		put_size(f, st->mem_huge_bytes, " mapped in 2 MiB pages\n");
	}
	fprintf(f, "monitor  pid %d\n", (int)st->monitor_pid);
	if (st->n_processes)
		put_processes(f, st);
}

/* One escaped string a line. */
static void put_lines(FILE *f, char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ctl_put_escaped(f, str(lines[i]));
		fputc('\n', f);
	}
}

int ctl_print_text(const struct ctl_cmd *cmd, const Moat__Ctl__Reply *r, FILE *out)
{
	switch (cmd->op) {
	case CTL_STATUS:
		put_status(out, r->status);
		break;
	case CTL_PAUSE:
		fputs("paused\n", out);
		break;
	case CTL_RESUME:
		fputs("resumed\n", out);
		break;
	case CTL_SHUTDOWN:
		fputs("shutting down\n", out);
		break;
	case CTL_STOP:
		fputs("stopping\n", out);
		break;
	case CTL_RESET:
		fputs("reset\n", out);
		break;
	case CTL_DISK_SWAP:
		fputs("disk ", out);
		ctl_put_escaped(out, str(cmd->disk_id));
		fputs(": swapped\n", out);
		break;
	case CTL_HOSTFWD_ADD:
	case CTL_HOSTFWD_REMOVE:
		fputs(cmd->op == CTL_HOSTFWD_ADD ? "added " : "removed ", out);
		ctl_put_escaped(out, str(cmd->sub.hostfwd.rule));
		fputc('\n', out);
		break;
	case CTL_HOSTFWD_LIST:
		put_lines(out, r->hostfwd->rules, r->hostfwd->n_rules);
		break;
	case CTL_AUDIT_TAIL:
		put_lines(out, r->audit->lines, r->audit->n_lines);
		break;
	case CTL_VERSION:
		fprintf(out, "client  %s\nvm      ", MOAT_VERSION);
		ctl_put_escaped(out, str(r->moat_version));
		fputc('\n', out);
		break;
	case CTL_DEVICE_RESTART:
		ctl_put_escaped(out, str(r->device_restarted->id));
		fputs(": restarted, moat-", out);
		ctl_put_escaped(out, str(r->device_restarted->kind));
		fprintf(out, " pid %d\n", (int)r->device_restarted->pid);
		break;
	}
	return 0;
}
