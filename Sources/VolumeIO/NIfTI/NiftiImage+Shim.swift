import Foundation
import ZlibShim
internal import CNIfTI

// The only file that calls libnifti (Debian's libnifti2 3.0.1, which reads and writes NIfTI-1 and NIfTI-2).
// Everything outside sees Swift values: `NiftiRawHeader`, `[Float]`, `[Int32]`.
//
// Facts this wrapper relies on:
// - libnifti2.so imports neither exit() nor abort() (checked with `objdump -T`), so a bad file cannot end the process.
// - Its messages go to stderr unless the debug level is 0; we set 0 once and report our own one-line errors.
// - Voxel bytes are read with znzlib (see `withVolumeBytes`), not libnifti's loaders, which print to stderr on a
//   short read and replace NaN voxels by 0.
// - We validate dims and datatype from the raw header *before* asking libnifti to allocate anything.

/// Silences libnifti's stderr chatter; a lazily initialised global runs once, thread-safely.
private let libniftiQuiet: Void = nifti_set_debug_level(0)

/// The header fields as stored, for either NIfTI version, in native byte order.
struct NiftiRawHeader {
    /// 1 or 2, from sizeof_hdr (348 or 540).
    var version: Int
    var magic: String
    var dim: [Int64]
    var pixdim: [Double]
    var datatype: Int
    var bitpix: Int
    var voxOffset: Double
    var sclSlope: Double
    var sclInter: Double
    var qformCode: Int32
    var sformCode: Int32
    var quatern: [Double]     // b, c, d
    var qoffset: [Double]     // x, y, z
    var srow: [Double]        // 12, row-major
    var xyztUnits: Int32
    var description: String
}

/// Reads only the header (348 or 540 bytes) and converts it to native byte order.
/// The corresponding C functions are `nifti_read_header` (which does not swap; its result is malloc'ed and freed
/// here) and `swap_nifti_header`. Version 0 means a 348-byte header without NIfTI magic (ANALYZE 7.5): it is
/// returned as version 1 so the caller's magic check names it.
func readRawNiftiHeader(path: String) throws -> NiftiRawHeader {
    _ = libniftiQuiet
    var version: Int32 = 0
    guard let raw = nifti_read_header(path, &version, 0) else {
        throw VolumeIOError.unreadableHeader(path: path, reason: "too short, unreadable, or not a 348/540-byte header")
    }
    defer { free(raw) }
    // sizeof_hdr is the first int32 of both layouts: 348 or 540 in the file's byte order.
    let size = raw.load(as: Int32.self)
    if size != 348 && size != 540 {
        swap_nifti_header(raw, version == 2 ? 2 : 1)
        guard [348, 540].contains(raw.load(as: Int32.self)) else {
            throw VolumeIOError.unreadableHeader(path: path, reason: "sizeof_hdr is neither 348 nor 540")
        }
    }
    switch version {
    case 0, 1:
        let h = raw.load(as: nifti_1_header.self)
        return NiftiRawHeader(
            version: 1, magic: cString(h.magic, count: 4),
            dim: values(h.dim, as: Int16.self, count: 8).map(Int64.init),
            pixdim: values(h.pixdim, as: Float.self, count: 8).map(Double.init),
            datatype: Int(h.datatype), bitpix: Int(h.bitpix), voxOffset: Double(h.vox_offset),
            sclSlope: Double(h.scl_slope), sclInter: Double(h.scl_inter),
            qformCode: Int32(h.qform_code), sformCode: Int32(h.sform_code),
            quatern: [h.quatern_b, h.quatern_c, h.quatern_d].map(Double.init),
            qoffset: [h.qoffset_x, h.qoffset_y, h.qoffset_z].map(Double.init),
            srow: (values(h.srow_x, as: Float.self, count: 4) + values(h.srow_y, as: Float.self, count: 4)
                   + values(h.srow_z, as: Float.self, count: 4)).map(Double.init),
            xyztUnits: Int32(UInt8(bitPattern: h.xyzt_units)), description: cString(h.descrip, count: 80))
    case 2:
        let h = raw.load(as: nifti_2_header.self)
        return NiftiRawHeader(
            version: 2, magic: cString(h.magic, count: 8),
            dim: values(h.dim, as: Int64.self, count: 8), pixdim: values(h.pixdim, as: Double.self, count: 8),
            datatype: Int(h.datatype), bitpix: Int(h.bitpix), voxOffset: Double(h.vox_offset),
            sclSlope: h.scl_slope, sclInter: h.scl_inter, qformCode: h.qform_code, sformCode: h.sform_code,
            quatern: [h.quatern_b, h.quatern_c, h.quatern_d], qoffset: [h.qoffset_x, h.qoffset_y, h.qoffset_z],
            srow: values(h.srow_x, as: Double.self, count: 4) + values(h.srow_y, as: Double.self, count: 4)
                + values(h.srow_z, as: Double.self, count: 4),
            xyztUnits: h.xyzt_units, description: cString(h.descrip, count: 80))
    default:
        throw VolumeIOError.unreadableHeader(path: path, reason: "unknown NIfTI version \(version)")
    }
}

