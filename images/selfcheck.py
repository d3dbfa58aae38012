#!/usr/bin/env python3
"""selfcheck.py [DIR] -- check that the images in DIR (default: this directory) hold what
manifest-of-scenarios.json says, using independent readers where there are some:
sfdisk --json for the partition tables (a small GPT reader for 4096-byte sectors, which sfdisk
cannot do on a file), mtools (mcopy) for the files of every bank, gzip/tarfile/ElementTree for
the payloads and the image database. Exit 0 when every fact holds, 1 otherwise."""
import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import uuid
import xml.etree.ElementTree as ET

D = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, MTOOLSRC="/dev/null", MTOOLS_SKIP_CHECK="1", LC_ALL="C")
MAGIC = b"VMWARE FAT16    "
problems = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        problems.append(msg)


def sfdisk_parts(path):
    out = subprocess.run(["sfdisk", "--json", path], capture_output=True, text=True, env=ENV)
    if out.returncode != 0:
        return None
    t = json.loads(out.stdout)["partitiontable"]
    parts = {}
    for p in t.get("partitions", []):
        n = int(p["node"][len(path):])
        parts[n] = p
    return t, parts


def gpt4k_parts(path, ss):
    with open(path, "rb") as f:
        f.seek(ss)
        h = f.read(92)
        sig, _, hsize, _, _, my, alt, _, _, dg, elba, n, esz, _ = struct.unpack("<8sIIII QQQQ 16s QIII", h)
        check(sig == b"EFI PART", f"{path}: no GPT at LBA 1 with {ss}-byte sectors")
        f.seek(elba * ss)
        ents = f.read(n * esz)
    parts = {}
    for i in range(n):
        e = ents[i * esz:(i + 1) * esz]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        parts[i + 1] = {"start": first, "size": last - first + 1,
                        "type": str(uuid.UUID(bytes_le=e[:16])).upper(),
                        "uuid": str(uuid.UUID(bytes_le=e[16:32])).upper(),
                        "name": e[56:128].decode("utf-16-le").rstrip("\0")}
    return {"id": str(uuid.UUID(bytes_le=dg)).upper()}, parts


