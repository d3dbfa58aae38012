// DiskIO
