#!/usr/bin/env bash
# bench-sync.sh: how long one `fabric-reconciler sync` takes on the lab.
#
#   test/lab/bench-sync.sh [path/to/fabric-reconciler]     (RUNS=7 by default)
#
# For each run it resets the lab, then times, as wall-clock time of the whole
# command (process start, config and cluster files, SSH logins to both
# leaves in parallel, observe, apply):
#   - a sync from the leaves' baseline (14 changes, 86 CLI lines),
#   - the time from that sync's start until all 6 BGP sessions are
#     Established (FRR's and BIRD's own timers dominate it),
#   - a second sync that finds nothing to change,
#   - the spare node joining (6 changes).
# It prints every run and the medians. The lab is brought up if needed and
# taken down again if this script started it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RUNS=${RUNS:-7}
export LAB=${LAB:-frlab}
BIN=${1:-}
if [ -z "$BIN" ]; then
  BIN=$(mktemp -d)/fabric-reconciler
  (cd "$REPO" && go build -o "$BIN" ./cmd/fabric-reconciler)
fi
[ "$LAB" = frlab ] || { echo "bench: examples/haystack/fabric-frr.yaml points at LAB=frlab" >&2; exit 2; }

started=0
if ! "$HERE/lab.sh" status >/dev/null 2>&1; then
  started=1
  "$HERE/lab.sh" up
fi
cleanup() { [ $started = 0 ] || "$HERE/lab.sh" down; }
trap cleanup EXIT

ms() { echo $(( $(date +%s%N) / 1000000 )); }
sync_once() {
  "$BIN" sync --config "$REPO/examples/haystack/fabric-frr.yaml" \
    --cluster-state "$REPO/examples/haystack/cluster" --cluster-state "$HERE/cluster" "$@" >/dev/null
}
established() { # established LEAF: number of Established sessions
  "$HERE/lab.sh" vtysh "$1" -c 'show bgp summary json' | grep -c '"state":"Established"' || true
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

declare -a t_first t_sessions t_noop t_join
for i in $(seq "$RUNS"); do
  "$HERE/lab.sh" reset
  s=$(ms); sync_once; e=$(ms)
  t_first+=($((e - s)))
  until [ "$(established leaf201)" -ge 3 ] && [ "$(established leaf202)" -ge 3 ]; do
    [ $(( $(ms) - s )) -lt 30000 ] || { echo "bench: sessions not up after 30s" >&2; exit 1; }
    sleep 0.02
  done
  t_sessions+=($(( $(ms) - s )))
  s=$(ms); sync_once; e=$(ms)
  t_noop+=($((e - s)))
  s=$(ms); sync_once --cluster-state "$HERE/spare"; e=$(ms)
  t_join+=($((e - s)))
  printf 'run %d: sync from baseline %4d ms, sessions up %5d ms, no-op sync %4d ms, spare joins %4d ms\n' \
    "$i" "${t_first[-1]}" "${t_sessions[-1]}" "${t_noop[-1]}" "${t_join[-1]}"
done
"$HERE/lab.sh" reset

echo
echo "median of $RUNS runs (fabric-reconciler sync on the lab, 2 FRR leaves, $(nproc) CPUs):"
printf '  sync from baseline (14 changes, 86 lines):  %5d ms\n' "$(printf '%s\n' "${t_first[@]}" | median)"
printf '  all 6 sessions Established (from its start): %5d ms\n' "$(printf '%s\n' "${t_sessions[@]}" | median)"
printf '  sync with nothing to change:                 %5d ms\n' "$(printf '%s\n' "${t_noop[@]}" | median)"
printf '  spare node joins (6 changes):                %5d ms\n' "$(printf '%s\n' "${t_join[@]}" | median)"
