#ifndef CNIFTI_H
#define CNIFTI_H
// Umbrella header for Debian's libnifti2 (reads and writes NIfTI-1 and NIfTI-2).
#include <nifti/nifti2_io.h>
#endif
