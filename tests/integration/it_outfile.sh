# SPDX-License-Identifier: MIT
# it_outfile: every file wmctl writes (rollup --out in each format, report
# --out, bundle export, backup) is created safely: a symbolic link planted
# at the name is never followed (the file it points to stays untouched), an
# existing file is not replaced without --force, and with --force the link
# itself is replaced, not its target. Bundles and backups are mode 0600; no
# temporary file is left behind.
. "$(dirname "$0")/lib.sh"

N=$T/node
init_node "$N" || finish
start_daemon "$N"
wait_ready "$N" || finish
for i in 1 2; do
    w "$N" record activity --date 2024-05-0$i --category theme_lecture --title "宣讲$i" \
        --participants 10 >/dev/null 2>"$ERR" || fail "record $i: $(cat "$ERR")"
done
D=$T/files
mkdir -p "$D"
VICTIM=$T/victim
PRECIOUS="precious data, not to be touched"

# plant NAME: NAME is a symlink to a fresh victim file.
plant() {
    printf '%s\n' "$PRECIOUS" >"$VICTIM"
    rm -f "$D/$1"
    ln -s "$VICTIM" "$D/$1"
}
victim_intact() { [ "$(cat "$VICTIM")" = "$PRECIOUS" ]; }
mode_of() { stat -c %a "$1"; }

# refused WHAT NAME CMD...: with a link planted at NAME, CMD fails, says the
# name exists, and neither the link nor its target changed.
refused() {
    local what=$1 name=$2
    shift 2
    plant "$name"
    expect_rc 1 "$@"
    expect_in "$ERR" "exists" "$what: the refusal says the name exists"
    expect_in "$ERR" "--force" "$what: the refusal names --force"
    check "$what: the planted link's target is untouched" victim_intact
    check "$what: the link is still a link" [ -L "$D/$name" ]
}

# --- a planted link is never followed ----------------------------------------
refused "rollup table" t.txt w "$N" rollup --period 2024-05 --out "$D/t.txt"
refused "rollup json" r.json w "$N" rollup --period 2024-05 --format json --out "$D/r.json"
refused "rollup csv" r.csv w "$N" rollup --period 2024-05 --format csv --out "$D/r.csv"
refused "rollup xlsx" r.xlsx w "$N" rollup --period 2024-05 --format xlsx --out "$D/r.xlsx"
refused "report" rep.txt w "$N" report --period 2024-05 --out "$D/rep.txt"
refused "bundle export" b.wmb w "$N" bundle export --out "$D/b.wmb"
refused "backup" bk.mdb w "$N" backup --out "$D/bk.mdb"

# A dangling link: its target must not be created through it.
rm -f "$VICTIM" "$D/dangling.txt"
ln -s "$VICTIM" "$D/dangling.txt"
expect_rc 1 w "$N" report --period 2024-05 --out "$D/dangling.txt"
check "dangling link: its target was not created" [ ! -e "$VICTIM" ]

# --- --force replaces the link itself, never its target -----------------------
plant r.json
expect_rc 0 w "$N" rollup --period 2024-05 --format json --out "$D/r.json" --force
check "--force: the link's target is untouched" victim_intact
check "--force: the name is now a regular file" [ -f "$D/r.json" ] && [ ! -L "$D/r.json" ]
check "--force: it holds the rollup" grep -q '"period"' "$D/r.json"
plant r.xlsx
expect_rc 0 w "$N" rollup --period 2024-05 --format xlsx --out "$D/r.xlsx" --force
check "--force xlsx: the link's target is untouched" victim_intact
check "--force xlsx: a workbook in place" python3 -c 'import sys, zipfile
zipfile.ZipFile(sys.argv[1]).getinfo("xl/workbook.xml")' "$D/r.xlsx"

# --- an existing file is not truncated without --force ------------------------
printf 'last month\n' >"$D/keep.txt"
expect_rc 1 w "$N" report --period 2024-05 --out "$D/keep.txt"
check "existing file kept as it was" [ "$(cat "$D/keep.txt")" = "last month" ]
expect_rc 0 w "$N" report --period 2024-05 --out "$D/keep.txt" --force
check "--force replaced it with the report" [ "$(cat "$D/keep.txt")" != "last month" ]
check "report mode follows the umask (0644)" [ "$(mode_of "$D/keep.txt")" = 644 ]

# --- bundles and backups are private ------------------------------------------
rm -f "$D/b.wmb" "$D/bk.mdb"
expect_rc 0 w "$N" bundle export --out "$D/b.wmb"
check "bundle is mode 0600 (is $(mode_of "$D/b.wmb"))" [ "$(mode_of "$D/b.wmb")" = 600 ]
expect_rc 1 w "$N" bundle export --out "$D/b.wmb"
expect_rc 0 w "$N" bundle export --out "$D/b.wmb" --force
check "re-exported bundle is mode 0600" [ "$(mode_of "$D/b.wmb")" = 600 ]
expect_rc 0 w "$N" backup --out "$D/bk.mdb"
check "backup is mode 0600" [ "$(mode_of "$D/bk.mdb")" = 600 ]
SIZE=$(stat -c %s "$D/bk.mdb")
expect_rc 1 w "$N" backup --out "$D/bk.mdb"
check "existing backup kept" [ "$(stat -c %s "$D/bk.mdb")" = "$SIZE" ]
expect_rc 0 w "$N" backup --out "$D/bk.mdb" --force

# --- bad places say why --------------------------------------------------------
expect_rc 1 w "$N" rollup --period 2024-05 --out "$T/no/such/dir/r.txt"
expect_in "$ERR" "$T/no/such/dir" "a missing directory is named"
expect_rc 1 w "$N" rollup --period 2024-05 --out "$D"
expect_in "$ERR" "is a directory" "a directory as --out is refused"

check "no temporary file left behind" [ -z "$(find "$D" -name '.*.??????')" ]
finish
