import ArgumentParser

/// Exit codes of run, segment, watch and validate (documented in docs/pipeline-schema.md):
/// 0 every study done or skipped; 1 at least one study failed; 2 the pipeline definition has errors;
/// 3 the run could not start (unreadable input folder, unwritable output, engine unavailable);
/// 64 bad command-line usage (from ArgumentParser); 130 `run` stopped by SIGINT/SIGTERM before every study started.
enum PipelineExit {
    static let studiesFailed = ExitCode(1)
    static let invalidDefinition = ExitCode(2)
    static let cannotStart = ExitCode(3)
    static let interrupted = ExitCode(130)
}
