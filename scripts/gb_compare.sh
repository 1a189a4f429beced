#!/usr/bin/env bash
# strand's cnn-gb and upstream's PyTorch CNN (scripts/gb_reference.py) on the same Genomic
# Benchmarks records, seed by seed, alternating (strand seed s, then PyTorch seed s), each under
# upstream's protocol (configs/gb/upstream.toml: all of train, 10 epochs, batch 64, Adam 1e-3,
# the last epoch scored on test). Wall times go to OUT/times.tsv.
#
#   scripts/gb_compare.sh DATA_DIR OUT [DATASET ...] [-- SEEDS]
#   scripts/gb_compare.sh ../shared/data/genomic_benchmarks_real runs/gb-real \
#       human_enhancers_ensembl human_ensembl_regulatory
#
# Then: strand report OUT/<dataset>  and  OUT/<dataset>/torch.jsonl (one JSON object per seed).
set -euo pipefail
data=$1 out=$2; shift 2
datasets=() seeds="0 1 2 3 4"
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; seeds="$*"; break; fi
  datasets+=("$1"); shift
done
here=$(cd "$(dirname "$0")/.." && pwd)
strand=${STRAND:-$here/target/release/strand}
python=${PYTHON:-$here/.venv/bin/python}
mkdir -p "$out"
printf 'dataset\tseed\timpl\tseconds\n' > "$out/times.tsv"
for ds in "${datasets[@]}"; do
  mkdir -p "$out/$ds"
  : > "$out/$ds/torch.jsonl"
  for s in $seeds; do
    t0=$(date +%s.%N)
    "$strand" train --config "$here/configs/gb/upstream.toml" --task "gb/$ds" --data-dir "$data" \
      --seed "$s" --out "$out/$ds/seed-$s" --overwrite > /dev/null 2>> "$out/$ds/strand.log"
    t1=$(date +%s.%N)
    "$python" "$here/scripts/gb_reference.py" --data-dir "$data" --dataset "$ds" --seeds "$s" \
      --json >> "$out/$ds/torch.jsonl" 2>> "$out/$ds/torch.log"
    t2=$(date +%s.%N)
    printf '%s\t%s\tstrand\t%.1f\n%s\t%s\tpytorch\t%.1f\n' "$ds" "$s" "$(echo "$t1 - $t0" | bc)" \
      "$ds" "$s" "$(echo "$t2 - $t1" | bc)" >> "$out/$ds/../times.tsv"
  done
done