def bank_files(img, off, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    r = subprocess.run(["mcopy", "-n", "-i", f"{img}@@{off}", "::/*", d + "/"],
                       capture_output=True, env=ENV)
    files = {}
    for n in os.listdir(d):
        files[n.lower()] = open(os.path.join(d, n), "rb").read()
    return files, r


def main():
    m = json.load(open(os.path.join(D, "manifest-of-scenarios.json")))
    tmp = tempfile.mkdtemp()
    for name, im in sorted(m["images"].items()):
        path = os.path.join(D, name)
        if not os.path.exists(path):
            problems.append(f"{name}: missing (run make-images.sh)")
            continue
        ss = im["sectorSize"]
        check(os.path.getsize(path) == im["sizeBytes"], f"{name}: size")
        if ss == 512:
            got = sfdisk_parts(path)
            check(got is not None, f"{name}: sfdisk cannot read the table")
            if got is None:
                continue
            table, parts = got
            check(table["label"] == ("dos" if im["table"] == "mbr" else "gpt"), f"{name}: label {table['label']}")
        else:
            table, parts = gpt4k_parts(path, ss)
        for p in im["partitions"]:
            q = parts.get(p["number"])
            check(q is not None, f"{name}: partition {p['number']} not in the table")
            if q is None:
                continue
            check(q["start"] == p["firstLBA"] and q["start"] + q["size"] - 1 == p["lastLBA"],
                  f"{name} p{p['number']}: {q['start']}+{q['size']} vs {p['firstLBA']}-{p['lastLBA']}")
            if "typeGUID" in p:
                check(q["type"].upper() == p["typeGUID"], f"{name} p{p['number']}: type {q['type']}")
                check(q.get("name") == p["name"], f"{name} p{p['number']}: name {q.get('name')}")
                check(q["uuid"].upper() == p["partitionGUID"], f"{name} p{p['number']}: partition GUID")
            else:
                check(int(q["type"], 16) == int(p["mbrType"], 16), f"{name} p{p['number']}: mbr type {q['type']}")
                check(bool(q.get("bootable")) == bool(p.get("bootable")), f"{name} p{p['number']}: boot flag")
            base = p["firstLBA"] * ss
            with open(path, "rb") as f:
                if p.get("vmwareUUID"):
                    f.seek(base + p["vmwareUUIDOffset"])
                    check(f.read(32) == MAGIC + bytes.fromhex(p["vmwareUUID"]), f"{name} p{p['number']}: magic/UUID")
                if p.get("magicIntact") is False:
                    for o in (512, ss):
                        f.seek(base + o)
                        check(f.read(16) != MAGIC, f"{name} p{p['number']}: magic still at {o}")
                if ss == 4096 and p.get("vmwareUUIDOffset") == 512:
                    f.seek(base + 4096)
                    check(f.read(16) != MAGIC, f"{name} p{p['number']}: magic also at 4096")
        if "diskGUID" in im:
            check(table["id"].upper() == im["diskGUID"], f"{name}: disk GUID {table['id']}")
        damaged = {(d.get("partition"), d.get("file")): d for d in im["damage"]}
        fat_damaged = {d.get("partition") for d in im["damage"] if d["kind"] == "fat"}
        pmap = {p["number"]: p for p in im["partitions"]}
        for b in im["banks"]:
            n = b["partition"]
            if n in fat_damaged:
                continue   # mtools follows the damaged chains; fsck output is in expected/
            files, r = bank_files(path, pmap[n]["firstLBA"] * ss, tmp)
            for fe in b["files"]:
                fn = fe["name"]
                dmg = damaged.get((n, fn))
                if dmg and dmg["kind"] == "missingModule":
                    check(fn not in files, f"{name} p{n}: {fn} should be missing")
                    continue
                check(fn in files, f"{name} p{n}: {fn} missing")
                if fn not in files:
                    continue
                want = dmg["detail"]["sha256"] if dmg else fe["sha256"]
                check(hashlib.sha256(files[fn]).hexdigest() == want, f"{name} p{n}: {fn} sha256")
            check(len(files) == len(b["files"]) - sum(1 for (pn, _), d in damaged.items()
                                                      if pn == n and d["kind"] == "missingModule"),
                  f"{name} p{n}: unexpected files {sorted(files)}")
            if b["onDiskNames"] == "upperCase":
                ls = subprocess.run(["mdir", "-b", "-i", f"{path}@@{pmap[n]['firstLBA'] * ss}", "::/"],
                                    capture_output=True, text=True, env=ENV).stdout
                check("::/BOOT.CFG" in ls, f"{name} p{n}: upper-case names expected, mdir -b: {ls[:80]!r}")
            cfg = files.get("boot.cfg", b"")
            check(hashlib.sha256(cfg).hexdigest() == b["bootCfgSHA256"], f"{name} p{n}: boot.cfg")
            lines = cfg.decode().split("\n")
            check(f"build={b['build']}" in lines, f"{name} p{n}: build line")
            check(f"updated={b['updated']}" in lines, f"{name} p{n}: updated line")
            if b["bootstateLine"] is not None:
                check(cfg.find(b["bootstateLine"].encode()) == b["bootstateOffset"], f"{name} p{n}: bootstate offset")
            # image database and payload digests
            db = tarfile.open(fileobj=__import__("io").BytesIO(gzip.decompress(files["imgdb.tgz"])))
            prof = ET.fromstring(db.extractfile(b["profilePath"]).read())
            pmap_xml = {(v.findtext("vib-id"), pl.get("payload-name")): pl.text
                        for v in prof.iter("vib") for pl in v.iter("payload")}
            for vibid, member in b["vibDescriptors"].items():
                vx = ET.fromstring(db.extractfile(member).read())
                # the descriptor as shipped and its signature sit beside it, as on a real host
                orig = ET.fromstring(db.extractfile(member + ".orig").read())
                check([(p.get("name"), p.get("size")) for p in orig.iter("payload")] ==
                      [(p.get("name"), p.get("size")) for p in vx.iter("payload")], f"{name} p{n}: {member}.orig")
                check(db.extractfile(member + ".sig").read().startswith(b"-----BEGIN PKCS7-----"),
                      f"{name} p{n}: {member}.sig")
                for pl in vx.iter("payload"):
                    fn = pmap_xml[(vibid, pl.get("name"))]
                    mp = next(x for x in b["payloads"] if x["file"] == fn)
                    sums = {(c.get("checksum-type"), c.get("verify-process")): c.text for c in pl.iter("checksum")}
                    if not mp["onBank"]:   # mapped by the profile, never written to a bank
                        check(fn not in files and sums == {("sha-256", None): mp["shippedSHA256"]} and
                              pl.get("type") not in ("boot", "vgz", "tgz"), f"{name} p{n}: {fn} not on the bank")
                        continue
                    check(sums[("sha-256", "gunzip")] == mp["gunzipSHA256"] and
                          sums[("sha-1", "gunzip")] == mp["gunzipSHA1"] and
                          sums[("sha-256", None)] == mp["shippedSHA256"] and
                          int(pl.get("size")) == mp["shippedSize"], f"{name} p{n}: descriptor of {fn}")
                    dmg = damaged.get((n, fn))
                    if fn not in files or mp["perHost"]:
                        continue
                    try:
                        plain = gzip.decompress(files[fn])
                    except (EOFError, OSError, zlib_error()):
                        check(dmg is not None and dmg["kind"] == "truncatedGzip", f"{name} p{n}: {fn} gunzip fails")
                        continue
                    ok = hashlib.sha256(plain).hexdigest() == sums[("sha-256", "gunzip")] and \
                        hashlib.sha1(plain).hexdigest() == sums[("sha-1", "gunzip")]
                    if dmg and dmg["kind"] == "payloadDigestMismatch":
                        check(not ok and hashlib.sha256(plain).hexdigest() == dmg["detail"]["gunzipSHA256After"],
                              f"{name} p{n}: {fn} should mismatch")
                    else:
                        check(ok, f"{name} p{n}: {fn} digest")
            st = files.get("state.tgz")
            dmg = damaged.get((n, "state.tgz"))
            try:
                inner = tarfile.open(fileobj=__import__("io").BytesIO(gzip.decompress(st)))
                check(inner.getnames() == ["local.tgz"] and dmg is None, f"{name} p{n}: state.tgz")
            except Exception:
                check(dmg is not None and dmg["kind"] == "gzipCRC", f"{name} p{n}: state.tgz unreadable")
    if problems:
        print(f"selfcheck: {len(problems)} of {checks} checks failed:")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print(f"selfcheck: {checks} checks on {len(m['images'])} images passed")


def zlib_error():
    import zlib
    return zlib.error


if __name__ == "__main__":
    main()
