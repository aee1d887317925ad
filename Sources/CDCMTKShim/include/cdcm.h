#ifndef CDCM_H
#define CDCM_H
// Plain C interface to DCMTK 3.6.7. Only VolumeIO's `DicomFile+Shim.swift` calls it.
//
// Why a shim: Swift's C++ interop can call DCMTK directly, but then every Swift target above must enable interop,
// DicomImage does not import and the DCM_* tag macros do not import either. A small C surface keeps DCMTK inside
// this target.
//
// Ownership, everywhere in this header:
// - `char *` results and `char **error` outputs are allocated with malloc; the caller frees them with cdcm_free().
//   Error strings are one line, without the file name (the Swift caller adds it).
// - `const` pointer parameters are borrowed for the duration of the call only.
// - A `cdcm_file *` from cdcm_open() is owned by the caller and released with cdcm_close(). One handle holds one
//   DcmFileFormat; handles are independent, so different threads may use different handles at the same time.
// Tags are passed as (group << 16) | element, e.g. 0x00200032 for ImagePositionPatient.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes of the shim; every function that can fail returns one.
typedef enum cdcm_status {
    CDCM_OK = 0,
    /// The file cannot be opened or is not parseable DICOM (truncated, bad meta header, not DICOM at all).
    CDCM_ERROR_READ = 1,
    /// The object has no Pixel Data (7FE0,0010).
    CDCM_ERROR_NO_PIXEL_DATA = 2,
    /// DCMTK cannot decode the pixels: no decoder for the transfer syntax (JPEG 2000), colour or odd bit depths.
    CDCM_ERROR_UNSUPPORTED = 3,
    /// Decoding started but failed, or the pixel attributes contradict the data (length, frame index).
    CDCM_ERROR_DECODE = 4,
    /// A request to the shim is inconsistent (SEG writer input).
    CDCM_ERROR_INVALID_ARGUMENT = 5,
    /// DCMTK refused to build or save an object.
    CDCM_ERROR_WRITE = 6,
} cdcm_status;

/// Registers DCMTK's RLE, JPEG and JPEG-LS decoders and quiets its logger. Safe to call many times and from many
/// threads; the first call does the work. Call it before any other cdcm_ function.
void cdcm_initialize(void);

/// Frees a string or buffer returned by this shim. NULL is allowed.
void cdcm_free(void *pointer);

// MARK: - Reading

/// One parsed DICOM file (a DcmFileFormat). Opaque.
typedef struct cdcm_file cdcm_file;

/// Parses `path`. With `header_only` non-zero, values longer than 4 KiB (Pixel Data) are left on disk until needed.
/// Files without a meta header are accepted when they still parse as a dataset with a SOP Class UID or pixel
/// attributes (old ACR-NEMA style files); anything else is CDCM_ERROR_READ.
/// On success `*out` owns the file (release with cdcm_close); on failure `*out` is NULL and `*error` is set.
cdcm_status cdcm_open(const char *path, int header_only, cdcm_file **out, char **error);

/// Releases a handle from cdcm_open(). NULL is allowed.
void cdcm_close(cdcm_file *file);

/// 1 when the top-level attribute (or meta header attribute) is present, even if empty; 0 otherwise. Does not load
/// large values.
int cdcm_has_tag(const cdcm_file *file, uint32_t tag);

/// 1 when DCMTK can decode the file's pixels to native form: the transfer syntax is native, or a decoder for it is
/// registered (RLE, JPEG, JPEG-LS). 0 for JPEG 2000 and other syntaxes without a decoder in this build.
int cdcm_can_decode(const cdcm_file *file);

/// The transfer syntax UIDs whose pixels this build decodes (cdcm_can_decode would say 1), joined by '\\',
/// uncompressed ones first: a DICOM listener accepts these and no others. Caller frees.
char *cdcm_decodable_transfer_syntaxes(void);

/// The value of a top-level attribute (or of a meta header attribute, group 0002) as text, all values joined by
/// '\\', leading and trailing spaces removed. NULL when absent or empty. Caller frees.
char *cdcm_get_string(const cdcm_file *file, uint32_t tag);

/// Reads up to `capacity` numeric values of a top-level attribute (DS, IS, FD, FL, US, SS, UL, SL) into `out`.
/// Returns how many were read; 0 when absent or not numeric. `out` is only written for values that were read.
int cdcm_get_numbers(const cdcm_file *file, uint32_t tag, double *out, int capacity);

