#!/usr/bin/env bash
# Runs `kerago bench` and the PyTorch reference (torch_bench.py) side by side
# on this machine and prints one table: per training workload kerago's and
# PyTorch's samples/s and their ratio; per predict case both sides' p50 and
# p99 latency (and throughput per goroutine count); and kerago's sgemm rate
# beside torch.mm's at 128 to 1024. PyTorch runs in its best configuration:
# OpenBLAS free to pick its own kernels (this machine's OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE pins dropped for it alone), ATen at AVX-512, glibc's malloc
# keeping freed memory instead of returning it to the kernel (page faults
# cost about 11 µs each on this VM; see torch_bench.py), and for each
# figure the better of 1 and 2 threads. Needs Debian's python3-torch.
# Usage: cmd/kerago/bench/compare.sh [--steps N]
set -euo pipefail
cd "$(dirname "$0")/../../.."
steps=50
if [ "${1:-}" = "--steps" ]; then steps=$2; fi
kg=$(mktemp) && pt=$(mktemp) && gm=$(mktemp)
trap 'rm -f "$kg" "$pt" "$gm"' EXIT
go build -o /tmp/kerago-compare ./cmd/kerago
/tmp/kerago-compare bench --steps "$steps" --threads 2 | tee "$kg"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ATEN_CPU_CAPABILITY=avx512 \
  MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=268435456 \
  /usr/bin/python3 cmd/kerago/bench/torch_bench.py --steps "$steps" --threads 1,2 | tee "$pt"
go test -run '^$' -bench 'BenchmarkSgemm/kerago/(128|256|512|1024)$' -benchtime 0.5s ./graph/blas/ | tee "$gm"

# field NAME LINE: the value of NAME=… in LINE.
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

echo
printf '%-8s %14s %14s %8s\n' workload kerago_sps pytorch_sps ratio
for w in $(grep -o '^workload=[a-z]* samples_per_s' "$kg" | cut -d' ' -f1 | cut -d= -f2); do
  k=$(grep "^workload=$w samples_per_s" "$kg" | field samples_per_s)
  p=$(grep "^workload=$w samples_per_s" "$pt" | field samples_per_s | sort -g | tail -1)
  a=$(grep "^workload=$w samples_per_s" "$kg" | field allocs_per_step)
  awk -v w="$w" -v k="$k" -v p="$p" -v a="$a" 'BEGIN { printf "%-8s %14.1f %14.1f %8.2f  (kerago allocs/step %d)\n", w, k, p, k / p, a }'
done

echo
printf '%-14s %12s %12s %12s %12s\n' predict kerago_p50us torch_p50us kerago_p99us torch_p99us
for m in mlp cnn; do
  for n in 1 32; do
    sel="^workload=predict model=$m samples=$n calls"
    k50=$(grep "$sel" "$kg" | field p50_us); k99=$(grep "$sel" "$kg" | field p99_us)
    p50=$(grep "$sel" "$pt" | field p50_us | sort -g | head -1); p99=$(grep "$sel" "$pt" | field p99_us | sort -g | head -1)
    printf '%-14s %12s %12s %12s %12s\n' "$m x$n" "$k50" "$p50" "$k99" "$p99"
  done
done
printf '%-14s %12s %12s\n' throughput kerago_sps torch_sps
for m in mlp cnn; do
  for g in 1 2 4; do
    sel="^workload=predict model=$m samples=32 goroutines=$g "
    k=$(grep "$sel" "$kg" | field samples_per_s); p=$(grep "$sel" "$pt" | field samples_per_s | sort -g | tail -1)
    printf '%-14s %12s %12s\n' "$m ${g}g" "$k" "$p"
  done
done

echo
printf '%-6s %14s %14s %8s\n' size kerago_gflops torch_gflops ratio
for s in 128 256 512 1024; do
  k=$(grep "kerago/$s-" "$gm" | grep -o '[0-9.]* GFLOP/s' | cut -d' ' -f1)
  p=$(grep "^gemm size=$s " "$pt" | field gflops | sort -g | tail -1)
  awk -v s="$s" -v k="$k" -v p="$p" 'BEGIN { printf "%-6s %14.1f %14.1f %8.2f\n", s, k, p, k / p }'
done
