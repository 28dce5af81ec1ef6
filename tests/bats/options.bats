#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# options.bats - the command lines of lixs-broker and lixs-storeproc:
# every option their man pages document is used here at least once (a
# test checks that), --help lists exactly the man page's options, and
# the exit codes are the documented ones (0 ok, 1 failure, 2 usage).

load helpers
load xensim

BROKER_BIN=$LIXS_BUILD/lixs-broker
STORE_BIN=$LIXS_BUILD/lixs-storeproc

setup() {
	require_lixs "lixs's own command line"
	make_test_dir
	XENSTORED_PATH=$T/sock
	LIXS_RO_SOCK=$T/ro
}

teardown() {
	common_teardown
}

# Option names in text on stdin: "-x" or "--long-name" starting a word.
opts_of() {
	grep -oE '(^|[[:space:],(])--?[A-Za-z][-A-Za-z_]*' | sed -E 's/^[[:space:],(]//' | sort -u
}

# The option names of a man page: the tags of its OPTIONS section.
man_opts() {
	sed -n '/^\.SH OPTIONS/,/^\.SH [^O]/p' "$1" | awk 'prev == ".TP" { print } { prev = $0 }' |
		sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' | opts_of
}

# The broker on the test's sockets, in the foreground; `run`, bounded.
broker_run() {
	run timeout "$LIXS_WAIT" "$BROKER_BIN" -N --socket-path "$T/sock" \
		--socket-ro-path "$T/ro" "$@"
}

# The store process's argv, one word a line.
store_argv() {
	tr '\0' '\n' <"/proc/$(store_pid)/cmdline"
}

@test "options: --help lists exactly the options of lixs-broker(8)" {
	run "$BROKER_BIN" --help
	[ "$status" -eq 0 ]
	diff -u <(opts_of <<<"$output") <(man_opts "$LIXS_REPO/docs/lixs-broker.8")
	[ "$(man_opts "$LIXS_REPO/docs/lixs-broker.8" | wc -l)" -gt 40 ]
}

@test "options: --help lists exactly the options of lixs-storeproc(8)" {
	run "$STORE_BIN" --help
	[ "$status" -eq 0 ]
	diff -u <(opts_of <<<"$output") <(man_opts "$LIXS_REPO/docs/lixs-storeproc.8")
	[ "$(man_opts "$LIXS_REPO/docs/lixs-storeproc.8" | wc -l)" -gt 15 ]
}

