#!/usr/bin/env bash
# The main job on the bundled example, end to end, with the same CLI verbs a user types.
# Usage: examples/demo.sh OUT_DIR   (make demo runs it inside .venv)
set -euo pipefail
OUT=${1:-demo_out}
mkdir -p "$OUT"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- data (issue: foundation) ----------------------------------------------------------------
say "example: synthetic regulatory dataset from JASPAR motifs (GATA1, TAL1::TCF3, SPI1)"
regdna example --out "$OUT/example"
say "prepare: clean, de-duplicated, leak-free dataset (test chr8,chr9; val chr10) with QC figures"
regdna prepare --fasta "$OUT/example/pos.fa:1" --fasta "$OUT/example/neg.fa:0" \
    --split chrom --test-chroms chr8,chr9 --val-chroms chr10 --out "$OUT/dataset"   # prints a summary
# --- training and evaluation -----------------------------------------------------------------
# The default model (`cnn`, chosen by bench/model_defaults.py: Basset's trunk at a quarter of its
# channels, exponential first layer, global max-pooling, one small dense layer), the published
# Basset at the same channel scale, and the k-mer logistic-regression floor.
# A re-run of the demo trains again: --overwrite replaces the runs.
say "train: the default model (AdamW, cosine schedule, RC + shift augmentation, early stopping on val AUROC)"
regdna train --data "$OUT/dataset" --out "$OUT/runs/cnn" --overwrite
say "train: the published Basset (flatten-like head over 4 positions, two dense layers of 1000)"
regdna train --data "$OUT/dataset" --model basset --set model.options.filters=0.25 \
    --out "$OUT/runs/basset" --overwrite
say "train: kmer-lr, the k-mer logistic-regression floor every network must beat"
regdna train --data "$OUT/dataset" --model kmer-lr --out "$OUT/runs/kmer-lr" \
    --set model.options.k=5 --set train.max_epochs=8 --overwrite
for name in cnn basset kmer-lr; do
    say "evaluate: $name on test (threshold from validation, bootstrap 95% intervals, shortcut diagnostics, figures)"
    regdna evaluate --run "$OUT/runs/$name" --split test
done
say "compare: AUROC / PR-AUC with intervals, parameters, seconds per epoch, peak memory"
regdna compare "$OUT/runs/cnn" "$OUT/runs/basset" "$OUT/runs/kmer-lr" --out "$OUT/compare"
# --- transformers ----------------------------------------------------------------------------
say "tokens: how many tokens tinyformer's overlapping 5-mers make of the dataset (max_length from the token lengths, King et al. n.d.)"
regdna tokens --model tinyformer --data "$OUT/dataset" --out "$OUT/tokens/tinyformer" --n 5000
say "tinyformer: a small transformer encoder trained from scratch (overlapping 5-mers, ALiBi, max pooling)"
regdna train --data "$OUT/dataset" --model tinyformer --out "$OUT/runs/tinyformer" \
    --max-epochs 4 --set data.batch_size=64 --set optim.lr=1e-2 --overwrite
regdna evaluate --run "$OUT/runs/tinyformer"
# the comparison again, now over every run trained so far (tinyformer next to the CNNs)
COMPARE_RUNS=()
for name in cnn basset deepsea residualbind kmer-lr tinyformer; do
    if [ -d "$OUT/runs/$name" ]; then COMPARE_RUNS+=("$OUT/runs/$name"); fi
done
say "compare: ${#COMPARE_RUNS[@]} runs on the test split"
regdna compare "${COMPARE_RUNS[@]}" --out "$OUT/compare"
# --- variants --------------------------------------------------------------------------------
say "vep: score the example's variants (log2 ratio of alt/ref probabilities)"
regdna vep --run "$OUT/runs/cnn" --variants "$OUT/example/variants.vcf" \
    --genome "$OUT/example/genome.fa" --out "$OUT/variants/scores.tsv" --no-progress
say "benchmark-variants: motif-breaking variants should go down, neutral ones stay small"
regdna benchmark-variants --scores "$OUT/variants/scores.tsv" \
    --measured "$OUT/example/variants.tsv" --out "$OUT/variants/benchmark"
say "ism: saturation mutagenesis of the 4 best-scoring test sequences (heatmaps, top-K)"
regdna ism --run "$OUT/runs/cnn" --data "$OUT/dataset" --split test --n 4 --select top \
    --out "$OUT/ism"
# --- interpretation --------------------------------------------------------------------------
# Attribution logos of test positives (boxes = planted JASPAR sites), then TF-MoDISco motifs
# from the attributions of 600 positive peaks (more seqlets than the test split holds), named
# by Tomtom against JASPAR vertebrate CORE.
say "attribute: grad x input logos of test positives with the planted motifs boxed"
regdna attribute --run "$OUT/runs/cnn" --data "$OUT/dataset" --split test --class 1 --n 300 \
    --method grad_x_input --motifs "$OUT/example/motifs.tsv" --logos 6 \
    --out "$OUT/attributions"
say "motifs: TF-MoDISco on the attributions of 600 positives, matched to JASPAR with Tomtom"
regdna attribute --run "$OUT/runs/cnn" --fasta "$OUT/example/pos.fa" --n 600 \
    --method grad_x_input --logos 0 --out "$OUT/attributions-positives"
