#!/usr/bin/env python3
"""Seeds for `make fuzz`, one folder per target, from the fixtures (images/*.img: their tables,
partitions, boot.cfg files and imgdb.tgz) and the shared corpus when present.

usage: fuzz-seeds.py IMAGES_DIR OUT_DIR [CORPUS_DIR]

Seeds are cut short (a table's first sectors, a volume's first 512 KiB): the fuzzer mutates
small inputs far faster, and a parser must cope with a cut volume anyway. Files are named by
their SHA-256, so identical seeds are kept once.
"""
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile

TABLE_BYTES = 34 * 4096  # MBR, GPT header and a 128-entry array, at 4096 bytes per sector
VOLUME_BYTES = 512 * 1024


def save(out, target, data):
    if not data:
        return
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha256(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def head(path, count, offset=0):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(count)


def partitions(image):
    """(byte offset, byte size) of every partition sfdisk finds."""
    try:
        text = subprocess.run(["sfdisk", "-J", image], capture_output=True, check=True, text=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return []
    table = json.loads(text)["partitiontable"]
    sector = table.get("sectorsize", 512)
    return [(p["start"] * sector, p["size"] * sector) for p in table.get("partitions", [])]


def mcopy(image, offset, name):
    """A file from the root directory of the FAT volume at `offset`, or None."""
    result = subprocess.run(["mcopy", "-n", "-i", f"{image}@@{offset}", f"::/{name}", "-"], capture_output=True)
    return result.stdout if result.returncode == 0 else None


def xml_members(tgz):
    try:
        with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as archive:
            for member in archive.getmembers():
                if member.isfile() and member.size <= 1 << 20:
                    yield archive.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError):
        return


def main():
    images, out = sys.argv[1], sys.argv[2]
    corpus = sys.argv[3] if len(sys.argv) > 3 else None
    for image in sorted(glob.glob(os.path.join(images, "*.img"))):
        save(out, "partition-table", head(image, TABLE_BYTES))
        configs = []
        for offset, size in partitions(image):
            save(out, "fat", head(image, min(size, VOLUME_BYTES), offset))
            config = mcopy(image, offset, "boot.cfg")
            if config is not None:
                configs.append(config)
                save(out, "boot-config", config)
            tgz = mcopy(image, offset, "imgdb.tgz")
            if tgz is not None:
                save(out, "archive", tgz)
                try:
                    save(out, "archive", gzip.decompress(tgz))
                except (OSError, EOFError):
                    pass
                for xml in xml_members(tgz):
                    save(out, "image-database", xml)
        # The banks of one device side by side: both with the magic, then a rollback asked.
        if configs:
            save(out, "loader-replay", bytes([0x0F]) + b"\xff".join(configs[:4]))
            save(out, "loader-replay", bytes([0x8F]) + b"\xff".join(configs[:4]))
    if corpus and os.path.isdir(corpus):
        for path in sorted(glob.glob(os.path.join(corpus, "**", "*"), recursive=True)):
            if not os.path.isfile(path) or "/ground-truth/" in path or "/expected/" in path:
                continue
            if path.endswith((".md", ".json", ".txt")):
                continue
            if path.endswith(".xz"):
                decompressor = lzma.LZMADecompressor()
                try:
                    data = decompressor.decompress(head(path, 8 << 20), max_length=VOLUME_BYTES)
                except lzma.LZMAError:
                    continue
            elif path.endswith(".gz"):
                try:
                    with gzip.open(path) as f:
                        data = f.read(VOLUME_BYTES)
                except (OSError, EOFError):
                    continue
            else:
                data = head(path, VOLUME_BYTES)
            save(out, "partition-table", data[:TABLE_BYTES])
            save(out, "fat", data)
    for target in ["partition-table", "fat", "boot-config", "loader-replay", "archive", "image-database"]:
        folder = os.path.join(out, target)
        os.makedirs(folder, exist_ok=True)
        print(f"{target}: {len(os.listdir(folder))} seeds")


if __name__ == "__main__":
    main()
