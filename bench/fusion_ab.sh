#!/usr/bin/env bash
# Before/after of LP-Fusion on one model: kernels, arena, latency.
#
#   bench/fusion_ab.sh MODEL.onnx [ROUNDS] [RUNS_PER_ROUND]
#
# Compiles MODEL twice with the same canaoc (every fusion/raising pass
# disabled, then the default pipeline), builds both, and runs their
# NAME_run --bench interleaved for ROUNDS rounds; prints medians of the
# per-round medians. Inputs: batch 1, sequence 128, all-ones mask.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=$1
ROUNDS=${2:-5}
RUNS=${3:-5}
CANAOC=${CANAOC:-$ROOT/build/compiler/canaoc}
PY=${CANAO_PY:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PY" - "$WORK" <<'PY'
import sys, numpy as np
w = sys.argv[1]
rng = np.random.default_rng(0)
np.save(f"{w}/input_ids.npy", rng.integers(0, 1000, (1, 128)).astype(np.int64))
np.save(f"{w}/attention_mask.npy", np.ones((1, 128), np.int64))
np.save(f"{w}/token_type_ids.npy", np.zeros((1, 128), np.int64))
PY
ALL_OFF=()
for p in canao-raise-layer-norm canao-raise-dense canao-raise-embedding \
         canao-raise-attention canao-fold-attention-scale canao-merge-qkv \
         canao-raise-gelu \
         canao-fuse-elementwise canao-fuse-epilogue; do
    ALL_OFF+=(--disable-pass=$p)
done
declare -A KERNELS ARENA
for variant in unfused fused; do
    extra=()
    [[ $variant == unfused ]] && extra=("${ALL_OFF[@]}")
    rep=$("$CANAOC" "$MODEL" -o "$WORK/$variant" --name m -q --report=json "${extra[@]}")
    KERNELS[$variant]=$(echo "$rep" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["kernels"])')
    ARENA[$variant]=$(echo "$rep" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["arena_bytes"])')
    cmake -S "$WORK/$variant" -B "$WORK/$variant-build" -G Ninja >/dev/null
    ninja -C "$WORK/$variant-build" >/dev/null
done
inputs=()
for n in input_ids attention_mask token_type_ids; do inputs+=(--input "$n=$WORK/$n.npy"); done
declare -A TIMES
for ((r = 0; r < ROUNDS; ++r)); do
    for variant in unfused fused; do
        t=$("$WORK/$variant-build/m_run" "${inputs[@]}" --bench "$RUNS" | sed -E 's/.*median=([0-9.]+).*/\1/')
        TIMES[$variant]+="$t "
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "model: $MODEL (batch 1, seq 128, $ROUNDS interleaved rounds x $RUNS runs)"
printf "%-8s %8s %12s %12s\n" variant kernels arena_MB median_ms
for variant in unfused fused; do
    printf "%-8s %8s %12.2f %12s\n" $variant "${KERNELS[$variant]}" \
        "$(echo "${ARENA[$variant]} / 1000000" | bc -l)" "$(echo "${TIMES[$variant]}" | median)"
done
