import Foundation

/// Sizes written the Ozone way: a number with an optional unit, powers of 1024, case-insensitive
/// (`10GB` is 10737418240 bytes; `B`, `KB`, `MB`, `GB`, `TB`, `PB`, `EB`; bare numbers are bytes).
public enum StorageSize {
  /// A size that could not be parsed.
  public struct ParseError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
  }

  private static let units: [(suffix: String, shift: Int64)] = [
    ("EB", 60), ("PB", 50), ("TB", 40), ("GB", 30), ("MB", 20), ("KB", 10), ("B", 0),
  ]

  public static func parse(_ text: String) throws -> Int64 {
    let upper = text.trimmingCharacters(in: .whitespaces).uppercased()
    for unit in units where upper.hasSuffix(unit.suffix) {
      return try scaled(String(upper.dropLast(unit.suffix.count)), shift: unit.shift, original: text)
    }
    return try scaled(upper, shift: 0, original: text)
  }

  private static func scaled(_ number: String, shift: Int64, original: String) throws -> Int64 {
    guard let value = Int64(number.trimmingCharacters(in: .whitespaces)), value >= 0 else {
      throw ParseError(message: "'\(original)' is not a size (examples: 1024, 10MB, 5GB, 1TB)")
    }
    let (result, overflow) = value.multipliedReportingOverflow(by: Int64(1) << shift)
    guard !overflow else { throw ParseError(message: "'\(original)' is too large") }
    return result
  }
}
