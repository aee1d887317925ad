// A pre-check of Deflated Explicit VR Little Endian files. DCMTK cannot defer loading values from a deflate
// stream, so it allocates each element's declared length before reading it: a 6 KB file declaring a 3 GB element
// made it ask for 3 GB. This walks the inflated stream once (in fixed-size chunks, allocating nothing per element)
// and reports an element whose declared length runs past the end of the data, before DCMTK sees the file.
#include "cdcm_internal.hpp"
#include <zlib.h>
#include <cstdio>
#include <cstring>
#include <memory>

namespace {

constexpr char deflatedSyntax[] = "1.2.840.10008.1.2.1.99";

uint16_t u16(const unsigned char *p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t u32(const unsigned char *p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

/// Whether an Explicit VR header has the 12-byte form (4-byte length). As in DCMTK, every VR but the standard
/// 2-byte-length ones does, unknown and garbage VRs included.
bool hasLongLength(const unsigned char *vr) {
    static const char *const shortVRs[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO",
                                           "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
    for (const char *candidate : shortVRs)
        if (std::memcmp(vr, candidate, 2) == 0) return false;
    return true;
}

/// The transfer syntax of a file with a preamble, read from its group 0002 (always Explicit VR Little Endian);
/// leaves `file` at the first byte after the meta group. Empty when there is no preamble or no syntax element.
std::string transferSyntax(std::FILE *file) {
    unsigned char head[132];
    if (std::fread(head, 1, sizeof head, file) != sizeof head || std::memcmp(head + 128, "DICM", 4) != 0) return {};
    std::string syntax;
    unsigned char element[12];
    for (;;) {
        const long start = std::ftell(file);
        if (std::fread(element, 1, 8, file) != 8 || u16(element) != 0x0002) {
            std::fseek(file, start, SEEK_SET);
            return syntax;
        }
        uint32_t length = u16(element + 6);
        if (hasLongLength(element + 4)) {
            if (std::fread(element + 8, 1, 4, file) != 4) return {};
            length = u32(element + 8);
        }
        if (length > 1024) return syntax == deflatedSyntax ? syntax : std::string();
        std::string value(length, '\0');
        if (length > 0 && std::fread(&value[0], 1, length, file) != length) return {};
        if (u16(element + 2) == 0x0010) syntax = cdcm::trimmed(OFString(value.c_str()));
    }
}

/// Walks the element headers of an inflated Explicit VR Little Endian stream, fed in chunks.
class ElementWalker {
public:
    /// Consumes `count` bytes; false once it met something it does not model (then it stops judging).
    bool feed(const unsigned char *bytes, size_t count) {
        while (count > 0 && understood) {
            if (toSkip > 0) {
                const size_t skipped = size_t(std::min<uint64_t>(toSkip, count));
                toSkip -= skipped, bytes += skipped, count -= skipped, consumed += skipped;
                continue;
            }
            const size_t wanted = headerLength();
            const size_t taken = std::min(wanted - held, count);
            std::memcpy(header + held, bytes, taken);
            held += taken, bytes += taken, count -= taken, consumed += taken;
            if (held == headerLength()) readHeader();  // the length may grow once the VR is known
        }
        return understood;
    }

    /// The problem, if the stream ended inside a value; empty otherwise.
    std::string endProblem() const {
        if (!understood || toSkip == 0) return {};
        char text[200];
        std::snprintf(text, sizeof text, "element (%04X,%04X) declares %u bytes but the deflated dataset ends %llu bytes in",
                      lastGroup, lastElement, lastLength, static_cast<unsigned long long>(consumed));
        return text;
    }

private:
    unsigned char header[12];
    size_t held = 0;
    uint64_t toSkip = 0, consumed = 0;
    bool understood = true;
    uint16_t lastGroup = 0, lastElement = 0;
    uint32_t lastLength = 0;

    size_t headerLength() const {
        if (held < 6) return 8;
        if (u16(header) == 0xFFFE) return 8;  // items and delimiters: tag + 4-byte length, no VR
        return hasLongLength(header + 4) ? 12 : 8;
    }

    void readHeader() {
        const uint16_t group = u16(header), element = u16(header + 2);
        uint32_t length;
        bool container = false;  // contents are elements: walk into them instead of skipping
        if (group == 0xFFFE) {
            length = u32(header + 4);
            container = element == 0xE000;
        } else if (hasLongLength(header + 4)) {
            length = u32(header + 8);
            container = std::memcmp(header + 4, "SQ", 2) == 0;
            // UN of undefined length holds Implicit VR content, which this walker does not model.
            if (length == 0xFFFFFFFF && std::memcmp(header + 4, "UN", 2) == 0) understood = false;
        } else {
            length = u16(header + 6);
        }
        lastGroup = group, lastElement = element, lastLength = length;
        held = 0;
        if (length != 0xFFFFFFFF && !container) toSkip = length;
    }
};

}  // namespace

std::string cdcm::deflatedDatasetProblem(const char *path) {
    std::unique_ptr<std::FILE, int (*)(std::FILE *)> file(std::fopen(path, "rb"), std::fclose);
    if (!file || transferSyntax(file.get()) != deflatedSyntax) return {};
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return {};  // raw deflate, as the standard specifies
    std::unique_ptr<z_stream, int (*)(z_stream *)> owner(&stream, inflateEnd);
    ElementWalker walker;
    unsigned char in[16384], out[65536];
    for (;;) {
        if (stream.avail_in == 0) {
            stream.avail_in = unsigned(std::fread(in, 1, sizeof in, file.get()));
            stream.next_in = in;
            if (stream.avail_in == 0) break;
        }
        stream.next_out = out, stream.avail_out = sizeof out;
        const int status = inflate(&stream, Z_NO_FLUSH);
        if (!walker.feed(out, sizeof out - stream.avail_out)) return {};
        // A corrupt or cut stream ends the walk too: DCMTK would still read the header before it and allocate.
        if (status != Z_OK && status != Z_BUF_ERROR) break;
    }
    return walker.endProblem();
}
