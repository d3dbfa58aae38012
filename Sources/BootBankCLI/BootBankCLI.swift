// BootBankCLI
