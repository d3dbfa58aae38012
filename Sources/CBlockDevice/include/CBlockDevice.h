#ifndef CBLOCKDEVICE_H
#define CBLOCKDEVICE_H
/// ioctl request numbers Swift cannot import (they are function-like macros).
extern const unsigned long CBlockDevice_BLKGETSIZE64;
extern const unsigned long CBlockDevice_BLKSSZGET;
extern const unsigned long CBlockDevice_BLKPBSZGET;
extern const unsigned long CBlockDevice_BLKFLSBUF;
extern const unsigned long CBlockDevice_BLKROGET;
/// lseek whence values for sparse files (need _GNU_SOURCE, which Swift's Glibc import lacks).
extern const int CBlockDevice_SEEK_DATA;
extern const int CBlockDevice_SEEK_HOLE;
/// open flag for reads that bypass the page cache (and its readahead).
extern const int CBlockDevice_O_DIRECT;
/// ioctl with one pointer argument (Swift cannot call the variadic ioctl).
int CBlockDevice_ioctl_ptr(int fd, unsigned long request, void *arg);
#endif
