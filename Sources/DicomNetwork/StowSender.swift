import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A DICOMweb service that stores instances with STOW-RS (PS3.18 10.5): instances are POSTed to `url/studies`.
public struct StowDestination: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The service root, e.g. `https://pacs.example.org/dicom-web`.
    public var url: URL
    /// Seconds for the whole request.
    public var timeoutSeconds: UInt32

    public init(url: URL, timeoutSeconds: UInt32 = 30) {
        self.url = url
        self.timeoutSeconds = timeoutSeconds
    }

    /// `STOW https://pacs.example.org/dicom-web`: how the destination is named in logs and delivery records.
    public var description: String { "STOW \(url.absoluteString)" }
}

/// Sends files with STOW-RS over HTTP(S) (Foundation's URLSession: libcurl underneath on Linux).
public enum StowSender {
    /// POSTs `files` in one multipart/related request and returns each file's result, in order: acknowledged when
    /// the response's ReferencedSOPSequence (0008,1199) lists its SOP Instance UID, with the FailureReason
    /// (0008,1197) as status when FailedSOPSequence (0008,1198) lists it. Throws `notDelivered` when the service
    /// cannot be reached or answers neither 200, 202 nor 409. Blocking: run it off the cooperative pool.
    public static func send(_ files: [URL], to destination: StowDestination) throws(DicomNetworkError) -> [StoreResult] {
        guard !files.isEmpty else { return [] }
        var uids: [String] = []
        var body = Data()
        let boundary = "universeg-\(UUID().uuidString)"
        for file in files {
            uids.append(try SendShim.instanceUIDs(file).sopInstance)
            let bytes: Data
            do { bytes = try Data(contentsOf: file) } catch {
                throw DicomNetworkError.unreadableFile(reason: "\(file.path): \(error.localizedDescription)")
            }
            body.append(Data("--\(boundary)\r\nContent-Type: application/dicom\r\n\r\n".utf8))
            body.append(bytes)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))

        var request = URLRequest(url: destination.url.appendingPathComponent("studies"),
                                 timeoutInterval: TimeInterval(destination.timeoutSeconds))
        request.httpMethod = "POST"
        request.setValue("multipart/related; type=\"application/dicom\"; boundary=\(boundary)", forHTTPHeaderField: "Content-Type")
        request.setValue("application/dicom+json", forHTTPHeaderField: "Accept")
        let (data, status) = try post(request, body: body, destination: destination)
        guard [200, 202, 409].contains(status) else {
            throw DicomNetworkError.notDelivered(destination: destination.description, reason: "the service answered HTTP \(status)")
        }
        let response = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        let stored = Set(items(response, "00081199").compactMap { uid(in: $0) })
        var failed: [String: UInt16] = [:]
        for item in items(response, "00081198") {
            guard let uid = uid(in: item) else { continue }
            let reason = ((item["00081197"] as? [String: Any])?["Value"] as? [Any])?.first as? Int
            failed[uid] = UInt16(clamping: reason ?? 0xC000)
        }
        return zip(files, uids).map { file, uid in
            if let reason = failed[uid] { return StoreResult(file: file, status: reason) }
            return StoreResult(file: file, status: stored.contains(uid) ? 0 : nil)
        }
    }

    private static func post(_ request: URLRequest, body: Data,
                             destination: StowDestination) throws(DicomNetworkError) -> (Data, Int) {
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.uploadTask(with: request, from: body) { data, response, error in
            result.set(data: data, status: (response as? HTTPURLResponse)?.statusCode, error: error)
            done.signal()
        }.resume()
        // URLSession's own timeout ends the task; the margin only guards against a task that never completes.
        guard done.wait(timeout: .now() + .seconds(Int(destination.timeoutSeconds) + 5)) == .success else {
            throw DicomNetworkError.notDelivered(destination: destination.description, reason: "no answer in time")
        }
        let (data, status, error) = result.get()
        guard let status else {
            throw DicomNetworkError.notDelivered(destination: destination.description,
                                                 reason: error?.localizedDescription ?? "no HTTP response")
        }
        return (data ?? Data(), status)
    }

    /// The items of a top-level sequence in DICOM JSON (`{"00081199": {"vr": "SQ", "Value": [...]}}`).
    private static func items(_ object: [String: Any], _ tag: String) -> [[String: Any]] {
        ((object[tag] as? [String: Any])?["Value"] as? [[String: Any]]) ?? []
    }

    /// ReferencedSOPInstanceUID (0008,1155) of an item.
    private static func uid(in item: [String: Any]) -> String? {
        ((item["00081155"] as? [String: Any])?["Value"] as? [Any])?.first as? String
    }
}

/// The completion handler's results, handed from URLSession's thread to the waiting one.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Data?, Int?, Error?) = (nil, nil, nil)

    func set(data: Data?, status: Int?, error: Error?) {
        lock.lock()
        value = (data, status, error)
        lock.unlock()
    }

    func get() -> (Data?, Int?, Error?) {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
