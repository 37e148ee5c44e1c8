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
#include "devmsg.h"
#include "fdutil.h"
#include "log.h"
#include "paths.h"
#include "resources.h"
#include "spawn.h"
#include "proto_vcpu.h"
#include "supervise.h"
#include "util.h"

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
static int open_inputs(struct mon_config *cfg, struct mon_resources *res, struct mon_control *ctl)
{
	char err[512] = "";
	int rc = mon_read_osk(cfg, err, sizeof(err));

	/* the control socket first: a name that another running VM has is
	 * refused before anything else is opened */
	if (rc == 0)
		rc = mon_control_open(ctl, cfg, err, sizeof(err));
	if (rc == 0 && (rc = mon_audit_open(cfg->audit_path)) < 0) {
		snprintf(err, sizeof(err), "cannot open the audit file %s: %s", cfg->audit_path,
			 rc == -EMLINK	 ? "it is a symbolic link"
			 : rc == -EINVAL ? "not a regular file"
					 : strerror(-rc));
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = mon_open_resources(cfg, res, err, sizeof(err));
	if (rc < 0)
		log_error("%s", err[0] ? err : strerror(-rc));
	return rc;
}

/* Does a disk need `moat-blk probe`: no format given, or one that may name
 * a backing file? */
static bool needs_probe(const struct mon_config *cfg)
{
	for (unsigned i = 0; i < cfg->ndisks; i++)
		if (cfg->disks[i].probe_format || cfg->disks[i].format != MON_FORMAT_RAW)
			return true;
	return false;
}

int mon_run(struct mon_config *cfg)
{
	struct mon_resources res;
	struct mon_vm vm = {.cfg = cfg,
			    .sigfd = -1,
			    .console_out = -1,
			    .console_in = -1,
			    .uids = {.lock_fd = -1},
			    .res = &res};
	char err[256] = "";
	sigset_t sigs;
	int ctl[2] = {-1, -1};
	int rc, status = MON_EXIT_FAILURE;

	mon_clock_start();
	mon_resources_init(&res);
	mon_control_init(&vm.ctl);
	mon_proc_init(&vm.vcpu, "vcpu", "vcpu", "vcpu");
	/* systemd's variables are ours alone: read and removed before any
	 * child exists */
	if (mon_notify_init(&vm.notify) < 0)
		log_warn("NOTIFY_SOCKET, WATCHDOG_USEC or WATCHDOG_PID is malformed: what is "
			 "malformed is ignored");
	if (cfg->verbose)
		log_set_level(LOG_LVL_DEBUG);
	/* The uids first when a disk image must be probed: `moat-blk probe`
	 * runs as moat-vcpu's, long before moat-vcpu exists (image_chain.h). */
	rc = needs_probe(cfg) ? mon_uids_reserve(&vm.uids, err, sizeof(err)) : 0;
	if (rc < 0)
		log_error("%s", err);
	res.probe_uid = vm.uids.base;
	if (rc < 0 || open_inputs(cfg, &res, &vm.ctl) < 0) {
		explicit_bzero(cfg->smc_osk, sizeof(cfg->smc_osk));
		mon_control_close(&vm.ctl);
		mon_close_resources(&res);
		mon_notify_close(&vm.notify);
		mon_uids_release(&vm.uids);
		return rc < 0 ? MON_EXIT_FAILURE : MON_EXIT_BAD_INPUT;
	}
	err[0] = '\0';
	log_debug("resources open at %.1f ms", mon_since_start_ms());
	/* a unix socket's path may hold a '"': escaped, as a disk swap's */
	mon_untrusted_line(cfg->vnc ? res.display.address : "none", err, sizeof(err));
	mon_audit("vm-start", "%s=%s cpus=%u mem=%llu ram=%s%s smc=%s vnc=\"%s\"",
		  cfg->firmware ? "firmware" : "kernel", cfg->firmware ? cfg->firmware : cfg->kernel,
		  cfg->cpus, (unsigned long long)cfg->mem_bytes, mon_ram_backing_name(res.ram_backing),
		  cfg->mem_prealloc ? ",prealloc" : "", cfg->smc ? "yes" : "no", err);
	err[0] = '\0';
	vm.sigfd = block_signals(&sigs);
	rc = vm.sigfd < 0 ? vm.sigfd : ipc_channel_pair(ctl);
	if (rc < 0) {
		log_error_errno(rc, "Failed to set up: %m");
		goto out;
	}
	rc = vm.uids.lock_fd < 0 ? mon_uids_reserve(&vm.uids, err, sizeof(err)) : 0;
	if (rc < 0) {
		log_error("%s", err);
		goto out;
	}
	vm.vcpu.uid = vm.uids.base;
	mon_cgroup_create(&vm.cg, cfg->limit_pids, cfg->mem_bytes + cfg->limit_overhead);
	/* moat-vcpu and the devices start side by side, moat-vcpu first: its
	 * set-up (the VM, the guest loaded) is the longest. It gets the
	 * devices' rings, doorbells and eventfds, made before any process,
	 * and holds its vCPUs until every device is READY (RunRequest): the
	 * vCPUs must find them serving (docs/decisions/0021). */
	rc = mon_devices_prepare(cfg, vm.uids.base, &vm.cg, &vm.devs);
	if (rc < 0)
		goto out;
	vm.vcpu.cgroup_fd = mon_cgroup_leaf(&vm.cg, "vcpu");
	rc = mon_proc_spawn(&vm.vcpu, ctl[1]);
	close(TAKE_FD(ctl[1]));
	if (rc < 0)
		goto out;
	vm.vcpu.ctl = TAKE_FD(ctl[0]);
	rc = mon_vcpu_send_start(&vm, &res);
	if (rc < 0) {
		log_error_errno(rc, "Failed to hand moat-vcpu its resources: %m");
		goto out;
	}
	rc = mon_devices_launch(cfg, &res, &vm.devs);
	explicit_bzero(cfg->smc_osk, sizeof(cfg->smc_osk)); /* moat-smc has it */
	mon_close_child_ends(&res);
	if (rc < 0)
		goto out;
	rc = mon_devices_wait_ready(&vm.devs, err, sizeof(err));
	if (rc == -EINVAL && err[0]) {
		/* a device refused the user's configuration (a port in use) */
		log_error("%s", err);
		status = MON_EXIT_BAD_INPUT;
	}
	if (rc < 0)
		goto out; /* moat-vcpu, held, is killed with the rest */
	log_debug("%u devices READY at %.1f ms", vm.devs.n, mon_since_start_ms());
	mon_vcpu_send_run(&vm);
	vm.console_out = res.console_out;
	vm.console_in = res.console_in;
	/* Said on every start, not only with -v: the user needs it to connect. */
	if (cfg->vnc)
		log_info("VNC server on %s", res.display.address);
	status = mon_supervise(&vm);
	log_debug("the VM ended at %.1f ms", mon_since_start_ms());
out:
	explicit_bzero(cfg->smc_osk, sizeof(cfg->smc_osk)); /* a start that failed early */
	mon_control_close(&vm.ctl);
	mon_proc_release(&vm.vcpu);
	mon_devices_stop(&vm.devs);
	mon_console_restore();
	mon_close_resources(&res);
	for (int i = 0; i < 2; i++)
		if (ctl[i] >= 0)
			close(ctl[i]);
	if (vm.sigfd >= 0)
		close(vm.sigfd);
	mon_cgroup_remove(&vm.cg);
	mon_uids_release(&vm.uids);
	mon_audit("vm-end", "status=%d", status);
	mon_audit_close();
	mon_notify_close(&vm.notify);
	free(vm.exit_dump);
	free(vm.bad_input);
	log_debug("everything stopped at %.1f ms", mon_since_start_ms());
	return status;
}
