import Foundation

/// How many cores the engine should use by default: the cores this process may run on, capped by a container's
/// CPU quota. In Docker or Kubernetes with `--cpus 2` on a 64-core host, the process still sees 64 cores; 64
/// engine threads sharing 2 cores' worth of time run slower than 2.
public enum UsableCores {
    public static var count: Int {
        let visible = ProcessInfo.processInfo.activeProcessorCount
        let v2 = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8)
        let v1 = (try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", encoding: .utf8))
            .flatMap { quota in
                (try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding: .utf8)).map { "\(quota) \($0)" }
            }
        return limited(visible, quota: v2 ?? v1)
    }

    /// `visible` capped by a quota line "QUOTA PERIOD" (cgroup v2 `cpu.max`, or v1's two files joined), rounded
    /// up; "max" or a negative quota (v1's -1) means no limit.
    static func limited(_ visible: Int, quota line: String?) -> Int {
        let fields = (line ?? "").split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 else {
            return max(1, visible)
        }
        return max(1, min(visible, Int((quota / period).rounded(.up))))
    }
}
