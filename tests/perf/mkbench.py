#!/usr/bin/env python3
"""Generate the inputs of tests/perf/run that tests/fixtures does not make.

Usage:
  mkbench.py images N OUT.tar     a docker-archive holding N distinct small images
                                  (localhost/skiff-bench/imgNNNN:latest), each one tiny
                                  unique layer and a unique config
  mkbench.py layer MIB OUT.tar    one uncompressed layer tar of about MIB MiB: many files of
                                  varied sizes in nested directories, some symlinks and hardlinks

Everything is deterministic (fixed seeds, fixed mtimes, numeric owners), and archives are
streamed to disk, so memory stays small whatever the size.
"""

import hashlib
import io
import json
import os
import platform
import random
import sys
import tarfile

EPOCH = 1767225600  # 2026-01-01T00:00:00Z


def jdump(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def go_arch():
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
            "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}.get(m, m)


def tinfo(name, kind, size=0, mode=None, target=None):
    ti = tarfile.TarInfo(name)
    ti.mtime = EPOCH
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.type = kind
    ti.size = size
    if mode is None:
        mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    ti.mode = mode
    if target is not None:
        ti.linkname = target
    return ti


def add_bytes(tf, name, data, mode=0o644):
    tf.addfile(tinfo(name, tarfile.REGTYPE, len(data), mode), io.BytesIO(data))


def images(n, out):
    """A `docker save` style archive (legacy layout, as tests/fixtures writes) of n images."""
    if n < 1 or n > 99999:
        sys.exit("mkbench: image count %d out of range" % n)
    manifest = []
    repos = {}
    tmp = out + ".tmp"
    with open(tmp, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for i in range(n):
            name = "img%04d" % i
            lbuf = io.BytesIO()
            with tarfile.open(fileobj=lbuf, mode="w", format=tarfile.PAX_FORMAT) as lt:
                lt.addfile(tinfo("bench", tarfile.DIRTYPE))
                add_bytes(lt, "bench/" + name, ("skiff bench image %d\n" % i).encode())
            layer = lbuf.getvalue()
            diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
            created = "2026-01-01T%02d:%02d:%02dZ" % (i // 3600 % 24, i // 60 % 60, i % 60)
            cfg = jdump({
                "architecture": go_arch(),
                "os": "linux",
                "created": created,
                "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"],
                           "Labels": {"org.skiff.bench": name}},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": created, "created_by": "tests/perf/mkbench.py " + name}],
            })
            cfg_hex = hashlib.sha256(cfg).hexdigest()
            v1id = hashlib.sha256((" " + diff_id).encode()).hexdigest()
            tf.addfile(tinfo(v1id, tarfile.DIRTYPE))
            add_bytes(tf, v1id + "/VERSION", b"1.0")
            add_bytes(tf, v1id + "/json", jdump({"id": v1id, "created": created}))
            add_bytes(tf, v1id + "/layer.tar", layer)
            add_bytes(tf, cfg_hex + ".json", cfg)
            ref = "localhost/skiff-bench/%s:latest" % name
            manifest.append({"Config": cfg_hex + ".json", "RepoTags": [ref],
                             "Layers": [v1id + "/layer.tar"]})
            repos.setdefault(ref.rsplit(":", 1)[0], {})["latest"] = v1id
        add_bytes(tf, "manifest.json", jdump(manifest))
        add_bytes(tf, "repositories", jdump(repos))
    os.rename(tmp, out)


def layer(mib, out):
    """About mib MiB of file data in a realistic shape: many small files, a few big ones."""
    if mib < 1 or mib > 65536:
        sys.exit("mkbench: layer size %d MiB out of range" % mib)
    rnd = random.Random(20260102)
    target = mib * 1024 * 1024
    tmp = out + ".tmp"
    with open(tmp, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tf:
        dirs = ["usr", "usr/lib", "usr/share"]
        for d in dirs:
            tf.addfile(tinfo(d, tarfile.DIRTYPE))
        files = []
        total, i = 0, 0
        while total < target:
            if i % 40 == 0:  # a new directory every 40 entries, up to four levels deep
                parent = rnd.choice(dirs)
                if parent.count("/") >= 4:
                    parent = rnd.choice(dirs[:3])
                d = "%s/d%04d" % (parent, len(dirs))
                dirs.append(d)
                tf.addfile(tinfo(d, tarfile.DIRTYPE))
            name = "%s/f%06d" % (dirs[-1], i)
            r = rnd.random()
            if r < 0.03 and files:
                tf.addfile(tinfo(name, tarfile.SYMTYPE, mode=0o777,
                                 target="/" + rnd.choice(files)))
            elif r < 0.04 and files:
                tf.addfile(tinfo(name, tarfile.LNKTYPE, target=rnd.choice(files)))
            else:
                # median ~3 KiB, mean ~25 KiB, capped at 8 MiB (like a distribution's /usr)
                size = min(int(rnd.lognormvariate(8.0, 2.0)), 8 * 1024 * 1024)
                mode = 0o755 if rnd.random() < 0.1 else 0o644
                tf.addfile(tinfo(name, tarfile.REGTYPE, size, mode), io.BytesIO(rnd.randbytes(size)))
                files.append(name)
                total += size
            i += 1
    os.rename(tmp, out)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("images", "layer"):
        sys.exit(__doc__.strip())
    try:
        n = int(sys.argv[2])
    except ValueError:
        sys.exit("mkbench: %s is not a number" % sys.argv[2])
    (images if sys.argv[1] == "images" else layer)(n, sys.argv[3])


if __name__ == "__main__":
    main()
