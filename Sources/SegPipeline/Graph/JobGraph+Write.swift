import Foundation
import VolumeIO

/// The last stage: a study's outputs, staged and committed together, its report and its ledger entry.
extension JobGraph {
    func write(_ assembled: AssembledStudy) throws -> StudyOutcome {
        var study = assembled.study
        let start = Date()
        let stem = NamingPattern.expand(spec.outputs.naming, study: study.input.name, series: study.series.id,
                                        pipeline: spec.name)
        var outputs = OutputStager(folder: spec.outputs.folder, stem: stem, inputs: [study.input.location]
                                   + spec.support.libraries + spec.targets.flatMap(\.libraries))
        defer { outputs.files.discard() }
        let dicom = try writeImages(assembled, to: &outputs, warnings: &study.warnings)
        let suffixes = spec.outputs.suffixes, writesReport = spec.outputs.writers.contains(.report)
        study.timings.writeSeconds = Date().timeIntervalSince(start)
        study.timings.totalSeconds = Date().timeIntervalSince(study.started)
        var report = makeReport(study, labels: assembled.labels, supportUsed: assembled.supportUsed,
                                outputs: outputs.written + (writesReport ? [stem + suffixes.report] : []))
        report.dicom = dicom
        if spec.outputs.writers.contains(.nifti) {
            report.colorTables = .init(slicer: stem + suffixes.slicerColorTable, itksnap: stem + suffixes.itksnapLabels)
        }
        if writesReport {
            let data = try report.encoded()
            try outputs.stage(suffixes.report) { try data.write(to: $0) }
        }
        try outputs.commit()
        if spec.outputs.ledger { try ledger.append(LedgerEntry(
            study: study.input.name, status: .done, inputFingerprint: study.input.fingerprint,
            pipelineFingerprint: spec.fingerprint, outputs: outputs.written, reason: nil, finishedAt: report.finishedAt,
            model: segmenter.modelDescription)) }
        return StudyOutcome(study: study.input, status: .done, report: report, outputs: outputs.written,
                            seconds: Date().timeIntervalSince(study.started))
    }

    /// Stages the label map, DICOM SEG, probability maps and QC image the pipeline asks for; returns the DICOM
    /// identities for the report (nil for a NIfTI study).
    private func writeImages(_ assembled: AssembledStudy, to outputs: inout OutputStager,
                             warnings: inout [String]) throws -> StudyReport.DicomIdentity? {
        let (study, labels, suffixes, writers) = (assembled.study, assembled.labels, spec.outputs.suffixes, spec.outputs.writers)
        var dicom = study.series.dicom.map {
            StudyReport.DicomIdentity(studyInstanceUID: $0.studyInstanceUID, seriesInstanceUID: $0.seriesInstanceUID,
                                      modality: $0.metadata.modality)
        }
        let legend = TargetLegend(targets: spec.targets)
        // The QC picture is drawn and compressed on another thread while the label and probability maps are
        // written (about 80 ms of 0.3 s for the sample study, one core each).
        let qc = writers.contains(.qc) ? Concurrent { [spec] in
            let picture = QCImage.render(image: study.image, labels: labels, plane: study.mapping.plane,
                                         values: spec.targets.map(\.value), colors: legend.colors,
                                         annotateNext: spec.targets.map { (study.leastConfident[$0.name] ?? []).map(\.slice) })
            return PNGEncoder.encode(width: picture.width, height: picture.height, rgb: picture.rgb)
        } : nil
        if writers.contains(.nifti) || (writers.contains(.native) && study.series.format == .nifti) {
            try outputs.stage(suffixes.labelMap) { try NiftiWriter.write(labels, to: $0) }
            // Viewers that open the label map find its names and colours beside it.
            try outputs.stage(suffixes.slicerColorTable) { try Data(legend.slicerColorTable.utf8).write(to: $0) }
            try outputs.stage(suffixes.itksnapLabels) { try Data(legend.itksnapLabelDescriptions.utf8).write(to: $0) }
        }
        if writers.contains(.native) {
            try NativeLabelMap.stage(labels, format: study.series.format, legend: legend, suffixes: suffixes, to: &outputs)
        }
        if writers.contains(.dicomSeg) {
            if study.series.dicom?.reference.isMosaic == true {
                warnings.append("dicom-seg not written: the study is a Siemens mosaic, whose frames each hold a whole "
                                + "volume, so a SEG cannot reference its slices (the NIfTI label map has them)")
            } else if study.series.format == .dicom {
                var options = DicomSegOptions()
                options.seriesDescription = "UniverSeg \(spec.name)"
                options.softwareVersions = ToolInfo.version
                try outputs.stage(suffixes.dicomSeg) { url in
                    let seg = try DicomSegWriter.write(labels, segments: legend.segments, to: url, options: options)
                    dicom?.segSeriesInstanceUID = seg.seriesInstanceUID
                    dicom?.segSOPInstanceUID = seg.sopInstanceUID
                }
            } else {
                warnings.append("dicom-seg not written: the study is \(study.series.format.rawValue), not DICOM")
            }
        }
        if writers.contains(.probabilities) {
            for target in spec.targets {
                guard let map = assembled.native[target.name] else { continue }
                try outputs.stage(suffixes.probabilities(target: target.name)) { try NiftiWriter.write(map, to: $0) }
            }
        }
        if let png = qc?.value {
            try outputs.stage(suffixes.qc) { try png.write(to: $0) }
        }
        return dicom
    }

