// nifti2_io.h includes <znzlib.h>, which Debian installs under nifti/; forward it.
#include <nifti/znzlib.h>