/// The raw value bytes of a top-level binary attribute (VR OB or UN: private blocks such as the Siemens CSA header
/// (0029,1010), or any private element of an implicit VR file). On success `*out` holds a malloc'd copy of
/// `*length` bytes (caller frees; NULL when the value is empty) and 1 is returned; 0 when absent or not binary.
int cdcm_get_bytes(const cdcm_file *file, uint32_t tag, uint8_t **out, size_t *length);

/// Number of items of a top-level sequence; 0 when absent.
long cdcm_sequence_count(const cdcm_file *file, uint32_t sequence_tag);

/// Text value of `tag` inside item `item` (0-based) of the top-level sequence `sequence_tag`; NULL when absent.
/// Caller frees.
char *cdcm_get_item_string(const cdcm_file *file, uint32_t sequence_tag, long item, uint32_t tag);

/// Per-frame geometry of an enhanced multi-frame object (or a SEG), from the Per-Frame Functional Groups Sequence
/// item of the frame, falling back to the Shared Functional Groups Sequence. Each `has_` flag says whether the
/// value was found.
typedef struct cdcm_frame_info {
    /// ImagePositionPatient (DS, 3) in PlanePositionSequence (0020,9113), LPS mm.
    int has_position;
    double position[3];
    /// ImageOrientationPatient (DS, 6) in PlaneOrientationSequence (0020,9116): row then column direction cosines.
    int has_orientation;
    double orientation[6];
    /// PixelSpacing (DS, 2) in PixelMeasuresSequence (0028,9110): [spacing between rows, between columns] mm.
    int has_pixel_spacing;
    double pixel_spacing[2];
    /// SliceThickness (DS, 1) in PixelMeasuresSequence.
    int has_slice_thickness;
    double slice_thickness;
    /// RescaleSlope / RescaleIntercept (DS, 1) in PixelValueTransformationSequence (0028,9145). has_rescale is set
    /// only when a usable (finite, non-zero) slope was read; a missing intercept reads as 0.
    int has_rescale;
    double rescale_slope;
    double rescale_intercept;
    /// ReferencedSegmentNumber (US, 1) in SegmentIdentificationSequence (0062,000A); 0 when absent.
    int segment_number;
    /// ReferencedSOPInstanceUID of the first SourceImageSequence item in DerivationImageSequence (0008,9124);
    /// empty when absent. Truncated to 64 characters plus NUL, the longest UID.
    char source_sop_instance_uid[65];
    /// The first ReferencedFrameNumber (IS) of that SourceImageSequence item: the 1-based frame of a multi-frame
    /// source; 0 when absent.
    long source_frame_number;
} cdcm_frame_info;

/// Fills `*out` for `frame` (0-based). Returns CDCM_OK, or CDCM_ERROR_INVALID_ARGUMENT when the object has no
/// functional groups or the frame index is out of range.
cdcm_status cdcm_get_frame_info(const cdcm_file *file, long frame, cdcm_frame_info *out, char **error);

/// Decodes frame `frame` (0-based) to stored values as floats: the pixel cells are read honouring BitsAllocated
/// (1, 8, 16 or 32), BitsStored, HighBit and PixelRepresentation (two's complement sign extension); no rescale or
/// photometric inversion is applied. `count` must equal Rows * Columns. The first call converts the dataset to
/// Explicit VR Little Endian (decompressing RLE, JPEG, JPEG-LS), later calls reuse it. Only SamplesPerPixel 1 is
/// supported. On failure `*error` says why (no decoder for the transfer syntax, colour image, truncated data, ...).
cdcm_status cdcm_decode_frame(cdcm_file *file, long frame, float *out, size_t count, char **error);

/// The name of the file's transfer syntax, as DCMTK knows it ("JPEG 2000 (Lossless only)"). Caller frees.
char *cdcm_transfer_syntax_name(const cdcm_file *file);

/// DCMTK's keyword for a UID ("CTImageStorage"), or NULL when it does not know it. Caller frees.
char *cdcm_uid_name(const char *uid);

/// The whole file (meta header and dataset) as DCMTK's text dump, one attribute per line, no pixel values.
/// Used by golden tests. Caller frees.
char *cdcm_dump(const cdcm_file *file);

// MARK: - Writing DICOM SEG

