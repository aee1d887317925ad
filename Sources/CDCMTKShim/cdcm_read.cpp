// Reading: parse a file, read attributes, functional groups and decoded pixel frames.
#include "cdcm_internal.hpp"
#include <dcmtk/dcmdata/dccodec.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

using namespace cdcm;

struct cdcm_file {
    DcmFileFormat format;
    /// Set once the dataset was converted to Explicit VR Little Endian (decompressed).
    bool decompressed = false;
};

namespace {

DcmDataset *datasetOf(const cdcm_file *file) { return const_cast<cdcm_file *>(file)->format.getDataset(); }

DcmItem *itemFor(const cdcm_file *file, const DcmTagKey &key) {
    auto *mutableFile = const_cast<cdcm_file *>(file);
    if (key.getGroup() == 0x0002) return mutableFile->format.getMetaInfo();
    return mutableFile->format.getDataset();
}

/// Value `index` of a numeric element as a double; false when the VR is not numeric or the text does not parse.
bool numberAt(DcmElement *element, unsigned long index, double &value) {
    switch (element->ident()) {
    case EVR_DS:
    case EVR_FD: {
        Float64 v = 0;
        if (element->getFloat64(v, index).bad()) return false;
        value = v;
        break;
    }
    case EVR_FL: {
        Float32 v = 0;
        if (element->getFloat32(v, index).bad()) return false;
        value = v;
        break;
    }
    case EVR_IS:
    case EVR_SL: {
        Sint32 v = 0;
        if (element->getSint32(v, index).bad()) return false;
        value = v;
        break;
    }
    case EVR_UL: {
        Uint32 v = 0;
        if (element->getUint32(v, index).bad()) return false;
        value = v;
        break;
    }
    case EVR_US: {
        Uint16 v = 0;
        if (element->getUint16(v, index).bad()) return false;
        value = v;
        break;
    }
    case EVR_SS: {
        Sint16 v = 0;
        if (element->getSint16(v, index).bad()) return false;
        value = v;
        break;
    }
    default:
        return false;
    }
    return std::isfinite(value);
}

int readNumbers(DcmItem *item, const DcmTagKey &key, double *out, int capacity) {
    if (!item) return 0;
    DcmElement *element = nullptr;
    if (item->findAndGetElement(key, element).bad() || !element) return 0;
    unsigned long vm = element->getVM();
    int count = 0;
    for (unsigned long i = 0; i < vm && count < capacity; ++i) {
        double v = 0;
        if (!numberAt(element, i, v)) break;
        out[count++] = v;
    }
    return count;
}

/// First item of `macro` inside the per-frame group item, else inside the shared group item.
DcmItem *macroItem(DcmItem *perFrame, DcmItem *shared, const DcmTagKey &macro) {
    DcmItem *item = nullptr;
    if (perFrame && perFrame->findAndGetSequenceItem(macro, item, 0).good() && item) return item;
    item = nullptr;
    if (shared && shared->findAndGetSequenceItem(macro, item, 0).good() && item) return item;
    return nullptr;
}

long numberOfFrames(DcmDataset *ds) {
    double frames = 1;
    if (readNumbers(ds, DCM_NumberOfFrames, &frames, 1) == 1 && frames >= 1) return static_cast<long>(frames);
    return 1;
}

std::string xferDescription(E_TransferSyntax xfer) {
    DcmXfer x(xfer);
    return std::string(x.getXferName()) + " (" + x.getXferID() + ")";
}

/// Whether the file starts with the 128-byte preamble and "DICM" of a DICOM Part 10 file.
bool hasPreamble(const char *path) {
    FILE *stream = std::fopen(path, "rb");
    if (!stream) return false;
    char head[132];
    const bool ok = std::fread(head, 1, sizeof head, stream) == sizeof head && std::memcmp(head + 128, "DICM", 4) == 0;
    std::fclose(stream);
    return ok;
}

}  // namespace

