/// DICOM attribute tags the readers and writers use, as (group << 16) | element.
enum DicomTag {
    static let mediaStorageSOPClassUID: UInt32 = 0x0002_0002
    static let transferSyntaxUID: UInt32 = 0x0002_0010
    static let imageType: UInt32 = 0x0008_0008
    static let sopClassUID: UInt32 = 0x0008_0016
    static let sopInstanceUID: UInt32 = 0x0008_0018
    static let studyDate: UInt32 = 0x0008_0020
    static let modality: UInt32 = 0x0008_0060
    static let manufacturer: UInt32 = 0x0008_0070
    static let studyDescription: UInt32 = 0x0008_1030
    static let seriesDescription: UInt32 = 0x0008_103E
    static let referencedSeriesSequence: UInt32 = 0x0008_1115
    static let referencedInstanceSequence: UInt32 = 0x0008_114A
    static let referencedSOPInstanceUID: UInt32 = 0x0008_1155
    static let patientName: UInt32 = 0x0010_0010
    static let patientID: UInt32 = 0x0010_0020
    static let sliceThickness: UInt32 = 0x0018_0050
    static let spacingBetweenSlices: UInt32 = 0x0018_0088
    static let imagerPixelSpacing: UInt32 = 0x0018_1164
    static let echoNumbers: UInt32 = 0x0018_0086
    static let triggerTime: UInt32 = 0x0018_1060
    static let diffusionBValue: UInt32 = 0x0018_9087
    static let diffusionGradientOrientation: UInt32 = 0x0018_9089
    /// Siemens "SIEMENS MR HEADER" private block 10: NumberOfImagesInMosaic (US) and B_value (IS).
    static let siemensNumberOfImagesInMosaic: UInt32 = 0x0019_100A
    static let siemensBValue: UInt32 = 0x0019_100C
    static let studyInstanceUID: UInt32 = 0x0020_000D
    static let seriesInstanceUID: UInt32 = 0x0020_000E
    static let seriesNumber: UInt32 = 0x0020_0011
    static let acquisitionNumber: UInt32 = 0x0020_0012
    static let instanceNumber: UInt32 = 0x0020_0013
    static let imagePositionPatient: UInt32 = 0x0020_0032
    static let imageOrientationPatient: UInt32 = 0x0020_0037
    static let frameOfReferenceUID: UInt32 = 0x0020_0052
    static let temporalPositionIdentifier: UInt32 = 0x0020_0100
    static let samplesPerPixel: UInt32 = 0x0028_0002
    static let photometricInterpretation: UInt32 = 0x0028_0004
    static let numberOfFrames: UInt32 = 0x0028_0008
    static let rows: UInt32 = 0x0028_0010
    static let columns: UInt32 = 0x0028_0011
    static let pixelSpacing: UInt32 = 0x0028_0030
    static let bitsAllocated: UInt32 = 0x0028_0100
    static let bitsStored: UInt32 = 0x0028_0101
    static let pixelRepresentation: UInt32 = 0x0028_0103
    static let rescaleIntercept: UInt32 = 0x0028_1052
    static let rescaleSlope: UInt32 = 0x0028_1053
    /// Private creator elements (0029,0010)...(0029,00FF) name the blocks of group 0029; the CSA image header is
    /// element 10 of the "SIEMENS CSA HEADER" block.
    static let csaPrivateGroup: UInt32 = 0x0029_0000
    static let segmentationType: UInt32 = 0x0062_0001
    static let segmentSequence: UInt32 = 0x0062_0002
    static let segmentNumber: UInt32 = 0x0062_0004
    static let segmentLabel: UInt32 = 0x0062_0005
    static let gridFrameOffsetVector: UInt32 = 0x3004_000C
    static let sharedFunctionalGroupsSequence: UInt32 = 0x5200_9229
    static let perFrameFunctionalGroupsSequence: UInt32 = 0x5200_9230
    static let pixelData: UInt32 = 0x7FE0_0010
}

/// SOP Class and other UIDs the reader treats specially.
enum DicomUID {
    static let mediaStorageDirectory = "1.2.840.10008.1.3.10"
    static let segmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4"
}