/// An open libnifti image (header and extensions only; voxel data are read per volume). Valid only inside
/// `withNiftiImage`.
struct NiftiImageHandle {
    fileprivate let image: UnsafeMutablePointer<nifti_image>
    let path: String

    /// dim[1...7] as libnifti understood them.
    var dims: [Int] { values(image.pointee.dim, as: Int64.self, count: 8).dropFirst().map { Int($0) } }
    var datatype: Int { Int(image.pointee.datatype) }
    /// NIFTI_FTYPE_*: 0 ANALYZE, 1/2 NIfTI-1 one/two files, 3 ASCII, 4/5 NIfTI-2 one/two files.
    var fileType: Int { Int(image.pointee.nifti_type) }
    /// The file holding the voxels (the .nii itself, or the .img of a .hdr/.img pair).
    var dataFile: String { image.pointee.iname.map { String(cString: $0) } ?? path }
    var dataOffset: Int64 { image.pointee.iname_offset }

    /// Reads volume `index` and converts it to Float as `value * slope + intercept` (pass 1 and 0 for raw values).
    func readFloats(volume index: Int, voxels count: Int, datatype: NiftiDatatype,
                    slope: Double, intercept: Double) throws -> [Float] {
        try withVolumeBytes(index, voxels: count, datatype: datatype) { raw in
            decodeFloats(raw, datatype, count: count, slope: slope, intercept: intercept)
        }
    }

    /// Reads volume `index` as integer labels; throws `notALabelMap` for values that are not integers in Int32.
    func readLabels(volume index: Int, voxels count: Int, datatype: NiftiDatatype,
                    slope: Double, intercept: Double) throws -> [Int32] {
        let decoded: Result<[Int32], LabelProblem> = try withVolumeBytes(index, voxels: count, datatype: datatype) { raw in
            decodeLabels(raw, datatype, count: count, slope: slope, intercept: intercept)
        }
        switch decoded {
        case .success(let labels): return labels
        case .failure(let problem):
            let shape = Array(dims.prefix(3)).map { max($0, 1) }
            let i = problem.index % shape[0], j = (problem.index / shape[0]) % shape[1], k = problem.index / (shape[0] * shape[1])
            throw VolumeIOError.notALabelMap(path: path, reason: "value \(problem.value) at voxel (\(i), \(j), \(k)) is not an integer in Int32 range")
        }
    }

