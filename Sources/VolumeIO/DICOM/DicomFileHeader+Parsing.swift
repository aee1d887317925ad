import Foundation

extension DicomFileHeader {
    /// Reads the header of `path` (pixels stay on disk) and describes its slices, or says why it is not an image
    /// this reader can decode. Never reads pixel data.
    static func parse(_ path: String) throws(DicomError) -> DicomFileHeader {
        if let reason = notDicomReason(path) { throw DicomError(.unreadable, path: path, reason: reason) }
        let file = try DicomFile(path: path, headerOnly: true)
        let mediaClass = file.string(DicomTag.mediaStorageSOPClassUID)
        if mediaClass == DicomUID.mediaStorageDirectory {
            throw DicomError(.notAnImage, path: path, reason: "DICOMDIR (a media directory), not an image")
        }
        let sopClass = file.string(DicomTag.sopClassUID) ?? mediaClass ?? ""
        let className = sopClass.isEmpty ? "no SOP Class UID" : (DicomFile.nameOfUID(sopClass) ?? sopClass)
        if sopClass == DicomUID.segmentationStorage {
            throw DicomError(.notAnImage, path: path, reason: "a DICOM Segmentation (SEG), not an image series")
        }
        guard file.has(DicomTag.pixelData) else {
            throw DicomError(.notAnImage, path: path, reason: "no pixel data (\(className))")
        }
        let samples = Int(file.number(DicomTag.samplesPerPixel) ?? 1)
        let photometric = file.string(DicomTag.photometricInterpretation) ?? ""
        if samples != 1 || !(photometric.isEmpty || photometric == "MONOCHROME1" || photometric == "MONOCHROME2") {
            throw DicomError(.unsupported, path: path, reason: "colour images are not supported (SamplesPerPixel \(samples), "
                                 + "PhotometricInterpretation \(photometric.isEmpty ? "absent" : photometric))")
        }
        guard file.canDecode else {
            throw DicomError(.unsupported, path: path,
                             reason: "no decoder for transfer syntax \(file.transferSyntaxName) in this DCMTK build")
        }
        let rows = Int(file.number(DicomTag.rows) ?? 0), columns = Int(file.number(DicomTag.columns) ?? 0)
        guard rows > 0, columns > 0 else {
            throw DicomError(.decodeFailed, path: path, reason: "Rows or Columns missing or zero")
        }
        let bitsAllocated = Int(file.number(DicomTag.bitsAllocated) ?? 0)
        guard [8, 16, 32].contains(bitsAllocated) else {
            throw DicomError(.unsupported, path: path, reason: "BitsAllocated \(bitsAllocated) is not supported")
        }
        let frameCount = Int(file.number(DicomTag.numberOfFrames) ?? 1)
        guard frameCount >= 1, frameCount <= 1 << 20 else {
            throw DicomError(.decodeFailed, path: path, reason: "NumberOfFrames \(frameCount) is not usable")
        }

        var metadata = DicomSeriesMetadata()
        metadata.modality = file.string(DicomTag.modality)
        metadata.seriesDescription = file.string(DicomTag.seriesDescription)
        metadata.seriesNumber = file.string(DicomTag.seriesNumber)
        metadata.studyDescription = file.string(DicomTag.studyDescription)
        metadata.studyDate = file.string(DicomTag.studyDate)
        metadata.patientID = file.string(DicomTag.patientID)
        metadata.patientName = file.string(DicomTag.patientName)
        metadata.manufacturer = file.string(DicomTag.manufacturer)
        metadata.sopClassName = sopClass.isEmpty ? nil : className
        metadata.transferSyntax = file.transferSyntaxName

        let bitsStored = Int(file.number(DicomTag.bitsStored) ?? Double(bitsAllocated))
        let slope = file.number(DicomTag.rescaleSlope).flatMap { $0 != 0 && $0.isFinite ? $0 : nil }
        var template = DicomSlice(
            path: path, frame: 0, sopClassUID: sopClass, sopInstanceUID: file.string(DicomTag.sopInstanceUID) ?? "",
            rows: rows, columns: columns,
            position: exactly(3, file.numbers(DicomTag.imagePositionPatient)),
            orientation: exactly(6, file.numbers(DicomTag.imageOrientationPatient)),
            pixelSpacing: exactly(2, file.numbers(DicomTag.pixelSpacing))
                ?? exactly(2, file.numbers(DicomTag.imagerPixelSpacing)),
            sliceThickness: positive(file.number(DicomTag.sliceThickness)),
            spacingBetweenSlices: positive(file.number(DicomTag.spacingBetweenSlices)),
            rescaleSlope: slope ?? 1, rescaleIntercept: file.number(DicomTag.rescaleIntercept) ?? 0,
            invert: photometric == "MONOCHROME1", bitsStored: min(max(bitsStored, 1), bitsAllocated),
            isSigned: file.number(DicomTag.pixelRepresentation) == 1)

        template.instanceNumber = file.number(DicomTag.instanceNumber).map { Int($0) }
        let isSiemens = metadata.manufacturer?.uppercased().contains("SIEMENS") == true
        let csa = isSiemens ? DicomMosaic.csaImageHeader(file) : nil
        template.volumeKeys = volumeKeys(file, csa: csa, isSiemens: isSiemens)

        var notes: [String] = []
        var slices: [DicomSlice]
        let hasFunctionalGroups = file.has(DicomTag.perFrameFunctionalGroupsSequence)
            || file.has(DicomTag.sharedFunctionalGroupsSequence)
        if DicomMosaic.isMosaic(imageType: file.string(DicomTag.imageType)) {
            guard frameCount == 1, !hasFunctionalGroups else {
                throw DicomError(.unsupported, path: path, reason: "a multi-frame MOSAIC image: only single-frame "
                                 + "Siemens mosaics can be unpacked")
            }
            slices = try DicomMosaic.tiles(of: file, template: template, csa: csa, manufacturer: metadata.manufacturer)
        } else if hasFunctionalGroups {
            slices = (0..<frameCount).map { frame in
                var slice = template
                slice.frame = frame
                if let g = file.frameGeometry(frame) {
                    slice.position = g.position ?? slice.position
                    slice.orientation = g.orientation ?? slice.orientation
                    slice.pixelSpacing = g.pixelSpacing ?? slice.pixelSpacing
                    slice.sliceThickness = positive(g.sliceThickness) ?? slice.sliceThickness
                    if let r = g.rescale { (slice.rescaleSlope, slice.rescaleIntercept) = (r.slope, r.intercept) }
                }
                return slice
            }
        } else if frameCount == 1 {
            slices = [template]
        } else {
            // A classic multi-frame image: frames share one position unless GridFrameOffsetVector (RT Dose) spreads
            // them along the normal; otherwise assume they are SpacingBetweenSlices (or SliceThickness) apart.
            let offsets = file.numbers(DicomTag.gridFrameOffsetVector, capacity: frameCount)
            let step = template.spacingBetweenSlices ?? template.sliceThickness ?? 1
            let stated = offsets.count == frameCount
            if !stated {
                notes.append("frame positions are not stated in \(path); frames assumed \(format(step)) mm apart")
            }
            slices = (0..<frameCount).map { frame in
                var slice = template
                slice.frame = frame
                slice.positionIsAssumed = !stated
                if let p = template.position, let o = template.orientation, let n = DicomGeometry.normal(o) {
                    let d = stated ? offsets[frame] : Double(frame) * step
                    slice.position = (0..<3).map { p[$0] + d * n[$0] }
                }
                return slice
            }
        }
        return DicomFileHeader(path: path, studyInstanceUID: file.string(DicomTag.studyInstanceUID) ?? "",
                               seriesInstanceUID: file.string(DicomTag.seriesInstanceUID) ?? "",
                               frameOfReferenceUID: file.string(DicomTag.frameOfReferenceUID) ?? "",
                               metadata: metadata, slices: slices, notes: notes)
    }

