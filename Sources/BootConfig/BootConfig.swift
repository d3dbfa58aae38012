// BootConfig
