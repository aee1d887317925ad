// The C-STORE listener: a DcmSCP that files each received instance as INBOX/STUDY/SERIES/SOP.dcm before it
// acknowledges it, and refuses at association time what it would not keep (unknown calling AE titles, transfer
// syntaxes the readers cannot decode).
#include "cdcmnet_internal.hpp"
#include <dcmtk/dcmdata/dcobject.h>
#include <dcmtk/dcmnet/scp.h>
#include <dcmtk/dcmnet/dimse.h>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using cdcmnet::trimmed;
using cdcmnet::uidName;

const char *const incomingFolderName = ".incoming";

/// DIMSE statuses of our C-STORE responses (PS3.4 B.2.3).
const Uint16 statusCannotUnderstand = 0xC000;
const Uint16 statusOutOfResources = 0xA700;

/// A UID usable as a file name: 1 to 64 characters, digits and dots only (no path separators, no "..").
bool isSafeUID(const std::string &uid) {
    if (uid.empty() || uid.size() > 64 || uid.front() == '.') return false;
    for (char c : uid) {
        if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
    }
    return true;
}

bool makeFolder(const std::string &path) { return mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; }

class Listener : public DcmSCP {
public:
    Listener(const cdcmnet_listener_settings &settings, cdcmnet_event_fn onEvent, void *context)
        : inbox_(settings.inbox), aeTitle_(settings.ae_title), onEvent_(onEvent), context_(context) {
        for (size_t i = 0; i < settings.allowed_calling_aet_count; i++) allowed_.insert(settings.allowed_calling_aets[i]);
        for (size_t i = 0; i < settings.transfer_syntax_count; i++) syntaxes_.push_back(settings.transfer_syntaxes[i]);
        for (size_t i = 0; i < settings.sop_class_count; i++) sopClasses_.push_back(settings.sop_classes[i]);
        if (sopClasses_.empty()) sopClasses_.assign(dcmImageSOPClassUIDs, dcmImageSOPClassUIDs + numberOfDcmImageSOPClassUIDs);
        setPort(settings.port);
        setAETitle(aeTitle_.c_str());
        // Non-blocking accept with a 1 s timeout, so the stop flag is seen within a second.
        setConnectionBlockingMode(DUL_NOBLOCK);
        setConnectionTimeout(1);
        setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        setDIMSETimeout(settings.timeout_seconds);
        setACSETimeout(settings.timeout_seconds);
        setHostLookupEnabled(OFFalse);
        setProgressNotificationMode(OFFalse);
    }

    /// Registers the presentation contexts: each accepted SOP class in the accepted syntaxes, and verification.
    /// By default image classes only: they are what the readers read, and DcmSCP takes at most 128 contexts (all
    /// storage classes are 186), so other objects a modality sends with a study (SR, presentation states) are
    /// refused and logged.
    OFCondition configure() {
        OFCondition status = setEnableVerification();
        if (status.bad()) return status;
        // In the caller's order (uncompressed first, as storescp does): where a sender offers several syntaxes in
        // one context it may have to decompress, never to compress. Senders that offer each compressed syntax in a
        // context of its own (DcmStorageSCU, Orthanc, most PACS) get their instances kept as sent.
        OFList<OFString> syntaxes;
        for (const auto &uid : syntaxes_) syntaxes.push_back(uid.c_str());
        for (const auto &sopClass : sopClasses_) {
            status = addPresentationContext(sopClass.c_str(), syntaxes);
            if (status.bad()) return status;
        }
        return EC_Normal;
    }

    std::string incomingFolder() const { return inbox_ + "/" + incomingFolderName; }

    /// Removes what a killed process left in the incoming folder: never acknowledged, so the sender still has it.
    void removeLeftovers() {
        DIR *dir = opendir(incomingFolder().c_str());
        if (!dir) return;
        while (dirent *entry = readdir(dir)) {
            std::string name = entry->d_name;
            if (name == "." || name == "..") continue;
            unlink((incomingFolder() + "/" + name).c_str());
        }
        closedir(dir);
    }

    std::atomic<bool> stopping{false};

protected:
    OFBool stopAfterConnectionTimeout() override { return stopping.load(); }
    OFBool stopAfterCurrentAssociation() override { return stopping.load(); }

    OFBool checkCalledAETitleAccepted(const OFString &calledAE) override {
        if (trimmed(calledAE) == aeTitle_) return OFTrue;
        report(CDCMNET_EVENT_REFUSED, "refused an association from " + peer_ + ": it called AE title '" +
                                          trimmed(calledAE) + "', this listener is '" + aeTitle_ + "'");
        return OFFalse;
    }

    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override {
        if (allowed_.empty() || allowed_.count(trimmed(callingAE))) return OFTrue;
        report(CDCMNET_EVENT_REFUSED, "refused an association from " + peer_ + ": calling AE title '" +
                                          trimmed(callingAE) + "' is not in allowed_calling_aets");
        return OFFalse;
    }

