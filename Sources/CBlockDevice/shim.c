#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include "CBlockDevice.h"
const unsigned long CBlockDevice_BLKGETSIZE64 = BLKGETSIZE64;
const unsigned long CBlockDevice_BLKSSZGET = BLKSSZGET;
const unsigned long CBlockDevice_BLKPBSZGET = BLKPBSZGET;
const unsigned long CBlockDevice_BLKFLSBUF = BLKFLSBUF;
const unsigned long CBlockDevice_BLKROGET = BLKROGET;
int CBlockDevice_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
const int CBlockDevice_SEEK_DATA = SEEK_DATA;
const int CBlockDevice_SEEK_HOLE = SEEK_HOLE;
const int CBlockDevice_O_DIRECT = O_DIRECT;
