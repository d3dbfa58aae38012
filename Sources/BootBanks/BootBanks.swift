// BootBanks
