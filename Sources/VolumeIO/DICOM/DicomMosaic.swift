import Foundation

/// Siemens MOSAIC images: one stored frame holding a whole volume's slices as tiles, row by row, in a square grid
/// of ceil(sqrt(n)) tiles per side (n = NumberOfImagesInMosaic; the unused tiles at the end are blank).
///
/// Geometry: ImagePositionPatient of a mosaic is that of the tiled picture as if it were one slice centred where
/// each tile is centred, so tile 1's first pixel lies half the difference of the mosaic and tile sizes further
/// along the row and column directions. Tile k lies k slice spacings (SpacingBetweenSlices, else SliceThickness)
/// along the CSA SliceNormalVector, whose sign says which way the tiles ascend (the cross product of the
/// ImageOrientationPatient directions when the CSA header does not say).
enum DicomMosaic {
    /// Whether ImageType (0008,0008) marks a tiled mosaic.
    static func isMosaic(imageType: String?) -> Bool {
        imageType?.split(separator: "\\").contains { $0.trimmingCharacters(in: .whitespaces).uppercased() == "MOSAIC" } ?? false
    }

    /// The slices of a mosaic file: one per tile, with the tile's size and true position. Throws when the tiles
    /// cannot be unpacked (not Siemens, no image count, no geometry), rather than reading a tiled picture as anatomy.
    static func tiles(of file: DicomFile, template: DicomSlice, csa: SiemensCSAHeader?,
                      manufacturer: String?) throws(DicomError) -> [DicomSlice] {
        let path = template.path
        guard manufacturer?.uppercased().contains("SIEMENS") == true else {
            throw DicomError(.unsupported, path: path, reason: "a tiled (ImageType MOSAIC) image from "
                             + (manufacturer.map { "'\($0)'" } ?? "an unknown manufacturer")
                             + ": only Siemens mosaics can be unpacked into slices")
        }
        let count = csa?.number("NumberOfImagesInMosaic").map { Int($0) }
            ?? file.privateNumber(DicomTag.siemensNumberOfImagesInMosaic).map { Int($0) }
        guard let count, count >= 1 else {
            throw DicomError(.unsupported, path: path, reason: "a Siemens mosaic without NumberOfImagesInMosaic (neither "
                             + "the CSA image header (0029,1010) nor (0019,100A) states it): the tiles cannot be unpacked")
        }
        let perRow = Int((Double(count).squareRoot()).rounded(.up))
        let tileRows = template.rows / perRow, tileColumns = template.columns / perRow
        guard tileRows >= 1, tileColumns >= 1, perRow * perRow >= count else {
            throw DicomError(.decodeFailed, path: path, reason: "a mosaic of \(template.columns)x\(template.rows) pixels "
                             + "cannot hold \(count) tiles")
        }
        guard let position = template.position, let orientation = template.orientation,
              let (row, column) = DicomGeometry.directions(orientation), let spacing = template.pixelSpacing else {
            throw DicomError(.invalidGeometry, path: path, reason: "a Siemens mosaic without ImagePositionPatient, "
                             + "ImageOrientationPatient or PixelSpacing: the slice positions are unknown")
        }
        let normal = csa?.vector("SliceNormalVector", count: 3).flatMap(DicomGeometry.normalized)
            ?? DicomGeometry.normal(orientation)!
        let step = template.spacingBetweenSlices ?? template.sliceThickness ?? 1
        // Centre correction of the tiled picture (nibabel's dicom_mosaic notes; dcm2niix does the same).
        let alongRow = Double(template.columns) * (1 - 1 / Double(perRow)) / 2 * spacing[1]
        let alongColumn = Double(template.rows) * (1 - 1 / Double(perRow)) / 2 * spacing[0]
        let first = (0..<3).map { position[$0] + alongRow * row[$0] + alongColumn * column[$0] }
        return (0..<count).map { index in
            var slice = template
            slice.rows = tileRows
            slice.columns = tileColumns
            slice.mosaicTile = MosaicTile(index: index, tilesPerRow: perRow, mosaicRows: template.rows,
                                          mosaicColumns: template.columns)
            slice.position = (0..<3).map { first[$0] + Double(index) * step * normal[$0] }
            return slice
        }
    }

    /// The CSA image header of a Siemens file: element 10 of the private block whose creator is
    /// "SIEMENS CSA HEADER"; nil when absent or unreadable.
    static func csaImageHeader(_ file: DicomFile) -> SiemensCSAHeader? {
        for block in UInt32(0x10)...0xFF {
            guard file.string(DicomTag.csaPrivateGroup | block)?.uppercased() == "SIEMENS CSA HEADER" else { continue }
            guard let bytes = file.bytes(DicomTag.csaPrivateGroup | block << 8 | 0x10), !bytes.isEmpty else { return nil }
            return try? SiemensCSAHeader(bytes)
        }
        return nil
    }

    /// Copies tile `tile` of a decoded mosaic frame into `out[offset...]`.
    static func copyTile(_ tile: MosaicTile, rows: Int, columns: Int, from mosaic: [Float], into out: inout [Float],
                         offset: Int) {
        let top = (tile.index / tile.tilesPerRow) * rows, left = (tile.index % tile.tilesPerRow) * columns
        for r in 0..<rows {
            let source = (top + r) * tile.mosaicColumns + left
            out.replaceSubrange(offset + r * columns ..< offset + (r + 1) * columns,
                                with: mosaic[source ..< source + columns])
        }
    }
}
