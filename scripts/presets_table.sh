#!/usr/bin/env bash
# Every layer-list model preset on the CNNProm sets and the real Genomic Benchmarks records,
# three seeds each: the README's "Model presets" table.
#   cnnprom/*: configs/cnnprom/<task>.toml (seeded stratified 80/10/10 split, 10 epochs, batch 64,
#              Adam 1e-3, the epoch with the best validation score);
#   gb/*:      configs/gb/upstream.toml (all of train, 10 epochs, last epoch, official test split).
# Wall time per run goes to OUT/times.tsv (seconds for the 10 epochs plus evaluation).
#
#   scripts/presets_table.sh OUT [PRESET ...]
#   scripts/presets_table.sh runs/presets cnn-gb cnnprom basset-style dilated-resnet
#   TASKS="cnnprom/mouse_tata" scripts/presets_table.sh runs/presets    # one task only
#   strand report OUT/*/*           # mean ± sd over seeds, per task and preset
#   RECORD=docs/results/presets scripts/presets_table.sh runs/presets   # skip the runs recorded
#                                   # there (scripts/presets_summary.py --record), e.g. by an
#                                   # earlier session whose run directories are gone
set -euo pipefail
out=$1; shift
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(cnn-gb cnnprom basset-style dilated-resnet)
here=$(cd "$(dirname "$0")/.." && pwd)
strand=${STRAND:-$here/target/release/strand}
shared=${SHARED:-$here/../shared/data}
seeds=${SEEDS:-0 1 2}
# TASKS: a subset of the task names below (e.g. "cnnprom/mouse_tata gb/human_enhancers_ensembl")
tasks=${TASKS:-}
record=${RECORD:-}
mkdir -p "$out"
[ -f "$out/times.tsv" ] || printf 'task\tpreset\tseed\tseconds\n' > "$out/times.tsv"
run() { # task preset config data-dir
  local task=$1 preset=$2 config=$3 data=$4 name
  if [ -n "$tasks" ] && [[ " $tasks " != *" $task "* ]]; then return; fi
  name=$(echo "$task" | tr / _)
  for s in $seeds; do
    local dir="$out/$name/$preset/seed-$s"
    [ -f "$dir/scores.json" ] && continue
    if [ -n "$record" ] && grep -q "^$task,$preset,$s," "$record/cells.csv" 2>/dev/null; then
      continue
    fi
    local t0; t0=$(date +%s.%N)
    "$strand" train --config "$config" --task "$task" --model "$preset" --data-dir "$data" \
      --seed "$s" --out "$dir" --overwrite > /dev/null 2>> "$out/strand.log"
    printf '%s\t%s\t%s\t%.1f\n' "$task" "$preset" "$s" "$(echo "$(date +%s.%N) - $t0" | bc)" \
      >> "$out/times.tsv"
  done
}
for t in ecoli arabidopsis_non_tata mouse_tata; do
  for preset in "${presets[@]}"; do
    run "cnnprom/$t" "$preset" "$here/configs/cnnprom/$t.toml" "$shared/cnnprom"
  done
done
for d in human_enhancers_ensembl human_ensembl_regulatory; do
  for preset in "${presets[@]}"; do
    run "gb/$d" "$preset" "$here/configs/gb/upstream.toml" "$shared/genomic_benchmarks_real"
  done
done
