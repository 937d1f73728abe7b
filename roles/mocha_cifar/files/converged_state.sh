# mocha_cifar's converged state (tasks/converged.yml, tasks/converged_record.yml), run as
# the Mocha user by `sh -c`: $1 is Mocha's folder, $2 the run folder (vars/main.yml
# mocha_cifar_example), the rest are the files whose bytes make up the state (relative to
# Mocha's folder, or absolute). Prints Mocha's checked-out commit, any change to its tracked
# files, each file's sha256 and the newest snapshot's; fails when a file is missing.
set -eu
cd -- "$1"
run=$2
shift 2
git rev-parse HEAD
git status --porcelain --untracked-files=no
sha256sum -- "$@"
# The trained model: the newest snapshot, which results.json names and the controller fetches.
latest=$(ls -1 -- "$run"/snapshots/snapshot-*.jld 2>/dev/null | sort | tail -n 1)
if [ -n "$latest" ]; then sha256sum -- "$latest"; fi
