import Foundation

/// What a listener is told: the port and AE title, who may call, which transfer syntaxes it keeps, where it files.
public struct ListenerSettings: Sendable, Equatable {
    public var port: UInt16
    public var aeTitle: String
    /// Calling AE titles allowed to associate; empty allows any.
    public var allowedCallingAETitles: [String]
    /// The folder instances are filed in, as STUDYUID/SERIESUID/SOPUID.dcm.
    public var inbox: URL
    /// Transfer syntax UIDs accepted for storage, preferred first (the ones the readers decode); storage in any
    /// other syntax is refused at association time.
    public var transferSyntaxes: [String]
    /// Storage SOP Class UIDs kept (at most 127); empty keeps every image storage class, which is what a pipeline
    /// reads: SR, presentation states and other non-images sent with a study are refused at association time.
    public var sopClasses: [String]
    /// Seconds a peer may stay silent inside an association before it is aborted.
    public var timeoutSeconds: UInt32

    public init(port: UInt16, aeTitle: String, allowedCallingAETitles: [String] = [], inbox: URL,
                transferSyntaxes: [String], sopClasses: [String] = [], timeoutSeconds: UInt32 = 30) {
        self.sopClasses = sopClasses
        self.port = port
        self.aeTitle = aeTitle
        self.allowedCallingAETitles = allowedCallingAETitles
        self.inbox = inbox
        self.transferSyntaxes = transferSyntaxes
        self.timeoutSeconds = timeoutSeconds
    }
}

/// One thing a listener did: filed the instances of an association (`refused` false; one event per association,
/// when it ends), or refused an association, a presentation context or an instance, with the reason.
public struct ListenerEvent: Sendable, Equatable {
    public var refused: Bool
    public var message: String

    public init(refused: Bool, message: String) {
        self.refused = refused
        self.message = message
    }
}

/// A DICOM C-STORE listener (Storage SCP, Verification SCP) on DCMTK's DcmSCP, on a thread of its own.
///
/// Each instance is written under `inbox/.incoming/` and renamed to `inbox/STUDY/SERIES/SOP.dcm` before the C-STORE
/// response goes out, so an acknowledged instance is complete on disk even if the process is killed the moment
/// after (renamed, not fsynced: a power cut may still lose it). Associations from unlisted calling AE titles, or
/// calling another AE title, are refused; so are presentation contexts of other SOP classes (`sopClasses`) or whose
/// transfer syntaxes are not in `transferSyntaxes`, each with an event saying why. One association at a time.
public final class DicomListener: Sendable {
    public let settings: ListenerSettings
    private let handle: ListenerHandle

    /// Opens the port and starts listening; throws when the port cannot be opened or the inbox created.
    /// `onEvent` is called on the listener's thread for every filed or refused thing.
    public init(_ settings: ListenerSettings, onEvent: @escaping @Sendable (ListenerEvent) -> Void = { _ in })
    throws(DicomNetworkError) {
        self.settings = settings
        handle = try ListenerHandle(settings, onEvent: onEvent)
    }

    /// Stops accepting associations and waits for the current one to end (about a second when idle).
    /// Called by deinit too; calling it twice is harmless.
    public func stop() { handle.stop() }
}
