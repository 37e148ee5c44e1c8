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

#include "audit.h"
#include "channel.h"
#include "config.h"
#include "console.h"
#include "devices.h"
#include "fdutil.h"
#include "log.h"
#include "paths.h"
#include "resources.h"
#include "spawn.h"
#include "supervise.h"
#include "util.h"
#include "vcpu.pb-c.h"

static int send_start(int ctl, const struct mon_config *cfg, const struct mon_resources *r,
		      const struct mon_devices *devs)
{
	Moat__Vcpu__StartRequest s = MOAT__VCPU__START_REQUEST__INIT;
	Moat__Vcpu__MonitorToVcpu env = MOAT__VCPU__MONITOR_TO_VCPU__INIT;
	Moat__Vcpu__DeviceAttach att[MON_MAX_DEVICES], *attp[MON_MAX_DEVICES];
	Moat__Vcpu__PciAttach pci[MON_MAX_DEVICES];
	uint32_t idx[MON_MAX_DEVICES][VPCI_MAX_QUEUES + VPCI_MAX_VECTORS];
	int fds[IPC_MAX_FDS];
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
	for (unsigned i = 0; i < devs->n; i++) {
		const struct mon_device *d = &devs->d[i];
		if (n + 2 > IPC_MAX_FDS)
			return -E2BIG;
		moat__vcpu__device_attach__init(&att[i]);
		att[i].name = (char *)d->name;
		att[i].pio_base = d->pio_base;
		att[i].pio_len = d->pio_len;
		att[i].fd_ring = n, fds[n++] = d->ring_fd;
		att[i].fd_doorbell = n, fds[n++] = d->doorbell;
		attp[i] = &att[i];
		if (!d->pci)
			continue;
		if (n + d->nq + d->nvec > IPC_MAX_FDS)
			return -E2BIG;
		moat__vcpu__pci_attach__init(&pci[i]);
		pci[i].slot = d->slot;
		pci[i].bar0_gpa = d->bar0;
		pci[i].n_fd_notify = d->nq;
		pci[i].fd_notify = idx[i];
		pci[i].n_fd_irq = d->nvec;
		pci[i].fd_irq = idx[i] + d->nq;
		for (unsigned q = 0; q < d->nq; q++)
			idx[i][q] = n, fds[n++] = d->notify[q];
		for (unsigned v = 0; v < d->nvec; v++)
			idx[i][d->nq + v] = n, fds[n++] = d->irq[v];
		att[i].pci = &pci[i];
	}
	s.n_devices = devs->n;
	s.devices = attp;
	s.n_smbios = cfg->nsmbios;
	s.smbios = (char **)cfg->smbios;
	s.smbios_apple = cfg->smc;
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

/* The steps that can fail because of what the user gave us: exit 2. */
static int open_inputs(struct mon_config *cfg, struct mon_resources *res)
{
	char err[512] = "";
	int rc = mon_read_osk(cfg, err, sizeof(err));

	if (rc == 0 && mon_audit_open(cfg->audit_path) < 0) {
		snprintf(err, sizeof(err), "cannot open the audit file %s: %s", cfg->audit_path,
			 strerror(errno));
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = mon_open_resources(cfg, res, err, sizeof(err));
	if (rc < 0)
		log_error("%s", err[0] ? err : strerror(-rc));
	return rc;
}

static int spawn_vcpu(struct mon_vm *vm, int *ctl_child)
{
	char exe[PATH_MAX];
	char *argv[] = {"moat-vcpu", NULL};
	struct mon_spawn_args sa = {.path = exe, .argv = argv, .fds = ctl_child, .nfds = 1};
	int rc = mon_find_child_exe("moat-vcpu", "vcpu", exe, sizeof(exe));

	if (rc < 0)
		return log_error_errno(rc, "cannot find the moat-vcpu executable (looked beside "
					   "moat and in %s)", MOAT_LIBEXECDIR);
	mon_child_uid(getpid(), &sa.uid);
	sa.gid = sa.uid;
	rc = mon_spawn(&sa, &vm->vcpu);
	if (rc < 0)
		return log_error_errno(rc, "Failed to start moat-vcpu: %m");
	log_debug("moat-vcpu is pid %d (uid %u)", (int)vm->vcpu.pid, (unsigned)sa.uid);
	mon_audit("child-start", "child=vcpu pid=%d uid=%u", (int)vm->vcpu.pid,
		  (unsigned)sa.uid);
	return 0;
}

int mon_run(struct mon_config *cfg)
{
	struct mon_resources res;
	struct mon_vm vm = {.cfg = cfg, .vcpu = {.pidfd = -1}, .ctl = -1};
	char err[256] = "";
	sigset_t sigs;
	int ctl[2] = {-1, -1};
	int rc, status = MON_EXIT_FAILURE;

	mon_resources_init(&res);
	if (cfg->verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (open_inputs(cfg, &res) < 0) {
		explicit_bzero(cfg->smc_osk, sizeof(cfg->smc_osk));
		mon_close_resources(&res);
		return MON_EXIT_BAD_INPUT;
	}
	mon_audit("vm-start", "kernel=%s cpus=%u mem=%llu smc=%s", cfg->kernel, cfg->cpus,
		  (unsigned long long)cfg->mem_bytes, cfg->smc ? "yes" : "no");
	vm.sigfd = block_signals(&sigs);
	rc = vm.sigfd < 0 ? vm.sigfd : ipc_channel_pair(ctl);
	if (rc < 0) {
		log_error_errno(rc, "Failed to set up: %m");
		goto out;
	}
	/* Devices first: the vCPUs must find them serving. */
	rc = mon_devices_start(cfg, &res, &vm.devs, err, sizeof(err));
	explicit_bzero(cfg->smc_osk, sizeof(cfg->smc_osk));
	if (rc == -EINVAL && err[0]) {
		/* a device refused the user's configuration (a port in use) */
		log_error("%s", err);
		status = MON_EXIT_BAD_INPUT;
	}
	if (rc < 0)
		goto out;
	rc = spawn_vcpu(&vm, &ctl[1]);
	close(ctl[1]);
	if (rc < 0)
		goto out;
	vm.ctl = ctl[0];
	rc = send_start(vm.ctl, cfg, &res, &vm.devs);
	mon_close_child_ends(&res);
	if (rc < 0)
		log_error_errno(rc, "Failed to hand moat-vcpu its resources: %m");
	vm.console_out = res.console_out;
	vm.console_in = res.console_in;
	status = mon_supervise(&vm);
out:
	mon_devices_stop(&vm.devs);
	mon_console_restore();
	mon_close_resources(&res);
	if (vm.ctl >= 0)
		close(vm.ctl);
	mon_audit("vm-end", "status=%d", status);
	mon_audit_close();
	free(vm.exit_dump);
	free(vm.bad_input);
	return status;
}