cdcm_status cdcm_open(const char *path, int header_only, cdcm_file **out, char **error) {
    *out = nullptr;
    try {
        const std::string deflateProblem = deflatedDatasetProblem(path);
        if (!deflateProblem.empty()) return fail(error, CDCM_ERROR_READ, "truncated or malformed DICOM: " + deflateProblem);
        auto file = std::make_unique<cdcm_file>();
        const Uint32 maxRead = header_only ? 4096 : DCM_MaxReadLength;
        OFCondition status = file->format.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, maxRead, ERM_autoDetect);
        if (status.bad()) {
            return fail(error, CDCM_ERROR_READ,
                        hasPreamble(path) ? std::string("truncated or malformed DICOM: ") + status.text()
                                          : std::string("not a DICOM file (no DICM preamble, and it does not parse as a "
                                                        "bare DICOM dataset: ") + status.text() + ")");
        }
        DcmMetaInfo *meta = file->format.getMetaInfo();
        DcmDataset *ds = file->format.getDataset();
        const bool hasMeta = meta && meta->card() > 0;
        if (!ds || (!hasMeta && !ds->tagExists(DCM_SOPClassUID) &&
                    !(ds->tagExists(DCM_Rows) && ds->tagExists(DCM_PixelData)))) {
            return fail(error, CDCM_ERROR_READ, "not a DICOM file (no meta header and no SOP Class UID)");
        }
        *out = file.release();
        return CDCM_OK;
    } catch (const std::exception &e) {
        return fail(error, CDCM_ERROR_READ, std::string("not readable as DICOM: ") + e.what());
    }
}

void cdcm_close(cdcm_file *file) { delete file; }

int cdcm_has_tag(const cdcm_file *file, uint32_t tag) {
    DcmTagKey key = tagKey(tag);
    DcmItem *item = itemFor(file, key);
    return item && item->tagExists(key) ? 1 : 0;
}

namespace {
/// The one rule for "the readers decode this syntax": native, or a registered decoder converts it to native.
bool canDecode(E_TransferSyntax xfer) {
    if (xfer == EXS_Unknown) return false;
    if (!DcmXfer(xfer).isEncapsulated()) return true;
    return DcmCodecList::canChangeCoding(xfer, EXS_LittleEndianExplicit);
}
}  // namespace

int cdcm_can_decode(const cdcm_file *file) { return canDecode(datasetOf(file)->getOriginalXfer()) ? 1 : 0; }

char *cdcm_decodable_transfer_syntaxes(void) {
    cdcm_initialize();
    // Explicit VR Little Endian first: a listener prefers it when a sender offers several.
    std::vector<E_TransferSyntax> order = {EXS_LittleEndianExplicit, EXS_LittleEndianImplicit,
                                           EXS_DeflatedLittleEndianExplicit, EXS_BigEndianExplicit};
    for (int value = EXS_JPEGProcess1; value <= EXS_PrivateGE_LEI_WithBigEndianPixelData; value++) {
        if (value != EXS_DeflatedLittleEndianExplicit) order.push_back(static_cast<E_TransferSyntax>(value));
    }
    std::string native, encapsulated;
    for (const E_TransferSyntax xfer : order) {
        const DcmXfer description(xfer);
        // Referenced (JPIP) syntaxes carry no pixels in the object itself.
        if (description.isReferenced() || !canDecode(xfer)) continue;
        std::string &list = description.isEncapsulated() ? encapsulated : native;
        list += std::string(list.empty() ? "" : "\\") + description.getXferID();
    }
    return copyString(native + (encapsulated.empty() ? "" : "\\" + encapsulated));
}

char *cdcm_uid_name(const char *uid) {
    const char *name = dcmFindNameOfUID(uid, nullptr);
    return name ? copyString(name) : nullptr;
}

char *cdcm_get_string(const cdcm_file *file, uint32_t tag) {
    DcmTagKey key = tagKey(tag);
    DcmItem *item = itemFor(file, key);
    OFString value;
    if (!item || item->findAndGetOFStringArray(key, value).bad()) return nullptr;
    std::string text = trimmed(value);
    return text.empty() ? nullptr : copyString(text);
}

