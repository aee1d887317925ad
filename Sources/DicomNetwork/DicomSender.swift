import Foundation

/// A peer that stores instances (a PACS, Orthanc): where it listens and the AE titles of the association.
public struct DicomDestination: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var calledAETitle: String
    public var callingAETitle: String
    /// Seconds for connecting, negotiating and each response.
    public var timeoutSeconds: UInt32

    public init(host: String, port: UInt16, calledAETitle: String, callingAETitle: String, timeoutSeconds: UInt32 = 30) {
        self.host = host
        self.port = port
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
        self.timeoutSeconds = timeoutSeconds
    }

    /// `ORTHANC@127.0.0.1:4242`: how the destination is named in logs and in delivery records (the calling AE title
    /// and the timeout do not change where instances end up, so they are not part of it).
    public var description: String { "\(calledAETitle)@\(host):\(port)" }
}

/// What became of one file sent.
public struct StoreResult: Sendable, Equatable {
    public var file: URL
    /// The DIMSE status of the C-STORE response, or nil when the file got no response (not sent).
    public var status: UInt16?

    /// Whether the destination took the instance: success (0x0000) or a warning (0xB000, 0xB006, 0xB007), which
    /// means stored with a coercion or a remark. Anything else is a failure to be tried again.
    public var acknowledged: Bool {
        guard let status else { return false }
        return status == 0 || status & 0xF000 == 0xB000
    }

    /// "status 0xA700" or "no response".
    public var statusText: String { status.map { String(format: "status 0x%04X", $0) } ?? "no response" }
}

/// Sends files to a destination with C-STORE (DCMTK's DcmSCU).
public enum DicomSender {
    /// Sends `files` in one association and returns each file's result, in order. Throws `notDelivered` when no
    /// association could be made (peer down, refused, timed out), `unreadableFile` when a file is not DICOM.
    /// Blocking: run it off the cooperative pool.
    public static func send(_ files: [URL], to destination: DicomDestination) throws(DicomNetworkError) -> [StoreResult] {
        guard !files.isEmpty else { return [] }
        let statuses = try SendShim.send(files, to: destination)
        return zip(files, statuses).map { StoreResult(file: $0, status: $1) }
    }

    /// The SOP Instance UID of a DICOM file: what a destination acknowledges, so what a delivery record names.
    public static func sopInstanceUID(of file: URL) throws(DicomNetworkError) -> String {
        try SendShim.instanceUIDs(file).sopInstance
    }
}
