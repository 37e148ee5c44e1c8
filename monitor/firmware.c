#include "firmware.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errline.h"
#include "log.h"
#include "userfile.h"

const char *mon_firmware_desc_dirs[] = {"/etc/qemu/firmware", "/usr/share/qemu/firmware", NULL};

/* What one descriptor says about the file it names. */
struct fw_desc {
	char path[PATH_MAX]; /* the descriptor */
	char vars[PATH_MAX]; /* its nvram-template, or "" */
	bool requires_smm;
};

static const char *json_str(json_object *o, const char *a, const char *b)
{
	json_object *x;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &x))
		return NULL;
	return json_object_get_string(x);
}

/* Does the descriptor at path map the file whose identity is st? */
static bool desc_matches(const char *path, const struct stat *fw, struct fw_desc *out)
{
	json_object *root = json_object_from_file(path), *mapping, *features;
	const char *exe, *vars;
	struct stat st;
	bool hit = false;

	if (!root)
		return false;
	if (!json_object_object_get_ex(root, "mapping", &mapping))
		goto out;
	exe = json_str(mapping, "executable", "filename");
	if (!exe || stat(exe, &st) < 0 || st.st_dev != fw->st_dev || st.st_ino != fw->st_ino)
		goto out;
	hit = true;
	snprintf(out->path, sizeof(out->path), "%s", path);
	vars = json_str(mapping, "nvram-template", "filename");
	snprintf(out->vars, sizeof(out->vars), "%s", vars ? vars : "");
	out->requires_smm = false;
	if (json_object_object_get_ex(root, "features", &features) &&
	    json_object_is_type(features, json_type_array))
		for (size_t i = 0; i < json_object_array_length(features); i++) {
			const char *f =
			    json_object_get_string(json_object_array_get_idx(features, i));
			if (f && strcmp(f, "requires-smm") == 0)
				out->requires_smm = true;
		}
out:
	json_object_put(root);
	return hit;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The first descriptor, in QEMU's order (directories in turn, files by
 * name; a name in an earlier directory hides the same name later), that
 * maps the firmware file. */
static bool find_desc(const struct stat *fw, struct fw_desc *out)
{
	for (unsigned d = 0; mon_firmware_desc_dirs[d]; d++) {
		struct dirent **list;
		int n = scandir(mon_firmware_desc_dirs[d], &list, NULL, by_name);
		bool hit = false;

		for (int i = 0; i < n; i++) {
			char path[PATH_MAX];
			size_t len = strlen(list[i]->d_name);
			bool hidden = false;
			for (unsigned e = 0; e < d && !hidden; e++) {
				snprintf(path, sizeof(path), "%s/%s", mon_firmware_desc_dirs[e],
					 list[i]->d_name);
				hidden = access(path, F_OK) == 0;
			}
			snprintf(path, sizeof(path), "%s/%s", mon_firmware_desc_dirs[d],
				 list[i]->d_name);
			if (!hit && !hidden && len > 5 &&
			    strcmp(list[i]->d_name + len - 5, ".json") == 0)
				hit = desc_matches(path, fw, out);
			free(list[i]);
		}
		if (n >= 0)
			free(list);
		if (hit)
			return true;
	}
	return false;
}

/* A UEFI image starts with a firmware volume: "_FVH" at offset 0x28. */
static bool is_uefi(int fd)
{
	char sig[4];

	return pread(fd, sig, 4, 0x28) == 4 && memcmp(sig, "_FVH", 4) == 0;
}

/* No descriptor: OVMF_CODE_4M.fd's store is OVMF_VARS_4M.fd beside it. */
static bool vars_beside(const char *code, char *out, size_t len)
{
	const char *base = strrchr(code, '/');
	char *hit;

	base = base ? base + 1 : code;
	if (!strstr(base, "CODE") || (size_t)snprintf(out, len, "%s", code) >= len)
		return false;
	hit = strstr(out + (base - code), "CODE");
	memcpy(hit, "VARS", 4);
	return access(out, F_OK) == 0;
}

int mon_open_firmware(const struct mon_config *cfg, struct mon_resources *r, char *err,
		      size_t errlen)
{
	struct fw_desc desc;
	struct stat st;
	char beside[PATH_MAX];
	const char *vars = cfg->firmware_vars;
	int fd = mon_open_regular("firmware", cfg->firmware, err, errlen);

	if (fd < 0)
		return fd;
	r->firmware_fd = fd;
	if (fstat(fd, &st) < 0 || st.st_size == 0)
		return err_line(err, errlen, "firmware %s is empty", cfg->firmware);
	if (find_desc(&st, &desc)) {
		log_debug("firmware %s is described by %s", cfg->firmware, desc.path);
		if (desc.requires_smm)
			return err_line(err, errlen,
					"firmware %s needs SMM (%s says requires-smm: a Secure "
					"Boot build), which moat does not emulate; use a build "
					"without it, such as /usr/share/OVMF/OVMF_CODE_4M.fd",
					cfg->firmware, desc.path);
		if (!vars && desc.vars[0])
			vars = desc.vars;
	}
	if (!vars && is_uefi(fd)) {
		if (!vars_beside(cfg->firmware, beside, sizeof(beside)))
			return err_line(err, errlen,
					"UEFI firmware %s has no variable store: no descriptor "
					"names one and there is no VARS file beside it; give "
					"--firmware %s,vars=PATH",
					cfg->firmware, cfg->firmware);
		vars = beside;
	}
	if (!vars)
		return 0;
	fd = mon_open_regular("firmware variable store", vars, err, errlen);
	if (fd < 0)
		return fd;
	r->firmware_vars_fd = fd;
	log_debug("firmware variable store: %s (%s)", vars,
		  cfg->firmware_vars ? "given" : "a private copy of the template");
	return 0;
}
