#include "ctl_help.h"

#include <string.h>

#include "ctl_args.h"
#include "ctlpath.h"

struct help_topic {
	const char *word;
	const char *synopsis; /* after "moat ctl [OPTIONS] " */
	const char *text;     /* indented, as in the COMMANDS section */
};

static const struct help_topic topics[] = {
    {"status", "status",
     "  status\n"
     "      Show the VM: its name, state (starting, running, pausing, paused,\n"
     "      shutting-down, stopping), uptime, vCPUs, memory, its backing (4k,\n"
     "      hugetlb or thp: --mem hugepages=) and how much of it moat-vcpu maps\n"
     "      with 2 MiB pages (read from /proc), the monitor's pid, then one\n"
     "      line per process (moat-vcpu and each device): kind, id,\n"
     "      pid, state (starting, running, paused, ending, dead, or restarting\n"
     "      while a device's new process starts), how many times the device's\n"
     "      process was restarted, backend (a disk's image, a card's user or\n"
     "      tap:IF) and its counters as NAME=VALUE.\n"},
    {"pause", "pause",
     "  pause\n"
     "      Pause the guest, its vCPUs and devices, until resume.\n"},
    {"resume", "resume", "  resume\n      Run a paused VM again.\n"},
    {"shutdown", "shutdown [--timeout S]",
     "  shutdown [--timeout S]\n"
     "      Press the guest's ACPI power button, and stop the VM if the guest has\n"
     "      not powered off after S seconds (default: the VM's\n"
     "      --shutdown-timeout).\n"},
    {"stop", "stop", "  stop\n      End the VM now, as pulling the plug would.\n"},
    {"reset", "reset",
     "  reset\n"
     "      Reset the guest. As a reset from inside the guest, this ends\n"
     "      `moat run` with status 0; a supervisor (systemd) starts it again.\n"},
    {"disk", "disk swap ID PATH[,ro] | none",
     "  disk swap ID PATH[,ro]\n"
     "  disk swap ID none\n"
     "      Give disk ID (its --disk id=, e.g. blk0) another image, read-only\n"
     "      with ,ro; or none, an empty medium whose reads and writes fail. A\n"
     "      relative PATH is taken from the current directory, as written\n"
     "      (symbolic links are not resolved here); the VM opens and checks the\n"
     "      file. A file named none is ./none.\n"},
    {"hostfwd", "hostfwd add|remove RULE [--net ID] | hostfwd list [--net ID]",
     "  hostfwd add RULE [--net ID]\n"
     "  hostfwd remove RULE [--net ID]\n"
     "  hostfwd list [--net ID]\n"
     "      Forward a host port to the guest on a --net user card, stop doing\n"
     "      so, or list the forwards. RULE is in --net's hostfwd syntax,\n"
     "      tcp:[HADDR]:HPORT-[GADDR]:GPORT or udp:..., e.g. tcp::8080-:80. ID\n"
     "      names the card (its --net id=); without --net, the VM's only user\n"
     "      card.\n"},
    {"device", "device restart ID",
     "  device restart ID\n"
     "      End the process of device ID (as status lists it, e.g. smc0) and\n"
     "      start a new one under the running guest, which keeps the device's\n"
     "      state. It answers once the new process serves the guest\n"
     "      (\"ID: restarted, moat-KIND pid N\"). The SMC, disks and network\n"
     "      cards can be restarted; the display cannot. Requests in flight on\n"
     "      a disk are done by the new process; a user card's connections are\n"
     "      lost, its forwards set up again. A device is restarted at most\n"
     "      3 times a minute, asked or after a crash: past that the request\n"
     "      is refused and the process left running. Refused while the VM is\n"
     "      paused. A new process that does not become ready leaves the\n"
     "      device detached (exit status 1).\n"},
    {"audit", "audit tail [N]",
     "  audit tail [N]\n"
     "      The last N lines of the VM's audit trail (default 20, at most\n"
     "      1000).\n"},
    {"version", "version",
     "  version\n"
     "      This client's version and the running VM's.\n"},
};

