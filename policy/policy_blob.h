/* Policy texts embedded into each child binary at build time (policy/embed.py
 * generates the table), so that a child finds its policy after pivot_root and
 * no policy file can be swapped at run time. */
#pragma once

struct pol_blob {
	const char *name; /* file name without ".policy": "common", "vcpu" */
	const char *text;
};

/* Defined by the generated policy_blobs.c linked into each binary; ends with
 * {NULL, NULL}. */
extern const struct pol_blob pol_blobs[];
