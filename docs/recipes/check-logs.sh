#!/bin/sh
# check-logs.sh DIR: validate every log file a recipe wrote into DIR, then
# summarise them all: the problems on standard error, the summary (stats
# -json) on standard output. Exit status: validate's worst (0 all valid, 1 some
# record invalid, 2 a file unreadable).
#
#   sh docs/recipes/check-logs.sh /var/log/g3proxy
#
# TASKLOG names the tasklog command (default: tasklog on PATH, as
# "go install ./cmd/tasklog" from a clone of tasklog puts it).
set -eu
dir=${1:?usage: check-logs.sh DIR}
tasklog=${TASKLOG:-tasklog}
status=0
found=0
for f in "$dir"/*; do
  [ -f "$f" ] && [ -s "$f" ] || continue
  found=1
  "$tasklog" validate "$f" >&2 || { s=$?; [ "$s" -gt "$status" ] && status=$s; }
done
if [ "$found" = 0 ]; then
  echo "check-logs.sh: no log files in $dir" >&2
  exit 2
fi
"$tasklog" stats -json "$dir"/*
exit "$status"
