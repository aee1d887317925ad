import Foundation
import VolumeIO

/// The `native` writer: a study's label map in its own research format, on its exact grid and in its own geometry
/// fields: a 3D Slicer segmentation (.seg.nrrd, with each target's name and colour) for NRRD, .mha for MetaImage,
/// .mgz for MGH. NIfTI and DICOM studies have their own writers (`nifti`, `dicom-seg`).
enum NativeLabelMap {
    static func stage(_ labels: Volume<Int32>, format: SeriesFormat, legend: TargetLegend, suffixes: OutputSuffixes,
                      to outputs: inout OutputStager) throws {
        switch format {
        case .nifti, .dicom:
            return
        case .nrrd:
            let segments = legend.entries.map { NrrdSegmentationWriter.Segment(value: $0.value, name: $0.name, color: $0.color) }
            try outputs.stage(suffixes.nrrdLabelMap) { try NrrdSegmentationWriter.write(labels, segments: segments, to: $0) }
        case .metaImage:
            try outputs.stage(suffixes.metaImageLabelMap) { try MetaImageWriter.write(labels, to: $0) }
        case .mgh:
            try outputs.stage(suffixes.mghLabelMap) { try MghWriter.write(labels, to: $0) }
        }
    }
}
