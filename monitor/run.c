/* `moat run`: open the VM's resources, spawn moat-vcpu into its sandbox,
 * hand it everything it needs, then relay the console and supervise it
 * until the VM ends. The monitor decodes no guest-controlled byte: console
 * output is copied, not parsed; control messages are validated. */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "console.h"
#include "fdutil.h"
#include "log.h"
#include "resources.h"
#include "spawn.h"
#include "supervise.h"
#include "util.h"
#include "vcpu.pb-c.h"

#ifndef MOAT_LIBEXECDIR
#include "config.h"
#endif

/* Is dir/name an executable? The path is left in out. */
static bool exe_at(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n > 0 && (size_t)n < len && access(out, X_OK) == 0;
}

/* Find moat-vcpu: next to this binary when installed side by side, in the
 * build tree's vcpu/ directory when run from a build, else libexecdir.
 * Never through $PATH. */
static int find_child_exe(const char *name, const char *builddir, char *out, size_t len)
{
	char self[PATH_MAX], dir[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			if (exe_at(out, len, self, name))
				return 0;
			snprintf(dir, sizeof(dir), "%s/../%s", self, builddir);
			if (exe_at(out, len, dir, name))
				return 0;
		}
	}
	return exe_at(out, len, MOAT_LIBEXECDIR, name) ? 0 : -ENOENT;
}

static int send_start(int ctl, const struct mon_config *cfg, const struct mon_resources *r)
{
	Moat__Vcpu__StartRequest s = MOAT__VCPU__START_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	int fds[6];
	unsigned n = 0;

	s.mem_bytes = cfg->mem_bytes;
	s.cpus = cfg->cpus;
	s.cmdline = (char *)cfg->cmdline;
	s.log_debug = cfg->verbose;
	s.fd_kvm = n, fds[n++] = r->kvm_fd;
	s.fd_mem = n, fds[n++] = r->mem_fd;
	s.fd_kernel = n, fds[n++] = r->kernel_fd;
	if (r->initrd_fd >= 0) {
		s.has_initrd = true;
		s.fd_initrd = n, fds[n++] = r->initrd_fd;
	}
	if (r->serial_out >= 0) {
		s.serial = MOAT__VCPU__SERIAL_MODE__SERIAL_STREAM;
		s.fd_serial_out = n, fds[n++] = r->serial_out;
		if (r->serial_in >= 0) {
			s.serial_has_input = true;
			s.fd_serial_in = n, fds[n++] = r->serial_in;
		}
	}
	env.msg_case = MOAT__VCPU__MONITOR_TO_VCPU__MSG_START;
	env.start = &s;
	return ipc_send(ctl, &env.base, fds, n);
}

/* Signals become events on a signalfd, handled in the loop. */
static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int mon_run(const struct mon_config *cfg)
{
	struct mon_resources res = MON_RESOURCES_INIT;
	struct mon_vm vm = {.cfg = cfg};
	char err[512] = "", exe[PATH_MAX];
	sigset_t sigs;
	int ctl[2] = {-1, -1};
	int rc, status;

	if (cfg->verbose)
		log_set_level(LOG_LVL_DEBUG);
	rc = mon_open_resources(cfg, &res, err, sizeof(err));
	if (rc < 0) {
		log_error("%s", err[0] ? err : strerror(-rc));
		mon_close_resources(&res);
		return MON_EXIT_BAD_INPUT;
	}
	if (find_child_exe("moat-vcpu", "vcpu", exe, sizeof(exe)) < 0) {
		log_error("cannot find the moat-vcpu executable (looked beside moat and in %s)",
			  MOAT_LIBEXECDIR);
		mon_close_resources(&res);
		return MON_EXIT_FAILURE;
	}
	vm.sigfd = block_signals(&sigs);
	rc = ipc_channel_pair(ctl);
	if (vm.sigfd < 0 || rc < 0) {
		log_error_errno(rc < 0 ? rc : vm.sigfd, "Failed to set up: %m");
		mon_close_resources(&res);
		return MON_EXIT_FAILURE;
	}

	char *argv[] = {"moat-vcpu", NULL};
	struct mon_spawn_args sa = {
		.path = exe,
		.argv = argv,
		.fds = &ctl[1],
		.nfds = 1,
		.keep_net = false,
	};
	mon_child_uid(getpid(), &sa.uid);
	sa.gid = sa.uid;
	rc = mon_spawn(&sa, &vm.vcpu);
	close(ctl[1]);
	if (rc < 0) {
		log_error_errno(rc, "Failed to start moat-vcpu: %m");
		mon_close_resources(&res);
		return MON_EXIT_FAILURE;
	}
	vm.ctl = ctl[0];
	log_debug("moat-vcpu is pid %d (uid %u)", (int)vm.vcpu.pid, (unsigned)sa.uid);
	rc = send_start(vm.ctl, cfg, &res);
	mon_close_child_ends(&res);
	if (rc < 0)
		log_error_errno(rc, "Failed to hand moat-vcpu its resources: %m");
	vm.console_out = res.console_out;
	vm.console_in = res.console_in;
	status = mon_supervise(&vm);
	mon_console_restore();
	mon_close_resources(&res);
	close(vm.ctl);
	free(vm.exit_dump);
	free(vm.bad_input);
	return status;
}
