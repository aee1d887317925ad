// Writing: a binary DICOM Segmentation on the source series' grid, through DCMTK's dcmseg.
#include "cdcm_internal.hpp"
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <cstdio>
#include <memory>
#include <vector>

using namespace cdcm;

namespace {

/// A decimal string (DS) of at most 16 characters with as many significant digits as fit.
OFString decimal(double value) {
    char buffer[64];
    for (int precision = 14; precision > 1; --precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::strlen(buffer) <= 16) break;
    }
    return OFString(buffer);
}

OFString text(const char *value, const char *fallback = "") { return OFString(value && *value ? value : fallback); }

/// Turns a failed OFCondition into an error naming the step.
struct Step {
    char **error;
    bool check(const OFCondition &status, const std::string &what) {
        if (status.good()) return true;
        fail(error, CDCM_ERROR_WRITE, what + ": " + status.text());
        return false;
    }
};

cdcm_status validate(const cdcm_seg_request *r, char **error) {
    if (!r->source_file || !*r->source_file) return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "no source file");
    if (r->rows == 0 || r->columns == 0) return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "Rows and Columns must be positive");
    if (r->segment_count == 0 || r->segment_count > 65535)
        return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "a segmentation needs 1 to 65535 segments");
    if (r->frame_count == 0) return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "a segmentation needs at least one frame");
    for (size_t s = 0; s < r->segment_count; ++s) {
        const cdcm_seg_segment &segment = r->segments[s];
        if (!segment.label || !*segment.label)
            return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "segment " + std::to_string(s + 1) + " has no label");
        for (int i = 0; i < 3; ++i)
            if (!segment.category_code[i] || !segment.type_code[i])
                return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "segment " + std::to_string(s + 1) + " lacks a code");
    }
    for (size_t f = 0; f < r->frame_count; ++f) {
        const cdcm_seg_frame &frame = r->frames[f];
        if (frame.segment_number < 1 || frame.segment_number > r->segment_count || !frame.pixels ||
            frame.position_index < 1 || !frame.source_sop_class_uid || !frame.source_sop_instance_uid ||
            frame.source_frame_number > 65535)
            return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "frame " + std::to_string(f + 1) + " is incomplete");
    }
    if (!r->series_instance_uid || !r->sop_instance_uid || !r->dimension_organization_uid || !r->content_date ||
        !r->content_time)
        return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "UIDs, ContentDate and ContentTime are required");
    return CDCM_OK;
}

}  // namespace

