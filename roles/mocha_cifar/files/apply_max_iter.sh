# mocha_cifar's training script, run as the Mocha user by `sh -c` in the run folder: the
# run folder's cifar10.jl (tasks/example.yml) with max_iter set to $1 and one more Snapshot
# coffee break, every $1 iterations, after the example's own. Mocha runs every coffee break
# at the start iteration too (pluskid/Mocha.jl@v0.3.1:src/solvers.jl line 194), so the
# example's every-5000 Snapshot writes snapshot-000000.jld, an untrained model, and below
# 5000 iterations nothing else; the added break writes snapshot-<max_iter>.jld as training
# ends, the model tasks/results.yml brings home. Rewritten only when it differs; "changed" says so.
set -eu
work=$(mktemp .cifar10-mocha-ansible.jl.XXXXXX)
trap 'rm -f -- "$work"' EXIT
if ! MAX_ITER=$1 awk '
    { sub(/max_iter[ \t]*=[ \t]*[0-9]+/, "max_iter=" ENVIRON["MAX_ITER"]); print }
    /^add_coffee_break\(solver, Snapshot\("snapshots"\), every_n_iter=[0-9]+\)/ {
      print "add_coffee_break(solver, Snapshot(\"snapshots\"), every_n_iter=" ENVIRON["MAX_ITER"] ")"
      added = 1
    }
    END { if (!added) { exit 3 } }' cifar10.jl > "$work"; then
  echo "mocha_cifar: cifar10.jl has no line add_coffee_break(solver, Snapshot(\"snapshots\"), every_n_iter=N)" \
    "as the released example has (line 54 at v0.1.2 to v0.3.1)" >&2
  exit 3
fi
if cmp -s -- "$work" cifar10-mocha-ansible.jl; then
  exit 0
fi
chmod 0644 "$work"
mv -f -- "$work" cifar10-mocha-ansible.jl
echo changed
