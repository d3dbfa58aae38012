// swift-tools-version: 6.2
import PackageDescription

let settings: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
  name: "bootbank",
  products: [.executable(name: "bootbank", targets: ["bootbank"])],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
  ],
  targets: [
    // Bytes and errors shared by every parser: little-endian reads, FormatError, GUID, Finding,
    // the ByteSource protocol and an in-memory source.
    .target(name: "DiskFormat", swiftSettings: settings),
    .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CBlkid", pkgConfig: "blkid", providers: [.apt(["libblkid-dev"])]),
    .target(
      name: "Checksum",
      dependencies: ["DiskFormat", "CISAL", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: settings),
    .target(name: "PartitionTable", dependencies: ["DiskFormat", "Checksum"], swiftSettings: settings),
    .target(name: "FAT", dependencies: ["DiskFormat"], swiftSettings: settings),
    .target(name: "BootConfig", swiftSettings: settings),
    // gzip (ISA-L igzip inflate, zlib fallback) and a bounded ustar reader.
    .target(name: "Archive", dependencies: ["DiskFormat", "Checksum", "CISAL", "CZlib"], swiftSettings: settings),
    .target(
      name: "BootBanks",
      dependencies: ["DiskFormat", "PartitionTable", "FAT", "BootConfig", "Checksum", "Archive"],
      swiftSettings: settings),
    .target(name: "CBlockDevice"),
    .target(
      name: "DiskIO",
      dependencies: [
        "DiskFormat", "CBlockDevice", "CBlkid", "CZlib", .product(name: "SystemPackage", package: "swift-system"),
      ],
      swiftSettings: settings + [.strictMemorySafety()]),
    .target(
      name: "BootBankCLI",
      dependencies: [
        "BootBanks", "DiskIO", "PartitionTable", "FAT", "Checksum", "Archive", "DiskFormat",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: settings),
    .executableTarget(name: "bootbank", dependencies: ["BootBankCLI"], swiftSettings: settings),
    // `make bench`: kernel throughput in memory and the two file readers (mmap windows, pread ring).
    .executableTarget(
      name: "bootbank-bench", dependencies: ["Checksum", "CISAL", "CZlib"], path: "Benchmarks/Kernels",
      swiftSettings: settings),
    // `make fuzz`: one libFuzzer target per parser (FuzzTargets), run by bootbank-fuzz, built with
    // -sanitize=fuzzer,address and -D FUZZING (its main starts libFuzzer's driver); a plain build
    // replays saved inputs instead.
    .target(
      name: "FuzzTargets",
      dependencies: ["DiskFormat", "PartitionTable", "FAT", "BootConfig", "Archive", "BootBanks", "Checksum"],
      swiftSettings: settings),
    .target(name: "CLibFuzzer"),
    .executableTarget(
      name: "bootbank-fuzz", dependencies: ["FuzzTargets", "CLibFuzzer"], path: "Sources/BootBankFuzz",
      swiftSettings: settings),

    .target(name: "TestSupport", dependencies: ["DiskFormat"], path: "Tests/TestSupport", swiftSettings: settings),
    .testTarget(name: "DiskFormatTests", dependencies: ["DiskFormat", "TestSupport"], swiftSettings: settings),
    .testTarget(name: "ChecksumTests", dependencies: ["Checksum"], swiftSettings: settings),
    .testTarget(
      name: "PartitionTableTests", dependencies: ["PartitionTable", "Checksum", "TestSupport"], swiftSettings: settings),
    .testTarget(
      name: "FATTests", dependencies: ["FAT", "PartitionTable", "Checksum", "TestSupport"], swiftSettings: settings),
    .testTarget(name: "ArchiveTests", dependencies: ["Archive", "Checksum", "TestSupport"], swiftSettings: settings),
    .testTarget(name: "BootConfigTests", dependencies: ["BootConfig"], swiftSettings: settings),
    .testTarget(name: "BootBanksTests", dependencies: ["BootBanks", "TestSupport"], swiftSettings: settings),
    .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"], swiftSettings: settings),
    .testTarget(name: "DiskIOTests", dependencies: ["DiskIO", "TestSupport"], swiftSettings: settings),
    .testTarget(
      name: "BootBankCLITests",
      dependencies: [
        "BootBankCLI", "BootBanks", "DiskIO", "PartitionTable", "TestSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ], swiftSettings: settings),
  ]
)
