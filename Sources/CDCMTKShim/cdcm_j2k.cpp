// JPEG 2000 decoding (transfer syntaxes 1.2.840.10008.1.2.4.90 lossless and .91) with OpenJPEG, as a DCMTK codec:
// DCMTK 3.6.7 in Debian has no JPEG 2000 codec, and registering one makes chooseRepresentation() decode these files
// like RLE or JPEG, so every rule after decoding (rescale, MONOCHROME1, slice order) applies unchanged.
// High-Throughput JPEG 2000 is not handled: DCMTK 3.6.7 does not know its transfer syntax UIDs.
#include "cdcm_internal.hpp"
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <openjpeg-2.5/openjpeg.h>
#include <cstring>
#include <vector>

namespace {

/// The compressed bytes OpenJPEG reads, with a position.
struct MemoryStream {
    const uint8_t *data;
    size_t size;
    size_t position;
};

OPJ_SIZE_T readBytes(void *buffer, OPJ_SIZE_T count, void *user) {
    auto *s = static_cast<MemoryStream *>(user);
    if (s->position >= s->size) return static_cast<OPJ_SIZE_T>(-1);
    OPJ_SIZE_T n = std::min<OPJ_SIZE_T>(count, s->size - s->position);
    std::memcpy(buffer, s->data + s->position, n);
    s->position += n;
    return n;
}

OPJ_OFF_T skipBytes(OPJ_OFF_T count, void *user) {
    auto *s = static_cast<MemoryStream *>(user);
    if (count < 0) {
        OPJ_OFF_T back = std::min<OPJ_OFF_T>(-count, static_cast<OPJ_OFF_T>(s->position));
        s->position -= static_cast<size_t>(back);
        return -back;
    }
    OPJ_OFF_T n = std::min<OPJ_OFF_T>(count, static_cast<OPJ_OFF_T>(s->size - s->position));
    s->position += static_cast<size_t>(n);
    return n;
}

OPJ_BOOL seekBytes(OPJ_OFF_T offset, void *user) {
    auto *s = static_cast<MemoryStream *>(user);
    if (offset < 0 || static_cast<size_t>(offset) > s->size) return OPJ_FALSE;
    s->position = static_cast<size_t>(offset);
    return OPJ_TRUE;
}

/// What a frame must decode to, from the dataset's Image Pixel module.
struct PixelLayout {
    Uint16 rows = 0, columns = 0, samples = 0, bitsAllocated = 0, pixelRepresentation = 0;
    Sint32 frames = 1;
    size_t frameBytes() const { return size_t(rows) * columns * samples * (bitsAllocated / 8); }
};

OFCondition readLayout(DcmItem *item, PixelLayout &layout) {
    if (item->findAndGetUint16(DCM_Rows, layout.rows).bad() || item->findAndGetUint16(DCM_Columns, layout.columns).bad()
        || item->findAndGetUint16(DCM_SamplesPerPixel, layout.samples).bad()
        || item->findAndGetUint16(DCM_BitsAllocated, layout.bitsAllocated).bad()
        || item->findAndGetUint16(DCM_PixelRepresentation, layout.pixelRepresentation).bad())
        return EC_TagNotFound;
    Sint32 frames = 1;
    if (item->findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 0) layout.frames = frames;
    if (layout.samples != 1 || (layout.bitsAllocated != 8 && layout.bitsAllocated != 16)) return EC_InvalidValue;
    return EC_Normal;
}

/// The codestream of one frame: fragments from `fragment` up to the one ending in the EOC marker (FF D9, maybe
/// followed by one padding byte); `fragment` moves past them. Works with and without a basic offset table.
OFCondition frameCodestream(DcmPixelSequence *sequence, Uint32 &fragment, std::vector<uint8_t> &out) {
    out.clear();
    const unsigned long count = sequence->card();
    while (fragment < count) {
        DcmPixelItem *item = nullptr;
        if (sequence->getItem(item, fragment).bad() || !item) return EC_CorruptedData;
        ++fragment;
        Uint8 *bytes = nullptr;
        const Uint32 length = item->getLength();
        if (length == 0) continue;
        if (item->getUint8Array(bytes).bad() || !bytes) return EC_CorruptedData;
        out.insert(out.end(), bytes, bytes + length);
        size_t n = out.size();
        bool ends = (n >= 2 && out[n - 2] == 0xFF && out[n - 1] == 0xD9)
                    || (n >= 3 && out[n - 1] == 0x00 && out[n - 3] == 0xFF && out[n - 2] == 0xD9);
        if (ends) return EC_Normal;
    }
    return out.empty() ? EC_CorruptedData : EC_Normal;
}

/// Decodes one codestream into `target` (frameBytes of layout, little-endian host order), exactly or not at all.
OFCondition decodeCodestream(const std::vector<uint8_t> &codestream, const PixelLayout &layout, uint8_t *target) {
    static const uint8_t jp2Signature[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' '};
    const bool jp2 = codestream.size() >= 8 && std::memcmp(codestream.data(), jp2Signature, 8) == 0;
    opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    if (!codec) return EC_MemoryExhausted;
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    MemoryStream memory{codestream.data(), codestream.size(), 0};
    opj_stream_t *stream = opj_stream_create(1 << 16, OPJ_TRUE);
    opj_stream_set_user_data(stream, &memory, nullptr);
    opj_stream_set_user_data_length(stream, codestream.size());
    opj_stream_set_read_function(stream, readBytes);
    opj_stream_set_skip_function(stream, skipBytes);
    opj_stream_set_seek_function(stream, seekBytes);
    opj_image_t *image = nullptr;
    bool ok = opj_setup_decoder(codec, &parameters) && opj_read_header(stream, codec, &image) && image
              && opj_decode(codec, stream, image) && opj_end_decompress(codec, stream);
    OFCondition result = ok ? EC_Normal : EC_CorruptedData;
    if (ok) {
        const opj_image_comp_t &c = image->comps[0];
        const size_t pixels = size_t(layout.rows) * layout.columns;
        if (image->numcomps != 1 || c.w != layout.columns || c.h != layout.rows || !c.data || c.prec > layout.bitsAllocated)
            result = EC_InvalidValue;
        else if (layout.bitsAllocated == 8)
            for (size_t n = 0; n < pixels; ++n) target[n] = static_cast<uint8_t>(c.data[n]);
        else
            for (size_t n = 0; n < pixels; ++n) {
                const uint16_t v = static_cast<uint16_t>(c.data[n]);   // two's complement for signed samples
                std::memcpy(target + 2 * n, &v, 2);
            }
    }
    if (image) opj_image_destroy(image);
    opj_stream_destroy(stream);
    opj_destroy_codec(codec);
    return result;
}

bool isJPEG2000(E_TransferSyntax syntax) { return syntax == EXS_JPEG2000LosslessOnly || syntax == EXS_JPEG2000; }

class J2KDecoder : public DcmCodec {
public:
    OFCondition decode(const DcmRepresentationParameter *, DcmPixelSequence *sequence, DcmPolymorphOBOW &uncompressed,
                       const DcmCodecParameter *, const DcmStack &objStack, OFBool &removeOldRep) const override {
        DcmStack stack(objStack);
        (void)stack.pop();   // the pixel data element; below it, the item that holds it
        DcmObject *object = stack.pop();
        if (!sequence || !object || (object->ident() != EVR_dataset && object->ident() != EVR_item)) return EC_InvalidTag;
        PixelLayout layout;
        OFCondition status = readLayout(static_cast<DcmItem *>(object), layout);
        if (status.bad()) return status;
        const size_t total = layout.frameBytes() * size_t(layout.frames);
        if (total == 0 || total > 0xFFFFFFF0UL) return EC_InvalidValue;
        Uint16 *words = nullptr;
        status = uncompressed.createUint16Array(Uint32((total + 1) / 2), words);
        if (status.bad()) return status;
        uint8_t *target = reinterpret_cast<uint8_t *>(words);
        if (total % 2) target[total] = 0;
        Uint32 fragment = 1;   // item 0 is the basic offset table
        std::vector<uint8_t> codestream;
        for (Sint32 frame = 0; frame < layout.frames; ++frame) {
            status = frameCodestream(sequence, fragment, codestream);
            if (status.good()) status = decodeCodestream(codestream, layout, target + frame * layout.frameBytes());
            if (status.bad()) return status;
        }
        removeOldRep = OFFalse;
        return EC_Normal;
    }