    /// Reads exactly the bytes of volume `index` with znzlib (`znzopen`, `znzseek`, `znzread`), checks the count,
    /// and swaps to native byte order (`nifti_swap_Nbytes`). We read the bytes ourselves instead of calling
    /// `nifti_image_load_bricks` so that a short read is counted by us, nothing is printed to stderr, and
    /// NaN voxels stay NaN (libnifti's loader silently replaces them by 0).
    private func withVolumeBytes<R>(_ index: Int, voxels count: Int, datatype: NiftiDatatype,
                                    _ body: (UnsafeRawPointer) -> R) throws -> R {
        let size = datatype.bytesPerVoxel!
        let expected = count * size
        let file = dataFile
        var handle: znzFile? = znzopen(file, "rb", nifti_is_gzfile(file))
        guard let opened = handle else {
            throw VolumeIOError.truncatedData(path: path, expectedBytes: expected, reason: "cannot open data file \(file)")
        }
        defer { _ = Xznzclose(&handle) }
        let offset = dataOffset + Int64(index) * Int64(expected)
        guard znzseek(opened, off_t(offset), SEEK_SET) >= 0 else {
            throw VolumeIOError.truncatedData(path: path, expectedBytes: expected, reason: "the file ends before volume \(index)")
        }
        var bytesRead = 0
        var bytes = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            var total = 0
            while total < expected {   // znzread may return less than asked before the end of the stream
                let n = znzread(buffer.baseAddress! + total, 1, expected - total, opened)
                // 0 is the end of the stream; a corrupt gzip stream gives −1 (size_t is imported as Int, so it stays
                // negative: adding it looped forever, walking the write position backwards). Both stop the read.
                if n <= 0 || n > expected - total { break }
                total += n
            }
            if total < expected { (buffer.baseAddress! + total).initialize(repeating: 0, count: expected - total) }
            initialized = expected
            bytesRead = total
        }
        guard bytesRead == expected else {
            throw VolumeIOError.truncatedData(path: path, expectedBytes: expected, reason: "read \(bytesRead) (file cut short or corrupt)")
        }
        if size > 1 && image.pointee.byteorder != nifti_short_order() {
            bytes.withUnsafeMutableBytes { nifti_swap_Nbytes(Int64(count), Int32(size), $0.baseAddress) }
        }
        return bytes.withUnsafeBytes { body($0.baseAddress!) }
    }
}

/// Opens `path` with `nifti_image_read(path, 0)` (header and extensions, no voxels), runs `body`, and frees the
/// image even if `body` throws. The corresponding C functions are `nifti_image_read` and `nifti_image_free`.
func withNiftiImage<R>(_ path: String, _ body: (NiftiImageHandle) throws -> R) throws -> R {
    _ = libniftiQuiet
    guard let image = nifti_image_read(path, 0) else {
        throw VolumeIOError.unreadableHeader(path: path, reason: "libnifti could not parse the header")
    }
    defer { nifti_image_free(image) }
    return try body(NiftiImageHandle(image: image, path: path))
}

/// Voxels to write, already range-checked for the chosen datatype.
enum NiftiVoxelPayload {
    case labels([Int32])
    case floats([Float])
}

