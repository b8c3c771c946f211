#!/bin/sh
# SPDX-License-Identifier: MIT
# xgettext.sh SRC OUT: the message template of wmsync's C sources (every
# folder but tests/ and web/; wmweb keeps its own table) into OUT. The
# keywords: _ and N_ (wm_i18n.h), C_ (with a context), and the functions
# that translate their own format: wmctl_err (cli/wmctl.h), wm_reject
# (proto/wm_validate.h), wm_why (proto/wm_i18n.h), why_fail (daemon/wm_node.c). Used by the target
# `pot` and by the test i18n_po.
set -eu
src=$1
out=$2
cd "$src"
find proto storage node net daemon client cli -name '*.c' | LC_ALL=C sort >"$out.files"
xgettext --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: \
    --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
    --keyword=wmctl_err:1 --flag=wmctl_err:1:c-format \
    --keyword=wmctl_reject:2 --flag=wmctl_reject:2:c-format \
    --keyword=wm_reject:3 --flag=wm_reject:3:c-format \
    --keyword=wm_why:3 --flag=wm_why:3:c-format \
    --keyword=why_fail:4 --flag=why_fail:4:c-format \
    --package-name=wmsync --msgid-bugs-address=wmsync-maint@example.org \
    --add-location=file --sort-by-file --files-from="$out.files" -o "$out"
rm -f "$out.files"
