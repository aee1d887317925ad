// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses, one per reader, built with AddressSanitizer (scripts/fuzz.sh builds and runs them):
//   swift build -c debug --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address \
//       -Xcxx -fsanitize=fuzzer-no-link,address --product fuzz-nifti
// (not `--sanitize=fuzzer --sanitize=address`: SwiftPM passes them as two flags and swiftc keeps only the last, so
// Swift code would get no coverage; scripts/fuzz.sh explains the flags)
// A separate package so that the main build never sees fuzzer flags; it uses the main package's modules by path,
// with @testable imports for the readers' internal entry points (debug builds enable testing).
let harnesses = ["fuzz-nifti", "fuzz-dicom", "fuzz-pt", "fuzz-safetensors", "fuzz-pipeline-yaml", "fuzz-task-yaml"]

let package = Package(
    name: "universeg-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "universeg", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + harnesses.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                .product(name: "VolumeIO", package: "universeg"),
                .product(name: "UniverSeg", package: "universeg"),
                .product(name: "SegPipeline", package: "universeg"),
            ],
            path: "Sources/\(name)",
            // The fuzzer supplies main(); the harness only defines LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])])
    }
)
