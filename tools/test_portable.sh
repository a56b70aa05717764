#!/usr/bin/env bash
# `make test-portable`: strict nbval and the unit + property tests again, once per
# configuration below, so that no committed output depends on the processor. Each
# configuration changes what round-off a computation sees:
#   OPENBLAS_CORETYPE=Haswell     AVX2 + FMA kernels (what most x86 laptops select)
#   OPENBLAS_CORETYPE=SkylakeX    AVX-512 kernels
#   OPENBLAS_CORETYPE=Prescott    SSE3 kernels, no FMA, and numpy's own loops without
#                                 AVX2/AVX-512 (NPY_DISABLE_CPU_FEATURES): an old CPU
#   OPENBLAS_NUM_THREADS=1        one BLAS thread (another split of every product)
# A kernel this CPU cannot run (no AVX2, no AVX-512) is skipped, and said so; so is the
# kernel OpenBLAS selects here by itself, which `make test` has just run. Every
# configuration runs even if an earlier one failed; the summary lists the failing tests.
# Usage: tools/test_portable.sh  (from the repository root, after `make env`)
set -euo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

# numpy's dispatched SIMD targets above its x86-64-v2 baseline (numpy 2.4 names).
NO_NUMPY_AVX="X86_V3,X86_V4,AVX512_ICL,AVX512_SPR"
CONFIGS=(
  "OPENBLAS_CORETYPE=Haswell"
  "OPENBLAS_CORETYPE=SkylakeX"
  "OPENBLAS_CORETYPE=Prescott NPY_DISABLE_CPU_FEATURES=$NO_NUMPY_AVX"
  "OPENBLAS_NUM_THREADS=1"
)

cpu_has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }

blas_in_use() {  # what OpenBLAS really selected (threadpoolctl), and numpy's SIMD
  .venv/bin/python -c '
import numpy, scipy.linalg, threadpoolctl
for i in threadpoolctl.threadpool_info():
    print("   ", i["filepath"].rsplit("/", 1)[-1], "kernel:", i.get("architecture"),
          "threads:", i["num_threads"])
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
print("    numpy SIMD above its baseline:",
      " ".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f)) or "none")'
}

default_kernels() {  # the kernel of each OpenBLAS loaded, with no configuration set
  .venv/bin/python -c '
import numpy, scipy.linalg, threadpoolctl
print(" ".join(sorted({str(i.get("architecture")).lower()
                       for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"})))'
}

start=$(date +%s)
default=$(default_kernels)
summary=()
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for cfg in "${CONFIGS[@]}"; do
  case "$cfg" in
    *CORETYPE=Haswell*) need=avx2 ;;
    *CORETYPE=SkylakeX*) need=avx512f ;;
    *) need= ;;
  esac
  if [ -n "$need" ] && ! cpu_has "$need"; then
    echo "== $cfg: SKIPPED, this CPU has no $need"
    summary+=("skipped  $cfg (no $need)")
    continue
  fi
  kernel=$(sed -n 's/^OPENBLAS_CORETYPE=\([A-Za-z0-9]*\)$/\1/p' <<<"$cfg" | tr 'A-Z' 'a-z')
  if [ -n "$kernel" ] && [ "$kernel" = "$default" ]; then
    echo "== $cfg: SKIPPED, OpenBLAS selects it here by itself (make test runs it)"
    summary+=("skipped  $cfg (the default kernel here)")
    continue
  fi
  echo "== $cfg"
  # shellcheck disable=SC2086  # $cfg is one or more VAR=value words
  env $cfg bash -c "$(declare -f blas_in_use); blas_in_use"
  t0=$(date +%s)
  # shellcheck disable=SC2086
  if env $cfg "$MAKE" --no-print-directory -k test-unit test-notebooks 2>&1 | tee "$log"; then
    summary+=("passed   $cfg ($(( $(date +%s) - t0 )) s)")
  else
    status=1
    summary+=("FAILED   $cfg ($(( $(date +%s) - t0 )) s)")
    while IFS= read -r line; do summary+=("           $line"); done \
      < <(grep -E '^FAILED ' "$log" | sed 's/ - .*//')
  fi
done

echo
echo "make test-portable: $(( $(date +%s) - start )) s"
printf '  %s\n' "${summary[@]}"
exit "$status"
