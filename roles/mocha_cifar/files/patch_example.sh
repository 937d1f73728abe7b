# mocha_cifar's own copy of one of Mocha's example scripts (tasks/example.yml), run as the
# Mocha user by `sh -c`: $1 is the released file (only read), $2 the copy in the run folder,
# then LINE OLD NEW for each fix (vars/example_patches.yml). OLD must be on LINE, as in the
# released file the table was read from: otherwise nothing is written, and one line says
# which file, line and text. The copy is replaced only when it differs; "changed" says so.
set -eu
src=$1 dest=$2
shift 2
work=$(mktemp "$dest.XXXXXX")
trap 'rm -f -- "$work" "$work.next"' EXIT
cat -- "$src" > "$work"
while [ $# -ge 3 ]; do
  # Literal text through the environment: awk -v would read backslashes as escapes.
  if ! LINE=$1 OLD=$2 NEW=$3 awk '
      NR == ENVIRON["LINE"] + 0 {
        i = index($0, ENVIRON["OLD"])
        if (i == 0) { exit 3 }
        $0 = substr($0, 1, i - 1) ENVIRON["NEW"] substr($0, i + length(ENVIRON["OLD"]))
        done = 1
      }
      { print }
      END { if (!done) { exit 3 } }' "$work" > "$work.next"; then
    echo "mocha_cifar: $src line $1 does not hold '$2' as the released Mocha's does; the fixes" \
      "in roles/mocha_cifar/vars/example_patches.yml were read from the released tree" >&2
    exit 3
  fi
  mv -f -- "$work.next" "$work"
  shift 3
done
if cmp -s -- "$work" "$dest"; then
  exit 0
fi
mv -f -- "$work" "$dest"
echo changed
