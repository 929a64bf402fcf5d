#!/usr/bin/env python3
"""Write a single-layer OCI image archive from files on disk, with no registry and no daemon.

Used for the cluster's own tiny images (pause, CoreDNS, the busybox probe): each is one static
binary plus a few paths. `ctr -n k8s.io images import` takes the archive; the image name comes
from the `io.containerd.image.name` annotation, so pods can refer to it verbatim.

    oci_image.py OUT.tar NAME --file SRC:DEST[:MODE] ... [--symlink LINK:TARGET ...]
                 [--entrypoint JSON] [--cmd JSON] [--user U] [--env K=V ...]
    oci_image.py OUT.tar NAME --from-layer ROOTFS.tar ...
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

EPOCH = 0  # fixed mtimes: the same inputs give the same digests


def _add_dirs(tar: tarfile.TarFile, path: str, seen: set[str]) -> None:
    parts = Path(path).parent.parts
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i]).lstrip("/")
        if d and d not in seen:
            seen.add(d)
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)


def build_layer(files: list[tuple[str, str, int]], links: list[tuple[str, str]]) -> bytes:
    buf = io.BytesIO()
    seen: set[str] = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for src, dest, mode in files:
            _add_dirs(tar, dest, seen)
            data = Path(src).read_bytes()
            info = tarfile.TarInfo(dest.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), mode, EPOCH
            tar.addfile(info, io.BytesIO(data))
        for link, target in links:
            _add_dirs(tar, link, seen)
            info = tarfile.TarInfo(link.lstrip("/"))
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, EPOCH
            tar.addfile(info)
    return buf.getvalue()


def blob(out: tarfile.TarFile, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size, info.mtime = len(data), EPOCH
    out.addfile(info, io.BytesIO(data))
    return digest


def write_image(out_path: str, name: str, layer: bytes, config: dict) -> None:
    gz = gzip.compress(layer, mtime=EPOCH)
    with tarfile.open(out_path, "w") as out:
        layer_digest = blob(out, gz)
        cfg = {
            "architecture": "amd64",
            "os": "linux",
            "config": config,
            "created": "1970-01-01T00:00:00Z",
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "hack/cluster/oci_image.py"}],
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        }
        cfg_bytes = json.dumps(cfg, sort_keys=True).encode()
        cfg_digest = blob(out, cfg_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": "sha256:" + cfg_digest, "size": len(cfg_bytes)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": "sha256:" + layer_digest, "size": len(gz)}],
        }
        man_bytes = json.dumps(manifest, sort_keys=True).encode()
        man_digest = blob(out, man_bytes)
        index = {
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + man_digest, "size": len(man_bytes),
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {"io.containerd.image.name": name,
                                "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]},
            }],
        }
        for fname, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                            ("index.json", json.dumps(index, sort_keys=True).encode())):
            info = tarfile.TarInfo(fname)
            info.size, info.mtime = len(data), EPOCH
            out.addfile(info, io.BytesIO(data))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("name", help="full image name, e.g. registry.k8s.io/pause:3.10")
    p.add_argument("--file", action="append", default=[], help="SRC:DEST[:OCTAL_MODE]")
    p.add_argument("--symlink", action="append", default=[], help="LINK:TARGET")
    p.add_argument("--entrypoint", type=json.loads)
    p.add_argument("--cmd", type=json.loads)
    p.add_argument("--user")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--from-layer", help="use this uncompressed tar as the layer (no --file/--symlink)")
    a = p.parse_args()
    files = []
    for spec in a.file:
        src, dest, *mode = spec.split(":")
        files.append((src, dest, int(mode[0], 8) if mode else os.stat(src).st_mode & 0o777))
    links = [tuple(s.split(":", 1)) for s in a.symlink]
    config: dict = {"Env": a.env or ["PATH=/usr/local/bin:/usr/bin:/bin"]}
    if a.entrypoint:
        config["Entrypoint"] = a.entrypoint
    if a.cmd:
        config["Cmd"] = a.cmd
    if a.user:
        config["User"] = a.user
    layer = Path(a.from_layer).read_bytes() if a.from_layer else build_layer(files, links)
    write_image(a.out, a.name, layer, config)


if __name__ == "__main__":
    main()
