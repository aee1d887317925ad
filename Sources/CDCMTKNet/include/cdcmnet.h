#ifndef CDCMNET_H
#define CDCMNET_H
// Plain C interface to DCMTK 3.6.7's network module (dcmnet): a C-STORE listener and a C-STORE sender. Only
// DicomNetwork's `DicomNetwork+Shim.swift` calls it. It knows associations and files, nothing about segmentation.
//
// Why a shim: as for cdcm.h, C++ interop would spread to every Swift target above; a small C surface keeps DCMTK
// inside this target.
//
// Ownership, everywhere in this header:
// - `char *` results and `char **error` outputs are allocated with malloc; the caller frees them with cdcmnet_free().
// - `const` pointer parameters are borrowed for the duration of the call only (the listener copies its settings).
// - A `cdcmnet_listener *` from cdcmnet_listener_start() is owned by the caller and released with
//   cdcmnet_listener_stop().
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cdcmnet_status {
    CDCMNET_OK = 0,
    /// The listener cannot start: the port is taken or not allowed, or the inbox cannot be created.
    CDCMNET_ERROR_LISTEN = 1,
    /// No association with the peer: connection refused or timed out, or the peer rejected the association or every
    /// presentation context.
    CDCMNET_ERROR_ASSOCIATION = 2,
    /// A file to send cannot be read as DICOM.
    CDCMNET_ERROR_FILE = 3,
    /// A request to the shim is inconsistent.
    CDCMNET_ERROR_INVALID_ARGUMENT = 4,
} cdcmnet_status;

/// Frees a string returned by this shim. NULL is allowed.
void cdcmnet_free(void *pointer);

/// Quiets DCMTK's own logger (it writes to stderr; the listener reports through its callback instead), unless the
/// environment sets CDCMNET_DEBUG, which shows every association in DCMTK's debug log. Safe to call many times and
/// from many threads.
void cdcmnet_initialize(void);

// MARK: - Listening (C-STORE SCP, C-ECHO)

/// Severity of a listener event.
typedef enum cdcmnet_event_kind {
    /// An association that stored instances ended: how many, from whom, into which studies.
    CDCMNET_EVENT_INFO = 0,
    /// Something was refused: an association (calling or called AE title), a presentation context (a SOP class or
    /// transfer syntax not accepted), or an instance that could not be filed.
    CDCMNET_EVENT_REFUSED = 1,
} cdcmnet_event_kind;

/// Called on the listener's thread for each event; `message` is borrowed for the call. Must not call back into the
/// listener.
typedef void (*cdcmnet_event_fn)(void *context, cdcmnet_event_kind kind, const char *message);

typedef struct cdcmnet_listener_settings {
    /// TCP port to listen on (all interfaces: DCMTK 3.6.7 cannot bind one address).
    uint16_t port;
    /// This listener's AE title; associations calling another title are refused.
    const char *ae_title;
    /// Calling AE titles allowed to associate; none (count 0) allows any.
    const char *const *allowed_calling_aets;
    size_t allowed_calling_aet_count;
    /// Transfer syntax UIDs accepted for storage, in order of preference; a storage presentation context offering
    /// none of them is refused, and so is any SOP class not in `sop_classes`. Verification accepts the uncompressed syntaxes whatever this says.
    const char *const *transfer_syntaxes;
    size_t transfer_syntax_count;
    /// Storage SOP Class UIDs accepted; none (count 0) accepts every image storage class DCMTK knows. At most 127
    /// (DcmSCP negotiates at most 128 presentation contexts, verification included).
    const char *const *sop_classes;
    size_t sop_class_count;
    /// The folder instances are filed in, as STUDYUID/SERIESUID/SOPUID.dcm. Received data is first written to
    /// `inbox/.incoming/` (hidden, so folder watchers ignore it) and renamed into place before the C-STORE response:
    /// an acknowledged instance is complete on disk (renamed, not fsynced).
    const char *inbox;
    /// Seconds a peer may stay silent inside an association before it is aborted.
    uint32_t timeout_seconds;
} cdcmnet_listener_settings;

/// One running listener. Opaque.
typedef struct cdcmnet_listener cdcmnet_listener;

/// Opens the port and starts accepting associations on a thread of its own; one association at a time.
/// Unacknowledged leftovers in `inbox/.incoming/` (a killed process) are removed first.
/// On success `*out` owns the listener; on failure `*out` is NULL and `*error` says why.
cdcmnet_status cdcmnet_listener_start(const cdcmnet_listener_settings *settings, cdcmnet_event_fn on_event,
                                      void *context, cdcmnet_listener **out, char **error);

/// Stops accepting, lets the current association end (or time out), joins the thread and frees the listener.
/// Returns within about a second when no association is open. NULL is allowed.
void cdcmnet_listener_stop(cdcmnet_listener *listener);

// MARK: - Sending (C-STORE SCU)

typedef struct cdcmnet_destination {
    const char *host;
    uint16_t port;
    /// The peer's AE title (Called AE) and ours (Calling AE).
    const char *called_aet;
    const char *calling_aet;
    /// Seconds for connecting, association negotiation and each response.
    uint32_t timeout_seconds;
} cdcmnet_destination;

/// What became of one file of a send.
typedef struct cdcmnet_send_result {
    /// 1 when a C-STORE response came back, 0 when the file was not sent (no presentation context for it, or the
    /// association broke before its turn).
    int responded;
    /// The DIMSE status of the response (0x0000 success, 0xB000/0xB006/0xB007 warnings: stored; others: failure).
    uint16_t status;
} cdcmnet_send_result;

/// Sends `files` in one association: a presentation context per SOP class and file transfer syntax, offering a
/// compressed file in its own syntax only and an uncompressed one in Explicit and Implicit VR Little Endian too
/// (no codec is needed to send). `results` has `count` entries and is filled for every file.
/// CDCMNET_OK when the association was established (each file's fate is then in `results`); otherwise
/// CDCMNET_ERROR_FILE (a file unreadable; nothing sent) or CDCMNET_ERROR_ASSOCIATION, with `*error` set.
cdcmnet_status cdcmnet_send(const cdcmnet_destination *destination, const char *const *files, size_t count,
                            cdcmnet_send_result *results, char **error);

/// The SOP Class UID and SOP Instance UID of a DICOM file (from its dataset; meta header as fallback). Caller frees
/// both strings.
cdcmnet_status cdcmnet_instance_uids(const char *path, char **sop_class_uid, char **sop_instance_uid, char **error);

#ifdef __cplusplus
}
#endif
#endif
