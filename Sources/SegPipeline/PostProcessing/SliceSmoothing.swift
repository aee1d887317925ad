/// Smoothing of per-slice probabilities across neighbouring slices, before they are mapped back.
///
/// Each slice is predicted on its own; a (1, 2, 1) / 4 average along the slicing axis damps a shape that appears
/// on one slice only and fills in a slice that missed what both neighbours see. Blank slices stay 0 and count as
/// 0 for their neighbours; the end slices repeat themselves.
public enum SliceSmoothing {
    public static func smoothed(_ slices: [ModelSlice], blank: [Bool]) -> [ModelSlice] {
        precondition(slices.count == blank.count)
        return slices.indices.map { k in
            if blank[k] { return slices[k] }
            let before = slices[max(0, k - 1)].pixels, here = slices[k].pixels, after = slices[min(slices.count - 1, k + 1)].pixels
            var out = here
            for p in out.indices { out[p] = 0.25 * before[p] + 0.5 * here[p] + 0.25 * after[p] }
            return ModelSlice(pixels: out)
        }
    }
}
