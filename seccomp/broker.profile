# SPDX-License-Identifier: GPL-2.0-only
#
# broker.profile - the syscalls lixs-broker may make once it serves (from
# just after the sockets exist and READY=1 is sent until it exits).
# Compiled into the broker; not replaceable.  Format: lixs-seccomp(5).
#
# Anything not listed fails with EPERM and the kernel writes an audit
# record (SECCOMP_FILTER_FLAG_LOG): a root daemon that every guest depends
# on must not die for a syscall glibc or a Xen library makes on a rare
# path, and a refused syscall still leaves a trace.
#
# A filter is inherited across fork and execve, so this list also bounds
# the store process: its start-up as root before its own, narrower
# filter (seccomp/default.profile) is in force, and then that filter
# stacks on this one.  So every syscall of default.profile must be here
# (tests/unit/test_seccomp_profile.c checks it), as must those a store
# process makes while it confines itself.
#
# Found by running the bats suite and the real-Xen smoke with the broker
# under `strace -f` (see SECURITY.md).
@action deny

# --- the event loop ----------------------------------------------------------
epoll_wait      # the main loop (glibc's epoll_wait)
epoll_pwait     # the same where the architecture has no epoll_wait
epoll_ctl       # watch and unwatch the ipc pipe, listeners, the evtchn fd
read            # signalfd, timerfds, the evtchn fd (pending ports), frames
                # from the store process (ipc.c)
write           # the evtchn fd (unmask), log lines on stderr
close           # a client fd handed over, a released ring's resources
fcntl           # O_NONBLOCK on accepted and handed-over sockets
timerfd_settime # restart backoff, HELLO deadline, the end of an EMFILE pause
clock_gettime   # rate-limited warnings, restart timing (when not the vDSO)
rt_sigreturn    # return from a signal handler (glibc, the sanitizers)
futex           # glibc's internal locks (syslog, stdio)
restart_syscall # a sleep interrupted by a stop signal resumes
clock_nanosleep # waiting for the store process to exit (supervise.c)
nanosleep       # the same on older libcs
poll            # glibc and libxen internals that wait on one fd
ppoll           # the same where the architecture has no poll
ppoll_time64    # the same where glibc makes it so (32-bit architectures)

# --- clients and the store process ------------------------------------------
accept4         # a client connects to a listening socket
getsockopt      # SO_PEERCRED: whose client it is (policy/)
writev          # frames to the store process (ipc.c)
sendmsg         # descriptors handed to the store process beside their frames
shutdown        # the store process's, to drop a client whose socket the broker keeps
recvmsg         # a snapshot's memfd from the store process (ipc.c); glibc's
                # nscd client, should the store process's getpwnam() at start
                # find nscd: it hands over its cache that way
sendto          # log lines to syslog
socket          # glibc's syslog() reconnecting after syslogd restarted
connect         # the same

# --- restarting the store process (supervise.c) -----------------------------
socketpair      # a fresh channel for each store process: its descriptor socket
pipe2           # and its two frame pipes
clone           # fork()
clone3 errno ENOSYS  # glibc tries clone3 first where it may: make it fall back
wait4           # reap the dead store process
waitid          # the same, on libcs that reap with it
kill            # SIGKILL a store process that broke the protocol or hung
setpgid         # the child leaves the broker's process group
dup2            # the channel onto its fixed fds in the child
dup3            # dup2 where the architecture has no dup2
close_range     # the child closes everything else
execve          # the child becomes lixs-storeproc
getppid         # the child checks its parent is still the broker
getpid          # log lines, syslog's LOG_PID
gettid          # glibc's raise() and the sanitizers
prctl           # PR_SET_PDEATHSIG in the child; the store's own set-up
rt_sigprocmask  # the child unblocks the signals the broker reads by signalfd
rt_sigaction    # the child restores SIGPIPE's default

# --- the store process's start-up, before its own filter --------------------
# (dynamic loading, libc start-up, sandbox.c: user, chroot, capabilities)
brk             # malloc (also the broker's)
mmap            # malloc, shared objects; the broker's ring and grant maps;
                # the store's journal view
munmap          # the same undone; a released domain's ring
mremap          # realloc of a big block; the store's growing journal view
mprotect        # relocation, stack guard of the loaded libraries
madvise         # libxencall's hypercall buffers; glibc malloc trimming
mlock           # libxencall's hypercall buffers where /dev/xen/hypercall is missing
munlock         # the same undone
arch_prctl      # thread pointer set-up at start
set_tid_address # libc start-up
set_robust_list # libc start-up
rseq            # libc start-up
prlimit64       # libc start-up; the store's own rlimits
getrandom       # malloc's and the stack protector's seeds
openat          # shared objects, /etc/passwd; the broker's -T file on SIGHUP
newfstatat      # the same, and the store's check of its empty directory
fstat           # the same on older libcs
pread64         # ELF headers; the store reads its journal
lseek           # the journal's size
access          # the loader's ld.so.preload check
readlink        # libc's /proc/self/exe look-up
getdents64      # the store closes inherited fds it finds in /proc/self/fd
fstatfs         # libc's check of /proc
memfd_create    # the store's journal
ftruncate       # the store sizes its journal ahead (seccomp/default.profile)
epoll_create1   # the store's event loop
epoll_create    # the same on older libcs
timerfd_create  # the store's --ring-idle timer (armed with timerfd_settime, above)
getuid          # libc and libcap-ng identity checks
geteuid
getgid
getegid
getresuid       # libcap-ng checks the store's change of user
getresgid
getgroups
setgroups       # the store drops supplementary groups
setresuid       # the store becomes its user
setresgid
mkdir           # the store's empty root, made when missing
mkdirat         # the same where the architecture has no mkdir
dup             # the store lists that root to check it is empty
chroot          # the store's empty root
chdir
fchdir
capget          # the store checks what capabilities remain
capset          # and drops them
seccomp         # the store loads its own, narrower filter
sysinfo         # glibc's qsort sizes its buffer by physical memory
uname           # libc start-up on some kernels

# --- Xen ---------------------------------------------------------------------
ioctl           # evtchn bind/unbind/notify, grant map/unmap, foreign map, domctl

# --- the way out ---------------------------------------------------------------
unlink          # sockets and the pid file are removed on exit
exit_group      # exit
exit            # a thread's exit (sanitizers)
