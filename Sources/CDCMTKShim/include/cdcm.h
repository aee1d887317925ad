#ifndef CDCM_H
#define CDCM_H
// Plain C interface to DCMTK. Only VolumeIO's DICOM readers/writers call it.
#ifdef __cplusplus
extern "C" {
#endif

/// Registers DCMTK's RLE, JPEG and JPEG-LS decoders and quiets its logger. Call once before any other cdcm_ call.
void cdcm_initialize(void);

#ifdef __cplusplus
}
#endif
#endif
