import BootBankCLI

BootBankCommand.start()
