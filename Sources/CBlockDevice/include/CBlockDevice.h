#ifndef CBLOCKDEVICE_H
#define CBLOCKDEVICE_H
/// ioctl request numbers Swift cannot import (they are function-like macros).
extern const unsigned long CBlockDevice_BLKGETSIZE64;
extern const unsigned long CBlockDevice_BLKSSZGET;
extern const unsigned long CBlockDevice_BLKPBSZGET;
extern const unsigned long CBlockDevice_BLKFLSBUF;
/// ioctl with one pointer argument (Swift cannot call the variadic ioctl).
int CBlockDevice_ioctl_ptr(int fd, unsigned long request, void *arg);
#endif
