import Diagnostics
import Foundation

/// Prints an error on stderr the one way every command does (`file: error: problem`, then its hint).
func printError(_ error: any Error) {
    FileHandle.standardError.write(Data((ErrorText.message(error) + "\n").utf8))
}
