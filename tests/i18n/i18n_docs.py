#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""i18n_docs SRC WMCTL [WMSYNCD]: the operator guides agree with each
other and with the programs.

1. docs/operations.md and docs/operations.zh.md have the same sections: the
   same numbered "## N." headings in the same order, and under each the
   same number of "###" subsections. A section added to one guide only
   fails here.
2. Every wmctl (and wmsyncd) command line either guide shows -- in a code
   block (continuation lines joined) or inline in `backquotes` -- names a
   command wmctl has (`wmctl help`), for `record` a kind it has, for
   `bundle` a sub-command, and only options that command's own usage line
   lists (`wmctl help CMD`; for record KIND the kind's line of
   `wmctl record`; wmsyncd: `wmsyncd --help`). This is a check of the
   command lines against the programs' own usage, run in the C locale; it
   does not run them (they name paths of a real installation).
"""
import os
import re
import shlex
import subprocess
import sys

SRC, WMCTL = sys.argv[1], sys.argv[2]
WMSYNCD = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
    os.path.dirname(os.path.dirname(WMCTL)), "daemon", "wmsyncd")
GUIDES = ["docs/operations.md", "docs/operations.zh.md"]
ENV = dict(os.environ, LANG="C", LC_ALL="C")
ENV.pop("LANGUAGE", None)
failed = []
checked = 0


def run(*args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV)
    return p.stdout.decode("utf-8", "replace")


def fail(msg):
    failed.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


# ---- 1. sections ----------------------------------------------------------
def sections(path):
    out, cur = [], None
    in_code = False
    for line in open(os.path.join(SRC, path), encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        m = re.match(r"^## (\d+)\. ", line)
        if m:
            cur = [int(m.group(1)), 0]
            out.append(cur)
        elif line.startswith("## "):
            fail(f"{path}: a section heading without its number: {line.strip()}")
        elif line.startswith("### ") and cur:
            cur[1] += 1
    return out


en, zh = (sections(g) for g in GUIDES)
if [s[0] for s in en] != list(range(1, len(en) + 1)):
    fail(f"{GUIDES[0]}: sections are not numbered 1..N: {[s[0] for s in en]}")
if en != zh:
    en_d, zh_d = dict(map(tuple, en)), dict(map(tuple, zh))
    for n in sorted(set(en_d) | set(zh_d)):
        if n not in zh_d:
            fail(f"section {n} of {GUIDES[0]} has no Chinese counterpart in {GUIDES[1]}")
        elif n not in en_d:
            fail(f"section {n} of {GUIDES[1]} is not in {GUIDES[0]}")
        elif en_d[n] != zh_d[n]:
            fail(f"section {n}: {en_d[n]} subsections in English, {zh_d[n]} in Chinese")
    if not failed:
        fail("the sections are in another order in the two guides")
else:
    checked += 1
print(f"sections: {len(en)} in each guide")

# ---- 2. commands ------------------------------------------------------------
help_out = run(WMCTL, "help")
commands = set(re.findall(r"^  ([a-z][a-z-]*)\s", help_out, re.M))
if "record" not in commands:
    fail(f"wmctl help lists no commands: {help_out[:300]}")
usage = {}
for c in commands:
    first = run(WMCTL, "help", c).splitlines()[0]
    usage[c] = first.split("] ", 1)[1] if "] " in first else first
kinds = {}
for line in run(WMCTL, "record").splitlines():
    m = re.match(r"^  ([a-z][a-z-]*)\s+(--.*)$", line)
    if m:
        kinds[m.group(1)] = m.group(2)
daemon_help = run(WMSYNCD, "--help")


def flags_of(text):
    return set(re.findall(r"--[a-z][a-z-]*", text))


def check_wmsyncd(where, toks):
    global checked
    known = flags_of(daemon_help) | {"-c", "-h"}
    for t in toks[1:]:
        if t.startswith("-") and t.split("=")[0] not in known:
            fail(f"{where}: wmsyncd has no option {t}: {' '.join(toks)}")
            return
    checked += 1


def check_wmctl(where, toks):
    global checked
    i = 1
    while i < len(toks) and toks[i].startswith("-"):
        if toks[i] in ("-c", "--config"):
            i += 2
        elif toks[i] in ("-h", "--help"):
            i += 1
        else:
            fail(f"{where}: wmctl has no global option {toks[i]}: {' '.join(toks)}")
            return
    if i >= len(toks) or toks[i] in ("…", "...", "COMMAND", "命令"):
        return  # "wmctl" or "wmctl …": no command shown
    cmd, rest = toks[i], toks[i + 1:]
    if cmd not in commands and cmd != "help":
        fail(f"{where}: wmctl has no command {cmd!r}: {' '.join(toks)}")
        return
    allowed = flags_of(usage.get(cmd, ""))
    if cmd == "record" and rest and not rest[0].startswith("-"):
        kind = rest.pop(0)
        if kind in ("KIND", "种类"):
            checked += 1
            return
        if kind not in kinds:
            fail(f"{where}: wmctl record has no kind {kind!r}: {' '.join(toks)}")
            return
        allowed = flags_of(kinds[kind]) | {"--json"}
    elif cmd == "bundle" and rest and not rest[0].startswith("-"):
        if rest.pop(0) not in ("export", "import"):
            fail(f"{where}: wmctl bundle has export and import only: {' '.join(toks)}")
            return
    elif cmd == "help":
        if rest and rest[0] not in commands and rest[0] not in ("COMMAND", "CMD", "命令"):
            fail(f"{where}: wmctl help: no command {rest[0]!r}")
            return
    for t in rest:
        if t.startswith("--"):
            name = t.split("=")[0]
            if name != "--help" and name not in allowed:
                fail(f"{where}: `wmctl {cmd}` has no option {name} (its usage: "
                     f"{kinds.get(rest and toks[i + 1], '') if cmd == 'record' else usage.get(cmd)}): "
                     f"{' '.join(toks)}")
                return
    checked += 1


def tokens(line):
    line = line.replace("…", " … ")
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return shlex.split(line.replace('"', " ").replace("'", " "), comments=True)


def check(where, line):
    toks = tokens(line)
    # runuser -u wmsync -- wmctl …, sudo -u wmsync wmctl …
    while toks and toks[0] in ("runuser", "sudo", "--", "-u", "wmsync", "#", "$"):
        if toks[0] == "-u":
            toks = toks[2:]
        else:
            toks = toks[1:]
    if not toks:
        return
    prog = os.path.basename(toks[0])
    if prog == "wmctl":
        check_wmctl(where, toks)
    elif prog == "wmsyncd":
        check_wmsyncd(where, toks)


PROG = r"(?:(?:runuser -u wmsync -- |sudo -u wmsync )?(?:/usr/s?bin/)?(?:wmctl|wmsyncd))"
for g in GUIDES:
    text = open(os.path.join(SRC, g), encoding="utf-8").read()
    in_code, pending, start = False, "", 0
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            continue
        s = line.strip()
        if pending:
            pending += " " + s.rstrip("\\")
            if not s.endswith("\\"):
                check(f"{g}:{start}", pending)
                pending = ""
            continue
        if re.match(PROG + r"(\s|$)", s):
            if s.endswith("\\"):
                pending, start = s.rstrip("\\"), n
            else:
                check(f"{g}:{n}", s)
        elif re.match(r"ExecStart=", s):
            check(f"{g}:{n}", s.split("=", 1)[1])
    # inline `wmctl …` spans (they may wrap across lines)
    prose = re.sub(r"```.*?```", lambda c: "\n" * c.group(0).count("\n"), text, flags=re.S)
    for m in re.finditer(r"`(" + PROG + r"(?:\s[^`]*)?)`", prose):
        span = " ".join(m.group(1).split())
        check(f"{g}:{prose[:m.start()].count(chr(10)) + 1} (inline)", span)

print(f"i18n_docs: {checked} checks passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
