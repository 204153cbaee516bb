// Hand-written (not generated): helpers on the generated protocol types.
import SwiftProtobuf

extension SwiftProtobuf.Enum where Self: CaseIterable {
  /// The value as Ozone spells it (`VOLUME_NOT_FOUND`, `OBJECT_STORE`, `RAM_DISK`), for messages
  /// and the CLI; a value this build does not know prints as `UNKNOWN_<number>`.
  public var ozoneName: String {
    guard Self.allCases.contains(self) else { return "UNKNOWN_\(rawValue)" }
    var name = ""
    for character in String(describing: self) {
      if character.isUppercase { name += "_" }
      name += character.uppercased()
    }
    return name
  }
}

extension CommandType {
  /// The command as Ozone's `Type` enum spells it (`CreateVolume`), as its messages name it.
  public var ozoneTypeName: String {
    let name = String(describing: self)
    return name.prefix(1).uppercased() + name.dropFirst()
  }
}
