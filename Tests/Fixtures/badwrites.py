#!/usr/bin/python3
"""Serve one image file through FUSE, writable, with sectors that cannot be written.

usage: badwrites.py IMAGE MOUNTPOINT FIRST_BAD_BYTE BAD_BYTE_COUNT

The mount holds one file, `disk.img`, backed by IMAGE (writes go to IMAGE); any write
that touches [FIRST_BAD_BYTE, FIRST_BAD_BYTE + BAD_BYTE_COUNT) fails with EIO, as a
flash card past its write endurance does; reads all succeed. A loop device over that
file is then a block device whose writes fail there.
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


class BadWrites(pyfuse3.Operations):
    def __init__(self, image, first, count):
        super().__init__()
        self.fd = os.open(image, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size
        self.bad = range(first, first + count)

    async def getattr(self, inode, ctx=None):
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = inode
        if inode == pyfuse3.ROOT_INODE:
            entry.st_mode = stat.S_IFDIR | 0o555
            entry.st_size = 0
        elif inode == FILE_INODE:
            entry.st_mode = stat.S_IFREG | 0o644
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
        info.direct_io = True  # every write reaches us: the page cache must not hide bad sectors
        info.keep_cache = False
        return info

    async def read(self, fh, off, size):
        end = min(off + size, self.size)
        return os.pread(self.fd, end - off, off) if end > off else b""

    async def write(self, fh, off, buf):
        end = off + len(buf)
        if end > self.size:
            raise pyfuse3.FUSEError(errno.ENOSPC)
        if off < self.bad.stop and end > self.bad.start:
            raise pyfuse3.FUSEError(errno.EIO)
        return os.pwrite(self.fd, buf, off)

    async def fsync(self, fh, datasync):
        os.fsync(self.fd)

    async def flush(self, fh):
        pass

    async def release(self, fh):
        pass

def main():
    image, mountpoint, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ops = BadWrites(image, first, count)
    options = set(pyfuse3.default_options)
    options.add("fsname=badwrites")
    options.discard("default_permissions")
    pyfuse3.init(ops, mountpoint, options)
    try:
        trio.run(pyfuse3.main)
    finally:
        pyfuse3.close(unmount=True)


if __name__ == "__main__":
    main()
