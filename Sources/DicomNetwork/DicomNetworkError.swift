import Foundation
import Diagnostics

/// Errors of the DICOM network module, each naming the port, destination or file it is about.
public enum DicomNetworkError: UserError, Equatable {
    /// The listener could not start.
    case cannotListen(port: UInt16, reason: String)
    /// No association with a destination (down, refused, timed out): nothing was delivered.
    case notDelivered(destination: String, reason: String)
    /// A file to send is not readable DICOM; `reason` starts with its path.
    case unreadableFile(reason: String)

    public var file: String? {
        switch self {
        case .cannotListen(let port, _): "DICOM port \(port)"
        case .notDelivered(let destination, _): destination
        case .unreadableFile: nil
        }
    }

    public var problem: String {
        switch self {
        case .cannotListen(_, let reason): reason
        case .notDelivered(_, let reason): "not delivered: \(reason)"
        case .unreadableFile(let reason): reason
        }
    }

    public var hint: String? {
        switch self {
        case .cannotListen: "another program may hold the port (ports below 1024 need root); choose another in inputs.listen.port"
        case .notDelivered: "check that the destination runs and knows this AE title; the next run or watch sends what is missing"
        case .unreadableFile: nil
        }
    }
}

/// The rule for AE titles (PS3.5 6.2, VR AE): 1 to 16 characters, printable ASCII without backslash, not only spaces.
public enum AETitle {
    /// Why `title` is not a usable AE title, or nil when it is.
    public static func problem(in title: String) -> String? {
        let trimmed = title.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "an AE title must not be empty" }
        if title.utf8.count > 16 { return "AE title '\(title)' is longer than 16 characters" }
        if title.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7E || $0 == "\\" }) {
            return "AE title '\(title)' may hold only printable ASCII characters without '\\'"
        }
        return nil
    }
}
