import Foundation
import OMProto

/// JSON shaped like `ozone sh` prints it: fields in the order Ozone's client getters give them,
/// `"name" : value` with two-space indentation, times in ISO-8601.
indirect enum JSONValue {
  case string(String)
  case integer(Int64)
  case unsigned(UInt64)
  case boolean(Bool)
  case object([(String, JSONValue)])
  case array([JSONValue])

  func render(indent: Int = 0) -> String {
    let padding = String(repeating: " ", count: indent)
    let inner = String(repeating: " ", count: indent + 2)
    switch self {
    case .string(let text): return Self.quote(text)
    case .integer(let number): return String(number)
    case .unsigned(let number): return String(number)
    case .boolean(let flag): return flag ? "true" : "false"
    case .object(let fields):
      if fields.isEmpty { return "{ }" }
      let body = fields.map { "\(inner)\(Self.quote($0.0)) : \($0.1.render(indent: indent + 2))" }
      return "{\n" + body.joined(separator: ",\n") + "\n\(padding)}"
    case .array(let elements):
      if elements.isEmpty { return "[ ]" }
      // Jackson's pretty printer: elements inline, objects at the array's own indentation.
      return "[ " + elements.map { $0.render(indent: indent) }.joined(separator: ", ") + " ]"
    }
  }

  private static func quote(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}

/// How volumes, buckets and keys look in the shell's output.
enum OzoneJSON {
  static func time(_ milliseconds: UInt64) -> JSONValue {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return .string(formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)))
  }

  static func metadata(_ pairs: [KeyValue]) -> JSONValue {
    .object(pairs.map { ($0.key, .string($0.value)) })
  }

  static func volume(_ info: VolumeInfo) -> JSONValue {
    .object([
      ("metadata", metadata(info.metadata)), ("name", .string(info.volume)), ("admin", .string(info.adminName)),
      ("owner", .string(info.ownerName)), ("quotaInBytes", .integer(info.quotaInBytes)),
      ("quotaInNamespace", .integer(info.quotaInNamespace)), ("usedNamespace", .unsigned(info.usedNamespace)),
      ("creationTime", time(info.creationTime)), ("modificationTime", time(info.modificationTime)),
    ])
  }

  static func bucket(_ info: BucketInfo) -> JSONValue {
    .object([
      ("metadata", metadata(info.metadata)), ("volumeName", .string(info.volumeName)),
      ("name", .string(info.bucketName)), ("storageType", .string(info.storageType.ozoneName)),
      ("versioning", .boolean(info.isVersionEnabled)), ("usedBytes", .unsigned(info.usedBytes)),
      ("usedNamespace", .unsigned(info.usedNamespace)), ("creationTime", time(info.creationTime)),
      ("modificationTime", time(info.modificationTime)), ("quotaInBytes", .integer(info.quotaInBytes)),
      ("quotaInNamespace", .integer(info.quotaInNamespace)), ("bucketLayout", .string(info.bucketLayout.ozoneName)),
      ("owner", .string(info.owner)), ("link", .boolean(false)),
    ])
  }

  static func key(_ info: KeyInfo) -> JSONValue {
    let factor = info.replicationFactor == 1 ? "ONE" : "THREE"
    return .object([
      ("volumeName", .string(info.volumeName)), ("bucketName", .string(info.bucketName)),
      ("name", .string(info.keyName)), ("dataSize", .unsigned(info.dataSize)),
      ("creationTime", time(info.creationTime)), ("modificationTime", time(info.modificationTime)),
      ("replicationConfig", .object([
        ("replicationFactor", .string(factor)), ("requiredNodes", .unsigned(UInt64(info.replicationFactor))),
        ("replicationType", .string(info.replicationType.ozoneName)),
      ])),
      ("metadata", metadata(info.metadata)), ("ozoneKeyLocations", .array([])), ("file", .boolean(false)),
    ])
  }
}

