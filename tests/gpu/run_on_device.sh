#!/usr/bin/env bash
# Run cuda_verify on a real GPU machine with a local connection, and keep what it
# printed. Used with the `device` tool (ansible-core carried as wheels in .whl/);
# on any GPU box with ansible-core installed it runs as is:
#   OUT=/tmp/out tests/gpu/run_on_device.sh
set -uo pipefail
: "${OUT:?set OUT to a folder for the logs}"
cd "$(dirname "$0")/../.."
if [ -d .whl ] && ! command -v ansible-playbook >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH
fi
export ANSIBLE_FORCE_COLOR=0 PYTHONUNBUFFERED=1
mkdir -p "$OUT/results"
common=(-e mocha_hosts=localhost -e mocha_become=false -e "mocha_results_dir=$OUT/results")

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,pci.bus_id --format=csv,noheader
  command -v nvcc && nvcc --version | tail -2
  ansible-playbook --version | head -1
} > "$OUT/machine.txt" 2>&1

timed() {
  local log=$1 start; shift
  start=$(date +%s.%N)
  "$@" 2>&1 | tee "$log"
  python3 -c "import sys; print('wall %.1f s' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)" | tee -a "$log"
}
echo "== first run"
timed "$OUT/verify-1.log" ansible-playbook playbooks/verify.yml "${common[@]}"
echo "== second run (idempotence)"
timed "$OUT/verify-2.log" ansible-playbook playbooks/verify.yml "${common[@]}"
cp /etc/ansible/facts.d/cuda.fact "$OUT/cuda.fact" 2>/dev/null
echo "== constraints this GPU cannot meet (must fail, one message per check)"
ansible-playbook playbooks/verify.yml "${common[@]}" -e mocha_results_dir= \
  -e cuda_verify_gpu_name_pattern=K80 -e cuda_verify_nvcc_exact_version=12.4 -e cuda_verify_min_gpus=2 \
  > "$OUT/verify-unmet.log" 2>&1
echo "unmet-constraints run exited $? (non-zero expected)" | tee -a "$OUT/verify-unmet.log"
grep -E "^failed:|msg: 'cuda_verify" "$OUT/verify-unmet.log"

echo "== the parsers' unit tests, and the CLI on this machine (--target localhost)"
{
  python3 -m pytest --noconftest -q -p no:cacheprovider tests/unit/test_cuda_probe.py 2>&1 | tail -3
  start=$(date +%s)
  python3 -m mocha_ansible --runs-dir /tmp/mocha-runs provision --target localhost --stages verify --yes
  echo "mocha-ansible exited $? after $(( $(date +%s) - start )) s"
  python3 -m mocha_ansible --runs-dir /tmp/mocha-runs results latest
} > "$OUT/cli.log" 2>&1
cat "$OUT/cli.log"
true
