# Shared by the bench scripts: start chatd nodes on loopback with fsync
# durability (DURABILITY=async to set the disk aside) and no rate limits (the
# load generator connects thousands of sockets from one address), and stop
# them on exit. Source it; it sets NODE_PIDS and fills PORTS.
CHATD=${CHATD:-build/bin/chatd}
BENCH=${BENCH:-build/bin/chat-bench}
BENCH_FLAGS=(--dev --log-level warn --rate-limit off --connect-rate-limit off --durability "${DURABILITY:-sync}" ${CHATD_ARGS:-})
NODE_PIDS=()
BENCH_TMP=$(mktemp -d /tmp/chat-bench-XXXXXX)
cleanup_nodes() {
  for pid in "${NODE_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  NODE_PIDS=()
}
trap 'cleanup_nodes; rm -rf "$BENCH_TMP"' EXIT

# A base port with `n` free ports after it.
free_port_base() {
  local n=$1 base k busy
  for _ in $(seq 50); do
    base=$((10000 + RANDOM % 20000)); busy=0 # below the ephemeral range
    for k in $(seq 0 $((n - 1))); do
      ss -tanH "sport = :$((base + k))" | grep -q . && busy=1
    done
    [ $busy = 0 ] && { echo "$base"; return; }
  done
  echo "bench: no free ports" >&2; return 1
}

# One node on a fresh data dir; its port in PORT.
start_node() {
  local data=$BENCH_TMP/node-$RANDOM log
  log=$data.log
  PORT=$(free_port_base 1)
  "$CHATD" "${BENCH_FLAGS[@]}" --http 127.0.0.1:"$PORT" --data "$data" > "$log" 2>&1 &
  NODE_PIDS+=($!)
  for _ in $(seq 200); do
    curl -fs "http://127.0.0.1:$PORT/readyz" > /dev/null && return 0
    sleep 0.05
  done
  echo "bench: chatd did not start" >&2; cat "$log" >&2; return 1
}

# `chatd cluster --nodes n`, once every node is ready (joined); ports in PORTS.
start_cluster() {
  local n=$1 http cl log=$BENCH_TMP/cluster.log
  http=$(free_port_base "$n"); cl=$(free_port_base "$n")
  "$CHATD" cluster --nodes "$n" --http-base "$http" --cluster-base "$cl" \
    --data "$BENCH_TMP/cluster-$RANDOM" "${BENCH_FLAGS[@]}" > "$log" 2>&1 &
  NODE_PIDS+=($!)
  PORTS=""
  for _ in $(seq 400); do
    local formed=1 k
    for k in $(seq "$n"); do
      curl -fs "http://127.0.0.1:$((http + k - 1))/readyz" > /dev/null || formed=0
    done
    if [ $formed = 1 ]; then
      sleep 1 # a node is ready once it joined; the others' views follow within ms
      PORTS=$(seq -s, "$http" $((http + n - 1)))
      return 0
    fi
    sleep 0.05
  done
  echo "bench: the cluster did not form" >&2; cat "$log" >&2; return 1
}

machine_line() {
  echo "# $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%FT%TZ), $(git rev-parse --short HEAD 2>/dev/null)" >&2
}
