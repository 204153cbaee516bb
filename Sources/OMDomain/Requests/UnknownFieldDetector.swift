import Foundation
import SwiftProtobuf

/// Finds fields this server does not understand anywhere in a decoded message.
///
/// swift-protobuf keeps unknown fields instead of failing; a request carrying them was built for
/// another version of the protocol, and applying it without them could change the wrong thing,
/// so the OM refuses it .
struct UnknownFieldDetector: Visitor {
  private(set) var found = false

  static func hasUnknownFields(_ message: some Message) -> Bool {
    var detector = UnknownFieldDetector()
    try? message.traverse(visitor: &detector)
    return detector.found
  }

  mutating func visitUnknown(bytes: Data) throws {
    if !bytes.isEmpty { found = true }
  }

  mutating func visitSingularMessageField<M: Message>(value: M, fieldNumber: Int) throws {
    try value.traverse(visitor: &self)
  }

  mutating func visitRepeatedMessageField<M: Message>(value: [M], fieldNumber: Int) throws {
    for element in value { try element.traverse(visitor: &self) }
  }

  mutating func visitSingularGroupField<G: Message>(value: G, fieldNumber: Int) throws {
    try value.traverse(visitor: &self)
  }

  mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws {}
  mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {}
  mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {}
  mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {}
  mutating func visitSingularStringField(value: String, fieldNumber: Int) throws {}
  mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {}
  mutating func visitSingularEnumField<E: Enum>(value: E, fieldNumber: Int) throws {}

  mutating func visitMapField<KeyType, ValueType: MapValueType>(
    fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType,
    fieldNumber: Int
  ) throws {}

  mutating func visitMapField<KeyType, ValueType>(
    fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType,
    fieldNumber: Int
  ) throws where ValueType.RawValue == Int {}

  mutating func visitMapField<KeyType, ValueType>(
    fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType,
    fieldNumber: Int
  ) throws {
    for element in value.values { try element.traverse(visitor: &self) }
  }
}
