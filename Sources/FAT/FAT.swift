// FAT
