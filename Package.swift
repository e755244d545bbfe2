// swift-tools-version:6.0
import Foundation
import PackageDescription

// Layers, inside out (see ../shared/architecture.md):
//   CalciTrackCore   clinical core (no dependency, no I/O)
//   CalciTrackFHIR   FHIR R4 resources, FHIR <-> registry/case mapping, CDS Hooks types (Core only)
//   CalciTrackServer registry: Vapor + Fluent (SQLite or PostgreSQL), JSON API, users, audit
//   calcitrack       the executable: one file per command, thin

// jemalloc for the `calcitrack` executable, linked statically when Debian's libjemalloc-dev is
// installed (`apt-get install libjemalloc-dev`; nothing is needed where it runs): with glibc's
// malloc `calcitrack import` took about 13 % longer (BENCHMARKS.md, "Memory allocator"). Without
// the package, or with CALCITRACK_MALLOC=glibc, the binary uses glibc's malloc as before.
// `calcitrack serve` and `import` say which one they run with.
let jemallocArchive = ProcessInfo.processInfo.environment["CALCITRACK_MALLOC"] == "glibc" ? nil
    : ["x86_64", "aarch64"].map { "/usr/lib/\($0)-linux-gnu/libjemalloc_pic.a" }.first { FileManager.default.fileExists(atPath: $0) }
let allocatorSwiftSettings: [SwiftSetting] = jemallocArchive == nil ? [] : [.define("CALCITRACK_JEMALLOC")]
// The whole archive, so that every malloc, free and realloc (also Foundation's, SQLite's and libc's own) is jemalloc's.
let allocatorLinkerSettings: [LinkerSetting] = jemallocArchive.map {
    [.unsafeFlags(["-Xlinker", "--whole-archive", "-Xlinker", $0, "-Xlinker", "--no-whole-archive"], .when(platforms: [.linux]))]
} ?? []

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
        .package(url: "https://github.com/vapor/vapor", exact: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent", exact: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver", exact: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver", exact: "2.14.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/JohnSundell/Plot", exact: "0.14.0"),
        // CDS Hooks caller authentication: ES384/RS384 JWTs checked against trusted issuers' JWKS.
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
    ],
    targets: [
        // Foundation is allowed but not needed; libm is linked for rounding on Linux.
        .target(name: "CalciTrackCore", linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        .target(name: "CalciTrackFHIR", dependencies: ["CalciTrackCore"]),
        .target(
            name: "CalciTrackServer",
            dependencies: [
                "CalciTrackCore",
                "CalciTrackFHIR",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Plot", package: "Plot"),
            ]
        ),
        .executableTarget(
            name: "calcitrack",
            dependencies: [
                "CalciTrackCore",
                "CalciTrackFHIR",
                "CalciTrackServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: allocatorSwiftSettings,
            linkerSettings: allocatorLinkerSettings
        ),
        .executableTarget(name: "calcitrack-bench", dependencies: ["CalciTrackCore"]),
        .testTarget(name: "CalciTrackCoreTests", dependencies: ["CalciTrackCore"]),
        // Fixtures: FHIR test data (seed-1 by hand; carebundle and clinosim output), read by path.
        .testTarget(name: "CalciTrackFHIRTests", dependencies: ["CalciTrackFHIR", "CalciTrackCore"], exclude: ["Fixtures"]),
        .testTarget(
            name: "CalciTrackServerTests",
            dependencies: [
                "CalciTrackServer",
                .product(name: "VaporTesting", package: "vapor"),
            ],
            // HTML snapshots of the web pages, read by path (WebUITests).
            exclude: ["Snapshots"]
        ),
    ]
)
