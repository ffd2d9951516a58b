#!/bin/sh
# Interleaved side-by-side run for issue #19: Flower's SecAgg+ (Python, its own
# functions) and fedb2b's aggregation/secagg suite, alternately, ROUNDS times.
#   bench/flower/run.sh FLOWER_SRC [ROUNDS] [OUTDIR]
# then: /usr/bin/python3 bench/flower/compare.py OUTDIR
# Both sides run under the same `nice -n 10`; uptime is logged before each run.
set -eu
src=$1
rounds=${2:-5}
out=${3:-bench-flower-out}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
(cd "$root" && go test -c -o "$out/secagg.test" ./aggregation/secagg)
for r in $(seq 1 "$rounds"); do
	echo "flower round $r $(date -u +%T) $(uptime)" >>"$out/load.log"
	nice -n 10 /usr/bin/python3 "$here/flower_secaggplus_bench.py" "$src" ${FLOWER_ARGS:-} >"$out/flower.$r.txt"
	echo "fedb2b round $r $(date -u +%T) $(uptime)" >>"$out/load.log"
	(cd "$root/aggregation/secagg" && nice -n 10 "$out/secagg.test" -test.run XXX \
		-test.bench "${GO_BENCH:-BenchmarkSuite/(client|server)}" -test.benchtime 8x -test.count 1) >"$out/go.$r.txt"
done
echo "done $(date -u +%T) $(uptime)" >>"$out/load.log"
