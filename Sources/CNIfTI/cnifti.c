// Empty translation unit: SwiftPM needs one source file to build a C target.
#include "CNIfTI.h"