@test "options: every documented option is used by some test" {
	local o missing=
	for o in $( (man_opts "$LIXS_REPO/docs/lixs-broker.8"
		     man_opts "$LIXS_REPO/docs/lixs-storeproc.8") | sort -u); do
		grep -qE -- "(^|[[:space:]\"'])$o([[:space:]\"'=]|\$)" "$BATS_TEST_DIRNAME"/*.bats ||
			missing="$missing $o"
	done
	[ -z "$missing" ] || { echo "never used:$missing"; false; }
}

@test "options: -h, -H, --help and --version exit 0 on stdout" {
	local p o
	for o in -h -H --help; do
		run "$BROKER_BIN" "$o"
		[ "$status" -eq 0 ]
		[[ ${lines[0]} == "Usage: lixs-broker"* ]]
	done
	for o in -h --help; do
		run "$STORE_BIN" "$o"
		[ "$status" -eq 0 ]
		[[ ${lines[0]} == "Usage: lixs-storeproc"* ]]
	done
	for p in lixs-broker lixs-storeproc; do
		run "$LIXS_BUILD/$p" --version
		[ "$status" -eq 0 ]
		[[ $output =~ ^$p\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	done
}

@test "options: usage errors exit 2 with the usage on stderr, nothing started" {
	run --separate-stderr "$BROKER_BIN" --no-such-option
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ $stderr == *"Usage: lixs-broker"* ]]
	run --separate-stderr "$BROKER_BIN" -F
	[ "$status" -eq 2 ]
	[[ $stderr == *"Usage:"* ]]
	run --separate-stderr "$BROKER_BIN" -N stray
	[ "$status" -eq 2 ]
	[[ $stderr == *"unexpected argument 'stray'"* ]]
	run --separate-stderr "$STORE_BIN" --no-such-option
	[ "$status" -eq 2 ]
	[[ $stderr == *"Usage: lixs-storeproc"* ]]
	run --separate-stderr "$STORE_BIN" -E many
	[ "$status" -eq 2 ]
	[[ $stderr == *"invalid value 'many'"* ]]
	# Not started by the broker: no channel on fds 3-5.
	run --separate-stderr "$STORE_BIN" --syslog
	[ "$status" -eq 2 ]
	[[ $stderr == *"run by lixs-broker"* ]]
	[ ! -e "$T/sock" ]
}

@test "options: -D daemonizes once serving; -F/--pid-file names it; SIGTERM cleans up" {
	run timeout "$LIXS_WAIT" "$BROKER_BIN" -D --socket-path "$T/sock" \
		--socket-ro-path "$T/ro" -F "$T/pid"
	[ "$status" -eq 0 ]
	DAEMON_PID=$(cat "$T/pid")
	[ "$(cat "/proc/$DAEMON_PID/comm")" = lixs-broker ]
	daemon_answers "$T/sock"
	# The daemon's store process logs to syslog, not to a closed stderr.
	store_argv | grep -qx -- --syslog
	local pid=$DAEMON_PID
	stop_daemon
	[ ! -e "$T/pid" ]
	[ ! -e "$T/sock" ]
	[ ! -e "$T/ro" ]
	run timeout "$LIXS_WAIT" "$BROKER_BIN" --daemon --socket-path "$T/sock" \
		--socket-ro-path "$T/ro" --pid-file "$T/pid2"
	[ "$status" -eq 0 ]
	DAEMON_PID=$(cat "$T/pid2")
	[ "$DAEMON_PID" != "$pid" ]
	daemon_answers "$T/sock"
}

@test "options: -N/--no-fork stays in the foreground and logs to stderr" {
	start_daemon --no-fork
	grep -q 'lixs-broker: info: serving on' "$DAEMON_LOG"
	# The process started is the one that serves, and the pid file says so.
	[ "$(cat "$T/pid")" = "$DAEMON_PID" ]
	run ! grep -qx -- --syslog <(store_argv)
}

@test "options: -V/--verbose logs debug lines in both processes" {
	start_daemon -V
	xs 'READ:/\0'
	grep -q 'lixs-broker: debug:' "$DAEMON_LOG"
	wait_until grep -q 'lixs-storeproc: debug: conn [0-9]*: READ' "$DAEMON_LOG"
	store_argv | grep -qx -- -V
	stop_daemon
	start_daemon --verbose
	grep -q 'lixs-broker: debug:' "$DAEMON_LOG"
}

@test "options: -T/--trace-file writes cxenstored's trace; SIGHUP reopens it" {
	start_daemon -T "$T/trace"
	xs 'WRITE:/t\0v' 'READ:/t\0'
	wait_until grep -q '^OUT .* READ (v)$' "$T/trace"
	wait_until test "$(grep -c '^DESTROY connection' "$T/trace")" -eq 2
	run cat "$T/trace"
	echo "$output"
	# As 4.17: a marker at each opening, then one line an event.
	[ "${lines[0]}" = '***' ]
	[[ ${lines[1]} =~ ^CREATE\ connection\ 0x[0-9a-f]+$ ]]
	grep -qE '^IN 0x[0-9a-f]+ [0-9]{8} [0-9]{2}:[0-9]{2}:[0-9]{2} WRITE \(/t v\)$' "$T/trace"
	grep -qE '^OUT 0x[0-9a-f]+ [0-9]{8} [0-9:]{8} WRITE \(OK \)$' "$T/trace"
	grep -qE '^IN 0x[0-9a-f]+ [0-9]{8} [0-9:]{8} READ \(/t \)$' "$T/trace"
	[ "$(stat -c %a "$T/trace")" = 600 ]
	mv "$T/trace" "$T/trace.1"
	kill -HUP "$DAEMON_PID"
	wait_until grep -q 'trace file .* reopened' "$DAEMON_LOG"
	xs 'READ:/t\0'
	wait_until grep -q '^OUT .* READ (v)$' "$T/trace"
	[ "$(head -c 5 "$T/trace")" = $'\n***' ]
	[ "$(grep -c '^IN .* READ' "$T/trace.1")" -eq 1 ]
	# A restarted store process gets the trace too.
	local old
	old=$(store_pid)
	kill -KILL "$old"
	wait_until eval '[ -n "$(store_pid)" ] && [ "$(store_pid)" != "$old" ]'
	wait_until daemon_answers "$T/sock"
	xs 'READ:/lixs-after-restart\0'
	wait_until grep -q '^IN .* READ (/lixs-after-restart )$' "$T/trace"
	stop_daemon
	start_daemon --trace-file "$T/trace2"
	xs 'READ:/t\0'
	wait_until grep -q '^IN .* READ (/t )$' "$T/trace2"
}

@test "options: --socket-path, --socket-ro-path and LiXS's --socket_ro-path" {
	start_daemon --socket_ro-path "$T/lixs-ro"
	[ -S "$T/lixs-ro" ]
	[ ! -e "$T/ro" ]
	XS_SOCK=$T/lixs-ro xs 'WRITE:/x\0y\0'
	[[ $output == *"EACCES"* ]]
	stop_daemon
	# helpers' start_daemon passes --socket-path and --socket-ro-path.
	start_daemon
	[ -S "$T/sock" ]
	[ -S "$T/ro" ]
}

@test "options: without Xen, no channel named serves the sockets and warns" {
	start_daemon
	grep -q 'no Xen here' "$DAEMON_LOG"
}

@test "options: -u, --unix-socket, --unix-sockets serve only the sockets" {
	local o
	for o in -u --unix-socket --unix-sockets; do
		start_daemon "$o"
		run ! grep -q 'Xen' "$DAEMON_LOG"
		stop_daemon
	done
}

@test "options: the LiXS line without Xen fails (exit 1), saying why" {
	broker_run -D --xenbus --unix-socket --virq-dom-exc
	[ "$status" -eq 1 ]
	[[ $output == *"cannot open the Xen devices"* ]]
	broker_run -x
	[ "$status" -eq 1 ]
	broker_run -i
	[ "$status" -eq 1 ]
	[ ! -e "$T/sock" ]
}

@test "options: -x -i -u serve dom0's ring on Xen; --no-domain-init leaves it alone" {
	xensim_init
	start_daemon_xensim -x -i -u
	run timeout "$LIXS_WAIT" "$FAKEGUEST" --dom0-ring 'WRITE:/d0\0ring'
	[ "$status" -eq 0 ]
	[[ $output == "WRITE req=1 tx=0 len=3 OK"* ]]
	xs 'READ:/d0\0'
	[[ $output == *" ring" ]]
	stop_daemon
	rm -rf "$T/xen"
	xensim_init
	start_daemon_xensim --xenbus --virq-dom-exc --unix-socket --no-domain-init
	run timeout "$LIXS_WAIT" "$FAKEGUEST" -t 1 --dom0-ring 'READ:/\0'
	[ "$status" -eq 3 ]
}

@test "options: --storeproc names the store process binary" {
	cp "$STORE_BIN" "$T/my-storeproc"
	start_daemon --storeproc "$T/my-storeproc"
	[ "$(readlink "/proc/$(store_pid)/exe")" = "$T/my-storeproc" ]
	stop_daemon
	broker_run --storeproc "$T/none"
	[ "$status" -eq 1 ]
	[[ $output == *"did not start"* ]]
}

@test "options: --store-user and --seccomp-profile reach the store process" {
	[ "$(id -u)" -eq 0 ] || skip_because "the sandbox switches users only as root"
	getent passwd nobody >/dev/null || skip_because "no user nobody"
	start_daemon --store-user nobody --seccomp-profile "$LIXS_REPO/seccomp/default.profile"
	[ "$(awk '/^Uid:/ { print $2 }' "/proc/$(store_pid)/status")" = "$(id -u nobody)" ]
	xs 'READ:/\0'
	stop_daemon
	broker_run --store-user root
	[ "$status" -eq 1 ]
	broker_run --seccomp-profile "$T/none"
	[ "$status" -eq 1 ]
}

@test "options: limits and quotas go to the store process; bad values stop the start" {
	start_daemon -E 10 -S 20 -W 30 -t 40 -A 5 -M 100 -Q outstanding=7 \
		-q memory=4096 -w watch-event=3 -K
	diff -u <(store_argv | sed 1d | grep -v -- '^--syslog$') - <<-EOF
		-E
		10
		-S
		20
		-W
		30
		-t
		40
		-A
		5
		-M
		100
		-Q
		outstanding=7
		-q
		memory=4096
		-w
		watch-event=3
		-K
	EOF
	stop_daemon
	start_daemon --entry-nb 1 --entry-size 2 --watch-nb 3 --transaction 4 --perm-nb 5 \
		--path-max 6 --quota transaction-nodes=7 --quota-soft memory=8 \
		--timeout watch-event=9 --keep-orphans
	[ "$(store_argv | sed 1d | tr '\n' ' ')" = \
	  "-E 1 -S 2 -W 3 -t 4 -A 5 -M 6 -Q transaction-nodes=7 -q memory=8 -w watch-event=9 -K " ]
	stop_daemon
	broker_run -Q bogus=1
	[ "$status" -eq 1 ]
	broker_run -w watch-event=x
	[ "$status" -eq 1 ]
}

@test "options: cxenstored's options without effect are accepted and logged" {
	start_daemon -V -I --internal-db=off -P --output-pid -R --no-recovery \
		--master-domid 0 --priv-domid 0 --event 5
	grep -q 'option --master-domid has no effect' "$DAEMON_LOG"
	grep -q 'option --no-recovery has no effect' "$DAEMON_LOG"  # -R, by its long name
	xs 'READ:/\0'
}

@test "options: READY=1 goes to \$NOTIFY_SOCKET once serving, from the broker only" {
	command -v python3 >/dev/null || skip_because "no python3 to play systemd's side"
	local sock=$T/notify
	# systemd's end: one datagram, printed, within the wait bound.
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(float(sys.argv[2]))
print(s.recv(4096).decode(), flush=True)
' "$sock" "$LIXS_WAIT" >"$T/notified" 2>&1 &
	local py=$!
	wait_until test -S "$sock"
	NOTIFY_SOCKET=$sock start_daemon
	wait "$py"
	grep -qx 'READY=1' "$T/notified"
	run ! grep -qz '^NOTIFY_SOCKET=' "/proc/$(store_pid)/environ"
	grep -qz '^NOTIFY_SOCKET=' "/proc/$DAEMON_PID/environ"
}

@test "options: -T naming a FIFO or a symlink neither blocks nor is followed" {
	mkfifo "$T/fifo"
	ln -s "$T/elsewhere" "$T/link"
	start_daemon -T "$T/fifo"
	xs 'READ:/tool/xenstored\0'
	grep -q "cannot open the trace file $T/fifo" "$DAEMON_LOG"
	stop_daemon
	start_daemon -T "$T/link"
	xs 'READ:/tool/xenstored\0'
	[ ! -e "$T/elsewhere" ]
}
