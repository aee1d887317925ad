// Process-wide setup and helpers of the network shim.
#include "cdcmnet_internal.hpp"
#include <dcmtk/oflog/oflog.h>
#include <cstdlib>
#include <cstring>
#include <mutex>

void cdcmnet_free(void *pointer) { std::free(pointer); }

void cdcmnet_initialize(void) {
    static std::once_flag once;
    std::call_once(once, [] {
        // DCMTK logs to stderr by default; the listener reports through its callback, the sender through errors.
        OFLog::configure(getenv("CDCMNET_DEBUG") ? OFLogger::DEBUG_LOG_LEVEL : OFLogger::FATAL_LOG_LEVEL);
    });
}

namespace cdcmnet {

char *copyString(const std::string &text) {
    char *out = static_cast<char *>(std::malloc(text.size() + 1));
    if (out) std::memcpy(out, text.c_str(), text.size() + 1);
    return out;
}

cdcmnet_status fail(char **error, cdcmnet_status status, const std::string &message) {
    if (error) *error = copyString(message);
    return status;
}

std::string trimmed(const OFString &text) {
    std::string s(text.c_str(), text.length());
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    size_t first = s.find_first_not_of(' ');
    return first == std::string::npos ? "" : s.substr(first);
}

std::string uidName(const std::string &uid) {
    const char *name = dcmFindNameOfUID(uid.c_str(), nullptr);
    return name ? std::string(name) + " (" + uid + ")" : uid;
}

}  // namespace cdcmnet