    /// Before negotiation: remembers who calls, and says which proposed contexts will be refused and why (DCMTK
    /// refuses them silently, and the whole association when none is left).
    void notifyAssociationRequest(const T_ASC_Parameters &params, DcmSCPActionType &desiredAction) override {
        DcmSCP::notifyAssociationRequest(params, desiredAction);
        peer_ = "'" + trimmed(params.DULparams.callingAPTitle) + "' (" + params.DULparams.callingPresentationAddress + ")";
        T_ASC_Parameters *mutableParams = const_cast<T_ASC_Parameters *>(&params);
        const int count = ASC_countPresentationContexts(mutableParams);
        std::set<std::string> notAccepted;
        for (int i = 0; i < count; i++) {
            T_ASC_PresentationContext context;
            if (ASC_getPresentationContext(mutableParams, i, &context).bad()) continue;
            const std::string abstract = context.abstractSyntax;
            if (abstract == UID_VerificationSOPClass) continue;
            if (!isAccepted(abstract)) {
                notAccepted.insert(uidName(abstract));
                continue;
            }
            bool decodable = false;
            std::string offered;
            for (int t = 0; t < context.transferSyntaxCount; t++) {
                const std::string syntax = context.proposedTransferSyntaxes[t];
                offered += (offered.empty() ? "" : ", ") + uidName(syntax);
                for (const auto &accepted : syntaxes_) decodable = decodable || accepted == syntax;
            }
            if (!decodable) {
                report(CDCMNET_EVENT_REFUSED, "refusing " + uidName(abstract) + " from " + peer_ + " in " + offered +
                                                  ": the readers cannot decode that transfer syntax; send it "
                                                  "uncompressed (Explicit VR Little Endian) or in JPEG, JPEG-LS or RLE");
            }
        }
        // Senders that offer every storage class (storescu's default) get one line, not a hundred.
        if (!notAccepted.empty()) {
            std::string names;
            int shown = 0;
            for (const auto &name : notAccepted) {
                if (shown++ == 4) { names += ", and " + std::to_string(notAccepted.size() - 4) + " more"; break; }
                names += (names.empty() ? "" : ", ") + name;
            }
            report(CDCMNET_EVENT_REFUSED, "refusing " + names + " from " + peer_ +
                                              ": SOP classes this listener does not keep (it keeps images)");
        }
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *message, const DcmPresentationContextInfo &info) override {
        if (message->CommandField != DIMSE_C_STORE_RQ) return DcmSCP::handleIncomingCommand(message, info);
        T_DIMSE_C_StoreRQ &request = message->msg.CStoreRQ;
        DcmDataset *dataset = nullptr;
        OFCondition status = receiveSTORERequest(request, info.presentationContextID, dataset);
        if (status.bad()) {
            delete dataset;
            report(CDCMNET_EVENT_REFUSED, "lost an instance from " + peer_ + " while receiving it: " + status.text());
            return status;
        }
        const Uint16 response = file(request, dataset, info.acceptedTransferSyntax.c_str());
        delete dataset;
        return sendSTOREResponse(info.presentationContextID, request, response);
    }

