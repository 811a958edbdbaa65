#!/usr/bin/env python3
"""Copies Debian packages installed on this machine, with everything they depend on, into a root
file system, so that the distribution tests can make base images without any registry but the
loopback one. Documentation, manuals and translations are left out.

Usage: host-rootfs.py DEST PACKAGE...
"""
import os
import subprocess
import sys

SKIP = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/",
        "/usr/share/lintian/")


def installed():
    """Package -> (dependency alternatives, provides) for every installed package."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Status}\t${Pre-Depends}, ${Depends}\t${Provides}\n"],
        check=True, capture_output=True, text=True).stdout
    pkgs, provides = {}, {}
    for line in out.splitlines():
        name, status, deps, prov = line.split("\t")
        if not status.endswith("installed"):
            continue
        alts = []
        for dep in deps.split(","):
            names = [a.split()[0].split(":")[0] for a in dep.split("|") if a.strip()]
            if names:
                alts.append(names)
        pkgs[name] = alts
        for p in prov.split(","):
            if p.strip():
                provides.setdefault(p.split()[0], name)
    return pkgs, provides


def closure(roots):
    pkgs, provides = installed()
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        name = name if name in pkgs else provides.get(name, name)
        if name in seen or name not in pkgs:
            continue
        seen.add(name)
        for alts in pkgs[name]:
            # The first alternative that is installed (or provided) is the one in use.
            for a in alts:
                if a in pkgs or a in provides:
                    todo.append(a)
                    break
    return sorted(seen)


def main():
    dest, roots = sys.argv[1], sys.argv[2:]
    for d in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "etc", "tmp"):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    os.chmod(os.path.join(dest, "tmp"), 0o1777)
    # Debian 12 merges /usr: keep the top-level links so both spellings of a path work.
    for link in ("bin", "sbin", "lib", "lib64"):
        if not os.path.lexists(os.path.join(dest, link)):
            os.symlink("usr/" + link, os.path.join(dest, link))
    files = set()
    for pkg in closure(roots):
        listed = subprocess.run(["dpkg", "-L", pkg], check=True, capture_output=True,
                                text=True).stdout.splitlines()
        for path in listed:
            if path.startswith(SKIP) or not os.path.lexists(path) or os.path.isdir(path) and not os.path.islink(path):
                continue
            files.add(path.lstrip("/"))
    listing = os.path.join(dest, ".files")
    with open(listing, "w") as f:
        f.write("\n".join(sorted(files)) + "\n")
    # tar keeps links and modes; --keep-directory-symlink keeps the merged-/usr links above.
    subprocess.run(f"tar -C / -cf - --no-recursion -T {listing} | "
                   f"tar -C {dest} -xf - --keep-directory-symlink", shell=True, check=True)
    os.remove(listing)


if __name__ == "__main__":
    main()
