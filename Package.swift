// swift-tools-version:6.0
import PackageDescription

// Native libraries come from Debian (libnifti-dev, libdcmtk-dev, libopenblas-dev); see scripts/install-deps.sh.
let dcmtkLibraries = ["dcmseg", "dcmfg", "dcmiod", "dcmjpeg", "dcmjpls", "dcmimage", "dcmimgle", "dcmdata", "oflog", "ofstd"]
// JPEG 2000 pixel data is decoded with OpenJPEG (libopenjp2-7-dev) inside the DCMTK shim.
// DCMTK's network module (associations, C-STORE) and what it needs; no TLS.
let dcmtkNetworkLibraries = ["dcmnet", "dcmdata", "oflog", "ofstd"]

let package = Package(
    name: "universeg",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "universeg", targets: ["UniverSegCLI"]),
        .executable(name: "universeg-bench", targets: ["UniverSegBench"]),
        .library(name: "VolumeIO", targets: ["VolumeIO"]),
        .library(name: "UniverSeg", targets: ["UniverSeg"]),
        .library(name: "SegPipeline", targets: ["SegPipeline"]),
        .library(name: "DicomNetwork", targets: ["DicomNetwork"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // Thin native shims: the only places that see C pointers.
        .target(name: "CNIfTI", linkerSettings: [.linkedLibrary("nifti2"), .linkedLibrary("znz"), .linkedLibrary("z"), .linkedLibrary("m")]),
        .target(name: "CDCMTKShim",
                linkerSettings: (dcmtkLibraries + ["openjp2", "z"]).map { .linkedLibrary($0) }),
        .target(name: "CDCMTKNet",
                linkerSettings: dcmtkNetworkLibraries.map { .linkedLibrary($0) }),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // The engine's own kernels (bf16 GEMM on AVX512-BF16, Winograd transforms on AVX-512; detected at run time).
        .target(name: "CKernels"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // zlib behind Swift (deflate for PNG, gzip for NRRD/MGZ, bounded inflate, CRC-32): the one file that calls it.
        .target(name: "ZlibShim", dependencies: ["CZlib"]),

        // What every module's errors have in common: the file, the problem, a hint; one way to print them.
        .target(name: "Diagnostics"),
        // Volume I/O and geometry: NIfTI, DICOM, DICOM SEG, NRRD, MetaImage, MGH, slicing to the model grid and back.
        .target(name: "VolumeIO", dependencies: ["CNIfTI", "CDCMTKShim", "ZlibShim", "Diagnostics"]),
        // DICOM networking: a C-STORE listener filing instances atomically, a C-STORE sender. No segmentation, no YAML.
        .target(name: "DicomNetwork", dependencies: ["CDCMTKNet", "Diagnostics"]),
        // The network engine: tensors, kernels, weights, UniverSeg forward pass.
        .target(name: "UniverSeg", dependencies: ["COpenBLAS", "CKernels", "ZlibShim", "Diagnostics"], resources: [.copy("Resources")]),
        // Pipelines: YAML specs, support sets, the job graph, writers, ledger, watcher.
        .target(name: "SegPipeline", dependencies: ["Diagnostics", "VolumeIO", "UniverSeg", "ZlibShim", "DicomNetwork", "Yams"]),
        // The command-line tool.
        .executableTarget(name: "UniverSegCLI", dependencies: [
            "Diagnostics", "SegPipeline", "VolumeIO", "UniverSeg", "DicomNetwork",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Engine benchmark (scripts/benchmark.sh runs it beside the PyTorch reference).
        .executableTarget(name: "UniverSegBench", dependencies: ["UniverSeg"]),

        // Tests find their fixtures in the source tree (from #filePath), never as bundle resources.
        .testTarget(name: "VolumeIOTests", dependencies: ["VolumeIO"], exclude: ["Fixtures"]),
        .testTarget(name: "UniverSegTests", dependencies: ["UniverSeg"], exclude: ["Fixtures"]),
        // What the suites that start servers on loopback share.
        .target(name: "TestPorts", path: "Tests/TestPorts"),
        .testTarget(name: "SegPipelineTests", dependencies: ["SegPipeline", "DicomNetwork", "ZlibShim", "CZlib", "TestPorts"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "DicomNetworkTests", dependencies: ["DicomNetwork", "VolumeIO", "TestPorts"]),
        .testTarget(name: "CLITests", dependencies: ["UniverSegCLI", "VolumeIO", "SegPipeline", "DicomNetwork", "TestPorts"], exclude: ["Fixtures"]),
    ],
    cxxLanguageStandard: .cxx17
)
