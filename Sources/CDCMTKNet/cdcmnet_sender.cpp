// The C-STORE sender: one association per call, one C-STORE per file, each file's response status kept.
#include "cdcmnet_internal.hpp"
#include <dcmtk/dcmnet/scu.h>
#include <map>
#include <vector>

namespace {

struct Instance {
    std::string sopClass;
    std::string sopInstance;
    std::string transferSyntax;
};

cdcmnet_status readInstance(const char *path, Instance &out, char **error) {
    DcmFileFormat format;
    OFCondition status = format.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, 4096);
    if (status.bad()) return cdcmnet::fail(error, CDCMNET_ERROR_FILE, std::string("cannot read it as DICOM: ") + status.text());
    OFString text;
    DcmDataset *dataset = format.getDataset();
    DcmMetaInfo *meta = format.getMetaInfo();
    if (dataset->findAndGetOFString(DCM_SOPClassUID, text).good()) out.sopClass = cdcmnet::trimmed(text);
    if (out.sopClass.empty() && meta->findAndGetOFString(DCM_MediaStorageSOPClassUID, text).good()) {
        out.sopClass = cdcmnet::trimmed(text);
    }
    if (dataset->findAndGetOFString(DCM_SOPInstanceUID, text).good()) out.sopInstance = cdcmnet::trimmed(text);
    if (out.sopInstance.empty() && meta->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, text).good()) {
        out.sopInstance = cdcmnet::trimmed(text);
    }
    if (out.sopClass.empty() || out.sopInstance.empty()) {
        return cdcmnet::fail(error, CDCMNET_ERROR_FILE, "it has no SOPClassUID or SOPInstanceUID");
    }
    out.transferSyntax = DcmXfer(dataset->getOriginalXfer()).getXferID();
    return CDCMNET_OK;
}

}  // namespace

cdcmnet_status cdcmnet_instance_uids(const char *path, char **sop_class_uid, char **sop_instance_uid, char **error) {
    cdcmnet_initialize();
    *sop_class_uid = nullptr;
    *sop_instance_uid = nullptr;
    Instance instance;
    cdcmnet_status status = readInstance(path, instance, error);
    if (status != CDCMNET_OK) return status;
    *sop_class_uid = cdcmnet::copyString(instance.sopClass);
    *sop_instance_uid = cdcmnet::copyString(instance.sopInstance);
    return CDCMNET_OK;
}

cdcmnet_status cdcmnet_send(const cdcmnet_destination *destination, const char *const *files, size_t count,
                            cdcmnet_send_result *results, char **error) {
    if (!destination || !destination->host || !destination->called_aet || !destination->calling_aet) {
        return cdcmnet::fail(error, CDCMNET_ERROR_INVALID_ARGUMENT, "destination incomplete");
    }
    cdcmnet_initialize();
    for (size_t i = 0; i < count; i++) results[i] = cdcmnet_send_result{0, 0};
    std::vector<Instance> instances(count);
    for (size_t i = 0; i < count; i++) {
        char *reason = nullptr;
        if (readInstance(files[i], instances[i], &reason) != CDCMNET_OK) {
            std::string message = std::string(files[i]) + ": " + (reason ? reason : "unreadable");
            cdcmnet_free(reason);
            return cdcmnet::fail(error, CDCMNET_ERROR_FILE, message);
        }
    }

    DcmSCU scu;
    scu.setPeerHostName(destination->host);
    scu.setPeerPort(destination->port);
    scu.setPeerAETitle(destination->called_aet);
    scu.setAETitle(destination->calling_aet);
    scu.setConnectionTimeout(static_cast<Sint32>(destination->timeout_seconds));
    scu.setACSETimeout(destination->timeout_seconds);
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu.setDIMSETimeout(destination->timeout_seconds);
    scu.setVerbosePCMode(OFFalse);
    // One context per (SOP class, file syntax). A compressed file is offered in its own syntax only (converting it
    // would need a decoder at send time); an uncompressed one in both Little Endian syntaxes, which every SCP takes.
    std::map<std::pair<std::string, std::string>, bool> proposed;
    for (const auto &instance : instances) {
        auto key = std::make_pair(instance.sopClass, instance.transferSyntax);
        if (proposed[key]) continue;
        proposed[key] = true;
        OFList<OFString> syntaxes;
        syntaxes.push_back(instance.transferSyntax.c_str());
        if (!DcmXfer(instance.transferSyntax.c_str()).isEncapsulated()) {
            for (const char *uncompressed : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}) {
                if (instance.transferSyntax != uncompressed) syntaxes.push_back(uncompressed);
            }
        }
        scu.addPresentationContext(instance.sopClass.c_str(), syntaxes);
    }
    const std::string peer = std::string(destination->called_aet) + "@" + destination->host + ":" +
                             std::to_string(destination->port);
    OFCondition status = scu.initNetwork();
    if (status.bad()) return cdcmnet::fail(error, CDCMNET_ERROR_ASSOCIATION, std::string("cannot start the network: ") + status.text());
    status = scu.negotiateAssociation();
    if (status.bad()) {
        return cdcmnet::fail(error, CDCMNET_ERROR_ASSOCIATION, "no association with " + peer + ": " + status.text());
    }
    for (size_t i = 0; i < count; i++) {
        // The file's own syntax first, so nothing is converted when the peer takes it; an uncompressed file may go
        // in the other uncompressed syntax (DCMTK converts those without a codec).
        const char *sopClass = instances[i].sopClass.c_str();
        T_ASC_PresentationContextID context = scu.findPresentationContextID(sopClass, instances[i].transferSyntax.c_str());
        if (context == 0 && !DcmXfer(instances[i].transferSyntax.c_str()).isEncapsulated()) {
            context = scu.findPresentationContextID(sopClass, UID_LittleEndianExplicitTransferSyntax);
            if (context == 0) context = scu.findPresentationContextID(sopClass, UID_LittleEndianImplicitTransferSyntax);
        }
        if (context == 0) continue;
        Uint16 response = 0;
        status = scu.sendSTORERequest(context, OFFilename(files[i]), nullptr, response);
        if (status.bad()) {
            if (!scu.isConnected()) break;
            continue;
        }
        results[i] = cdcmnet_send_result{1, response};
    }
    if (scu.isConnected()) scu.releaseAssociation();
    return CDCMNET_OK;
}
