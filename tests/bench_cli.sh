#!/usr/bin/env bash
# Bad input to the benchmark tools: every case must fail (non-zero exit) and
# say why on stderr. Usage: tests/bench_cli.sh path/to/chat-bench
set -u
bench=$1
peers=$(dirname "$0")/../bench/peers/start
failures=0
expect() { # expected-stderr-fragment command...
  local want=$1; shift
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 0 ] || ! grep -qF -- "$want" <<<"$err"; then
    echo "FAIL: $* -> exit $rc, stderr: $err (wanted: $want)"
    failures=$((failures + 1))
  else
    echo "ok: $*"
  fi
}
expect "--protocol: foo not in {chat,socketio,nchan}" "$bench" --protocol foo fanout
expect "cluster needs the nodes' ports" "$bench" cluster -R 2
expect "--server-pids is required" "$bench" idle -C 5
expect "must be a loopback address" "$bench" --host 10.0.0.1 fanout
expect "durable and presence speak only chatd's protocol" "$bench" --protocol nchan durable
expect "at most 200000 sockets" "$bench" rooms -R 100000 -K 10
expect "cannot read VmRSS of the --server-pids" "$bench" idle -C 5 --server-pids 999999999
expect "--rate: Value 0 not in range" "$bench" rooms --rate 0
expect "--stalls-over: Value -5 not in range" "$bench" rooms --stalls-over -5
expect "Could not convert: --ports = 1,x" "$bench" --ports 1,x rooms
expect "A subcommand is required" "$bench"
expect "unknown peer 'nope'" "$peers" nope 1
expect "usage: bench/peers/start" "$peers" nchan notaport
expect "nchan needs a scratch DIR" "$peers" nchan 12345
probe=$(dirname "$0")/../bench/fsync-probe
expect "is not a directory" "$probe" /nonexistent-dir
expect "seconds must be in (0, 3600]" "$probe" . 0
[ $failures -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
