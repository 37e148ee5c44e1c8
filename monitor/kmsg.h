#pragma once
#include <stddef.h>
#include <sys/types.h>

/* When the kernel kills a process for a system call its seccomp filter
 * forbids, it writes an audit record (type=1326) naming the pid and the
 * syscall number to the kernel log. Find the latest such record for pid in
 * /dev/kmsg and name the syscall ("socket, 41"). 0, or -ENOENT when there
 * is none (audit records off, or the log rotated past it). */
int mon_kmsg_seccomp_syscall(pid_t pid, char *out, size_t len);