    OFCondition decodeFrame(const DcmRepresentationParameter *, DcmPixelSequence *sequence, const DcmCodecParameter *,
                            DcmItem *dataset, Uint32 frameNo, Uint32 &startFragment, void *buffer, Uint32 bufSize,
                            OFString &decompressedColorModel) const override {
        PixelLayout layout;
        OFCondition status = readLayout(dataset, layout);
        if (status.bad()) return status;
        if (!sequence || !buffer || bufSize < layout.frameBytes() || Sint32(frameNo) >= layout.frames) return EC_IllegalCall;
        if (startFragment == 0) {
            status = determineStartFragment(frameNo, layout.frames, sequence, startFragment);
            if (status.bad()) return status;
        }
        std::vector<uint8_t> codestream;
        status = frameCodestream(sequence, startFragment, codestream);
        if (status.good()) status = decodeCodestream(codestream, layout, static_cast<uint8_t *>(buffer));
        if (status.good()) dataset->findAndGetOFString(DCM_PhotometricInterpretation, decompressedColorModel);
        return status;
    }

    OFCondition encode(const Uint16 *, const Uint32, const DcmRepresentationParameter *, DcmPixelSequence *&,
                       const DcmCodecParameter *, DcmStack &, OFBool &) const override { return EC_IllegalCall; }

    OFCondition encode(const E_TransferSyntax, const DcmRepresentationParameter *, DcmPixelSequence *,
                       const DcmRepresentationParameter *, DcmPixelSequence *&, const DcmCodecParameter *, DcmStack &,
                       OFBool &) const override { return EC_IllegalCall; }

    OFBool canChangeCoding(const E_TransferSyntax oldRepType, const E_TransferSyntax newRepType) const override {
        return isJPEG2000(oldRepType) && DcmXfer(newRepType).isNotEncapsulated();
    }

    OFCondition determineDecompressedColorModel(const DcmRepresentationParameter *, DcmPixelSequence *,
                                                const DcmCodecParameter *, DcmItem *dataset,
                                                OFString &decompressedColorModel) const override {
        return dataset ? dataset->findAndGetOFString(DCM_PhotometricInterpretation, decompressedColorModel) : EC_IllegalParameter;
    }
};

class J2KParameter : public DcmCodecParameter {
public:
    DcmCodecParameter *clone() const override { return new J2KParameter(*this); }
    const char *className() const override { return "cdcm::J2KParameter"; }
};

}  // namespace

void cdcm_register_jpeg2000(void) {
    // Registered once by cdcm_initialize; never deregistered (process lifetime).
    static J2KDecoder decoder;
    static J2KParameter parameter;
    static DcmRLERepresentationParameter representation;   // any lossless parameter will do: decoding ignores it
    DcmCodecList::registerCodec(&decoder, &representation, &parameter);
}