    /// One line per association that stored something, not one per instance (a CT may bring a thousand).
    void notifyAssociationTermination() override {
        if (filed_ > 0) {
            std::string studies;
            for (const auto &study : studies_) studies += (studies.empty() ? "" : ", ") + study;
            report(CDCMNET_EVENT_INFO, "received " + std::to_string(filed_) + (filed_ == 1 ? " instance" : " instances") +
                                           " from " + peer_ + " into " + studies);
        }
        filed_ = 0;
        studies_.clear();
        peer_ = "an unknown peer";
    }

private:
    /// Writes the dataset to the incoming folder, then renames it to INBOX/STUDY/SERIES/SOP.dcm; the status to answer.
    Uint16 file(const T_DIMSE_C_StoreRQ &request, DcmDataset *dataset, const std::string &transferSyntax) {
        OFString text;
        const std::string sop = request.AffectedSOPInstanceUID;
        std::string study, series;
        if (dataset->findAndGetOFString(DCM_StudyInstanceUID, text).good()) study = trimmed(text);
        if (dataset->findAndGetOFString(DCM_SeriesInstanceUID, text).good()) series = trimmed(text);
        if (!isSafeUID(study) || !isSafeUID(series) || !isSafeUID(sop)) {
            report(CDCMNET_EVENT_REFUSED, "refused instance '" + sop + "' from " + peer_ +
                                              ": missing or malformed StudyInstanceUID, SeriesInstanceUID or "
                                              "SOPInstanceUID (study '" + study + "', series '" + series + "')");
            return statusCannotUnderstand;
        }
        if (!makeFolder(inbox_) || !makeFolder(incomingFolder())) {
            report(CDCMNET_EVENT_REFUSED, "cannot create " + incomingFolder() + ": " + std::strerror(errno));
            return statusOutOfResources;
        }
        const std::string temporary = incomingFolder() + "/.tmp-" + sop + ".dcm";
        DcmFileFormat fileFormat(dataset);
        const E_TransferSyntax xfer = DcmXfer(transferSyntax.c_str()).getXfer();
        OFCondition saved = fileFormat.saveFile(OFFilename(temporary.c_str()), xfer, EET_ExplicitLength, EGL_recalcGL,
                                                EPD_noChange, 0, 0, EWM_createNewMeta);
        if (saved.bad()) {
            unlink(temporary.c_str());
            report(CDCMNET_EVENT_REFUSED, "cannot write instance " + sop + " to " + temporary + ": " + saved.text());
            return statusOutOfResources;
        }
        const std::string relative = study + "/" + series + "/" + sop + ".dcm";
        // The study folder may be moved away (a watcher taking the study) between mkdir and rename: try again.
        for (int attempt = 0; attempt < 3; attempt++) {
            if (makeFolder(inbox_ + "/" + study) && makeFolder(inbox_ + "/" + study + "/" + series) &&
                std::rename(temporary.c_str(), (inbox_ + "/" + relative).c_str()) == 0) {
                filed_++;
                studies_.insert(study);
                return STATUS_Success;
            }
        }
        const std::string reason = std::strerror(errno);
        unlink(temporary.c_str());
        report(CDCMNET_EVENT_REFUSED, "cannot file instance " + relative + " in " + inbox_ + ": " + reason);
        return statusOutOfResources;
    }

    bool isAccepted(const std::string &uid) const {
        for (const auto &sopClass : sopClasses_) {
            if (uid == sopClass) return true;
        }
        return false;
    }

    void report(cdcmnet_event_kind kind, const std::string &message) {
        if (onEvent_) onEvent_(context_, kind, message.c_str());
    }

    std::string inbox_;
    std::string aeTitle_;
    std::set<std::string> allowed_;
    std::vector<std::string> syntaxes_;
    std::vector<std::string> sopClasses_;
    cdcmnet_event_fn onEvent_;
    void *context_;
    std::string peer_ = "an unknown peer";
    /// Instances filed in the current association, and their studies.
    int filed_ = 0;
    std::set<std::string> studies_;
};

}  // namespace

struct cdcmnet_listener {
    Listener scp;
    std::thread thread;
    cdcmnet_listener(const cdcmnet_listener_settings &settings, cdcmnet_event_fn onEvent, void *context)
        : scp(settings, onEvent, context) {}
};

cdcmnet_status cdcmnet_listener_start(const cdcmnet_listener_settings *settings, cdcmnet_event_fn on_event,
                                      void *context, cdcmnet_listener **out, char **error) {
    *out = nullptr;
    if (!settings || !settings->ae_title || !settings->inbox || settings->transfer_syntax_count == 0 ||
        settings->sop_class_count > 127) {
        return cdcmnet::fail(error, CDCMNET_ERROR_INVALID_ARGUMENT, "listener settings incomplete");
    }
    cdcmnet_initialize();
    auto *listener = new cdcmnet_listener(*settings, on_event, context);
    if (!makeFolder(settings->inbox) || !makeFolder(listener->scp.incomingFolder())) {
        const std::string reason = std::strerror(errno);
        delete listener;
        return cdcmnet::fail(error, CDCMNET_ERROR_LISTEN, std::string("cannot create the inbox: ") + reason);
    }
    listener->scp.removeLeftovers();
    OFCondition status = listener->scp.configure();
    if (status.good()) status = listener->scp.openListenPort();
    // Opening the port switches dcmdata's input correction off for the whole process ("to see the real data");
    // the readers and the SEG writer in this process rely on it (UID padding removed on load), so it goes back on.
    dcmEnableAutomaticInputDataCorrection.set(OFTrue);
    if (status.bad()) {
        delete listener;
        return cdcmnet::fail(error, CDCMNET_ERROR_LISTEN,
                             "cannot listen on port " + std::to_string(settings->port) + ": " + status.text());
    }
    listener->thread = std::thread([listener] { listener->scp.acceptAssociations(); });
    *out = listener;
    return CDCMNET_OK;
}

void cdcmnet_listener_stop(cdcmnet_listener *listener) {
    if (!listener) return;
    listener->scp.stopping.store(true);
    if (listener->thread.joinable()) listener->thread.join();
    delete listener;
}
