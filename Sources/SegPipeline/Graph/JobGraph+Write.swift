import Foundation
import VolumeIO

/// The last stage: a study's outputs, staged and committed together, its report and its ledger entry.
extension JobGraph {
    func write(_ assembled: AssembledStudy) throws -> StudyOutcome {
        var study = assembled.study
        let start = Date()
        let (image, labels, series) = (study.image, assembled.labels, study.series)
        let folder = spec.outputs.folder, suffixes = spec.outputs.suffixes
        let stem = NamingPattern.expand(spec.outputs.naming, study: study.input.name, series: series.id, pipeline: spec.name)
        var outputs: [String] = []
        var dicom = series.dicom.map {
            StudyReport.DicomIdentity(studyInstanceUID: $0.studyInstanceUID, seriesInstanceUID: $0.seriesInstanceUID,
                                      modality: $0.metadata.modality)
        }
        let inputs = [study.input.location] + spec.support.libraries + spec.targets.flatMap(\.libraries)
        // Every output is staged and all are renamed into place at the end: a failed write (disk full) leaves
        // none of this attempt's files, and a previous run's outputs whole.
        var files = StagedFiles()
        defer { files.discard() }
        /// Runs `body`, which writes the output to the (temporary) URL it is given.
        func output(_ suffix: String, _ body: (URL) throws -> Void) throws {
            let relative = stem + suffix
            let url = folder.appendingPathComponent(relative)
            if let input = InputGuard.input(containing: url, inputs: inputs) {
                throw PipelineError.writeFailed(url.path, reason: "refusing to write over the input \(input.path)")
            }
            do {
                try files.stage(url, body)
            } catch {
                throw PipelineError.writeFailed(url.path, reason: Self.reason(error))
            }
            outputs.append(relative)
        }
        let writers = spec.outputs.writers
        if writers.contains(.nifti) {
            try output(suffixes.labelMap) { try NiftiWriter.write(labels, to: $0) }
        }
        if writers.contains(.dicomSeg) {
            if series.format == .dicom {
                var options = DicomSegOptions()
                options.seriesDescription = "UniverSeg \(spec.name)"
                options.softwareVersions = ToolInfo.version
                options.displayColors = spec.targets.indices.map { QCImage.palette[$0 % QCImage.palette.count] }
                let segments = spec.targets.map { (value: $0.value, name: $0.name) }
                try output(suffixes.dicomSeg) { url in
                    let seg = try DicomSegWriter.write(labels, segments: segments, to: url, options: options)
                    dicom?.segSeriesInstanceUID = seg.seriesInstanceUID
                    dicom?.segSOPInstanceUID = seg.sopInstanceUID
                }
            } else {
                study.warnings.append("dicom-seg not written: the study is NIfTI, not DICOM")
            }
        }
        if writers.contains(.probabilities) {
            for target in spec.targets {
                guard let map = assembled.native[target.name] else { continue }
                try output(suffixes.probabilities(target: target.name)) { try NiftiWriter.write(map, to: $0) }
            }
        }
        if writers.contains(.qc) {
            let picture = QCImage.render(image: image, labels: labels, plane: study.mapping.plane,
                                         values: spec.targets.map(\.value))
            let png = PNGEncoder.encode(width: picture.width, height: picture.height, rgb: picture.rgb)
            try output(suffixes.qc) { try png.write(to: $0) }
        }
        study.timings.writeSeconds = Date().timeIntervalSince(start)
        study.timings.totalSeconds = Date().timeIntervalSince(study.started)
        var report = makeReport(study, labels: labels, supportUsed: assembled.supportUsed,
                                outputs: outputs + (writers.contains(.report) ? [stem + suffixes.report] : []))
        report.dicom = dicom
        if writers.contains(.report) {
            let data = try report.encoded()
            try output(suffixes.report) { try data.write(to: $0) }
        }
        do {
            try files.commit()
        } catch {
            throw PipelineError.writeFailed(folder.path, reason: Self.reason(error))
        }
        if spec.outputs.ledger { try Ledger(outputFolder: folder).append(LedgerEntry(
            study: study.input.name, status: .done, inputFingerprint: study.input.fingerprint,
            pipelineFingerprint: spec.fingerprint, outputs: outputs, reason: nil, finishedAt: report.finishedAt,
            model: segmenter.modelDescription)) }
        return StudyOutcome(study: study.input, status: .done, report: report, outputs: outputs,
                            seconds: Date().timeIntervalSince(study.started))
    }

    func makeReport(_ study: StudyInFlight, labels: Volume<Int32>, supportUsed: [String: [String]],
                    outputs: [String]) -> StudyReport {
        let (image, series, mapping) = (study.image, study.series, study.mapping)
        let axis = mapping.nativeSliceAxis
        let voxelML = image.spacing.reduce(1, *) / 1000
        var counts: [Int32: Int] = [:]
        var slicesWith: [Int32: Set<Int>] = [:]
        for k in 0..<labels.shape[2] { for j in 0..<labels.shape[1] { for i in 0..<labels.shape[0] {
            let value = labels[i, j, k]
            guard value != 0 else { continue }
            counts[value, default: 0] += 1
            slicesWith[value, default: []].insert([i, j, k][axis])
        } } }
        let targets = spec.targets.map { target in
            StudyReport.Target(name: target.name, value: target.value, supportLabels: target.supportLabels,
                               voxels: counts[target.value] ?? 0, volumeML: Double(counts[target.value] ?? 0) * voxelML,
                               slicesWithMask: slicesWith[target.value]?.count ?? 0,
                               supportUsed: supportUsed[target.name] ?? [])
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
            seed: spec.model.seed, targets: targets, timings: study.timings, warnings: warnings, outputs: outputs,
            finishedAt: Clock.timestamp())
    }
}
