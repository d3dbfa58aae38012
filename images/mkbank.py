#!/usr/bin/env python3
"""Helper of images/make-images.sh (python3 standard library only).

Everything here is deterministic: content comes from SHA-256 counter streams seeded
by fixed strings, gzip members carry mtime 0 and no name, tar members carry fixed
mtime/owner, so two runs give the same bytes.

Subcommands (see make-images.sh for how they are used):
  bank DIR ...             write the files of one ESXi boot bank into DIR, facts into DIR.json
  esp DIR [--legacy]       write the files of an ESP (or of a 4.x boot partition) into DIR
  store DIR                write the files of a 6.x store (locker) partition into DIR
  place SRC IMG OFF [--magic-at N --uuid HEX]
                           copy the non-zero 4 KiB blocks of SRC to byte OFF of IMG (like dd
                           conv=notrunc,sparse), then write "VMWARE FAT16    " + UUID at OFF+N
  extract IMG OFF SIZE OUT copy a byte range of IMG into a new sparse file
  magic IMG OFF UUID       write "VMWARE FAT16    " + 16-byte UUID at byte OFF of IMG
  mbr IMG ...              write a legacy ESXi MBR with extended/logical partitions (EBRs)
  mbr-set IMG --entry ...  rewrite the four primary entries of sector 0 (hybrid MBRs)
  gpt4k IMG ...            write protective MBR + primary/backup GPT for 4096-byte sectors
  gpt-corrupt IMG WHICH    flip a byte of the header CRC of the primary/backup GPT
  regzip-flip SRC DST      gunzip SRC, change one byte, gzip again into DST (prints facts)
  truncate SRC DST N       copy the first N bytes of SRC into DST
  flip SRC DST OFF         copy SRC with one byte XOR 0xFF (negative OFF: from the end)
  fat-chain IMG OFF NAME   where a root-directory file of the FAT16 at byte OFF lies (JSON)
  fat-damage IMG OFF KIND NAME [--other NAME]   loop / crosslink / mismatch damage of a FAT16
  sum FILE...              sparse-aware content digest (check-reproducible.sh)
  manifest FACTS OUT       merge the facts written by make-images.sh into the manifest, replay
                           the loader (ESXI.md §4) and fail when it disagrees with the expectations
"""
import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import struct
import sys
import tarfile
import uuid as uuidlib
import zlib

EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1662000000"))
# Multiplies every payload's size: 1 for the fixtures; the benchmark builds real-sized banks.
PAYLOAD_SCALE = max(1, int(os.environ.get("BOOTBANK_PAYLOAD_SCALE", "1")))
MAGIC = b"VMWARE FAT16    "

# ---------------------------------------------------------------------------
# deterministic content


def stream(seed: str, n: int) -> bytes:
    out = bytearray()
    i = 0
    s = seed.encode()
    while len(out) < n:
        out += hashlib.sha256(s + i.to_bytes(8, "little")).digest()
        i += 1
    return bytes(out[:n])


WORDS = [w.encode() for w in (
    "vmk vmkernel module esx base driver storage vmfs boot bank hypervisor "
    "config vsan net nic scsi nvme usb pci cpu mem numa sched heap slab init "
    "load map page tlb irq timer clock acpi smbios uefi efi grub vib payload "
    "image profile state local host user opts feature jump start tardisk "
    "visor vmtar gzip crc sha digest upgrade rollback valid dirty invalid").split()]


def content(seed: str, n: int) -> bytes:
    """Half text made of words (compressible), half random bytes, interleaved."""
    rnd = stream(seed, n)
    out = bytearray()
    i = 0
    while len(out) < n:
        block = rnd[i:i + 64]
        if not block:
            block = stream(seed + str(len(out)), 64)
        if (i // 64) % 2 == 0:
            for b in block:
                out += WORDS[b % len(WORDS)] + b" "
        else:
            out += block
        i += 64
    return bytes(out[:n])


def gz(data: bytes, level: int = 9) -> bytes:
    # RFC 1952 member: no FNAME, MTIME 0, OS 3 (Unix), as `gzip -n -9` writes it.
    co = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    body = co.compress(data) + co.flush()
    xfl = 2 if level == 9 else (4 if level == 1 else 0)
    head = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + bytes([xfl, 3])
    return head + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)


