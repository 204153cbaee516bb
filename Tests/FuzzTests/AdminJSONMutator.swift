/// Fuzzed bodies for the OM admin methods (JSON, `OMAdminProtocol`): valid requests, then
/// mutated ones, broken JSON, JSON nested thousands deep, JSON too large for a frame; and, for
/// bootstrap and decommission, well-formed requests whose values can never be admitted.
enum AdminJSONMutator {
  static let validBodies: [String] = [
    "{}", #"{"targetNodeId":"om1"}"#, #"{"targetNodeId":null}"#, #"{"targetNodeId":"om7"}"#,
    #"{"targetNodeId":"om1","extra":[1,2,{"x":true}]}"#,
  ]
  /// Values of the wrong type or on the edges of what a JSON parser handles.
  static let strangeValues: [String] = [
    "1", "-1", "1e999", "-0", "18446744073709551616", "true", "[]", "{}", #""\ud800""#, #""\u0000""#, #""\uZZZZ""#,
    "\"" + String(repeating: "x", count: 10_000) + "\"", "NaN", "nul",
  ]

  static func body(random: inout FuzzRandom) -> [UInt8] {
    switch random.int(0...7) {
    case 0:
      return Array(random.pick(validBodies).utf8)
    case 1:
      return Array(#"{"targetNodeId":\#(random.pick(strangeValues))}"#.utf8)
    case 2:
      return nested(depth: random.pick([10, 100, 511, 512, 513, 1_000, 20_000]), random: &random)
    case 3:
      return ByteMutator.mutate(Array(random.pick(validBodies).utf8), random: &random)
    case 4:
      // Duplicate keys, and a body that is only the start of an object.
      return Array(random.pick([#"{"targetNodeId":"om1","targetNodeId":"om2"}"#, "{", #"{"targetNodeId":"#, ""]).utf8)
    case 5:
      var bytes = Array(#"{"targetNodeId":"om"#.utf8)
      bytes += random.pick(ProtobufMutator.invalidUTF8)
      return bytes + Array(#""}"#.utf8)
    case 6:
      return Array((#"{"targetNodeId":"om1","pad":""# + String(repeating: "p", count: random.pick([1_000, 70_000])) + #""}"#).utf8)
    default:
      return random.bytes(random.int(0...32))
    }
  }

  /// Addresses no peer can be dialled at: none, no port (or port 0, out of range, negative), a
  /// broken IPv6 literal, a host name of 5000 characters.
  static let badAddresses = [
    "", "host", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:-1", "[::1", ":", String(repeating: "a", count: 5_000),
  ]

  /// A bootstrap or decommission request that can never be admitted: a join always names at
  /// least one address no peer can be dialled at; a removal names the leader itself (a group of
  /// one has nobody to hand over to), a stranger, or an id that is no id.
  static func membershipBody(random: inout FuzzRandom) -> (method: String, body: [UInt8]) {
    guard random.chance(1, in: 2) else {
      let node = random.pick(["", "om1", "om7", String(repeating: "n", count: 5_000), #"om\u0000"#])
      return ("om.admin.decommission", Array(#"{"nodeId":"\#(node)","force":\#(random.pick(["true", "false"]))}"#.utf8))
    }
    return ("om.admin.bootstrap", joinRequest(random: &random))
  }

  private static func joinRequest(random: inout FuzzRandom) -> [UInt8] {
    let node = random.pick(["", "om1", "om9", String(repeating: "n", count: 300), "bad id/"])
    var addresses = (0..<3).map { _ in random.chance(1, in: 2) ? "127.0.0.1:\(random.int(1...65_535))" : random.pick(badAddresses) }
    addresses[random.int(0...1)] = random.pick(badAddresses)
    return Array(
      (#"{"node":{"nodeId":"\#(node)","clientAddress":"\#(addresses[0])","raftAddress":"\#(addresses[1])","#
        + #""httpAddress":"\#(addresses[2])"}}"#).utf8)
  }

  /// `depth` arrays or objects inside each other, closed or not.
  static func nested(depth: Int, random: inout FuzzRandom) -> [UInt8] {
    let (open, close) = random.chance(1, in: 2) ? ("[", "]") : (#"{"a":"#, "}")
    let closing = random.chance(3, in: 4) ? depth : depth / 2
    let middle = random.chance(1, in: 2) ? "1" : "{}"
    return Array((#"{"targetNodeId":"# + String(repeating: open, count: depth) + middle
      + String(repeating: close, count: closing) + "}").utf8)
  }
}