/// One segment of a binary segmentation.
typedef struct cdcm_seg_segment {
    /// SegmentLabel (LO, 1, 1).
    const char *label;
    /// Segmented Property Category / Type Code Sequences (SQ, 1, 1): code value, scheme designator, meaning.
    /// The caller picks the codes, e.g. ("91723000", "SCT", "Anatomical Structure").
    const char *category_code[3];
    const char *type_code[3];
    /// RecommendedDisplayCIELabValue (US, 3, 1), already scaled to 0..65535 (the Swift side converts from sRGB);
    /// written only when has_display_color is 1.
    int has_display_color;
    uint16_t display_cielab[3];
} cdcm_seg_segment;

/// One frame of a binary segmentation: one segment on one source slice.
typedef struct cdcm_seg_frame {
    /// ReferencedSegmentNumber (US, 1, 1): 1-based index into the request's segments.
    uint16_t segment_number;
    /// 1-based position of the source slice in the stack: the second DimensionIndexValues entry
    /// (the first is the segment number), dimensions being (ReferencedSegmentNumber, ImagePositionPatient).
    uint32_t position_index;
    /// ImagePositionPatient (DS, 3, 1) of the frame in PlanePositionSequence, LPS mm.
    double position[3];
    /// The source image of this frame, for DerivationImageSequence > SourceImageSequence:
    /// ReferencedSOPClassUID and ReferencedSOPInstanceUID (UI, 1, 1).
    const char *source_sop_class_uid;
    const char *source_sop_instance_uid;
    /// ReferencedFrameNumber (IS, 1, 1C) of that item: the 1-based frame of a multi-frame source (1...65535), whose
    /// other frames other SEG frames reference; 0 for a single-frame source (the attribute is then left out).
    uint32_t source_frame_number;
    /// Rows * Columns bytes, row by row; non-zero means "in the segment". Borrowed.
    const uint8_t *pixels;
} cdcm_seg_frame;

/// Everything the SEG writer needs. Patient, Study and Frame of Reference are copied from `source_file`.
typedef struct cdcm_seg_request {
    /// A file of the source series (Patient, General Study, Patient Study, Frame of Reference modules).
    const char *source_file;
    /// Every source file the frames reference, for the Common Instance Reference Module.
    const char *const *reference_files;
    size_t reference_file_count;
    /// Rows, Columns (US, 1, 1) of every frame.
    uint16_t rows;
    uint16_t columns;
    /// ImageOrientationPatient (DS, 6, 1), shared by all frames: row then column direction cosines, LPS.
    double orientation[6];
    /// PixelSpacing (DS, 2, 1) [spacing between rows, spacing between columns] and SliceThickness (DS, 1, 1), mm.
    double pixel_spacing[2];
    double slice_thickness;
    const cdcm_seg_segment *segments;
    size_t segment_count;
    const cdcm_seg_frame *frames;
    size_t frame_count;
    /// SeriesInstanceUID, SOPInstanceUID, DimensionOrganizationUID (UI, 1, 1): pass fixed values for golden tests.
    const char *series_instance_uid;
    const char *sop_instance_uid;
    const char *dimension_organization_uid;
    /// ContentDate (DA, YYYYMMDD) and ContentTime (TM, HHMMSS); also used for SeriesDate/Time and
    /// InstanceCreationDate/Time so that a fixed clock gives a byte-identical file.
    const char *content_date;
    const char *content_time;
    /// SeriesNumber (IS, 1, 2), InstanceNumber (IS, 1, 1), SeriesDescription (LO, 1, 3).
    const char *series_number;
    const char *instance_number;
    const char *series_description;
    /// ContentLabel (CS, 1, 1), ContentDescription (LO, 1, 2), ContentCreatorName (PN, 1, 2).
    const char *content_label;
    const char *content_description;
    const char *content_creator;
    /// General Equipment: Manufacturer, ManufacturerModelName, DeviceSerialNumber, SoftwareVersions (all non-empty).
    const char *manufacturer;
    const char *model_name;
    const char *device_serial_number;
    const char *software_versions;
    /// SegmentAlgorithmName (LO, 1, 1C); SegmentAlgorithmType is AUTOMATIC.
    const char *algorithm_name;
} cdcm_seg_request;

/// Builds a binary DICOM Segmentation from `request` and saves it to `path` (Explicit VR Little Endian).
/// The caller writes to a temporary path and renames it. On failure nothing useful is left at `path`.
cdcm_status cdcm_write_seg(const cdcm_seg_request *request, const char *path, char **error);

#ifdef __cplusplus
}
#endif
#endif
