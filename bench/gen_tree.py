#!/usr/bin/env python3
"""Generates a realistic mixed tree for the scan benchmark.

Usage: gen_tree.py OUT_DIR [--files N] [--seed S] [--corpus ../shared/corpus]

Mix (by file count): source code 58%, Markdown 9%, JSON 8%, YAML configuration 13%
(Kubernetes, Compose, GitHub Actions, GitLab CI, Helm values, taken from the real-world corpus
and varied), Dockerfiles 3%, other text 4%, binary-looking files 3%, and 2% under a
.gitignore'd node_modules/. Sizes are log-normal around a few KB with a long tail up to 1 MB,
about 1.1 GB in all for 100,000 files. Deterministic for a given seed.
"""
import argparse
import os
import random
import sys

WORDS = ("func return value config image handler request response server client error "
         "context string buffer stream index table record update delete create select where "
         "from into version build deploy release container service volume network port").split()


def code_line(rng):
    kind = rng.random()
    if kind < 0.25:
        return "    " * rng.randint(0, 3) + "// " + " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))
    if kind < 0.6:
        return "    " * rng.randint(1, 4) + "let %s = %s(%s);" % (
            rng.choice(WORDS), rng.choice(WORDS), ", ".join(rng.choices(WORDS, k=rng.randint(0, 4))))
    if kind < 0.85:
        return "    " * rng.randint(0, 3) + "if %s.%s() { %s += %d; }" % (
            rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS), rng.randint(0, 9999))
    return ""


def sized_text(rng, size, line_fn):
    out, n = [], 0
    while n < size:
        line = line_fn(rng)
        out.append(line)
        n += len(line) + 1
    return "\n".join(out) + "\n"


def size_sample(rng):
    # log-normal, median ~5 KB, mean ~11 KB, capped at 1 MB
    return int(min(1_000_000, max(60, rng.lognormvariate(8.5, 1.2))))


def load_corpus(corpus):
    kinds = {}
    if not os.path.isdir(corpus):
        return kinds
    for kind in os.listdir(corpus):
        d = os.path.join(corpus, kind)
        if not os.path.isdir(d) or kind == "licenses":
            continue
        texts = []
        for root, _, files in os.walk(d):
            for f in files:
                try:
                    with open(os.path.join(root, f), encoding="utf-8") as fh:
                        texts.append(fh.read())
                except (UnicodeDecodeError, OSError):
                    pass
        kinds[kind] = texts
    return kinds


def vary(rng, text):
    # Change tags so that references differ between files, as in a real monorepo.
    return text.replace(":latest", ":%d.%d" % (rng.randint(1, 30), rng.randint(0, 9)), 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "../../shared/corpus"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    corpus = load_corpus(a.corpus)
    yaml_kinds = [k for k in ("kubernetes", "compose", "github-actions", "gitlab-ci", "helm") if corpus.get(k)]
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, ".gitignore"), "w") as fh:
        fh.write("node_modules/\n*.tmp\n")
    total = 0
    for i in range(a.files):
        r = rng.random()
        svc = "services/svc%03d" % (i % 500)
        sub = "%s/pkg%02d" % (svc, (i // 500) % 40)
        if r < 0.58:
            ext = rng.choice(["go", "py", "ts", "rs", "java", "js"])
            path, body = "%s/f%06d.%s" % (sub, i, ext), sized_text(rng, size_sample(rng), code_line)
        elif r < 0.67:
            path, body = "%s/docs/n%06d.md" % (svc, i), sized_text(rng, size_sample(rng), lambda g: " ".join(g.choices(WORDS, k=14)))
        elif r < 0.75:
            path = "%s/data/d%06d.json" % (sub, i)
            body = "[" + ",".join('{"%s": %d}' % (rng.choice(WORDS), rng.randint(0, 9999)) for _ in range(size_sample(rng) // 14)) + "]\n"
        elif r < 0.88 and yaml_kinds:
            kind = rng.choice(yaml_kinds)
            body = vary(rng, rng.choice(corpus[kind]))
            name = {"kubernetes": "deploy/m%06d.yaml", "compose": "compose/docker-compose.%06d.yml",
                    "github-actions": ".github/workflows/w%06d.yml", "gitlab-ci": "ci/j%06d.gitlab-ci.yml",
                    "helm": "charts/c%06d/values.yaml"}[kind] % i
            path = "%s/%s" % (svc, name)
        elif r < 0.91 and corpus.get("dockerfile"):
            path, body = "%s/Dockerfile.%06d" % (sub, i), vary(rng, rng.choice(corpus["dockerfile"]))
        elif r < 0.95:
            path, body = "%s/notes/t%06d.txt" % (sub, i), sized_text(rng, size_sample(rng), lambda g: " ".join(g.choices(WORDS, k=10)))
        elif r < 0.98:
            path = "%s/assets/b%06d.png" % (sub, i)
            body = b"\x89PNG\r\n\x1a\n\x00" + rng.randbytes(min(size_sample(rng), 200_000))
        else:
            path, body = "%s/node_modules/dep%03d/index%06d.js" % (svc, i % 97, i), sized_text(rng, size_sample(rng), code_line)
        full = os.path.join(a.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(body, str):
            body = body.encode()
        with open(full, "wb") as fh:
            fh.write(body)
        total += len(body)
    print("generated %d files, %.1f MB in %s" % (a.files, total / 1e6, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
