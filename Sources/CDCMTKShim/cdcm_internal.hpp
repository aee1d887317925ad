// Internal helpers of the shim (C++ only, never seen by Swift).
#pragma once
#include "cdcm.h"
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <string>

/// Registers the OpenJPEG-based JPEG 2000 decoder with DCMTK (cdcm_j2k.cpp); called once by cdcm_initialize.
void cdcm_register_jpeg2000(void);

namespace cdcm {
/// malloc'd copy of `text`; the receiver frees it with cdcm_free.
char *copyString(const std::string &text);
/// Stores `message` in `*error` (when error is not NULL) and returns `status`.
cdcm_status fail(char **error, cdcm_status status, const std::string &message);
/// Text without surrounding spaces and trailing NUL padding.
std::string trimmed(const OFString &text);
DcmTagKey tagKey(uint32_t tag);
/// For a Deflated Explicit VR Little Endian file: an element whose declared length runs past the end of the
/// inflated data (DCMTK would allocate that length before reading), described; empty otherwise (cdcm_deflate_check.cpp).
std::string deflatedDatasetProblem(const char *path);
}  // namespace cdcm
