import Foundation
internal import CDCMTKNet

// The only Swift file that calls the DCMTK network shim (`cdcmnet_*`, Sources/CDCMTKNet/include/cdcmnet.h).
// Pointers stay inside the functions here; the rest of the module sees Swift values and `DicomNetworkError`.

/// A running C-STORE listener (C: `cdcmnet_listener_start` / `cdcmnet_listener_stop`).
final class ListenerHandle: @unchecked Sendable {
    private var handle: OpaquePointer?
    private let events: Unmanaged<EventSink>
    private let lock = NSLock()

    /// Opens the port and starts the listener's thread; `onEvent` is called on that thread.
    init(_ settings: ListenerSettings, onEvent: @escaping @Sendable (ListenerEvent) -> Void) throws(DicomNetworkError) {
        events = Unmanaged.passRetained(EventSink(onEvent))
        var listener: OpaquePointer?
        var error: UnsafeMutablePointer<CChar>?
        let status = withCStrings(settings.allowedCallingAETitles) { allowed in
            withCStrings(settings.transferSyntaxes) { syntaxes in withCStrings(settings.sopClasses) { sopClasses in
                settings.aeTitle.withCString { aeTitle in
                    settings.inbox.path.withCString { inbox in
                        var c = cdcmnet_listener_settings(
                            port: settings.port, ae_title: aeTitle,
                            allowed_calling_aets: allowed.baseAddress, allowed_calling_aet_count: allowed.count,
                            transfer_syntaxes: syntaxes.baseAddress, transfer_syntax_count: syntaxes.count,
                            sop_classes: sopClasses.baseAddress, sop_class_count: sopClasses.count,
                            inbox: inbox, timeout_seconds: settings.timeoutSeconds)
                        return cdcmnet_listener_start(&c, { context, kind, message in
                            guard let context, let message else { return }
                            let sink = Unmanaged<EventSink>.fromOpaque(context).takeUnretainedValue()
                            sink.handler(ListenerEvent(refused: kind == CDCMNET_EVENT_REFUSED,
                                                       message: String(cString: message)))
                        }, events.toOpaque(), &listener, &error)
                    }
                }
            } }
        }
        guard status == CDCMNET_OK, let listener else {
            events.release()
            throw DicomNetworkError.cannotListen(port: settings.port, reason: take(error) ?? "unknown reason")
        }
        handle = listener
    }

    /// Stops accepting, waits for the current association, frees the listener. Later calls do nothing.
    func stop() {
        lock.lock()
        let listener = handle
        handle = nil
        lock.unlock()
        guard let listener else { return }
        cdcmnet_listener_stop(listener)
        events.release()
    }

    deinit { stop() }
}

/// Holds the event closure for the C callback's context pointer.
private final class EventSink: Sendable {
    let handler: @Sendable (ListenerEvent) -> Void
    init(_ handler: @escaping @Sendable (ListenerEvent) -> Void) { self.handler = handler }
}

enum SendShim {
    /// One association to `destination` sending `files` (C: `cdcmnet_send`): each file's response status, or nil
    /// when it got none.
    static func send(_ files: [URL], to destination: DicomDestination) throws(DicomNetworkError) -> [UInt16?] {
        var results = [cdcmnet_send_result](repeating: cdcmnet_send_result(), count: files.count)
        var error: UnsafeMutablePointer<CChar>?
        let status = withCStrings(files.map(\.path)) { paths in
            destination.host.withCString { host in
                destination.calledAETitle.withCString { called in
                    destination.callingAETitle.withCString { calling in
                        var c = cdcmnet_destination(host: host, port: destination.port, called_aet: called,
                                                    calling_aet: calling, timeout_seconds: destination.timeoutSeconds)
                        return results.withUnsafeMutableBufferPointer {
                            cdcmnet_send(&c, paths.baseAddress, paths.count, $0.baseAddress, &error)
                        }
                    }
                }
            }
        }
        switch status {
        case CDCMNET_OK:
            return results.map { $0.responded != 0 ? $0.status : nil }
        case CDCMNET_ERROR_FILE:
            throw DicomNetworkError.unreadableFile(reason: take(error) ?? "unreadable")
        default:
            throw DicomNetworkError.notDelivered(destination: destination.description, reason: take(error) ?? "no association")
        }
    }

    /// SOP Class and SOP Instance UID of a file (C: `cdcmnet_instance_uids`).
    static func instanceUIDs(_ file: URL) throws(DicomNetworkError) -> (sopClass: String, sopInstance: String) {
        var sopClass: UnsafeMutablePointer<CChar>?, sopInstance: UnsafeMutablePointer<CChar>?
        var error: UnsafeMutablePointer<CChar>?
        guard cdcmnet_instance_uids(file.path, &sopClass, &sopInstance, &error) == CDCMNET_OK,
              let sopClass = take(sopClass), let sopInstance = take(sopInstance) else {
            throw DicomNetworkError.unreadableFile(reason: "\(file.path): \(take(error) ?? "unreadable")")
        }
        return (sopClass, sopInstance)
    }
}

/// Copies and frees a string the shim allocated.
private func take(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    defer { cdcmnet_free(pointer) }
    return String(cString: pointer)
}

/// Calls `body` with a C array of C strings that live for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer(body)
}