int cdcm_get_numbers(const cdcm_file *file, uint32_t tag, double *out, int capacity) {
    DcmTagKey key = tagKey(tag);
    return readNumbers(itemFor(file, key), key, out, capacity);
}

int cdcm_get_bytes(const cdcm_file *file, uint32_t tag, uint8_t **out, size_t *length) {
    *out = nullptr;
    *length = 0;
    DcmTagKey key = tagKey(tag);
    DcmItem *item = itemFor(file, key);
    DcmElement *element = nullptr;
    if (!item || item->findAndGetElement(key, element).bad() || !element) return 0;
    const DcmEVR vr = element->ident();
    if (vr != EVR_OB && vr != EVR_UN) return 0;
    Uint8 *bytes = nullptr;
    const unsigned long size = element->getLength();  // loads a value left on disk by a header-only open
    if (size == 0) return 1;
    if (element->getUint8Array(bytes).bad() || !bytes) return 0;
    auto *copy = static_cast<uint8_t *>(std::malloc(size));
    if (!copy) return 0;
    std::memcpy(copy, bytes, size);
    *out = copy;
    *length = size;
    return 1;
}

long cdcm_sequence_count(const cdcm_file *file, uint32_t sequence_tag) {
    DcmSequenceOfItems *sequence = nullptr;
    if (datasetOf(file)->findAndGetSequence(tagKey(sequence_tag), sequence).bad() || !sequence) return 0;
    return static_cast<long>(sequence->card());
}

char *cdcm_get_item_string(const cdcm_file *file, uint32_t sequence_tag, long item, uint32_t tag) {
    if (item < 0) return nullptr;
    DcmItem *found = nullptr;
    if (datasetOf(file)->findAndGetSequenceItem(tagKey(sequence_tag), found, static_cast<int>(item)).bad() || !found)
        return nullptr;
    OFString value;
    if (found->findAndGetOFStringArray(tagKey(tag), value).bad()) return nullptr;
    std::string text = trimmed(value);
    return text.empty() ? nullptr : copyString(text);
}

cdcm_status cdcm_get_frame_info(const cdcm_file *file, long frame, cdcm_frame_info *out, char **error) {
    std::memset(out, 0, sizeof(*out));
    DcmDataset *ds = datasetOf(file);
    DcmItem *shared = nullptr, *perFrame = nullptr;
    ds->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0);
    DcmSequenceOfItems *perFrameSequence = nullptr;
    ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, perFrameSequence);
    if (!shared && !perFrameSequence) return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "no functional groups");
    if (frame < 0 || frame >= numberOfFrames(ds))
        return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "frame " + std::to_string(frame) + " is out of range");
    if (perFrameSequence && frame < static_cast<long>(perFrameSequence->card()))
        perFrame = perFrameSequence->getItem(static_cast<unsigned long>(frame));

    if (DcmItem *item = macroItem(perFrame, shared, DCM_PlanePositionSequence))
        out->has_position = readNumbers(item, DCM_ImagePositionPatient, out->position, 3) == 3;
    if (DcmItem *item = macroItem(perFrame, shared, DCM_PlaneOrientationSequence))
        out->has_orientation = readNumbers(item, DCM_ImageOrientationPatient, out->orientation, 6) == 6;
    if (DcmItem *item = macroItem(perFrame, shared, DCM_PixelMeasuresSequence)) {
        out->has_pixel_spacing = readNumbers(item, DCM_PixelSpacing, out->pixel_spacing, 2) == 2;
        out->has_slice_thickness = readNumbers(item, DCM_SliceThickness, &out->slice_thickness, 1) == 1;
    }
    if (DcmItem *item = macroItem(perFrame, shared, DCM_PixelValueTransformationSequence)) {
        double slope = 0, intercept = 0;
        if (readNumbers(item, DCM_RescaleSlope, &slope, 1) == 1 && slope != 0) {
            out->has_rescale = 1;
            out->rescale_slope = slope;
            out->rescale_intercept = readNumbers(item, DCM_RescaleIntercept, &intercept, 1) == 1 ? intercept : 0;
        }
    }
    if (DcmItem *item = macroItem(perFrame, shared, DCM_SegmentIdentificationSequence)) {
        double number = 0;
        if (readNumbers(item, DCM_ReferencedSegmentNumber, &number, 1) == 1) out->segment_number = static_cast<int>(number);
    }
    if (DcmItem *derivation = macroItem(perFrame, shared, DCM_DerivationImageSequence)) {
        DcmItem *source = nullptr;
        OFString uid;
        if (derivation->findAndGetSequenceItem(DCM_SourceImageSequence, source, 0).good() && source &&
            source->findAndGetOFString(DCM_ReferencedSOPInstanceUID, uid).good()) {
            std::strncpy(out->source_sop_instance_uid, trimmed(uid).c_str(), 64);
            Sint32 frameNumber = 0;
            if (source->findAndGetSint32(DCM_ReferencedFrameNumber, frameNumber, 0).good() && frameNumber > 0)
                out->source_frame_number = frameNumber;
        }
    }
    return CDCM_OK;
}

