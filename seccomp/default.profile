# SPDX-License-Identifier: GPL-2.0-only
#
# default.profile - the syscalls lixs-storeproc may make once its sandbox
# is in force (from just before it greets the broker until it exits).
# Compiled into the binary; --seccomp-profile FILE replaces it.  Format:
# lixs-seccomp(5).  Anything not listed kills the store process with
# SIGSYS after it has logged the syscall's name; the broker restarts it.
# A line "NAME errno ENAME" refuses NAME with that error instead.
#
# Found by running the bats suite under `strace -f` (see SECURITY.md).

# --- the main loop ---------------------------------------------------------
epoll_wait      # wait for the broker and the clients (glibc's epoll_wait)
epoll_pwait     # the same where the architecture has no epoll_wait
epoll_ctl       # add, re-arm and remove client sockets
read            # frames from the broker, all that wait in one call (ipc.c
                # ipc_recv_next); requests from client sockets (conn.c)
writev          # frames to the broker, a ring's replies and their credit in
                # one call (ipc.c ipc_send_many)
recvmsg         # descriptors the broker hands over beside their frames (ipc.c):
                # client sockets, and the journal at every restart
sendmsg         # a snapshot's memfd to the broker (ipc.c); replies to clients (conn.c)
poll            # room for the frame that follows such a memfd (ipc.c ipc_send)
ppoll           # the same where the architecture has no poll
ppoll_time64    # the same where glibc makes it so (32-bit architectures)
fcntl           # O_NONBLOCK on each client socket handed over (conn.c)
close           # a client connection ends; a stray fd rides with a frame
shutdown        # a client the store drops: the broker keeps a copy of its
                # socket (broker/clients.c), so close() alone would not end it

# --- the journal (docs/RESTART.md) -------------------------------------------
memfd_create    # a fresh journal memfd for each snapshot handed to the broker
ftruncate       # size it ahead, doubling: records are stored through its
                # mapping (mmap MAP_SHARED, mremap to grow), not written
lseek           # the size of the journal the broker hands back at start
pread64         # read that journal from offset 0 (its offset is shared)

# --- logging ---------------------------------------------------------------
write           # log lines on stderr, the report of a refused syscall
sendto          # log lines to syslog (glibc's syslog() is send())
getpid          # syslog's LOG_PID; the pid in a debug line
socket errno EACCES  # glibc's syslog() re-connecting after syslogd went away:
                     # refused (lines are lost), never a way out of the chroot

# --- memory (glibc malloc) -------------------------------------------------
brk             # grow and shrink the heap
mmap            # blocks of 128 KiB and more; the journal memfd's view;
                # the node slab's reserved range (PROT_NONE) and its 64 KiB
                # chunks, mapped into it (MAP_FIXED) as it fills
munmap          # free them; a replaced journal's view
mremap          # realloc of such a block; a growing journal's view
sysinfo         # glibc's qsort() sizes its buffer by physical memory when
                # sorting more than 1 KiB (watch events of one write, a
                # commit's nodes): without it 128 watches kill the store

# --- the process ------------------------------------------------------------
clock_gettime   # time stamps, when the vDSO cannot answer
rt_sigreturn    # return from a signal handler
exit_group      # exit, or die (IPC_SHUTDOWN, the broker gone)