def tar_bytes(members, mtime: int) -> bytes:
    """members: list of (name, bytes or None for a directory), written in name order (ustar)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in sorted(members, key=lambda m: m[0]):
            ti = tarfile.TarInfo(name)
            ti.mtime = mtime
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            else:
                ti.mode = 0o644
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def digests(data: bytes):
    return hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest()


# ---------------------------------------------------------------------------
# one bank

# (payload name, file on the bank, payload type, decompressed size, per-host?)
PAYLOADS_7 = [
    ("esx-base", "b", "b.b00", "boot", 16 * 1024, False),
    ("esx-base", "jumpstrt", "jumpstrt.gz", "boot", 0, True),
    ("esx-base", "useropts", "useropts.gz", "boot", 0, True),
    ("esx-base", "features", "features.gz", "boot", 0, True),
    ("esx-base", "k", "k.b00", "boot", 96 * 1024, False),
    ("esx-base", "s", "s.v00", "vgz", 192 * 1024, False),
    ("esx-base", "sb", "sb.v00", "vgz", 256 * 1024, False),
    ("esx-ui", "esx-ui", "esx_ui.v00", "vgz", 48 * 1024, False),
    ("esx-base", "basemisc", "basemisc.tgz", "tgz", 0, False),
]
PAYLOADS_6 = [p for p in PAYLOADS_7 if p[1] != "basemisc"]
# Payloads a profile maps that no bank holds (the bootbank installer writes only boot, vgz and
# tgz): (VIB, payload name, 8.3 name in the profile, type, size as shipped).
NOT_ON_BANK = [
    ("esx-base", "BOOTx64.EFI", "bootx64..b00", "boot_loader_efi", 4096),
    ("esx-base", "isoinfo", "isoinfo.u00", "upgrade", 2048),
]
# boot-order of the boot and vgz payloads, as a real esx-base descriptor gives them
BOOT_ORDER = {"b": 10, "jumpstrt": 47, "useropts": 48, "features": 49, "k": 50, "s": 100, "sb": 100}

MODULES_7 = ["jumpstrt.gz", "useropts.gz", "features.gz", "k.b00", "s.v00", "sb.v00",
             "esx_ui.v00", "basemisc.tgz", "imgdb.tgz", "state.tgz"]
MODULES_6 = [m for m in MODULES_7 if m != "basemisc.tgz"]

UI_VERSION = {"7": "1.43.8-19798623", "6": "1.34.0-15603211"}


def profile_name(build: str) -> str:
    # 7.0.3-0.55.20328353 -> ESXi-7.0.3-20328353-standard
    return f"ESXi-{build.split('-')[0]}-{build.split('.')[-1]}-standard"


def per_host(name: str, host: str) -> bytes:
    if name == "useropts":
        return b"autoPartition=FALSE\n"
    if name == "features":
        return b"# ESXi features: none enabled on " + host.encode() + b"\n"
    if name == "jumpstrt":
        return b"jumpstart plugins of " + host.encode() + b"\n" + content("jumpstrt/" + host, 2048)
    raise ValueError(name)


def payload_plain(vib, pname, ptype, size, build) -> bytes:
    if ptype == "tgz":
        return tar_bytes([
            ("etc/", None),
            ("etc/vmware/", None),
            ("etc/vmware/basemisc.conf", b"# basemisc " + build.encode() + b"\n"),
            ("usr/", None),
            ("usr/lib/", None),
            ("usr/lib/vmware/", None),
            ("usr/lib/vmware/misc.bin", content("basemisc/" + build, 8 * 1024)),
        ], EPOCH)
    return content(f"{vib}/{pname}/{build}", size)


def vib_xml(vib: str, version: str, payloads, orig: bool = False) -> bytes:
    """A descriptor as ESXi's image database keeps it: one line, no XML declaration, elements in
    the real order, checksums gunzip SHA-256, shipped SHA-256, gunzip SHA-1. `orig`: the
    descriptor as shipped (`.xml.orig`), whose release-date lacks the "+00:00" ESXi adds."""
    summary = "ESXi base system" if vib == "esx-base" else "VMware Host Client"
    date = "2022-09-01T00:00:00.000000" + ("" if orig else "+00:00")
    x = ['<vib version="5.0">', '<type>bootbank</type>', f'<name>{vib}</name>',
         f'<version>{version}</version>', '<vendor>VMware</vendor>',
         f'<summary>{summary}</summary>', f'<description>{summary}</description>',
         f'<release-date>{date}</release-date>', '<urls/>',
         '<relationships><depends/><conflicts/><replaces/><provides/><compatibleWith/></relationships>',
         '<software-tags/>', '<system-requires><maintenance-mode>true</maintenance-mode></system-requires>',
         '<file-list/>', '<acceptance-level>certified</acceptance-level>',
         '<live-install-allowed>false</live-install-allowed>', '<live-remove-allowed>false</live-remove-allowed>',
         '<cimom-restart>false</cimom-restart>', '<stateless-ready>true</stateless-ready>',
         '<overlay>false</overlay>', '<payloads>']
    for p in sorted(payloads, key=lambda p: p["name"]):
        attrs = f'name="{p["name"]}" type="{p["type"]}"'
        if p["name"] in BOOT_ORDER:
            attrs += f' boot-order="{BOOT_ORDER[p["name"]]}"'
        if p.get("perHost"):
            attrs += f' vfat-name="{p["file"]}"'
        x.append(f'<payload {attrs} size="{p["shippedSize"]}">')
        if p.get("gunzipSHA256"):
            x.append(f'<checksum checksum-type="sha-256" verify-process="gunzip">{p["gunzipSHA256"]}</checksum>')
        x.append(f'<checksum checksum-type="sha-256">{p["shippedSHA256"]}</checksum>')
        if p.get("gunzipSHA1"):
            x.append(f'<checksum checksum-type="sha-1" verify-process="gunzip">{p["gunzipSHA1"]}</checksum>')
        x.append('</payload>')
    x += ['</payloads>', '</vib>']
    return "".join(x).encode()


def signature(member: str) -> bytes:
    """Stands for the `.xml.sig` beside a descriptor: a PEM PKCS#7 block of the real ones' size
    (2122 bytes), deterministic bytes inside (nothing reads it)."""
    body = base64.b64encode(b"\x30\x82\x05\xfb" + stream("sig/" + member, 1530)).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN PKCS7-----\n" + "\n".join(lines) + "\n-----END PKCS7-----\n").encode()


def profile_xml(name: str, build: str, vibs) -> bytes:
    """The image profile as ESXi keeps it: one line, elements in the real order."""
    x = ['<imageprofile>', f'<name>{name}</name>', '<creator>VMware, Inc.</creator>',
         f'<profileID>{hashlib.sha1(name.encode()).hexdigest()[:32]}</profileID>',
         '<creationtime>2022-09-01T00:00:00.000000+00:00</creationtime>',
         '<modifiedtime>2022-09-01T00:00:00.000000+00:00</modifiedtime>',
         f'<serialno>{len(vibs)}</serialno>',
         f'<description>{build}: standard image profile (bootbank test fixture)</description>',
         '<readonly>true</readonly>', '<viblist>']
    for vibid, pls in vibs:
        x += ['<vib>', f'<vib-id>{vibid}</vib-id>', '<payloads>']
        for pname, fname in pls:
            x.append(f'<payload payload-name="{pname}">{fname}</payload>')
        x += ['</payloads>', '</vib>']
    x += ['</viblist>', '<acceptancelevel>partner</acceptancelevel>', '</imageprofile>']
    return "".join(x).encode()


def boot_cfg(build, updated, bootstate, modules, quickboot=None, late=False, blank=False,
             title="Loading VMware ESXi") -> bytes:
    kernelopt = "autoPartition=FALSE"
    if late:
        # a long (valid) kernelopt pushes a trailing bootstate= line past byte 512
        kernelopt += " " + " ".join(f"opt{i}=TRUE" for i in range(40))
    keys = []
    if bootstate is not None and not late:
        # blank: "bootstate = N": the reader's key is "bootstate " (no key matches), the writer's
        # scan skips blanks before "=" and finds it
        keys.append(f"bootstate = {bootstate}" if blank else f"bootstate={bootstate}")
    keys += [f"title={title}", "timeout=5", "prefix=", "kernel=b.b00",
             f"kernelopt={kernelopt}", "modules=" + " --- ".join(modules),
             f"build={build}", f"updated={updated}"]
    if quickboot is not None:
        keys.append(f"quickboot={quickboot}")
    if bootstate is not None and late:
        keys.append(f"bootstate={bootstate}")
    return ("\n".join(keys) + "\n").encode()


def cmd_bank(a):
    os.makedirs(a.dir, exist_ok=True)
    major = a.build.split(".")[0] if a.build else a.family
    family = "6" if (a.family or major) == "6" else "7"
    pls = PAYLOADS_6 if family == "6" else PAYLOADS_7
    modules = MODULES_6 if family == "6" else MODULES_7
    files = {}
    vibs = {}
    ver = a.payload_build
    for vib, pname, fname, ptype, size, host in pls:
        vversion = UI_VERSION[family] if vib == "esx-ui" else ver
        if host:
            plain_profile = b""          # the descriptor holds the digests of an empty gzip
            plain_bank = per_host(pname, a.host)
        else:
            plain_profile = plain_bank = payload_plain(vib, pname, ptype, size * PAYLOAD_SCALE, ver)
        shipped = gz(plain_profile, 6)   # as in the depot: another compression level
        bank = gz(plain_bank, 9)         # as the installer wrote it on the bank
        files[fname] = bank
        s256, s1 = digests(plain_profile)
        vibs.setdefault((vib, vversion), []).append({
            "name": pname, "file": fname, "type": ptype,
            "shippedSize": len(shipped), "shippedSHA256": hashlib.sha256(shipped).hexdigest(),
            "gunzipSHA256": s256, "gunzipSHA1": s1, "perHost": host, "onBank": True})
    for vib, pname, fname, ptype, size in NOT_ON_BANK:
        shipped = stream(f"{vib}/{pname}/{ver}", size)
        vibs[(vib, ver)].append({
            "name": pname, "file": fname, "type": ptype, "shippedSize": len(shipped),
            "shippedSHA256": hashlib.sha256(shipped).hexdigest(), "perHost": False, "onBank": False})
    pname = profile_name(ver)
    members = [("var/", None), ("var/db/", None), ("var/db/esximg/", None),
               ("var/db/esximg/profiles/", None), ("var/db/esximg/vibs/", None)]
    profile_vibs = []
    vib_files = {}
    for (vib, vversion), plist in vibs.items():
        vibid = f"VMware_bootbank_{vib}_{vversion}"
        h = int(hashlib.sha1(vibid.encode()).hexdigest()[:8], 16)
        xmlname = f"var/db/esximg/vibs/{vib}-{h:010d}.xml"
        members.append((xmlname, vib_xml(vib, vversion, plist)))
        # beside each descriptor, as on a real host: its signature and the descriptor as
        # shipped (the same bytes when ESXi changed nothing, as for esx-ui on that host)
        members.append((xmlname + ".sig", signature(xmlname)))
        members.append((xmlname + ".orig", vib_xml(vib, vversion, plist, orig=vib != "esx-ui")))
        profile_vibs.append((vibid, [(p["name"], p["file"]) for p in plist]))
        vib_files[vibid] = xmlname
    # the profile's member name is its name and a number, as ESXi saves it
    profile_member = f"var/db/esximg/profiles/{pname}{int(hashlib.sha1(pname.encode()).hexdigest()[:7], 16)}"
    members.append((profile_member, profile_xml(pname, ver, profile_vibs)))
    files["imgdb.tgz"] = gz(tar_bytes(members, EPOCH))
    local = tar_bytes([
        ("etc/", None), ("etc/vmware/", None),
        ("etc/vmware/esx.conf", f'/adv/Misc/HostName = "{a.host}"\n/resourceGroups/version = "{ver.split("-")[0]}"\n'.encode()),
        ("etc/hosts", f"127.0.0.1 localhost\n192.0.2.10 {a.host}\n".encode()),
        ("etc/shadow", b"root:*:19236:0:99999:7:::\n"),
    ], EPOCH)
    files["state.tgz"] = gz(tar_bytes([("local.tgz", gz(local))], EPOCH))
    bs = None if a.bootstate == "none" else a.bootstate
    files["boot.cfg"] = boot_cfg(a.build, a.updated, bs, modules,
                                 quickboot=a.quickboot, late=a.late, blank=a.blank)
    order = ["boot.cfg", "b.b00"] + modules
    for name in order:
        p = os.path.join(a.dir, name)
        with open(p, "wb") as f:
            f.write(files[name])
        os.utime(p, (EPOCH, EPOCH))
    cfg = files["boot.cfg"]
    pos = cfg.find(b"bootstate")
    numeric = all(v is None or v == "" or v.isdigit() for v in (a.updated, bs, a.quickboot))
    facts = {
        "build": a.build, "updated": int(a.updated) if a.updated.isdigit() else a.updated,
        # as the loader's reader sees it: null when no line has the key "bootstate"
        "bootstate": None if (bs is None or a.blank) else int(bs),
        "bootstateLine": next((l for l in cfg.decode().split("\n") if l.startswith("bootstate")), None),
        "bootCfgParses": numeric,
        "quickboot": None if a.quickboot is None else int(a.quickboot),
        "bootstateOffset": None if pos < 0 else pos,
        "host": a.host, "payloadBuild": ver, "profile": pname,
        "profilePath": profile_member,
        "vibDescriptors": vib_files,
        "bootCfgSHA256": hashlib.sha256(cfg).hexdigest(),
        "files": [{"name": n, "size": len(files[n]), "sha256": hashlib.sha256(files[n]).hexdigest()}
                  for n in order],
        "payloads": [dict(p, vib=vib) for (vib, _), pl in vibs.items() for p in pl],
        "copyOrder": order,
    }
    with open(a.dir.rstrip("/") + ".json", "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
    print(" ".join(order))


def cmd_esp(a):
    tree = {
        "EFI/BOOT/BOOTX64.EFI": content("esp/bootx64", 24 * 1024),
        "EFI/BOOT/CRYPTO64.EFI": content("esp/crypto64", 12 * 1024),
        "EFI/BOOT/SAFEBOOT.EFI": content("esp/safeboot", 16 * 1024),
        "EFI/VMware/mboot64.efi": content("esp/mboot64", 20 * 1024),
        "EFI/VMware/safeboot64.efi": content("esp/safeboot64", 16 * 1024),
        "EFI/VMware/crypto64.efi": content("esp/crypto64", 12 * 1024),
    }
    if a.legacy:
        tree = {"mboot.c32": content("mbr/mboot", 8 * 1024),
                "syslinux.cfg": b"DEFAULT safeboot.c32\n",
                "safeboot.c32": content("mbr/safeboot", 8 * 1024),
                "ldlinux.sys": content("mbr/ldlinux", 16 * 1024)}
    write_tree(a.dir, tree)


def cmd_store(a):
    write_tree(a.dir, {"packages/6.7.0/vmtools/windows.iso": content("store/windows", 32 * 1024),
                       "packages/6.7.0/vmtools/linux.iso": content("store/linux", 16 * 1024),
                       "var/core/.keep": b""})


def write_tree(d, tree):
    for rel, data in sorted(tree.items()):
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    for root, dirs, fs in os.walk(d):
        for n in dirs + fs:
            os.utime(os.path.join(root, n), (EPOCH, EPOCH))
    os.utime(d, (EPOCH, EPOCH))


# ---------------------------------------------------------------------------
# raw structures

def data_extents(f, start, end):
    """(offset, length) of the data (non-hole) ranges of f within [start, end)."""
    fd = f.fileno()
    pos = start
    while pos < end:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            return
        if d >= end:
            return
        h = min(os.lseek(fd, d, os.SEEK_HOLE), end)
        yield d, h - d
        pos = h


def copy_data(src, soff, dst, doff, length):
    """like dd conv=notrunc,sparse: 4 KiB blocks of zeros are skipped, not written"""
    zero = bytes(4096)
    with open(src, "rb") as fi, open(dst, "r+b" if os.path.exists(dst) else "w+b") as fo:
        for d, n in data_extents(fi, soff, soff + length):
            fi.seek(d)
            pos = d
            while n > 0:
                chunk = fi.read(min(n, 1 << 20))
                for i in range(0, len(chunk), 4096):
                    blk = chunk[i:i + 4096]
                    if blk != zero[:len(blk)]:
                        fo.seek(doff + pos + i - soff)
                        fo.write(blk)
                pos += len(chunk)
                n -= len(chunk)
        if fo.seek(0, os.SEEK_END) < doff + length:
            fo.truncate(doff + length)


def cmd_place(a):
    """write the data extents of SRC at byte OFFSET of IMG (holes of SRC are not written)"""
    copy_data(a.src, 0, a.img, a.offset, os.path.getsize(a.src))
    if a.uuid:
        with open(a.img, "r+b") as f:
            f.seek(a.offset + a.magic_at)
            f.write(MAGIC + bytes.fromhex(a.uuid))


def cmd_extract(a):
    """copy bytes [OFFSET, OFFSET+SIZE) of IMG into a new sparse file OUT"""
    if os.path.exists(a.out):
        os.unlink(a.out)
    copy_data(a.img, a.offset, a.out, 0, a.size)


def cmd_sum(a):
    """A content digest that reads only the data extents of sparse files: SHA-256 over the size
    and every 4 KiB block that is not all zeros, with its offset. Equal contents give equal
    digests whatever the hole layout; any differing byte gives a different digest."""
    zero = bytes(4096)
    for name in a.files:
        h = hashlib.sha256()
        size = os.path.getsize(name)
        h.update(size.to_bytes(8, "little"))
        with open(name, "rb") as f:
            for d, n in data_extents(f, 0, size):
                start = d - d % 4096
                f.seek(start)
                end = d + n
                pos = start
                while pos < end:
                    blk = f.read(min(1 << 20, end - pos + (-(end - pos)) % 4096))
                    if not blk:
                        break
                    for i in range(0, len(blk), 4096):
                        b = blk[i:i + 4096]
                        if b != zero[:len(b)]:
                            h.update((pos + i).to_bytes(8, "little"))
                            h.update(b)
                    pos += len(blk)
        print(f"{h.hexdigest()}  {name}")


def cmd_magic(a):
    u = bytes.fromhex(a.uuid)
    assert len(u) == 16
    with open(a.img, "r+b") as f:
        f.seek(a.offset)
        f.write(MAGIC + u)


def chs(lba):
    heads, spt = 255, 63
    c = lba // (heads * spt)
    if c > 1023:
        return b"\xfe\xff\xff"
    h = (lba // spt) % heads
    s = lba % spt + 1
    return bytes([h, ((c >> 2) & 0xC0) | s, c & 0xFF])


def mbr_entry(boot, typ, start, size):
    return bytes([0x80 if boot else 0]) + chs(start) + bytes([typ]) + chs(start + size - 1) + \
        struct.pack("<II", start, size)


def cmd_mbr(a):
    """--primary N:start:end:type[:active] ... --extended N:start:end --logical start:end:type ..."""
    size = os.path.getsize(a.img)
    with open(a.img, "r+b") as f:
        mbr = bytearray(512)
        mbr[440:444] = struct.pack("<I", int(a.signature, 16))
        ext = None
        for spec in a.primary:
            parts = spec.split(":")
            n, s, e, t = int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3], 16)
            active = len(parts) > 4 and parts[4] == "active"
            mbr[446 + 16 * (n - 1):446 + 16 * n] = mbr_entry(active, t, s, e - s + 1)
            if t in (0x05, 0x0F, 0x85):
                ext = (s, e)
        mbr[510:512] = b"\x55\xaa"
        f.seek(0)
        f.write(mbr)
        logical = [tuple(int(x, 16) if i == 2 else int(x) for i, x in enumerate(spec.split(":")))
                   for spec in a.logical]
        for i, (s, e, t) in enumerate(logical):
            ebr_lba = s - a.ebr_gap
            ebr = bytearray(512)
            ebr[446:462] = mbr_entry(False, t, a.ebr_gap, e - s + 1)
            if i + 1 < len(logical):
                ns, ne, _ = logical[i + 1]
                nebr = ns - a.ebr_gap
                ebr[462:478] = mbr_entry(False, 0x05, nebr - ext[0], ne - nebr + 1)
            ebr[510:512] = b"\x55\xaa"
            f.seek(ebr_lba * 512)
            f.write(ebr)
        assert size >= (ext[1] + 1) * 512


def cmd_mbr_set(a):
    """rewrite the four primary entries of sector 0 (N:type:start:end[:active]; others zeroed),
    keeping bytes 0-445 and the 0x55AA signature"""
    ents = bytearray(64)
    out = []
    for spec in a.entry:
        parts = spec.split(":")
        n, t, s0, e = int(parts[0]), int(parts[1], 16), int(parts[2]), int(parts[3])
        active = len(parts) > 4 and parts[4] == "active"
        ents[16 * (n - 1):16 * n] = mbr_entry(active, t, s0, e - s0 + 1)
        out.append({"entry": n, "type": f"0x{t:02x}", "startLBA": s0, "sectors": e - s0 + 1, "bootFlag": "0x80" if active else "0x00"})
    with open(a.img, "r+b") as f:
        f.seek(446)
        f.write(ents)
    print(json.dumps(out))


def guid_bytes(g: str) -> bytes:
    return uuidlib.UUID(g).bytes_le


def cmd_gpt4k(a):
    ss = a.sector_size
    total = os.path.getsize(a.img) // ss
    nent, esz = 128, 128
    esectors = nent * esz // ss
    first_usable = 2 + esectors
    last_usable = total - 1 - esectors - 1
    entries = bytearray(nent * esz)
    for spec in a.part:
        n, s, e, t, name, pg = spec.split(":", 5)
        n, s, e = int(n), int(s), int(e)
        assert first_usable <= s <= e <= last_usable, spec
        ent = guid_bytes(t) + guid_bytes(pg) + struct.pack("<QQQ", s, e, 0) + \
            name.encode("utf-16-le").ljust(72, b"\0")
        entries[(n - 1) * esz:n * esz] = ent
    ecrc = zlib.crc32(entries) & 0xFFFFFFFF

    def header(my, alt, ent_lba):
        h = bytearray(struct.pack("<8sIII I QQQQ 16s QII I", b"EFI PART", 0x00010000, 92, 0, 0,
                                  my, alt, first_usable, last_usable, guid_bytes(a.disk_guid),
                                  ent_lba, nent, esz, ecrc))
        h[16:20] = struct.pack("<I", zlib.crc32(bytes(h)) & 0xFFFFFFFF)
        return bytes(h).ljust(ss, b"\0")

    pmbr = bytearray(ss)
    pmbr[446:462] = bytes([0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF]) + struct.pack("<II", 1, min(total - 1, 0xFFFFFFFF))
    pmbr[510:512] = b"\x55\xaa"
    with open(a.img, "r+b") as f:
        f.seek(0)
        f.write(pmbr)
        f.write(header(1, total - 1, 2))
        f.write(entries)
        f.seek((total - 1 - esectors) * ss)
        f.write(entries)
        f.write(header(total - 1, 1, total - 1 - esectors))


def cmd_gpt_corrupt(a):
    ss = a.sector_size
    total = os.path.getsize(a.img) // ss
    lba = 1 if a.which == "primary" else total - 1
    off = lba * ss + 16
    with open(a.img, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0xFF]))
    print(json.dumps({"lba": lba, "offset": off, "field": "HeaderCRC32"}))


def cmd_regzip_flip(a):
    data = open(a.src, "rb").read()
    plain = bytearray(gzip.decompress(data))
    before = hashlib.sha256(plain).hexdigest()
    off = a.offset
    plain[off] ^= 0x01
    out = gz(bytes(plain))
    open(a.dst, "wb").write(out)
    os.utime(a.dst, (EPOCH, EPOCH))
    print(json.dumps({"decompressedOffset": off, "gunzipSHA256Before": before,
                      "gunzipSHA256After": hashlib.sha256(plain).hexdigest(),
                      "gunzipSHA1After": hashlib.sha1(plain).hexdigest(),
                      "size": len(out), "sha256": hashlib.sha256(out).hexdigest()}))


def cmd_flip(a):
    data = bytearray(open(a.src, "rb").read())
    off = a.offset if a.offset >= 0 else len(data) + a.offset
    data[off] ^= 0xFF
    open(a.dst, "wb").write(data)
    os.utime(a.dst, (EPOCH, EPOCH))
    print(json.dumps({"fileOffset": off, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}))


def cmd_truncate(a):
    data = open(a.src, "rb").read()[:a.n]
    open(a.dst, "wb").write(data)
    os.utime(a.dst, (EPOCH, EPOCH))
    print(json.dumps({"originalSize": os.path.getsize(a.src), "size": len(data),
                      "sha256": hashlib.sha256(data).hexdigest()}))


# ---------------------------------------------------------------------------
# FAT16 (only what the damage recipes need)

class Fat16:
    def __init__(self, f, off):
        self.f, self.off = f, off
        f.seek(off)
        bs = f.read(512)
        (self.bps, self.spc, self.rsvd, self.nfats, self.nroot, _, _, self.fatsz) = \
            struct.unpack_from("<HBHBHHBH", bs, 11)
        self.fat_off = [off + (self.rsvd + i * self.fatsz) * self.bps for i in range(self.nfats)]
        self.root_off = off + (self.rsvd + self.nfats * self.fatsz) * self.bps
        self.data_off = self.root_off + self.nroot * 32
        self.csize = self.bps * self.spc

    def entry(self, n, copy=0):
        self.f.seek(self.fat_off[copy] + 2 * n)
        return struct.unpack("<H", self.f.read(2))[0]

    def set(self, n, v, copies):
        for c in copies:
            self.f.seek(self.fat_off[c] + 2 * n)
            self.f.write(struct.pack("<H", v))

    def find(self, name):
        base, ext = (name.upper().split(".") + [""])[:2]
        short = base.ljust(8).encode() + ext.ljust(3).encode()
        self.f.seek(self.root_off)
        root = self.f.read(self.nroot * 32)
        for i in range(self.nroot):
            e = root[i * 32:(i + 1) * 32]
            if e[0] == 0:
                break
            if e[0] == 0xE5 or e[11] == 0x0F:
                continue
            if e[:11] == short:
                return {"dirEntryOffset": self.root_off + i * 32, "firstCluster": struct.unpack_from("<H", e, 26)[0],
                        "size": struct.unpack_from("<I", e, 28)[0]}
        raise SystemExit(f"{name}: not in root directory")

    def chain(self, first):
        out, c = [], first
        while 2 <= c < 0xFFF8 and len(out) < 70000:
            out.append(c)
            c = self.entry(c)
        return out

    def cluster_lba(self, c):
        return (self.data_off + (c - 2) * self.csize) // self.bps


def cmd_fat_chain(a):
    with open(a.img, "rb") as f:
        fat = Fat16(f, a.offset)
        e = fat.find(a.name)
        ch = fat.chain(e["firstCluster"])
        print(json.dumps(dict(e, clusters=len(ch), firstLBA=fat.cluster_lba(e["firstCluster"]) if ch else None,
                              sectorSize=fat.bps)))


def cmd_fat_damage(a):
    with open(a.img, "r+b") as f:
        fat = Fat16(f, a.offset)
        e = fat.find(a.name)
        ch = fat.chain(e["firstCluster"])
        out = {"file": a.name, "chain": [ch[0], ch[-1]], "chainLength": len(ch), "fatCopies": fat.nfats}
        if a.kind == "loop":
            # the last cluster points back to the file's third cluster, in every FAT copy
            target = ch[min(2, len(ch) - 1)]
            fat.set(ch[-1], target, range(fat.nfats))
            out.update(cluster=ch[-1], oldValue="EOC", newValue=target)
        elif a.kind == "crosslink":
            other = fat.find(a.other)
            och = fat.chain(other["firstCluster"])
            # cluster 2 of this file now continues into the middle of the other file's chain
            c = ch[1]
            target = och[len(och) // 2]
            fat.set(c, target, range(fat.nfats))
            out.update(cluster=c, oldValue=ch[2], newValue=target, otherFile=a.other,
                       lostClusters=len(ch) - 2, sharedClusters=len(och) - len(och) // 2)
        elif a.kind == "mismatch":
            # only the second FAT copy: the file's second cluster is marked end-of-chain
            c = ch[1]
            fat.set(c, 0xFFFF, [1])
            out.update(cluster=c, copy=1, oldValue=ch[2], newValue=0xFFFF)
        c = out["cluster"]
        out["fatEntryOffsets"] = [fo + 2 * c for fo in fat.fat_off]   # bytes from the start of the image
        out["fatEntryOffsetsInPartition"] = [fo + 2 * c - a.offset for fo in fat.fat_off]
        out["fatEntryLBAs"] = [(fo + 2 * c) // fat.bps for fo in fat.fat_off]
        out["clusterLBA"] = fat.cluster_lba(c)
        print(json.dumps(out))


# ---------------------------------------------------------------------------
# manifest: merge facts and replay the loader (ESXI.md §4) as a cross-check

def volumes_uuid(hexs):
    b = bytes.fromhex(hexs)
    a, c, d, e = struct.unpack("<IIH6s", b)
    return f"{a:08x}-{c:08x}-{d:04x}-{e.hex()}"


def replay(banks):
    """banks: in partition order, each with updated/build/bootstate/quickboot/bootstateOffset/isBank."""
    scanned, rollback = [], False
    for b in banks:
        if len(scanned) >= 3:
            b.update(scanned=False, dropped=False, bootable=False, bootstateAfter=None,
                     reason="not scanned: the loader stopped after three banks")
            continue
        if not b["isBank"]:
            why = ("boot.cfg rejected by the loader's reader (an integer option is not numeric)"
                   if b.get("bootCfgParses") is False else "no VMware magic/UUID in sector 1")
            b.update(scanned=False, dropped=False, bootable=False, bootstateAfter=None,
                     reason="not a bank: " + why)
            continue
        state = 0 if b["bootstate"] is None else b["bootstate"]
        valid, reasons = True, []
        try:
            upd = int(b["updated"])
        except (TypeError, ValueError):
            upd = 0
        if upd <= 0:
            valid = False
            reasons.append("updated=0")
        if not b["build"]:
            valid = False
            reasons.append("empty build")
        upgrading = state in (1, 2)
        if state == 1:
            new = 2
        elif state == 2:
            new = 3
            reasons.append("trial boot failed (bootstate 2)")
        elif state in (0, 3):
            new = state
            if state == 3:
                reasons.append("bootstate=3 (INVALID)")
        else:
            valid, new = False, 3
            reasons.append(f"bootstate={state} is not a loader state")
        if b.get("quickboot"):
            valid, upgrading, new = False, False, 3
            reasons.append("quickboot one-shot bank")
        if upgrading and not valid:
            rollback, new = True, 3
        dropped = False
        if new != state:
            off = b["bootstateOffset"]
            if off is None or off + len("bootstate=") >= 512 or b["bootstate"] not in (0, 1, 2, 3):
                dropped = True
        if dropped:
            b.update(scanned=True, dropped=True, bootable=False, bootstateAfter=None,
                     reason="dropped: the new bootstate cannot be written (no bootstate=0-3 in the first 512 bytes)")
            continue
        if new not in (0, 2):
            valid = False
        b.update(scanned=True, dropped=False, bootable=valid, bootstateAfter=new,
                 reason="ok" if valid else "; ".join(reasons) or "invalid")
        scanned.append(b)
    best = None
    for b in scanned:
        if b["bootable"] and (best is None or int(b["updated"]) > int(best["updated"])):
            best = b
    fallback = None
    others = [b for b in scanned if b is not best]
    cands = [b for b in others if b["bootable"]]
    if cands:
        fb = cands[0]
        for b in cands[1:]:
            if int(b["updated"]) > int(fb["updated"]):
                fb = b
        fallback = {"partition": fb["partition"], "bootable": True}
    elif others:
        fallback = {"partition": others[0]["partition"], "bootable": False}
    return best, rollback, fallback


def cmd_manifest(a):
    images = {}
    order = []
    with open(a.facts) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            img = r.pop("image")
            if img not in images:
                images[img] = {"partitions": [], "banks": [], "damage": []}
                order.append(img)
            d = images[img]
            kind = r.pop("fact")
            if kind == "image":
                d.update(r)
            elif kind == "partition":
                d["partitions"] = [p for p in d["partitions"] if p["number"] != r["number"]] + [r]
            elif kind == "fs":
                for p in d["partitions"]:
                    if p["number"] == r["number"]:
                        p.update(r)
                        break
                else:
                    sys.exit(f"manifest: {img}: fs fact for unknown partition {r['number']}")
            elif kind == "bank":
                facts = json.load(open(r.pop("factsFile")))
                old = [b for b in d["banks"] if b["partition"] == r["partition"]]
                keep = {k: old[0][k] for k in ("onDiskNames",) if old and k in old[0]}
                d["banks"] = [b for b in d["banks"] if b["partition"] != r["partition"]]
                d["banks"].append(dict(keep, **r, **facts))
            elif kind == "set-bank":
                for b in d["banks"]:
                    if b["partition"] == r["partition"]:
                        b.update(r["values"])
            elif kind == "damage":
                d["damage"].append(r)
            elif kind == "expect":
                d["expected"] = r
            elif kind == "copy":
                src = images[r["from"]]
                d.update(json.loads(json.dumps({k: v for k, v in src.items() if k not in ("damage", "expected", "scenario", "history", "derivedFrom")})))
                d["derivedFrom"] = r["from"]
    problems = []
    out = {}
    for img in order:
        d = images[img]
        d["partitions"].sort(key=lambda p: p["number"])
        for p in d["partitions"]:
            if p.get("vmwareUUID"):
                p["volumesUUID"] = volumes_uuid(p["vmwareUUID"])
        parts = {p["number"]: p for p in d["partitions"]}
        banks = sorted(d["banks"], key=lambda b: b["partition"])
        for b in banks:
            p = parts[b["partition"]]
            b["uuid"] = p.get("vmwareUUID")
            b["volumesUUID"] = p.get("volumesUUID")
            # vmfat_get_uuid reads the magic at byte offset = bytes per sector only: on 4Kn
            # media a magic at byte 512 (as the 6.7 installer wrote it) makes no bank.
            at512on4kn = d.get("sectorSize") == 4096 and p.get("vmwareUUIDOffset") == 512
            b["isBank"] = bool(p.get("vmwareUUID")) and p.get("magicIntact", True) and \
                b.get("bootCfgPresent", True) and b.get("bootCfgParses", True) and not at512on4kn
        exp = d.get("expected")
        if exp is None:
            problems.append(f"{img}: no expectation")
            continue
        if d.get("loaderTable") == "mbr" and d.get("table") == "gpt":
            best, rollback, fallback = None, False, None
            for b in banks:
                b.update(scanned=False, dropped=False, bootable=False, bootstateAfter=None,
                         reason="the loader reads the MBR (entry 1 is not type 0xEE at LBA 1 with boot "
                                "flag 0) and sees no bank partition")
        elif not d.get("loaderReadsTable", True):
            best, rollback, fallback = None, False, None
            for b in banks:
                b.update(scanned=False, dropped=False, bootable=False, bootstateAfter=None,
                         reason="the loader cannot read the partition table")
        else:
            best, rollback, fallback = replay(banks)
        got_next = None if best is None else {"partition": best["partition"], "build": best["build"]}
        if got_next != exp["next"] or rollback != exp["rollback"]:
            problems.append(f"{img}: declared next={exp['next']} rollback={exp['rollback']}, "
                            f"replay gives next={got_next} rollback={rollback}")
        exp["fallback"] = fallback
        if best is None and "message" not in exp:
            exp["message"] = "No hypervisor found."
        d["banks"] = banks
        out[img] = d
    if problems:
        sys.exit("manifest: expectations disagree with the loader replay:\n  " + "\n  ".join(problems))
    doc = {
        "format": "bootbank-image-scenarios/1",
        "generator": "images/make-images.sh",
        "sourceDateEpoch": EPOCH,
        "notes": "Facts come from the generator's inputs. LBAs are in logical sectors of the image "
                 "(sectorSize); offsets are bytes, relative to what their key says. See images/README.md.",
        "images": out,
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("bank")
    p.add_argument("dir")
    p.add_argument("--build", required=True)
    p.add_argument("--payload-build", help="build of the payloads (default: --build)")
    p.add_argument("--family", default=None)
    p.add_argument("--updated", required=True)
    p.add_argument("--bootstate", required=True)
    p.add_argument("--quickboot")
    p.add_argument("--late", action="store_true")
    p.add_argument("--blank", action="store_true", help='write "bootstate = N"')
    p.add_argument("--host", default="esx01")
    p.set_defaults(fn=cmd_bank)
    p = sp.add_parser("esp")
    p.add_argument("dir")
    p.add_argument("--legacy", action="store_true")
    p.set_defaults(fn=cmd_esp)
    p = sp.add_parser("store")
    p.add_argument("dir")
    p.set_defaults(fn=cmd_store)
    p = sp.add_parser("sum")
    p.add_argument("files", nargs="+")
    p.set_defaults(fn=cmd_sum)
    p = sp.add_parser("magic")
    p.add_argument("img")
    p.add_argument("offset", type=int)
    p.add_argument("uuid")
    p.set_defaults(fn=cmd_magic)
    p = sp.add_parser("place")
    p.add_argument("src")
    p.add_argument("img")
    p.add_argument("offset", type=int)
    p.add_argument("--magic-at", type=int, default=512, help="byte offset of the magic in the FAT (its sector size)")
    p.add_argument("--uuid", help="32 hex digits: write VMWARE FAT16 magic + this UUID")
    p.set_defaults(fn=cmd_place)
    p = sp.add_parser("extract")
    p.add_argument("img")
    p.add_argument("offset", type=int)
    p.add_argument("size", type=int)
    p.add_argument("out")
    p.set_defaults(fn=cmd_extract)
    p = sp.add_parser("mbr")
    p.add_argument("img")
    p.add_argument("--signature", required=True)
    p.add_argument("--primary", action="append", default=[])
    p.add_argument("--logical", action="append", default=[])
    p.add_argument("--ebr-gap", type=int, default=32)
    p.set_defaults(fn=cmd_mbr)
    p = sp.add_parser("mbr-set")
    p.add_argument("img")
    p.add_argument("--entry", action="append", default=[])
    p.set_defaults(fn=cmd_mbr_set)
    p = sp.add_parser("gpt4k")
    p.add_argument("img")
    p.add_argument("--sector-size", type=int, default=4096)
    p.add_argument("--disk-guid", required=True)
    p.add_argument("--part", action="append", default=[])
    p.set_defaults(fn=cmd_gpt4k)
    p = sp.add_parser("gpt-corrupt")
    p.add_argument("img")
    p.add_argument("which", choices=["primary", "backup"])
    p.add_argument("--sector-size", type=int, default=512)
    p.set_defaults(fn=cmd_gpt_corrupt)
    p = sp.add_parser("regzip-flip")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--offset", type=int, default=4096)
    p.set_defaults(fn=cmd_regzip_flip)
    p = sp.add_parser("flip")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("offset", type=int, help="byte to XOR with 0xFF; negative: from the end")
    p.set_defaults(fn=cmd_flip)
    p = sp.add_parser("truncate")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("n", type=int)
    p.set_defaults(fn=cmd_truncate)
    p = sp.add_parser("fat-chain")
    p.add_argument("img")
    p.add_argument("offset", type=int)
    p.add_argument("name")
    p.set_defaults(fn=cmd_fat_chain)
    p = sp.add_parser("fat-damage")
    p.add_argument("img")
    p.add_argument("offset", type=int)
    p.add_argument("kind", choices=["loop", "crosslink", "mismatch"])
    p.add_argument("name")
    p.add_argument("--other")
    p.set_defaults(fn=cmd_fat_damage)
    p = sp.add_parser("manifest")
    p.add_argument("facts")
    p.add_argument("out")
    p.set_defaults(fn=cmd_manifest)
    a = ap.parse_args()
    if getattr(a, "payload_build", "x") is None:
        a.payload_build = a.build
    a.fn(a)


if __name__ == "__main__":
    main()
