import Foundation

/// Reads DICOM studies: finds the image series in a file or folder and decodes them into volumes.
///
///     let scan = DicomReader.scan(URL(fileURLWithPath: "study/"))
///     for error in scan.skipped { print(error) }          // "study/DICOMDIR: error: DICOMDIR (a media directory) ..."
///     let volume = try DicomReader.readVolume(scan.series[0])   // Volume<Float>, RAS affine, source: .dicom(...)
public enum DicomReader {
    /// Finds every image series under `url` (a file or a folder, searched recursively; hidden files are ignored).
    /// Files that are not decodable images are listed in `skipped` with the reason; none of them stops the scan.
    /// Reads headers only.
    public static func scan(_ url: URL) -> DicomScan {
        scan(files: FileListing.regularFiles(under: url))
    }

    /// The transfer syntax UIDs whose pixels `readVolume` decodes (uncompressed, RLE, JPEG, JPEG-LS; not JPEG 2000
    /// in Debian's DCMTK), in order of preference: what a DICOM listener may accept.
    public static var decodableTransferSyntaxUIDs: [String] { DicomFile.decodableTransferSyntaxUIDs() }

    /// Like `scan(_:)` for an explicit list of files.
    public static func scan(files: [String]) -> DicomScan {
        var headers: [DicomFileHeader] = []
        var skipped: [DicomError] = []
        for path in files {
            do throws(DicomError) {
                headers.append(try DicomFileHeader.parse(path))
            } catch {
                skipped.append(error)
            }
        }
        return DicomScan(series: DicomSeriesAssembly.assemble(headers), skipped: skipped)
    }

    /// Decodes the voxels of `series`: stored values through the modality LUT (RescaleSlope/Intercept; a missing
    /// slope is 1), MONOCHROME1 inverted within the stored range so that high values are bright.
    /// Throws naming the first file that fails to decode.
    /// - Complexity: reads each source file once; memory is the volume plus one decoded file.
    public static func readVolume(_ series: DicomSeries) throws(DicomError) -> Volume<Float> {
        let nx = series.shape[0], ny = series.shape[1], nz = series.shape[2]
        let (count, overflow) = nx.multipliedReportingOverflow(by: ny * nz)
        guard !overflow, count <= 1 << 30 else {
            throw DicomError(.invalidGeometry, path: series.reference.files[0],
                             reason: "volume \(nx)x\(ny)x\(nz) is too large to read")
        }
        var voxels = [Float](repeating: 0, count: count)
        var open: DicomFile?
        let sliceIndices = series.reference.sliceIndices
        var darkest = Float.infinity
        var mosaic: (path: String, frame: Int, pixels: [Float])?   // the decoded frame the tiles come from
        for (s, slice) in series.slices.enumerated() {
            if open?.path != slice.path { open = nil; open = try DicomFile(path: slice.path, headerOnly: false) }
            let offset = sliceIndices[s] * nx * ny
            if let tile = slice.mosaicTile {
                if mosaic?.path != slice.path || mosaic?.frame != slice.frame {
                    var pixels = [Float](repeating: 0, count: tile.mosaicRows * tile.mosaicColumns)
                    try open!.decodeFrame(slice.frame, into: &pixels, offset: 0, count: pixels.count)
                    mosaic = (slice.path, slice.frame, pixels)
                }
                DicomMosaic.copyTile(tile, rows: ny, columns: nx, from: mosaic!.pixels, into: &voxels, offset: offset)
            } else {
                try open!.decodeFrame(slice.frame, into: &voxels, offset: offset, count: nx * ny)
            }
            applyModalityLUT(slice, to: &voxels, range: offset ..< offset + nx * ny)
            darkest = min(darkest, voxels[offset ..< offset + nx * ny].min() ?? darkest)
        }
        // The places of missing slices (see `DicomGeometry.stack`) hold the darkest value: nothing there.
        let present = Set(sliceIndices)
        for k in 0..<nz where !present.contains(k) {
            voxels.replaceSubrange(k * nx * ny ..< (k + 1) * nx * ny, with: repeatElement(darkest, count: nx * ny))
        }
        let volume = Volume(shape: series.shape, affine: series.affine, voxels: voxels,
                            source: .dicom(series.reference))
        return volume
    }

    /// Scans `url` and reads every series; a series that fails to decode is reported, never fatal for the others.
    public static func readAll(_ url: URL) -> (volumes: [(series: DicomSeries, volume: Volume<Float>)], failures: [DicomError]) {
        let scan = scan(url)
        var volumes: [(DicomSeries, Volume<Float>)] = []
        var failures = scan.skipped
        for series in scan.series {
            do throws(DicomError) { volumes.append((series, try readVolume(series))) } catch { failures.append(error) }
        }
        return (volumes, failures)
    }

    /// value = slope * stored + intercept; MONOCHROME1 first maps stored v to (min + max - v) over the stored range.
    private static func applyModalityLUT(_ slice: DicomSlice, to voxels: inout [Float], range: Range<Int>) {
        let slope = slice.rescaleSlope, intercept = slice.rescaleIntercept
        let flip = slice.invert ? slice.storedRange.min + slice.storedRange.max : 0
        guard slice.invert || slope != 1 || intercept != 0 else { return }
        for index in range {
            let stored = slice.invert ? flip - Double(voxels[index]) : Double(voxels[index])
            voxels[index] = Float(slope * stored + intercept)
        }
    }

}
