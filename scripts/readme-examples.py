#!/usr/bin/env python3
"""Keeps README.md's examples true: every block

    <!-- example: ARGS -->
    ```
    $ bootbank ARGS
    ...output...
    [exit N]
    ```

is the real output of `bootbank ARGS`, run from the package root.

usage: readme-examples.py BOOTBANK [--check]
  without --check: rewrites README.md's example blocks in place;
  with --check: exits 1 and prints the first stale block when any differs.
"""
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = re.compile(r"<!-- example: (?P<args>.*?) -->\n```\n(?P<body>.*?)```\n", re.S)


def render(binary, args):
    env = dict(os.environ, LC_ALL="C.UTF-8", TZ="UTC", COLUMNS="100")
    result = subprocess.run([binary] + shlex.split(args), cwd=ROOT, capture_output=True, text=True, env=env)
    out = result.stdout + result.stderr
    if out and not out.endswith("\n"):
        out += "\n"
    return f"$ bootbank {args}\n{out}[exit {result.returncode}]\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    check = "--check" in sys.argv[2:]
    path = os.path.join(ROOT, "README.md")
    text = open(path, encoding="utf-8").read()
    stale = []

    def replace(match):
        body = render(binary, match.group("args"))
        if body != match.group("body"):
            stale.append((match.group("args"), match.group("body"), body))
        return f"<!-- example: {match.group('args')} -->\n```\n{body}```\n"

    new = BLOCK.sub(replace, text)
    if check:
        if stale:
            args, old, body = stale[0]
            print(f"README.md example is stale: bootbank {args}\n--- README\n{old}--- now\n{body}")
            sys.exit(1)
        print(f"README.md: {len(BLOCK.findall(text))} examples are current")
    else:
        open(path, "w", encoding="utf-8").write(new)
        print(f"README.md: {len(stale)} of {len(BLOCK.findall(text))} examples rewritten")


if __name__ == "__main__":
    main()
