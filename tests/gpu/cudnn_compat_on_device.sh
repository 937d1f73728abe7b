#!/usr/bin/env bash
# The cuDNN compatibility layer on a real GPU, in one command (the `device` tool, or any GPU box
# with Python, NumPy, torch and pip's nvidia-cudnn-cu12/cu13 wheel, which torch pulls in; the
# device tool's image has torch 2.11+cu130 and nvidia-cudnn-cu13 in its plain python3):
#   OUT=/tmp/out tests/gpu/cudnn_compat_on_device.sh
# It finds cuDNN 9 (MOCHA_CUDNN_COMPAT_LIBCUDNN if set, else the nvidia.cudnn wheel's lib/, else
# torch/lib/, else any nvidia/**/libcudnn.so.9 in site-packages, else /usr/lib and
# /usr/local/cuda*), checks the layer's real calls against that cuDNN's exports and headers
# (tests/gpu/cudnn_real_signatures.py), builds both layer generations with the machine's compiler
# (-Wall -Werror) through mocha_cifar's cudnn_compat.yml where ansible-playbook is installed or
# carried as wheels in .whl/ (ansible-core, resolvelib), else with make alone, runs
# tests/gpu/cudnn_compat_check.py (every op against NumPy float64) and bench/cudnn_compat_bench.py
# for each generation, and leaves logs and JSON under $OUT. With the device tool, after
#   pip download --no-deps -d .whl ansible-core==2.19.14 resolvelib==1.2.1   (.whl/ is git-ignored)
#   run(command="OUT=$OUT tests/gpu/cudnn_compat_on_device.sh", carry=[".whl"], timeout_s=600)
# Copy $OUT to docs/gpu-runs/<date>-<gpu>-cudnn-compat/ afterwards. Exit status: 0 when every
# signature matches, every check is within tolerance and both benchmarks ran; 2 when a build fails.
set -uo pipefail
: "${OUT:?set OUT to a folder for the logs}"
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 NVIDIA_TF32_OVERRIDE=0
PY=${PYTHON:-python3}

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader
  "$PY" -c 'import sys, numpy, torch; print(sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__, "torch cudnn", torch.backends.cudnn.version())'
  "${CC:-cc}" --version | head -1
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

if [ -z "${MOCHA_CUDNN_COMPAT_LIBCUDNN:-}" ]; then
  MOCHA_CUDNN_COMPAT_LIBCUDNN=$("$PY" - <<'PY'
import glob, os
found = []
try:
    import nvidia.cudnn
    found += [os.path.join(p, "lib", "libcudnn.so.9") for p in nvidia.cudnn.__path__]
except ImportError:
    pass
try:
    import torch
    found.append(os.path.join(os.path.dirname(torch.__file__), "lib", "libcudnn.so.9"))
except ImportError:
    pass
import site
for root in site.getsitepackages():  # other wheel layouts (nvidia/cu13/lib ...)
    found += sorted(glob.glob(os.path.join(root, "nvidia", "**", "libcudnn.so.9"), recursive=True))
found += sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libcudnn.so.9")) + sorted(glob.glob("/usr/local/cuda*/lib64/libcudnn.so.9"))
print(next((f for f in found if os.path.exists(f)), ""))
PY
)
fi
if [ -z "$MOCHA_CUDNN_COMPAT_LIBCUDNN" ]; then
  echo "no libcudnn.so.9 found (nvidia.cudnn wheel, torch/lib, /usr/lib, /usr/local/cuda*): set MOCHA_CUDNN_COMPAT_LIBCUDNN" | tee "$OUT/error.txt"
  exit 2
fi
export MOCHA_CUDNN_COMPAT_LIBCUDNN
# cuDNN 9 opens its sub-libraries (libcudnn_cnn.so.9 ...) from the loader path.
export LD_LIBRARY_PATH="$(dirname "$MOCHA_CUDNN_COMPAT_LIBCUDNN")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "real cuDNN: $MOCHA_CUDNN_COMPAT_LIBCUDNN" | tee -a "$OUT/machine.txt"

echo "== the layer's real calls against this cuDNN's exports and headers"
"$PY" tests/gpu/cudnn_real_signatures.py --lib "$MOCHA_CUDNN_COMPAT_LIBCUDNN" 2>&1 | tee -a "$OUT/machine.txt"
signatures=${PIPESTATUS[0]}

BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
if [ -d .whl ] && ! command -v ansible-playbook >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 2
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH} PATH=/tmp/site/bin:$PATH
fi
if command -v ansible-playbook >/dev/null; then
  # The layers the role builds and installs (mocha_cifar's cudnn_compat.yml), each run twice: the
  # second must change nothing. Its facts (the record for results.json, Mocha's environment) are logged.
  echo "== mocha_cifar builds the layer for Mocha v0.2.0 (gen 4) and v0.3.1 (gen 5)"
  for mocha in v0.2.0 v0.3.1; do
    vars=$("$PY" -c 'import json, sys; print(json.dumps({"mocha_cifar_wanted": sys.argv[1], "mocha_cifar_cuda_on": True,
      "mocha_cifar_home": sys.argv[2] + "/home", "mocha_cifar_cudnn_compat_dir": sys.argv[2],
      "mocha_cifar_cudnn_compat_libcudnn": sys.argv[3], "cudnn_compat_test_out": sys.argv[2] + "/facts.json"}))' \
      "$mocha" "$BUILD" "$MOCHA_CUDNN_COMPAT_LIBCUDNN")
    for run in 1 2; do
      ANSIBLE_CONFIG=$PWD/ansible.cfg ANSIBLE_NOCOLOR=1 ansible-playbook tests/integration/playbooks/cudnn_compat.yml \
        -e "$vars" > "$BUILD/play.log" 2>&1
      played=$?
      cat "$BUILD/play.log" >> "$OUT/build.log"
      [ "$played" -eq 0 ] || { cat "$BUILD/play.log"; exit 2; }
      echo "Mocha $mocha, run $run: $(grep -E '^localhost' "$BUILD/play.log")" | tee -a "$OUT/machine.txt"
    done
    tee -a "$OUT/machine.txt" < "$BUILD/facts.json"
    echo | tee -a "$OUT/machine.txt"
  done
else
  for gen in 4 5; do
    mkdir -p "$BUILD/gen$gen"
    make -B -C roles/mocha_cifar/files/cudnn_compat GEN=$gen OUT="$BUILD/gen$gen" >> "$OUT/build.log" 2>&1 \
      || { cat "$OUT/build.log"; exit 2; }
  done
fi
for gen in 4 5; do
  "$BUILD/gen$gen/cudnn_compat_probe" "$BUILD/gen$gen/libcudnn.so" | tee -a "$OUT/machine.txt"
done

echo "== operations against NumPy float64"
timeout 240 "$PY" tests/gpu/cudnn_compat_check.py --layer4 "$BUILD/gen4/libcudnn.so" --layer5 "$BUILD/gen5/libcudnn.so" \
  --out "$OUT" 2>&1 | tee "$OUT/check.log"
status=${PIPESTATUS[0]}

echo "== benchmark: the CIFAR-10 example's layer stack through the layer"
for gen in 4 5; do
  timeout 90 "$PY" bench/cudnn_compat_bench.py --layer "$BUILD/gen$gen/libcudnn.so" --gen $gen --out "$OUT" 2>&1 | tee -a "$OUT/bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "benchmark of generation $gen failed"; status=1; }
done
[ "$signatures" -eq 0 ] || { echo "the layer's real calls do not match this cuDNN (machine.txt)"; status=1; }
exit "$status"
