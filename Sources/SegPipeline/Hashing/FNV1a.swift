import Foundation

/// 64-bit FNV-1a (Fowler–Noll–Vo): a fast, stable, non-cryptographic hash. It fingerprints pipeline definitions
/// (the ledger's rerun check) and weights files (reports name the exact weights); it is never a security check.
enum FNV1a {
    /// The 64-bit FNV offset basis, where every hash starts unless told otherwise.
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// The 64-bit FNV prime.
    static let prime: UInt64 = 0x100_0000_01b3

    /// The hash of `bytes`, starting from `basis` (give another basis to derive independent streams from one input).
    /// - Complexity: O(n).
    static func hash(_ bytes: some Sequence<UInt8>, basis: UInt64 = offsetBasis) -> UInt64 {
        var hash = basis
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* prime }
        return hash
    }

    /// The hash of `data`'s bytes, as 16 lower-case hex digits.
    static func hex(_ data: Data) -> String { hex(data.withUnsafeBytes { hash($0) }) }

    /// The hash of `text`'s UTF-8 bytes, as 16 lower-case hex digits.
    static func hex(_ text: String) -> String { hex(hash(text.utf8)) }

    private static func hex(_ hash: UInt64) -> String { String(format: "%016llx", hash) }
}