cdcm_status cdcm_decode_frame(cdcm_file *file, long frame, float *out, size_t count, char **error) {
    try {
        DcmDataset *ds = file->format.getDataset();
        if (!ds->tagExists(DCM_PixelData)) return fail(error, CDCM_ERROR_NO_PIXEL_DATA, "no Pixel Data (7FE0,0010)");

        double samples = 1;
        readNumbers(ds, DCM_SamplesPerPixel, &samples, 1);
        OFString photometricText;
        ds->findAndGetOFString(DCM_PhotometricInterpretation, photometricText);
        const std::string photometric = trimmed(photometricText);
        if (samples != 1 || (!photometric.empty() && photometric != "MONOCHROME1" && photometric != "MONOCHROME2")) {
            return fail(error, CDCM_ERROR_UNSUPPORTED,
                        "colour images are not supported (SamplesPerPixel " + std::to_string(static_cast<int>(samples)) +
                            ", PhotometricInterpretation " + (photometric.empty() ? "absent" : photometric) + ")");
        }

        double rows = 0, columns = 0, bitsAllocated = 0, bitsStored = 0, highBit = 0, representation = 0;
        if (readNumbers(ds, DCM_Rows, &rows, 1) != 1 || readNumbers(ds, DCM_Columns, &columns, 1) != 1 || rows < 1 ||
            columns < 1)
            return fail(error, CDCM_ERROR_DECODE, "Rows or Columns missing or zero");
        if (readNumbers(ds, DCM_BitsAllocated, &bitsAllocated, 1) != 1)
            return fail(error, CDCM_ERROR_DECODE, "BitsAllocated missing");
        if (readNumbers(ds, DCM_BitsStored, &bitsStored, 1) != 1) bitsStored = bitsAllocated;
        if (readNumbers(ds, DCM_HighBit, &highBit, 1) != 1) highBit = bitsStored - 1;
        readNumbers(ds, DCM_PixelRepresentation, &representation, 1);
        const int allocated = static_cast<int>(bitsAllocated), stored = static_cast<int>(bitsStored),
                  high = static_cast<int>(highBit);
        if (allocated != 1 && allocated != 8 && allocated != 16 && allocated != 32)
            return fail(error, CDCM_ERROR_UNSUPPORTED, "BitsAllocated " + std::to_string(allocated) + " is not supported");
        if (stored < 1 || stored > allocated || high >= allocated || high + 1 < stored)
            return fail(error, CDCM_ERROR_DECODE,
                        "inconsistent BitsStored " + std::to_string(stored) + " / HighBit " + std::to_string(high) +
                            " for BitsAllocated " + std::to_string(allocated));
        const size_t perFrame = static_cast<size_t>(rows) * static_cast<size_t>(columns);
        if (count != perFrame)
            return fail(error, CDCM_ERROR_INVALID_ARGUMENT, "output holds " + std::to_string(count) + " values, a frame has " +
                                                                std::to_string(perFrame));
        const long frames = numberOfFrames(ds);
        if (frame < 0 || frame >= frames)
            return fail(error, CDCM_ERROR_INVALID_ARGUMENT,
                        "frame " + std::to_string(frame) + " is out of range (NumberOfFrames " + std::to_string(frames) + ")");

        if (!file->decompressed) {
            const E_TransferSyntax original = ds->getOriginalXfer();
            OFCondition status = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
            if (status.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
                const bool encapsulated = DcmXfer(original).isEncapsulated();
                return fail(error, encapsulated ? CDCM_ERROR_UNSUPPORTED : CDCM_ERROR_DECODE,
                            (encapsulated ? "no decoder for transfer syntax " : "cannot convert transfer syntax ") +
                                xferDescription(original) + ": " + status.text());
            }
            file->decompressed = true;
        }

        DcmElement *pixels = nullptr;
        if (ds->findAndGetElement(DCM_PixelData, pixels).bad() || !pixels)
            return fail(error, CDCM_ERROR_NO_PIXEL_DATA, "no Pixel Data (7FE0,0010)");
        const size_t length = pixels->getLength();
        const size_t first = static_cast<size_t>(frame) * perFrame;  // index of the frame's first cell
        const size_t needed = allocated == 1 ? (first + perFrame + 7) / 8 : (first + perFrame) * (allocated / 8);
        if (length < needed)
            return fail(error, CDCM_ERROR_DECODE,
                        "Pixel Data holds " + std::to_string(length) + " bytes but frame " + std::to_string(frame) +
                            " needs " + std::to_string(needed) + " (truncated?)");

        const int shift = high + 1 - stored;
        const uint64_t mask = stored == 64 ? ~0ull : ((1ull << stored) - 1);
        const bool isSigned = representation == 1;
        auto value = [&](uint64_t cell) -> float {
            uint64_t raw = (cell >> shift) & mask;
            if (isSigned && stored > 1 && (raw >> (stored - 1)) & 1) return static_cast<float>(static_cast<int64_t>(raw) - static_cast<int64_t>(1ull << stored));
            return static_cast<float>(raw);
        };

        if (allocated == 1 || allocated == 8) {
            Uint8 *bytes = nullptr;
            if (pixels->getUint8Array(bytes).bad() || !bytes) return fail(error, CDCM_ERROR_DECODE, "cannot read Pixel Data bytes");
            if (allocated == 1) {
                for (size_t i = 0; i < perFrame; ++i) {
                    size_t bit = first + i;
                    out[i] = static_cast<float>((bytes[bit / 8] >> (bit % 8)) & 1);
                }
            } else {
                for (size_t i = 0; i < perFrame; ++i) out[i] = value(bytes[first + i]);
            }
        } else {
            Uint16 *words = nullptr;
            if (pixels->getUint16Array(words).bad() || !words) return fail(error, CDCM_ERROR_DECODE, "cannot read Pixel Data words");
            if (allocated == 16) {
                for (size_t i = 0; i < perFrame; ++i) out[i] = value(words[first + i]);
            } else {  // 32 bits: two 16-bit words, least significant first (little endian)
                for (size_t i = 0; i < perFrame; ++i) {
                    size_t w = 2 * (first + i);
                    out[i] = value(static_cast<uint64_t>(words[w]) | (static_cast<uint64_t>(words[w + 1]) << 16));
                }
            }
        }
        return CDCM_OK;
    } catch (const std::exception &e) {
        return fail(error, CDCM_ERROR_DECODE, std::string("decoding failed: ") + e.what());
    }
}

char *cdcm_transfer_syntax_name(const cdcm_file *file) {
    return copyString(xferDescription(datasetOf(file)->getOriginalXfer()));
}

char *cdcm_dump(const cdcm_file *file) {
    std::ostringstream stream;
    const_cast<cdcm_file *>(file)->format.print(stream, DCMTypes::PF_shortenLongTagValues);
    return copyString(stream.str());
}