    func makeReport(_ study: StudyInFlight, labels: Volume<Int32>, supportUsed: [String: [String]],
                    outputs: [String]) -> StudyReport {
        let (image, series, mapping) = (study.image, study.series, study.mapping)
        let axis = mapping.nativeSliceAxis
        let voxelML = image.spacing.reduce(1, *) / 1000
        // Voxels and slices holding each target's value, in one pass over the raw voxels (i fastest).
        let values = spec.targets.map(\.value)
        var voxelCounts = [Int](repeating: 0, count: values.count)
        var sliceHasMask = [[Bool]](repeating: [Bool](repeating: false, count: labels.shape[axis]), count: values.count)
        let (nx, ny) = (labels.shape[0], labels.shape[1])
        labels.voxels.withUnsafeBufferPointer { voxels in
            for (index, value) in voxels.enumerated() where value != 0 {
                guard let t = values.firstIndex(of: value) else { continue }
                voxelCounts[t] += 1
                sliceHasMask[t][axis == 0 ? index % nx : axis == 1 ? index / nx % ny : index / (nx * ny)] = true
            }
        }
        var counts: [Int32: Int] = [:], slicesWith: [Int32: Int] = [:]
        for (t, value) in values.enumerated() where counts[value] == nil {
            counts[value] = voxelCounts[t]
            slicesWith[value] = sliceHasMask[t].filter { $0 }.count
        }
        let statistics = TargetStatistics.compute(image: image, labels: labels, values: values)
        let legend = TargetLegend(targets: spec.targets).entries
        let targets = zip(spec.targets, legend).map { target, shown in
            let steps = (target.smoothSlices ? ["smoothed across slices"] : []) + target.cleanup.steps
            return StudyReport.Target(name: target.name, value: target.value, supportLabels: target.supportLabels,
                                      voxels: counts[target.value] ?? 0,
                                      volumeML: Double(counts[target.value] ?? 0) * voxelML,
                                      slicesWithMask: slicesWith[target.value] ?? 0,
                                      supportUsed: supportUsed[target.name] ?? [],
                                      postprocess: steps.isEmpty ? nil : steps.joined(separator: ", "),
                                      color: shown.color.rgb, code: shown.code, category: shown.category,
                                      statistics: statistics[target.value],
                                      leastConfidentSlices: study.leastConfident[target.name])
        }
        var warnings = study.warnings
        for target in targets where target.voxels == 0 {
            warnings.append("target '\(target.name)' is empty: no voxel reached the threshold \(spec.model.threshold)")
        }
        return StudyReport(
            study: study.input.name, series: series.id, seriesDescription: series.description, format: series.format,
            inputs: series.files.map(\.path), pipeline: spec.name, pipelineFingerprint: spec.fingerprint,
            tool: ToolInfo.version, model: segmenter.modelDescription,
            geometry: .init(shape: image.shape, spacingMM: image.spacing, orientation: image.orientation,
                            affine: image.affine.values),
            sliceAxis: axis, slicePlane: mapping.plane.rawValue, slicesProcessed: mapping.sliceCount, supportStrategy: spec.support.strategy.rawValue,
            supportSize: spec.model.supportSize, ensemble: spec.model.ensemble, threshold: spec.model.threshold,
            seed: spec.model.seed, fusedAxes: spec.preprocessing.fuseAxes ? true : nil, targets: targets,
            intensityUnits: series.modality?.uppercased() == "CT" ? "HU" : "source",
            timings: study.timings, warnings: warnings, outputs: outputs,
            finishedAt: Clock.timestamp())
    }
}

/// A study's outputs under one stem: each staged under a temporary name, all renamed into place together at the
/// end, so a failed write (disk full) leaves none of this attempt's files and a previous run's outputs whole. No
/// output may land on or inside an input.
struct OutputStager {
    let folder: URL
    let stem: String
    let inputs: [URL]
    var files = StagedFiles()
    /// Staged outputs, relative to `folder`.
    private(set) var written: [String] = []

    init(folder: URL, stem: String, inputs: [URL]) {
        self.folder = folder
        self.stem = stem
        self.inputs = inputs
    }

    /// Runs `body`, which writes the output `stem + suffix` to the (temporary) URL it is given.
    mutating func stage(_ suffix: String, _ body: (URL) throws -> Void) throws {
        let relative = stem + suffix
        let url = folder.appendingPathComponent(relative)
        if let input = InputGuard.input(containing: url, inputs: inputs) {
            throw PipelineError.writeFailed(url.path, reason: "refusing to write over the input \(input.path)")
        }
        do {
            try files.stage(url, body)
        } catch {
            throw PipelineError.writeFailed(url.path, reason: JobGraph.reason(error))
        }
        written.append(relative)
    }

    mutating func commit() throws {
        do {
            try files.commit()
        } catch {
            throw PipelineError.writeFailed(folder.path, reason: JobGraph.reason(error))
        }
    }
}
