# SPDX-License-Identifier: MIT
# The link tests in their full-length form (`make test-links`): every
# scenario of it_link_scn.sh with WM_LINK_FULL=1 (flapping every 10 s for
# 3 minutes, a 2-minute blackhole, a 60 s NAT idle timeout), it_link_slow,
# and the root-only ones (they say why when they skip); then a summary of
# each scenario's time and bytes. About 12 minutes.
#
# Usage: bash tests/linkemu/run_links.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
WMCTL=$BUILD/cli/wmctl WMSYNCD=$BUILD/daemon/wmsyncd
export WM_LINK_FULL=1
LOG=$(mktemp /tmp/wmlinks.XXXXXX)
bad=0
run() {
    echo "== $*"
    bash "$@" 2>&1 | tee -a "$LOG"
    local rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || [ "$rc" = 77 ] || bad=$((bad + 1))
}
run "$HERE/it_link_slow.sh" "$WMCTL" "$WMSYNCD"
run "$HERE/it_link_addr.sh" "$WMCTL" "$WMSYNCD"
run "$HERE/it_link_clock.sh" "$WMCTL" "$WMSYNCD"
for s in 2g 3g flap blackhole nat; do
    run "$HERE/it_link_scn.sh" "$WMCTL" "$WMSYNCD" "$s"
done
for t in "$HERE"/it_link_root_*.sh; do
    [ -e "$t" ] && run "$t" "$WMCTL" "$WMSYNCD"
done
echo "== summary"
grep -E '^(scenario|phase 2:|blackhole: resumed|[a-z0-9]+: backlog)' "$LOG"
rm -f "$LOG"
echo "run_links: $bad failed"
[ "$bad" = 0 ]