static void put_options(FILE *f)
{
	fprintf(f,
		"Options (before the command; --json also after it):\n"
		"  --name NAME       the VM started with moat run --name NAME\n"
		"  --control PATH    the control socket at PATH (moat run --control PATH)\n"
		"  --json            print a JSON document on standard output instead of\n"
		"                    text (a refusal too: {\"ok\":false,\"error\":\"...\"})\n"
		"  --timeout S       wait at most S seconds for the VM's answer (default %d)\n"
		"  -h, --help        show this text (COMMAND --help: that command's)\n"
		"Exactly one of --name and --control is required.\n",
		CTL_DEF_TIMEOUT_S);
}

static void put_page(FILE *f)
{
	fputs("Usage: moat ctl (--name NAME | --control PATH) [--json] [--timeout S]\n"
	      "                COMMAND [ARGS]\n"
	      "\n"
	      "Control a running moat VM through its control socket: ask its state,\n"
	      "pause, resume, shut it down, swap a disk's image, change port\n"
	      "forwards, restart a device's process, read its audit trail. One\n"
	      "request, one answer; the VM checks every request before it acts.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		fputs(topics[i].text, f);
	fputc('\n', f);
	put_options(f);
	fprintf(f,
		"\n"
		"Socket:\n"
		"  --name NAME is the socket %s/NAME/%s for root, and\n"
		"  $XDG_RUNTIME_DIR/moat/NAME/%s for any other user (the same\n"
		"  rule moat run --name follows). NAME is 1 to %d of A-Z a-z 0-9 _ . -,\n"
		"  not starting with . or -.\n"
		"\n"
		"Permissions:\n"
		"  The caller must be root or the uid that started the VM; the VM refuses\n"
		"  anyone else.\n"
		"\n"
		"Output:\n"
		"  Text for people: strings from the VM are shown with control characters\n"
		"  escaped (\\n, \\xHH, \\uHHHH, a backslash as \\\\). An action prints one\n"
		"  line (paused, disk ID: swapped, ID: restarted, moat-KIND pid N);\n"
		"  errors go to standard error.\n"
		"\n"
		"Exit status:\n"
		"  0  done\n"
		"  1  the VM answered with an error, or could not be reached (no such\n"
		"     socket, permission refused, timed out, a broken or foreign reply)\n"
		"  2  bad usage\n"
		"\n"
		"Examples:\n"
		"  moat ctl --name web status\n"
		"  moat ctl --name web --json status | jq .processes\n"
		"  moat ctl --name web disk swap blk1 images/installer.iso,ro\n"
		"  moat ctl --name web disk swap blk1 none\n"
		"  moat ctl --name web hostfwd add tcp::8080-:80\n"
		"  moat ctl --name web device restart smc0\n"
		"  moat ctl --name web shutdown --timeout 60\n"
		"  moat ctl --control /tmp/vm.sock audit tail 100\n",
		CTL_SYSTEM_DIR, CTL_SOCKET_FILE, CTL_SOCKET_FILE, CTL_NAME_MAX);
}

void ctl_help(FILE *f, const char *topic)
{
	for (size_t i = 0; topic && i < sizeof(topics) / sizeof(topics[0]); i++) {
		if (strcmp(topics[i].word, topic) != 0)
			continue;
		fprintf(f,
			"Usage: moat ctl (--name NAME | --control PATH) [--json] [--timeout S]\n"
			"                %s\n\n",
			topics[i].synopsis);
		fputs(topics[i].text, f);
		fputc('\n', f);
		put_options(f);
		fputs("\nExit status: 0 done, 1 the VM refused or could not be reached, "
		      "2 bad usage.\nSee moat ctl --help for the socket's location.\n",
		      f);
		return;
	}
	put_page(f);
}