regdna motifs --attributions "$OUT/attributions-positives" --run "$OUT/runs/cnn" \
    --out "$OUT/motifs"
# --- uncertainty ---------------------------------------------------------------------------
# A deep ensemble (Lakshminarayanan et al. 2017) of the demo's basset: its members' mean, their
# spread as *_std columns, temperature scaling and conformal sets (fitted on val), OOD scores.
# CPU-sized: 3 members of at most 12 epochs (GPU: --ensemble 5 and the default 30 epochs).
say "train --ensemble 3: three Bassets (seeds 0, 1, 2) in one run dir, trained one after another"
regdna train --data "$OUT/dataset" --model basset --set model.options.filters=0.25 \
    --ensemble 3 --max-epochs 12 --out "$OUT/runs/basset-ensemble" --overwrite
say "evaluate: the members beside their mean, calibration before/after, 90% conformal coverage"
regdna evaluate --run "$OUT/runs/basset-ensemble" --coverage 0.9
say "vep on the ensemble: every score with its spread over the members (*_std, log2_ratio_z)"
regdna vep --run "$OUT/runs/basset-ensemble" --variants "$OUT/example/variants.vcf" \
    --genome "$OUT/example/genome.fa" --out "$OUT/variants/ensemble.tsv" --no-progress
say "benchmark-variants: correlation with the simulated MPRA per tertile of the members' spread"
regdna benchmark-variants --scores "$OUT/variants/ensemble.tsv" \
    --measured "$OUT/example/variants.tsv" --stratify-by log2_ratio_std \
    --out "$OUT/variants/benchmark-ensemble"
# --- published models and the model benchmark ------------------------------------------------
# Stand-ins with random weights in the published layouts (a Kipoi Basset file, a tiny causal
# language model): the same commands load a downloaded DeepSEA or Enformer (docs/MODELS.md).
say "toy checkpoints in published layouts (random weights): Kipoi Basset, a tiny GPT-2"
python -m regdna.models.toy "$OUT/toy-models"
say "benchmark-models: four scorers on the same variants (trained, ensemble, published layout, zero-shot LM)"
regdna benchmark-models --variants "$OUT/example/variants.vcf" --genome "$OUT/example/genome.fa" \
    --measured "$OUT/example/variants.tsv" --scorer cnn="$OUT/runs/cnn" \
    --scorer ensemble="$OUT/runs/basset-ensemble" \
    --scorer kipoi-basset="basset:$OUT/toy-models/basset/basset.pth" --target kipoi-basset=toy_0 \
    --scorer gpt2="hf:$OUT/toy-models/gpt2" --length 200 --out "$OUT/benchmark-models" --overwrite
# --- coverage profiles -----------------------------------------------------------------------
# Quantitative models (Toneyan et al. 2022): bigWig coverage in, binned profiles out. The profile
# example's footprints are known, so the numbers have an answer. CPU-sized: 1,024 bp windows and
# 10 epochs (the published geometry is --length 2048 --margin 512 on a GPU).
PEX="$OUT/profile-example"
say "example --profile: coverage of two cell types (bigWig) with known footprints, peaks, variants"
regdna example --profile --out "$PEX"
say "prepare --bigwig: coverage-threshold tiles (1,024 bp + 256 bp margins), targets binned to 32 bp"
regdna prepare --genome "$PEX/genome.fa" \
    --bigwig "$PEX/tracks/erythroid.bw:erythroid" --bigwig "$PEX/tracks/myeloid.bw:myeloid" \
    --bed "$PEX/peaks/erythroid.narrowPeak:erythroid" --bed "$PEX/peaks/myeloid.narrowPeak:myeloid" \
    --selection coverage --length 1024 --margin 256 --bin-size 32 --out "$OUT/profile-dataset"
say "train: residualbind-32, the profile default (Poisson loss; shifts and RC move the targets too)"
regdna train --data "$OUT/profile-dataset" --out "$OUT/runs/profile" --max-epochs 10 --overwrite
say "evaluate: Pearson's r per window and over the whole test chromosomes, predicted bigWigs, AUROC vs peaks"
regdna evaluate --run "$OUT/runs/profile"
say "robustness: the variation score of 20 shifted sub-windows of each test peak window"
regdna robustness --run "$OUT/runs/profile"
say "vep: log2 ratio of summed predicted coverage per track for footprint-breaking and neutral SNVs"
regdna vep --run "$OUT/runs/profile" --variants "$PEX/variants.vcf" --genome "$PEX/genome.fa" \
    --out "$OUT/profile-variants/scores.tsv" --no-progress
# --- report ----------------------------------------------------------------------------------
# One self-contained HTML page over whatever the sections above produced (each guarded).
REPORT_ARGS=()
for name in cnn basset basset-ensemble kmer-lr tinyformer profile; do
    if [ -d "$OUT/runs/$name" ]; then REPORT_ARGS+=("$OUT/runs/$name"); fi
done
for dir in compare variants benchmark-models ism attributions faithfulness motifs gia; do
    if [ -d "$OUT/$dir" ]; then REPORT_ARGS+=(--extra "$OUT/$dir"); fi
done
if [ ${#REPORT_ARGS[@]} -gt 0 ]; then
    say "report: one HTML page comparing the runs"
    regdna report "${REPORT_ARGS[@]}" --out "$OUT/report.html"
fi
say "done: outputs in $OUT"
