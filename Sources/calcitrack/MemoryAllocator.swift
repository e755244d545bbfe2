/// The memory allocator this binary was linked with: jemalloc when Debian's libjemalloc-dev was
/// installed at build time (Package.swift), otherwise glibc's malloc. Printed by `serve` and
/// `import`, so that a measurement says which one it ran with (BENCHMARKS.md).
enum MemoryAllocator {
    #if CALCITRACK_JEMALLOC
    static let name = "jemalloc (linked statically)"
    #else
    static let name = "glibc malloc"
    #endif
}