/// Writes one 3D NIfTI file (`.nii.gz` compressed by the name), single-file layout: header, 4 zero extension
/// bytes, voxels at offset 352 (NIfTI-1) or 544 (NIfTI-2).
///
/// libnifti builds the header (`nifti_make_new_nim`, `nifti_convert_nim2n1hdr`/`nifti_convert_nim2n2hdr`) and
/// znzlib writes the bytes (`znzopen`, `znzwrite`, `Xznzclose`), each call checked. We do not call
/// `nifti_image_write`: it returns nothing on failure, and libnifti 3.0.1 treats a single-file NIfTI-2 image as a
/// header/image pair and overwrites the header with the voxels (seen in a C test: the file holds only data).
/// What the header conversion stores: pixdim[1...7] as |value|; pixdim[0] = qfac only when qform_code > 0 (else 0);
/// quaternion fields only when qform_code > 0; srow only when sform_code > 0.
func writeNiftiFile(path: String, header: NiftiSpatialHeader, datatype: NiftiDatatype,
                    description: String, voxels payload: NiftiVoxelPayload, compression: NiftiCompression) throws {
    _ = libniftiQuiet
    var dims: [Int64] = header.dim.map(Int64.init)
    guard let image = nifti_make_new_nim(&dims, Int32(datatype.rawValue), 1), let data = image.pointee.data else {
        throw VolumeIOError.writeFailed(path: path, reason: "libnifti could not allocate the image")
    }
    defer { nifti_image_free(image) }
    var nim = image.pointee
    setValues(&nim.dim, header.dim.map(Int64.init))
    setValues(&nim.pixdim, header.pixdim)
    image.pointee = nim
    guard nifti_update_dims_from_array(image) == 0 else {
        throw VolumeIOError.writeFailed(path: path, reason: "libnifti rejected dims \(header.dim)")
    }
    nim = image.pointee
    nim.nifti_type = header.version == 2 ? Int32(NIFTI_FTYPE_NIFTI2_1) : Int32(NIFTI_FTYPE_NIFTI1_1)
    nim.iname_offset = header.version == 2 ? 544 : 352
    nim.qform_code = header.qformCode
    nim.quatern_b = header.quaternB; nim.quatern_c = header.quaternC; nim.quatern_d = header.quaternD
    nim.qoffset_x = header.qoffsetX; nim.qoffset_y = header.qoffsetY; nim.qoffset_z = header.qoffsetZ
    nim.qfac = header.pixdim[0] < 0 ? -1 : 1
    nim.sform_code = header.sformCode
    var s = nim.sto_xyz
    s.m.0 = (header.sform[0], header.sform[1], header.sform[2], header.sform[3])
    s.m.1 = (header.sform[4], header.sform[5], header.sform[6], header.sform[7])
    s.m.2 = (header.sform[8], header.sform[9], header.sform[10], header.sform[11])
    s.m.3 = (0, 0, 0, 1)
    nim.sto_xyz = s
    nim.xyz_units = header.xyztUnits & 0x07
    nim.time_units = header.xyztUnits & 0x38
    nim.scl_slope = 1
    nim.scl_inter = 0
    var text = [CChar](repeating: 0, count: 80)
    for (n, byte) in description.utf8.prefix(79).enumerated() { text[n] = CChar(bitPattern: byte) }
    setValues(&nim.descrip, text)
    image.pointee = nim

    // The header bytes, as libnifti lays them out.
    var headerBytes: [UInt8]
    if header.version == 2 {
        var h = nifti_2_header()
        guard nifti_convert_nim2n2hdr(image, &h) == 0 else {
            throw VolumeIOError.writeFailed(path: path, reason: "libnifti could not build a NIfTI-2 header")
        }
        h.vox_offset = 544
        headerBytes = withUnsafeBytes(of: h) { Array($0.prefix(540)) }
        headerBytes.replaceSubrange(4..<12, with: [0x6E, 0x2B, 0x32, 0x00, 0x0D, 0x0A, 0x1A, 0x0A])  // "n+2\0\r\n\032\n"
    } else {
        var h = nifti_1_header()
        guard nifti_convert_nim2n1hdr(image, &h) == 0 else {
            throw VolumeIOError.writeFailed(path: path, reason: "libnifti could not build a NIfTI-1 header (a side > 32767?)")
        }
        h.vox_offset = 352
        headerBytes = withUnsafeBytes(of: h) { Array($0.prefix(348)) }
        headerBytes.replaceSubrange(344..<348, with: [0x6E, 0x2B, 0x31, 0x00])  // "n+1\0"
    }
    headerBytes += [0, 0, 0, 0]   // extension flag: no extensions

    let count = Int(image.pointee.nvox)
    let byteCount = count * datatype.bytesPerVoxel!
    switch payload {
    case .labels(let labels):
        precondition(labels.count == count, "voxel count must match dims")
        labels.withUnsafeBufferPointer { src in
            switch datatype {
            case .uint8: let out = data.assumingMemoryBound(to: UInt8.self); for n in 0..<count { out[n] = UInt8(src[n]) }
            case .int16: let out = data.assumingMemoryBound(to: Int16.self); for n in 0..<count { out[n] = Int16(src[n]) }
            case .int32: data.copyMemory(from: src.baseAddress!, byteCount: byteCount)
            default: preconditionFailure("label maps are written as UINT8, INT16 or INT32")
            }
        }
    case .floats(let floats):
        precondition(datatype == .float32 && floats.count == count, "images are written as FLOAT32 of matching size")
        floats.withUnsafeBufferPointer { data.copyMemory(from: $0.baseAddress!, byteCount: byteCount) }
    }

    // A .nii.gz is compressed here, in parallel chunks (znzlib's gzwrite runs on one thread: 0.26 s for a 6 MB
    // probability map), and znzlib writes the compressed bytes as they come, a few chunks at a time.
    var file: znzFile? = znzopen(path, "wb", 0)
    guard let opened = file else {
        throw VolumeIOError.writeFailed(path: path, reason: String(cString: strerror(errno)))
    }
    let put = { (bytes: UnsafeRawBufferPointer) in bytes.isEmpty || znzwrite(bytes.baseAddress, 1, bytes.count, opened) == bytes.count }
    let wrote = headerBytes.withUnsafeBytes { header in
        let voxels = UnsafeRawBufferPointer(start: data, count: byteCount)
        return path.lowercased().hasSuffix(".gz")
            ? Zlib.writeGzip([header, voxels], level: compression.level, strategy: compression.strategy,
                            threads: compression.threads, to: put)
            : put(header) && put(voxels)
    }
    let closed = Xznzclose(&file) == 0
    guard wrote, closed else {
        throw VolumeIOError.writeFailed(path: path, reason: "short write (disk full or unwritable)")
    }
}

