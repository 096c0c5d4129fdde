#!/usr/bin/env bash
# The GPU rows of benchmarks/README.md ("GPU rows") in one command: StyleGAN2 paper256 at batch 64
# and SPADE Cityscapes 512x256 at batch 16, each in fp32 and bf16-mixed, eager and compiled, on
# random data of the preset's shape (SPADE's epoch schedule told Cityscapes' 2,975 images). Each row is one `train_step.py` run appended to
# results/train_step.csv (device, dtype, s/kimg, img/s, peak memory, TFLOP/s and MFU).
#
#   bash benchmarks/gpu_rows.sh                     # every row
#   bash benchmarks/gpu_rows.sh sg2_fp32 spade_bf16 # some of them (names below)
#   GPU_ROWS_SMOKE=1 bash benchmarks/gpu_rows.sh    # the same commands on CPU at toy sizes (checks the script)
#
# SPADE needs VGG19 weights for its perceptual loss: $GAN_ZOO_VGG19_WEIGHTS (torchvision's
# vgg19-dcbb9e9d.pth) if set; otherwise a VGG19 with random weights of the real shapes is written to
# a temporary file and used, which costs the same time (the row's config names the file).
# ROW_TIMEOUT (seconds, default 300) bounds each row; a row that fails or runs out of time is
# reported and the others still run. The exit status is the number of rows that failed.
set -u
cd "$(dirname "$0")"
PY=${PYTHON:-python}
ROW_TIMEOUT=${ROW_TIMEOUT:-300}

ALL_ROWS="sg2_fp32 sg2_bf16 sg2_fp32_compile sg2_bf16_compile spade_fp32 spade_bf16 spade_fp32_compile spade_bf16_compile"
ROWS=${*:-$ALL_ROWS}
for row in $ROWS; do
  case " $ALL_ROWS " in *" $row "*) ;; *) echo "gpu_rows.sh: unknown row '$row'; rows: $ALL_ROWS" >&2; exit 64 ;; esac
done

# StyleGAN2: 17 warm-up iterations so that a compiled run has met every phase (Greg at 4, Dreg at 16)
# before the clock starts; 16 timed iterations hold 4 path-length and 1 R1 step, as a run does.
SG2=(experiment=paper/stylegan2_ffhq256 trainer=gpu --warmup 17 --iters 16 --repeats 2)
SPADE=(experiment=paper/spade_cityscapes trainer=gpu model.dataset_size=2975 --warmup 3 --iters 5 --repeats 2)
if [ "${GPU_ROWS_SMOKE:-0}" = 1 ]; then
  SG2=(experiment=paper/stylegan2_ffhq256 trainer=cpu data.resolution=32 data.batch_size=8 model.channel_base=512 model.channel_max=32
       model.mapping.num_layers=2 --warmup 1 --iters 1 --repeats 1)
  SPADE=(experiment=paper/spade_cityscapes trainer=cpu model.dataset_size=2975 data.resolution=64 data.batch_size=2 model.ngf=4 model.spade_hidden=8
         model.ndf=4 model.num_upsampling_layers=normal --warmup 1 --iters 1 --repeats 1)
  SG2+=(--csv none) SPADE+=(--csv none)  # a check of the script, not a measurement
fi

VGG=${GAN_ZOO_VGG19_WEIGHTS:-}
if [ -z "$VGG" ] && [[ " $ROWS " == *" spade_"* ]]; then
  VGG=$(mktemp --suffix=-vgg19-random.pth)
  trap 'rm -f "$VGG"' EXIT
  "$PY" -c "import sys, torch, torchvision; torch.save(torchvision.models.vgg19().state_dict(), sys.argv[1])" "$VGG" || exit 1
  echo "gpu_rows.sh: GAN_ZOO_VGG19_WEIGHTS is unset; SPADE rows use random VGG19 weights ($VGG): same cost, meaningless images"
fi

failed=0
for row in $ROWS; do
  case $row in
    sg2_*) args=("${SG2[@]}") ;;
    spade_*) args=("${SPADE[@]}" "model.vgg_weights=$VGG") ;;
  esac
  case $row in *_bf16*) args+=(trainer.precision=bf16-mixed) ;; esac
  case $row in *_compile) args+=(model.compile=true) ;; esac
  echo "== $row: train_step.py ${args[*]} --random-data"
  if ! timeout "$ROW_TIMEOUT" "$PY" train_step.py "${args[@]}" --random-data; then
    echo "== $row FAILED or ran out of its ${ROW_TIMEOUT} s"
    failed=$((failed + 1))
  fi
done
exit $failed
