#!/bin/sh
# One line on a running async Mocha job, for the controller's progress view (run
# as root; the log is read as the Mocha user, who owns it, so a planted link is
# not followed by root). Args: ansible's async results file, the job's log,
# max_iter (0: not a training job), then the words that run a command as the
# Mocha user (mocha_cifar_runner). First word: "finished" once
# async_wrapper has replaced the "started" record with the module's result.
set -u
results=$1 log=$2 max_iter=$3
shift 3
state=running
if [ -s "$results" ] && ! grep -q '"started"' "$results"; then state=finished; fi
start=$(stat -c %Y -- "$results" 2>/dev/null || date +%s)
elapsed=$(($(date +%s) - start))
if [ "$max_iter" -eq 0 ]; then
  last=$("$@" tail -n 1 -- "$log" 2>/dev/null | cut -c1-80)
  echo "$state: ${elapsed}s elapsed; last: $last"
  exit 0
fi
# cifar10.jl's TrainingSummary lines: "TRAIN iter=000200 obj_val=1.23" (the results parser reads the same).
train=$("$@" tail -n 400 -- "$log" 2>/dev/null | grep -o 'TRAIN iter=[0-9]* obj_val=[^ ]*' | tail -n 1)
if [ -z "$train" ]; then
  echo "$state: iteration 0/$max_iter, ${elapsed}s elapsed, no estimate yet"
  exit 0
fi
iter=$(echo "$train" | sed 's/.*iter=0*\([0-9][0-9]*\) .*/\1/')
objective=${train##*obj_val=}
left=$((elapsed * (max_iter - iter) / (iter > 0 ? iter : 1)))
echo "$state: iteration $iter/$max_iter, objective $objective, ${elapsed}s elapsed, about ${left}s left"