cdcm_status cdcm_write_seg(const cdcm_seg_request *r, const char *path, char **error) {
    if (cdcm_status status = validate(r, error)) return status;
    try {
        Step step{error};
        IODGeneralEquipmentModule::EquipmentInfo equipment(text(r->manufacturer, "unknown"), text(r->model_name, "unknown"),
                                                           text(r->device_serial_number, "0"),
                                                           text(r->software_versions, "0"));
        ContentIdentificationMacro content(text(r->instance_number, "1"), text(r->content_label, "SEGMENTATION"),
                                           text(r->content_description), text(r->content_creator));
        DcmSegmentation *created = nullptr;
        if (!step.check(DcmSegmentation::createBinarySegmentation(created, r->rows, r->columns, equipment, content),
                        "creating the segmentation"))
            return CDCM_ERROR_WRITE;
        std::unique_ptr<DcmSegmentation> seg(created);

        // Patient, Study, Frame of Reference: copied from the source series.
        DcmFileFormat source;
        if (!step.check(source.loadFile(OFFilename(r->source_file)), std::string("reading source ") + r->source_file))
            return CDCM_ERROR_WRITE;
        if (!step.check(seg->importFromSourceImage(*source.getDataset()), "copying patient/study from the source"))
            return CDCM_ERROR_WRITE;

        // Identity and clock: injected so that tests get byte-identical files.
        if (!step.check(seg->getSeries().setSeriesInstanceUID(r->series_instance_uid), "SeriesInstanceUID") ||
            !step.check(seg->getSOPCommon().setSOPInstanceUID(r->sop_instance_uid), "SOPInstanceUID") ||
            !step.check(seg->getGeneralImage().setContentDate(r->content_date), "ContentDate") ||
            !step.check(seg->getGeneralImage().setContentTime(r->content_time), "ContentTime") ||
            !step.check(seg->getSeries().setSeriesDate(r->content_date), "SeriesDate") ||
            !step.check(seg->getSeries().setSeriesTime(r->content_time), "SeriesTime") ||
            !step.check(seg->getSOPCommon().setInstanceCreationDate(r->content_date), "InstanceCreationDate") ||
            !step.check(seg->getSOPCommon().setInstanceCreationTime(r->content_time), "InstanceCreationTime") ||
            !step.check(seg->getSegmentationSeriesModule().setSeriesNumber(text(r->series_number, "1")), "SeriesNumber"))
            return CDCM_ERROR_WRITE;
        if (r->series_description && *r->series_description &&
            !step.check(seg->getSeries().setSeriesDescription(r->series_description), "SeriesDescription"))
            return CDCM_ERROR_WRITE;

        for (size_t s = 0; s < r->segment_count; ++s) {
            const cdcm_seg_segment &in = r->segments[s];
            CodeSequenceMacro category(in.category_code[0], in.category_code[1], in.category_code[2]);
            CodeSequenceMacro type(in.type_code[0], in.type_code[1], in.type_code[2]);
            DcmSegment *segment = nullptr;
            if (!step.check(DcmSegment::create(segment, in.label, category, type, DcmSegTypes::SAT_AUTOMATIC,
                                               text(r->algorithm_name, "universeg")),
                            "segment '" + std::string(in.label) + "'"))
                return CDCM_ERROR_WRITE;
            if (in.has_display_color) {
                if (!step.check(segment->setRecommendedDisplayCIELabValue(in.display_cielab[0], in.display_cielab[1],
                                                                          in.display_cielab[2]),
                                "RecommendedDisplayCIELabValue of '" + std::string(in.label) + "'")) {
                    delete segment;
                    return CDCM_ERROR_WRITE;
                }
            }
            Uint16 number = 0;
            if (!step.check(seg->addSegment(segment, number), "adding segment '" + std::string(in.label) + "'")) {
                delete segment;
                return CDCM_ERROR_WRITE;
            }
            if (number != s + 1)
                return fail(error, CDCM_ERROR_WRITE, "DCMTK numbered segment " + std::to_string(s + 1) + " as " +
                                                         std::to_string(number));
        }

        // Shared: orientation and pixel measures; per frame: position, frame content, segment, source image.
        FGPlaneOrientationPatient orientation;
        FGPixelMeasures measures;
        const double *o = r->orientation;
        if (!step.check(orientation.setImageOrientationPatient(decimal(o[0]), decimal(o[1]), decimal(o[2]),
                                                               decimal(o[3]), decimal(o[4]), decimal(o[5])),
                        "ImageOrientationPatient") ||
            !step.check(measures.setPixelSpacing(decimal(r->pixel_spacing[0]) + "\\" + decimal(r->pixel_spacing[1])),
                        "PixelSpacing") ||
            !step.check(measures.setSliceThickness(decimal(r->slice_thickness)), "SliceThickness") ||
            !step.check(seg->addForAllFrames(orientation), "shared plane orientation") ||
            !step.check(seg->addForAllFrames(measures), "shared pixel measures"))
            return CDCM_ERROR_WRITE;

        IODMultiframeDimensionModule &dimensions = seg->getDimensions();
        const OFString organization(r->dimension_organization_uid);
        if (!step.check(dimensions.addDimensionIndex(DCM_ReferencedSegmentNumber, organization,
                                                     DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
                        "segment dimension") ||
            !step.check(dimensions.addDimensionIndex(DCM_ImagePositionPatient, organization, DCM_PlanePositionSequence,
                                                     "ImagePositionPatient"),
                        "position dimension"))
            return CDCM_ERROR_WRITE;
        auto *organizationItem = new IODMultiframeDimensionModule::DimensionOrganizationItem;
        organizationItem->setDimensionOrganizationUID(organization);
        dimensions.getDimensionOrganizationSequence().push_back(organizationItem);

        const size_t frameSize = static_cast<size_t>(r->rows) * r->columns;
        std::vector<Uint8> pixels(frameSize);
        for (size_t f = 0; f < r->frame_count; ++f) {
            const cdcm_seg_frame &in = r->frames[f];
            FGPlanePosPatient position;
            FGFrameContent frameContent;
            FGSegmentation segmentation;
            if (!step.check(position.setImagePositionPatient(decimal(in.position[0]), decimal(in.position[1]),
                                                             decimal(in.position[2])),
                            "ImagePositionPatient of frame " + std::to_string(f + 1)) ||
                !step.check(frameContent.setDimensionIndexValues(in.segment_number, 0), "DimensionIndexValues") ||
                !step.check(frameContent.setDimensionIndexValues(in.position_index, 1), "DimensionIndexValues") ||
                !step.check(segmentation.setReferencedSegmentNumber(in.segment_number), "ReferencedSegmentNumber"))
                return CDCM_ERROR_WRITE;
            ImageSOPInstanceReferenceMacro reference;
            if (!step.check(reference.setReferencedSOPClassUID(in.source_sop_class_uid), "ReferencedSOPClassUID") ||
                !step.check(reference.setReferencedSOPInstanceUID(in.source_sop_instance_uid), "ReferencedSOPInstanceUID"))
                return CDCM_ERROR_WRITE;
            if (in.source_frame_number > 0 &&
                !step.check(reference.addReferencedFrameNumber(static_cast<Uint16>(in.source_frame_number)),
                            "ReferencedFrameNumber"))
                return CDCM_ERROR_WRITE;
            OFVector<ImageSOPInstanceReferenceMacro> references;
            references.push_back(reference);
            std::unique_ptr<FGDerivationImage> derivation(
                DcmSegmentation::createDerivationImageFG(references, "Segmented by UniverSeg"));
            if (!derivation) return fail(error, CDCM_ERROR_WRITE, "cannot build DerivationImageSequence");

            OFVector<FGBase *> groups;
            groups.push_back(&position);
            groups.push_back(&frameContent);
            groups.push_back(&segmentation);
            groups.push_back(derivation.get());
            for (size_t i = 0; i < frameSize; ++i) pixels[i] = in.pixels[i] ? 1 : 0;
            if (!step.check(seg->addFrame(pixels.data(), in.segment_number, groups), "adding frame " + std::to_string(f + 1)))
                return CDCM_ERROR_WRITE;
        }

        // DCMTK 3.6.7 does not fill the Common Instance Reference Module by itself (NATIVE.md).
        OFVector<OFString> files;
        for (size_t i = 0; i < r->reference_file_count; ++i) files.push_back(r->reference_files[i]);
        IODReferences references;
        if (references.addFromFiles(files, IODReference::LEVEL_STUDY) != files.size())
            return fail(error, CDCM_ERROR_WRITE, "cannot reference every source file");
        seg->getCommonInstanceReference().addReferences(references);

        if (!step.check(seg->saveFile(path, EXS_LittleEndianExplicit), "saving"))
            return CDCM_ERROR_WRITE;
        return CDCM_OK;
    } catch (const std::exception &e) {
        return fail(error, CDCM_ERROR_WRITE, std::string("writing the segmentation failed: ") + e.what());
    }
}
