// Process-wide setup and helpers shared by the reader and the SEG writer.
#include "cdcm_internal.hpp"
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>
#include <cstdlib>
#include <cstring>
#include <mutex>

void cdcm_initialize(void) {
    static std::once_flag once;
    std::call_once(once, [] {
        // Decoders must be registered once before any thread decodes (NATIVE.md).
        DcmRLEDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        cdcm_register_jpeg2000();
        // DCMTK logs to stderr by default; our callers report errors themselves.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        // Files written with VR UN for standard attributes (e.g. ImagePositionPatient) read as their real VR.
        dcmEnableUnknownVRConversion.set(OFTrue);
    });
}

void cdcm_free(void *pointer) { std::free(pointer); }

namespace cdcm {

char *copyString(const std::string &text) {
    char *out = static_cast<char *>(std::malloc(text.size() + 1));
    if (out) std::memcpy(out, text.c_str(), text.size() + 1);
    return out;
}

cdcm_status fail(char **error, cdcm_status status, const std::string &message) {
    if (error) *error = copyString(message);
    return status;
}

std::string trimmed(const OFString &text) {
    std::string s(text.c_str(), text.length());
    const char *space = " \t\r\n";
    size_t first = s.find_first_not_of(space);
    if (first == std::string::npos) return "";
    size_t last = s.find_last_not_of(space);
    // DICOM pads with NUL too (UIDs).
    std::string out = s.substr(first, last - first + 1);
    while (!out.empty() && out.back() == '\0') out.pop_back();
    return out;
}

DcmTagKey tagKey(uint32_t tag) { return DcmTagKey(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF)); }

}  // namespace cdcm
