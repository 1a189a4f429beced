#!/usr/bin/env bash
# All GPU measurements of the performance table in one go (for a lent GPU machine with PyTorch
# installed): GPU and software versions, then strand vs PyTorch on each GPU shape, alternating,
# twice (the first strand run of a shape starts with an empty autotune cache only for the very
# first kernels; later runs reuse ~/.cache/cubecl).
#   scripts/bench_gpu.sh OUT_DIR [STRAND_BINARY] [ROUNDS] [ONLY_MODELS]
set -u
out=${1:?output directory}
bin=${2:-.device-carry/strand}
rounds=${3:-2}
only=${4:-}
mkdir -p "$out"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv
  nvidia-smi | head -4
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'
  "$bin" --version
  ls -d ~/.cache/cubecl 2>/dev/null && echo "autotune cache present" || echo "autotune cache empty"
} 2>&1 | tee "$out/env.txt"
args=(--set gpu --device cuda --rounds "$rounds" --strand "$bin" --python python3 --out "$out" --timeout 240)
[ -n "$only" ] && args+=(--only "$only")
PYTHONUNBUFFERED=1 python3 scripts/bench_compare.py "${args[@]}" 2>&1 | tee "$out/table.md"