/// How a .nii.gz is compressed: the zlib level and strategy, and the threads that share the chunks (the bytes do
/// not depend on the thread count).
struct NiftiCompression {
    var level: Int32
    var strategy: Zlib.Strategy = .standard
    var threads: Int
}

// MARK: - Voxel decoding

private struct LabelProblem: Error {
    var index: Int
    var value: Double
}

private func decodeFloats(_ raw: UnsafeRawPointer, _ datatype: NiftiDatatype, count: Int,
                          slope: Double, intercept: Double) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { out, initialized in
        switch datatype {
        case .uint8: integersToFloats(raw, UInt8.self, count, out, slope, intercept)
        case .int8: integersToFloats(raw, Int8.self, count, out, slope, intercept)
        case .int16: integersToFloats(raw, Int16.self, count, out, slope, intercept)
        case .uint16: integersToFloats(raw, UInt16.self, count, out, slope, intercept)
        case .int32: integersToFloats(raw, Int32.self, count, out, slope, intercept)
        case .uint32: integersToFloats(raw, UInt32.self, count, out, slope, intercept)
        case .int64: integersToFloats(raw, Int64.self, count, out, slope, intercept)
        case .uint64: integersToFloats(raw, UInt64.self, count, out, slope, intercept)
        case .float32: floatsToFloats(raw, Float.self, count, out, slope, intercept)
        case .float64: floatsToFloats(raw, Double.self, count, out, slope, intercept)
        default: preconditionFailure("unsupported datatypes are rejected before reading")
        }
        initialized = count
    }
}

private func integersToFloats<T: BinaryInteger>(_ raw: UnsafeRawPointer, _: T.Type, _ count: Int,
                                                _ out: UnsafeMutableBufferPointer<Float>, _ slope: Double, _ intercept: Double) {
    let src = raw.assumingMemoryBound(to: T.self)
    if slope == 1 && intercept == 0 {
        for n in 0..<count { out[n] = Float(src[n]) }
    } else {
        for n in 0..<count { out[n] = Float(Double(src[n]) * slope + intercept) }
    }
}

private func floatsToFloats<T: BinaryFloatingPoint>(_ raw: UnsafeRawPointer, _: T.Type, _ count: Int,
                                                    _ out: UnsafeMutableBufferPointer<Float>, _ slope: Double, _ intercept: Double) {
    let src = raw.assumingMemoryBound(to: T.self)
    if slope == 1 && intercept == 0 {
        for n in 0..<count { out[n] = Float(src[n]) }
    } else {
        for n in 0..<count { out[n] = Float(Double(src[n]) * slope + intercept) }
    }
}

