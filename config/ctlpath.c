#include "ctlpath.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

bool ctl_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > CTL_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int ctl_socket_path(const char *name, uid_t uid, const char *runtime_dir, char *dir,
		    size_t dirlen, char *sock, size_t socklen)
{
	struct sockaddr_un sun;
	int n;

	if (!ctl_name_valid(name))
		return -EINVAL;
	if (uid == 0)
		n = snprintf(dir, dirlen, "%s/%s", CTL_SYSTEM_DIR, name);
	else if (runtime_dir && runtime_dir[0] == '/')
		n = snprintf(dir, dirlen, "%s/moat/%s", runtime_dir, name);
	else
		return -EINVAL;
	if (n < 0 || (size_t)n >= dirlen)
		return -ENAMETOOLONG;
	n = snprintf(sock, socklen, "%s/%s", dir, CTL_SOCKET_FILE);
	if (n < 0 || (size_t)n >= socklen || (size_t)n >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	return 0;
}