    /// The attributes that tell repeated acquisitions of one position apart (see `DicomVolumeSplit`).
    private static func volumeKeys(_ file: DicomFile, csa: SiemensCSAHeader?, isSiemens: Bool) -> DicomVolumeKeys {
        var keys = DicomVolumeKeys()
        keys.temporalPosition = file.number(DicomTag.temporalPositionIdentifier).map { Int($0) }
        keys.acquisitionNumber = file.number(DicomTag.acquisitionNumber).map { Int($0) }
        keys.bValue = file.number(DicomTag.diffusionBValue) ?? csa?.number("B_value")
            ?? (isSiemens ? file.privateNumber(DicomTag.siemensBValue) : nil)
        keys.gradientDirection = exactly(3, file.numbers(DicomTag.diffusionGradientOrientation))
            ?? csa?.vector("DiffusionGradientDirection", count: 3)
        keys.echoNumber = file.number(DicomTag.echoNumbers).map { Int($0) }
        keys.triggerTime = file.number(DicomTag.triggerTime)
        return keys
    }

    /// A reason when the file is plainly not DICOM, found from its first bytes (gzip), else nil.
    private static func notDicomReason(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "cannot open the file" }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 2)) ?? Data()
        if head.count == 0 { return "empty file" }
        if head == Data([0x1F, 0x8B]) { return "a gzip-compressed file, not DICOM (decompress it first)" }
        return nil
    }
}

private func exactly(_ count: Int, _ values: [Double]) -> [Double]? { values.count == count ? values : nil }
private func positive(_ value: Double?) -> Double? { value.flatMap { $0 > 0 && $0.isFinite ? $0 : nil } }
func format(_ value: Double) -> String { String(format: "%.4g", value) }
