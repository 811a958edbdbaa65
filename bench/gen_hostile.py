#!/usr/bin/env python3
"""Writes the large and hostile inputs the extractor tests bound by work (allocations), one
directory per file so that each is scanned alone, for bench/hostile.sh to time.

Usage: bench/gen_hostile.py OUT_DIR
"""
import os
import sys


def write(out, rel, text):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def junk(size):
    """Random pieces of Dockerfile syntax (the xorshift of dockerfile.rs's junk_is_linear)."""
    pieces = ["FROM ", "RUN ", "<<", "EOF", "\\", "\n", "${", "}", "$X", " ", "--mount=", "from=",
              ",", '"', "'", "ARG X=", "COPY --from=", "# syntax=", "\r\n", "AS ", "{{", "a", "<<-",
              "\t", "`"]
    x = 0x9E3779B97F4A7C15
    mask = (1 << 64) - 1
    parts, n = [], 0
    while n < size:
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        p = pieces[x % len(pieces)]
        parts.append(p)
        n += len(p)
    return "".join(parts)


def main():
    out = sys.argv[1]
    stages = ["ARG TAG=1\n"] + [f"FROM img{i}:$TAG AS s{i}\nCOPY --from=s{i} /a /b\n" for i in range(100_000)]
    write(out, "dockerfile-stages/Dockerfile", "".join(stages))
    write(out, "dockerfile-junk/Dockerfile", junk(10 << 20))
    write(out, "dockerfile-heredocs/Dockerfile", "".join(f"RUN <<E{i}\n" for i in range(50_000)))
    gha = ["env:\n  X: a:1\njobs:\n  a:\n    steps:\n"]
    gha += [f"      - run: |\n          docker build -t b{i} . && docker run $X\n" for i in range(2000)]
    gha.append("      - run: |\n")
    gha += ["          docker run -v x:/y \"$X\" -e A=B=C\n"] * 20_000
    write(out, "actions-run/.github/workflows/ci.yml", "".join(gha))
    pods = "".join(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  containers: [{{name: c, image: i{i}}}]\n---\n"
        for i in range(20_000)
    )
    write(out, "kubernetes-pods/pods.yaml", pods)
    drone = "docker run ${A} " + "$$x ${Y} " * 20_000 + "${unterminated"
    write(out, "drone-substitutions/.drone.yml",
          f"matrix:\n  A: [a:1, b:2, c:3]\nsteps:\n  t:\n    image: x\n    commands:\n      - '{drone}'\n")
    cb = ["substitutions:\n"] + [f"  _V{i}: v{i}\n" for i in range(2000)] + ["steps:\n"]
    cb += [f"- name: docker\n  args: ['run', 'x:${{_V{i}}}', '-e', 'A=B C']\n" for i in range(2000)]
    write(out, "cloudbuild-substitutions/cloudbuild.yaml", "".join(cb))


if __name__ == "__main__":
    main()
