// Internal helpers of the network shim (C++ only, never seen by Swift).
#pragma once
#include "cdcmnet.h"
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <string>

namespace cdcmnet {
/// malloc'd copy of `text`; the receiver frees it with cdcmnet_free.
char *copyString(const std::string &text);
/// Stores `message` in `*error` (when error is not NULL) and returns `status`.
cdcmnet_status fail(char **error, cdcmnet_status status, const std::string &message);
/// Text without surrounding spaces and trailing NUL padding (AE titles, UIDs).
std::string trimmed(const OFString &text);
/// "CTImageStorage (1.2.840.10008.5.1.4.1.1.2)", or the UID alone when DCMTK does not know it.
std::string uidName(const std::string &uid);
}  // namespace cdcmnet
