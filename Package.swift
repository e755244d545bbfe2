// swift-tools-version:6.0
import PackageDescription

// Layers, inside out (see ../shared/architecture.md): CalciTrackCore (Foundation only) → executables.
// The FHIR, storage and server layers arrive with their issues.
let package = Package(
    name: "calcitrack",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "CalciTrackCore", targets: ["CalciTrackCore"]),
        .executable(name: "calcitrack", targets: ["calcitrack"]),
        .executable(name: "calcitrack-bench", targets: ["calcitrack-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // Foundation is allowed but not needed; libm is linked for rounding on Linux.
        .target(name: "CalciTrackCore", linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        .executableTarget(
            name: "calcitrack",
            dependencies: [
                "CalciTrackCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "calcitrack-bench", dependencies: ["CalciTrackCore"]),
        .testTarget(name: "CalciTrackCoreTests", dependencies: ["CalciTrackCore"]),
    ]
)
