// PartitionTable