private func decodeLabels(_ raw: UnsafeRawPointer, _ datatype: NiftiDatatype, count: Int,
                          slope: Double, intercept: Double) -> Result<[Int32], LabelProblem> {
    var problem: LabelProblem?
    let labels = [Int32](unsafeUninitializedCapacity: count) { out, initialized in
        let unscaled = slope == 1 && intercept == 0
        switch datatype {
        case .uint8 where unscaled: integersToLabels(raw, UInt8.self, count, out, &problem)
        case .int8 where unscaled: integersToLabels(raw, Int8.self, count, out, &problem)
        case .int16 where unscaled: integersToLabels(raw, Int16.self, count, out, &problem)
        case .uint16 where unscaled: integersToLabels(raw, UInt16.self, count, out, &problem)
        case .int32 where unscaled: integersToLabels(raw, Int32.self, count, out, &problem)
        case .uint32 where unscaled: integersToLabels(raw, UInt32.self, count, out, &problem)
        case .int64 where unscaled: integersToLabels(raw, Int64.self, count, out, &problem)
        case .uint64 where unscaled: integersToLabels(raw, UInt64.self, count, out, &problem)
        case .uint8: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: $1, as: UInt8.self)) * slope + intercept }
        case .int8: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: $1, as: Int8.self)) * slope + intercept }
        case .int16: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: 2 * $1, as: Int16.self)) * slope + intercept }
        case .uint16: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: 2 * $1, as: UInt16.self)) * slope + intercept }
        case .int32: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: 4 * $1, as: Int32.self)) * slope + intercept }
        case .uint32: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: 4 * $1, as: UInt32.self)) * slope + intercept }
        case .int64: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: 8 * $1, as: Int64.self)) * slope + intercept }
        case .uint64: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: 8 * $1, as: UInt64.self)) * slope + intercept }
        case .float32: numbersToLabels(raw, count, out, &problem) { Double($0.load(fromByteOffset: 4 * $1, as: Float.self)) * slope + intercept }
        case .float64: numbersToLabels(raw, count, out, &problem) { $0.load(fromByteOffset: 8 * $1, as: Double.self) * slope + intercept }
        default: preconditionFailure("unsupported datatypes are rejected before reading")
        }
        initialized = count
    }
    if let problem { return .failure(problem) }
    return .success(labels)
}

private func integersToLabels<T: BinaryInteger>(_ raw: UnsafeRawPointer, _: T.Type, _ count: Int,
                                                _ out: UnsafeMutableBufferPointer<Int32>, _ problem: inout LabelProblem?) {
    let src = raw.assumingMemoryBound(to: T.self)
    for n in 0..<count {
        guard let value = Int32(exactly: src[n]) else {
            if problem == nil { problem = LabelProblem(index: n, value: Double(src[n])) }
            out[n] = 0
            continue
        }
        out[n] = value
    }
}

/// Scaled or floating-point labels: accept values within `NiftiReader.labelTolerance` of an integer, reject the rest.
private func numbersToLabels(_ raw: UnsafeRawPointer, _ count: Int, _ out: UnsafeMutableBufferPointer<Int32>,
                             _ problem: inout LabelProblem?, _ value: (UnsafeRawPointer, Int) -> Double) {
    for n in 0..<count {
        let v = value(raw, n)
        let r = v.rounded()
        if v.isFinite, abs(v - r) <= NiftiReader.labelTolerance, r >= Double(Int32.min), r <= Double(Int32.max) {
            out[n] = Int32(r)
        } else {
            if problem == nil { problem = LabelProblem(index: n, value: v) }
            out[n] = 0
        }
    }
}

// MARK: - C fixed-size arrays (imported as tuples)

private func values<Tuple, Element>(_ tuple: Tuple, as: Element.Type, count: Int) -> [Element] {
    withUnsafeBytes(of: tuple) { bytes in (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<Element>.stride, as: Element.self) } }
}

private func setValues<Tuple, Element>(_ tuple: inout Tuple, _ newValues: [Element]) {
    withUnsafeMutableBytes(of: &tuple) { bytes in
        precondition(newValues.count * MemoryLayout<Element>.stride <= bytes.count)
        for (n, v) in newValues.enumerated() { bytes.storeBytes(of: v, toByteOffset: n * MemoryLayout<Element>.stride, as: Element.self) }
    }
}

/// A fixed char array as text, stopping at the first NUL; non-printable bytes are shown as \xNN.
private func cString<Tuple>(_ tuple: Tuple, count: Int) -> String {
    withUnsafeBytes(of: tuple) { bytes in
        var text = ""
        for byte in bytes.prefix(count) {
            if byte == 0 { break }
            text += (32..<127).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "\\x%02X", byte)
        }
        return text
    }
}
