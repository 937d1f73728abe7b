#!/bin/sh
# One line on a running async make, for the controller's progress view (run as
# root; the log is read as the build user, who owns it, so a planted link is not
# followed by root). Args: ansible's async results file, the build log, then the
# words that run a command as the build user (julia_build_as_user). First word: "finished" once async_wrapper has replaced its "started"
# record with the module's result, else "running". No time-left estimate: this
# project has no measured line count of a complete build to compare against.
set -u
results=$1 log=$2
shift 2
state=running
if [ -s "$results" ] && ! grep -q '"started"' "$results"; then state=finished; fi
start=$(stat -c %Y -- "$results" 2>/dev/null || date +%s)
elapsed=$(($(date +%s) - start))
lines=$("$@" wc -l -- "$log" 2>/dev/null | cut -d' ' -f1)
last=$("$@" tail -n 1 -- "$log" 2>/dev/null | cut -c1-80)
echo "$state: make: ${lines:-0} log lines, ${elapsed}s elapsed; last: $last"
