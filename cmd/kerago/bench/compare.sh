#!/usr/bin/env bash
# Runs `kerago bench` and the PyTorch reference (torch_bench.py) in turn on
# this machine and prints, per workload, kerago's samples/s, PyTorch's best
# samples/s over 1 and 2 threads, and their ratio; then kerago's GEMM rate
# beside torch.mm's. Needs Debian's python3-torch (see the README).
# Usage: cmd/kerago/bench/compare.sh [--steps N]
set -euo pipefail
cd "$(dirname "$0")/../../.."
steps=50
if [ "${1:-}" = "--steps" ]; then steps=$2; fi
kg=$(mktemp) && pt=$(mktemp) && gm=$(mktemp)
trap 'rm -f "$kg" "$pt" "$gm"' EXIT
go run ./cmd/kerago bench --steps "$steps" --threads 2 | tee "$kg"
/usr/bin/python3 cmd/kerago/bench/torch_bench.py --steps "$steps" --threads 1,2 | tee "$pt"
go test -run '^$' -bench 'BenchmarkSgemm/kerago/(512|1024)$' -benchtime 20x ./graph/blas/ | tee "$gm"
echo
printf '%-8s %14s %14s %8s\n' workload kerago_sps pytorch_sps ratio
for w in $(grep -o 'workload=[a-z]*' "$kg" | cut -d= -f2); do
  k=$(grep "workload=$w " "$kg" | sed 's/.*samples_per_s=\([0-9.]*\).*/\1/')
  p=$(grep "workload=$w " "$pt" | sed 's/.*samples_per_s=\([0-9.]*\).*/\1/' | sort -g | tail -1)
  awk -v w="$w" -v k="$k" -v p="$p" 'BEGIN { printf "%-8s %14.1f %14.1f %8.2f\n", w, k, p, k / p }'
done
echo
printf '%-6s %14s %14s\n' size kerago_gflops torch_gflops
for s in 512 1024; do
  k=$(grep "kerago/$s" "$gm" | grep -o '[0-9.]* GFLOP/s' | cut -d' ' -f1)
  p=$(grep "gemm size=$s " "$pt" | sed 's/.*gflops=\([0-9.]*\).*/\1/' | sort -g | tail -1)
  printf '%-6s %14s %14s\n' "$s" "$k" "$p"
done
