/* Names a policy may use for argument values, taken from the real headers
 * at build time so that a policy never carries a hand-copied magic number.
 * Add a name here when a policy needs it. Values are what seccomp sees in
 * the 64-bit argument register: unsigned constants zero-extended, negative
 * ones (AT_FDCWD) sign-extended, as glibc passes them. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "rules.h"
#include "util.h"

#define C(x) {#x, (uint64_t)(int64_t)(x)}

static const struct pol_const pol_consts[] = {
	/* KVM: system ioctls on /dev/kvm */
	C(KVM_GET_API_VERSION), C(KVM_CREATE_VM), C(KVM_GET_VCPU_MMAP_SIZE),
	C(KVM_GET_SUPPORTED_CPUID), C(KVM_GET_EMULATED_CPUID), C(KVM_CHECK_EXTENSION),
	C(KVM_GET_MSR_INDEX_LIST), C(KVM_GET_MSR_FEATURE_INDEX_LIST),
	/* KVM: VM ioctls */
	C(KVM_CREATE_VCPU), C(KVM_SET_USER_MEMORY_REGION), C(KVM_SET_TSS_ADDR),
	C(KVM_SET_IDENTITY_MAP_ADDR), C(KVM_CREATE_IRQCHIP), C(KVM_GET_IRQCHIP),
	C(KVM_SET_IRQCHIP), C(KVM_CREATE_PIT2), C(KVM_GET_PIT2), C(KVM_SET_PIT2),
	C(KVM_IRQ_LINE), C(KVM_IRQ_LINE_STATUS), C(KVM_SET_GSI_ROUTING), C(KVM_IRQFD),
	C(KVM_IOEVENTFD), C(KVM_GET_CLOCK), C(KVM_SET_CLOCK), C(KVM_SET_BOOT_CPU_ID),
	C(KVM_SIGNAL_MSI), C(KVM_ENABLE_CAP), C(KVM_GET_DIRTY_LOG),
	/* KVM: vCPU ioctls */
	C(KVM_RUN), C(KVM_SET_CPUID2), C(KVM_GET_CPUID2), C(KVM_GET_REGS), C(KVM_SET_REGS),
	C(KVM_GET_SREGS), C(KVM_SET_SREGS), C(KVM_GET_MSRS), C(KVM_SET_MSRS), C(KVM_GET_FPU),
	C(KVM_SET_FPU), C(KVM_GET_LAPIC), C(KVM_SET_LAPIC), C(KVM_GET_MP_STATE),
	C(KVM_SET_MP_STATE), C(KVM_GET_VCPU_EVENTS), C(KVM_SET_VCPU_EVENTS),
	C(KVM_GET_DEBUGREGS), C(KVM_SET_DEBUGREGS), C(KVM_SET_TSC_KHZ), C(KVM_GET_TSC_KHZ),
	C(KVM_SET_SIGNAL_MASK), C(KVM_GET_XSAVE), C(KVM_SET_XSAVE), C(KVM_GET_XCRS),
	C(KVM_SET_XCRS), C(KVM_SET_GUEST_DEBUG), C(KVM_NMI), C(KVM_INTERRUPT),
	C(KVM_KVMCLOCK_CTRL), C(KVM_TRANSLATE),

	/* Terminal, file and socket ioctls. TIOCSTI is here to be named in
	 * comments; no policy may allow it. */
	C(FIONBIO), C(FIONREAD), C(FIOCLEX), C(FIONCLEX), C(TCGETS), C(TCSETS),
	C(TIOCGWINSZ), C(TIOCSTI),
	C(TUNSETIFF), C(TUNGETIFF), C(TUNSETVNETHDRSZ), C(TUNSETOFFLOAD),
	C(TUNGETFEATURES), C(TUNSETVNETLE),

	/* mmap, mprotect, madvise, memfd */
	C(PROT_NONE), C(PROT_READ), C(PROT_WRITE), C(PROT_EXEC), C(PROT_GROWSDOWN),
	C(PROT_GROWSUP),
	C(MAP_SHARED), C(MAP_PRIVATE), C(MAP_SHARED_VALIDATE), C(MAP_FIXED),
	C(MAP_FIXED_NOREPLACE), C(MAP_ANONYMOUS), C(MAP_NORESERVE), C(MAP_STACK),
	C(MAP_POPULATE), C(MAP_GROWSDOWN), C(MAP_HUGETLB), C(MAP_LOCKED),
	C(MADV_NORMAL), C(MADV_RANDOM), C(MADV_SEQUENTIAL), C(MADV_WILLNEED),
	C(MADV_DONTNEED), C(MADV_FREE), C(MADV_REMOVE), C(MADV_DONTFORK), C(MADV_DOFORK),
	C(MADV_MERGEABLE), C(MADV_UNMERGEABLE), C(MADV_HUGEPAGE), C(MADV_NOHUGEPAGE),
	C(MADV_DONTDUMP), C(MADV_DODUMP), C(MADV_WIPEONFORK), C(MADV_KEEPONFORK),
	C(MFD_CLOEXEC), C(MFD_ALLOW_SEALING),

	/* clone flags */
	C(CLONE_VM), C(CLONE_FS), C(CLONE_FILES), C(CLONE_SIGHAND), C(CLONE_PIDFD),
	C(CLONE_PTRACE), C(CLONE_VFORK), C(CLONE_PARENT), C(CLONE_THREAD), C(CLONE_NEWNS),
	C(CLONE_SYSVSEM), C(CLONE_SETTLS), C(CLONE_PARENT_SETTID), C(CLONE_CHILD_CLEARTID),
	C(CLONE_DETACHED), C(CLONE_UNTRACED), C(CLONE_CHILD_SETTID), C(CLONE_NEWCGROUP),
	C(CLONE_NEWUTS), C(CLONE_NEWIPC), C(CLONE_NEWUSER), C(CLONE_NEWPID), C(CLONE_NEWNET),
	C(CLONE_IO),

	/* futex operations, with the _PRIVATE combinations glibc uses */
	C(FUTEX_WAIT), C(FUTEX_WAKE), C(FUTEX_FD), C(FUTEX_REQUEUE), C(FUTEX_CMP_REQUEUE),
	C(FUTEX_WAKE_OP), C(FUTEX_LOCK_PI), C(FUTEX_UNLOCK_PI), C(FUTEX_TRYLOCK_PI),
	C(FUTEX_WAIT_BITSET), C(FUTEX_WAKE_BITSET), C(FUTEX_WAIT_REQUEUE_PI),
	C(FUTEX_CMP_REQUEUE_PI), C(FUTEX_PRIVATE_FLAG), C(FUTEX_CLOCK_REALTIME),
	C(FUTEX_WAIT_PRIVATE), C(FUTEX_WAKE_PRIVATE), C(FUTEX_REQUEUE_PRIVATE),
	C(FUTEX_CMP_REQUEUE_PRIVATE), C(FUTEX_WAKE_OP_PRIVATE), C(FUTEX_LOCK_PI_PRIVATE),
	C(FUTEX_UNLOCK_PI_PRIVATE), C(FUTEX_TRYLOCK_PI_PRIVATE),
	C(FUTEX_WAIT_BITSET_PRIVATE), C(FUTEX_WAKE_BITSET_PRIVATE),

	/* sockets */
	C(AF_UNIX), C(AF_LOCAL), C(AF_INET), C(AF_INET6), C(AF_NETLINK), C(AF_PACKET),
	C(AF_VSOCK),
	C(SOCK_STREAM), C(SOCK_DGRAM), C(SOCK_SEQPACKET), C(SOCK_RAW), C(SOCK_NONBLOCK),
	C(SOCK_CLOEXEC),
	C(MSG_DONTWAIT), C(MSG_NOSIGNAL), C(MSG_CMSG_CLOEXEC), C(MSG_PEEK), C(MSG_TRUNC),
	C(MSG_CTRUNC), C(MSG_WAITALL), C(MSG_EOR), C(MSG_ERRQUEUE),
	C(SOL_SOCKET), C(SO_REUSEADDR), C(SO_ERROR), C(SO_KEEPALIVE), C(SO_RCVBUF),
	C(SO_SNDBUF), C(SO_PEERCRED), C(SO_TYPE),
	C(IPPROTO_IP), C(IPPROTO_IPV6), C(IPPROTO_TCP), C(IPPROTO_UDP), C(IPPROTO_ICMP),
	C(IPPROTO_ICMPV6), C(TCP_NODELAY),
	/* the socket options libslirp sets (net-user.policy), and SO_LINGER,
	 * which no policy may allow (a lingering close blocks its closer) */
	C(SO_OOBINLINE), C(SO_LINGER), C(IP_TTL), C(IP_RECVERR),
	C(MSG_OOB), C(SHUT_RD), C(SHUT_WR), C(SHUT_RDWR),
	/* the addrlen of an IPv4 address (bind, connect, sendto): seccomp
	 * cannot read the address itself, only its length */
	{"SOCKADDR_IN_SIZE", sizeof(struct sockaddr_in)},

	/* fcntl commands, open and *at flags, seals, fallocate */
	C(F_DUPFD), C(F_DUPFD_CLOEXEC), C(F_GETFD), C(F_SETFD), C(F_GETFL), C(F_SETFL),
	C(F_GETLK), C(F_SETLK), C(F_SETLKW), C(F_OFD_GETLK), C(F_OFD_SETLK), C(F_OFD_SETLKW),
	C(F_ADD_SEALS), C(F_GET_SEALS), C(F_SEAL_SEAL), C(F_SEAL_SHRINK), C(F_SEAL_GROW),
	C(F_SEAL_WRITE), C(FD_CLOEXEC),
	C(O_RDONLY), C(O_WRONLY), C(O_RDWR), C(O_ACCMODE), C(O_CREAT), C(O_EXCL),
	C(O_NOCTTY), C(O_TRUNC), C(O_APPEND), C(O_NONBLOCK), C(O_DSYNC), C(O_SYNC),
	C(O_DIRECT), C(O_LARGEFILE), C(O_DIRECTORY), C(O_NOFOLLOW), C(O_NOATIME),
	C(O_CLOEXEC), C(O_PATH), C(O_TMPFILE),
	C(AT_FDCWD), C(AT_EMPTY_PATH), C(AT_SYMLINK_NOFOLLOW), C(AT_REMOVEDIR),
	C(SEEK_SET), C(SEEK_CUR), C(SEEK_END), C(SEEK_DATA), C(SEEK_HOLE),
	C(FALLOC_FL_KEEP_SIZE), C(FALLOC_FL_PUNCH_HOLE), C(FALLOC_FL_ZERO_RANGE),

	/* eventfd, timerfd, epoll, clocks, getrandom */
	C(EFD_CLOEXEC), C(EFD_NONBLOCK), C(EFD_SEMAPHORE),
	C(TFD_CLOEXEC), C(TFD_NONBLOCK), C(TFD_TIMER_ABSTIME),
	C(EPOLL_CLOEXEC), C(EPOLL_CTL_ADD), C(EPOLL_CTL_MOD), C(EPOLL_CTL_DEL),
	C(CLOCK_REALTIME), C(CLOCK_MONOTONIC), C(CLOCK_MONOTONIC_RAW), C(CLOCK_BOOTTIME),
	C(CLOCK_PROCESS_CPUTIME_ID), C(CLOCK_THREAD_CPUTIME_ID), C(TIMER_ABSTIME),
	C(GRND_NONBLOCK), C(GRND_RANDOM),

	/* prctl options */
	C(PR_SET_NAME), C(PR_GET_NAME), C(PR_SET_PDEATHSIG), C(PR_GET_DUMPABLE),
	C(PR_SET_DUMPABLE), C(PR_GET_NO_NEW_PRIVS), C(PR_SET_NO_NEW_PRIVS),
	C(PR_SET_TIMERSLACK), C(PR_GET_SECCOMP), C(PR_CAPBSET_READ),

	/* seccomp(2): a second filter stacked on the first (moat-vcpu) */
	C(SECCOMP_SET_MODE_FILTER), C(SECCOMP_FILTER_FLAG_TSYNC), C(SECCOMP_FILTER_FLAG_TSYNC_ESRCH),

	/* io_uring_register(2): the one operation moat-blk's ring keeps */
	C(IORING_REGISTER_FILES_UPDATE),

	/* signals (SIGRTMIN is a glibc function, not a constant: use a number) */
	C(SIGHUP), C(SIGINT), C(SIGQUIT), C(SIGILL), C(SIGTRAP), C(SIGABRT), C(SIGBUS),
	C(SIGFPE), C(SIGKILL), C(SIGUSR1), C(SIGSEGV), C(SIGUSR2), C(SIGPIPE), C(SIGALRM),
	C(SIGTERM), C(SIGCHLD), C(SIGCONT), C(SIGSTOP), C(SIGTSTP), C(SIGTTIN), C(SIGTTOU),
	C(SIGURG), C(SIGXCPU), C(SIGXFSZ), C(SIGVTALRM), C(SIGPROF), C(SIGWINCH), C(SIGIO),
	C(SIGPWR), C(SIGSYS),
	C(SIG_BLOCK), C(SIG_UNBLOCK), C(SIG_SETMASK),
};

#define E(x) {#x, x}

/* errno names for "return ERRNO". */
static const struct {
	const char *name;
	int value;
} pol_errnos[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY),
	E(EEXIST), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE),
	E(ENOTTY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EPIPE), E(ERANGE),
	E(ENOSYS), E(ENOTSUP), E(EOPNOTSUPP), E(EAFNOSUPPORT), E(EPROTONOSUPPORT),
	E(ENOTSOCK), E(ENOTCONN), E(ETIMEDOUT),
};

const struct pol_const *pol_const_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(pol_consts); i++)
		if (strcmp(pol_consts[i].name, name) == 0)
			return &pol_consts[i];
	return NULL;
}

const struct pol_const *pol_const_table(size_t *n)
{
	*n = ARRAY_SIZE(pol_consts);
	return pol_consts;
}

int pol_errno_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(pol_errnos); i++)
		if (strcmp(pol_errnos[i].name, name) == 0)
			return pol_errnos[i].value;
	return 0;
}
