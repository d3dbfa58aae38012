#!/usr/bin/python3
"""Serve one image file through FUSE with a range of sectors that fail, for bad-sector tests.

usage: faultydisk.py reads|writes IMAGE MOUNTPOINT FIRST_BAD_BYTE BAD_BYTE_COUNT

The mount holds one file, `disk.img`, with IMAGE's bytes. With `reads`, the file is read-only
and any read that touches [FIRST_BAD_BYTE, FIRST_BAD_BYTE + BAD_BYTE_COUNT) fails with EIO,
as a worn flash card does. With `writes`, the file is writable (writes go to IMAGE), every
read succeeds and any write that touches the range fails with EIO, as a card past its write
endurance does. A loop device over that file is then a block device with bad sectors.
Runs in the foreground until unmounted (fusermount3 -u MOUNTPOINT).
"""
import errno
import os
import stat
import sys

import pyfuse3
import trio

FILE_INODE = pyfuse3.ROOT_INODE + 1
NAME = b"disk.img"


class FaultyDisk(pyfuse3.Operations):
    def __init__(self, image, first, count, bad_writes):
        super().__init__()
        self.bad_writes = bad_writes
        self.fd = os.open(image, os.O_RDWR if bad_writes else os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        self.bad = range(first, first + count)

    def touches_bad(self, off, end):
        return off < self.bad.stop and end > self.bad.start

    async def getattr(self, inode, ctx=None):
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = inode
        if inode == pyfuse3.ROOT_INODE:
            entry.st_mode = stat.S_IFDIR | 0o555
            entry.st_size = 0
        elif inode == FILE_INODE:
            entry.st_mode = stat.S_IFREG | (0o644 if self.bad_writes else 0o444)
            entry.st_size = self.size
        else:
            raise pyfuse3.FUSEError(errno.ENOENT)
        entry.st_nlink = 1
        entry.attr_timeout = 3600
        entry.entry_timeout = 3600
        return entry

    async def lookup(self, parent, name, ctx=None):
        if parent != pyfuse3.ROOT_INODE or name != NAME:
            raise pyfuse3.FUSEError(errno.ENOENT)
        return await self.getattr(FILE_INODE)

    async def opendir(self, inode, ctx):
        if inode != pyfuse3.ROOT_INODE:
            raise pyfuse3.FUSEError(errno.ENOENT)
        return inode

    async def readdir(self, fh, start_id, token):
        if start_id == 0:
            pyfuse3.readdir_reply(token, NAME, await self.getattr(FILE_INODE), 1)

    async def open(self, inode, flags, ctx):
        if inode != FILE_INODE:
            raise pyfuse3.FUSEError(errno.ENOENT)
        info = pyfuse3.FileInfo(fh=inode)
        info.direct_io = True  # every request reaches us: the page cache must not hide bad sectors
        info.keep_cache = False
        return info

    async def read(self, fh, off, size):
        end = min(off + size, self.size)
        if not self.bad_writes and self.touches_bad(off, end):
            raise pyfuse3.FUSEError(errno.EIO)
        return os.pread(self.fd, end - off, off) if end > off else b""

    async def write(self, fh, off, buf):
        end = off + len(buf)
        if not self.bad_writes:
            raise pyfuse3.FUSEError(errno.EROFS)
        if end > self.size:
            raise pyfuse3.FUSEError(errno.ENOSPC)
        if self.touches_bad(off, end):
            raise pyfuse3.FUSEError(errno.EIO)
        return os.pwrite(self.fd, buf, off)

    async def fsync(self, fh, datasync):
        os.fsync(self.fd)

    async def flush(self, fh):
        pass

    async def release(self, fh):
        pass


def main():
    mode, image, mountpoint = sys.argv[1], sys.argv[2], sys.argv[3]
    first, count = int(sys.argv[4]), int(sys.argv[5])
    if mode not in ("reads", "writes"):
        sys.exit("faultydisk.py: the first argument is reads or writes")
    ops = FaultyDisk(image, first, count, mode == "writes")
    options = set(pyfuse3.default_options)
    options.add("fsname=faultydisk")
    options.discard("default_permissions")
    pyfuse3.init(ops, mountpoint, options)
    try:
        trio.run(pyfuse3.main)
    finally:
        pyfuse3.close(unmount=True)


if __name__ == "__main__":
    main()
