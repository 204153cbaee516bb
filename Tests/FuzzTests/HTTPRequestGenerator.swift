/// Fuzzed requests for the OM's HTTP port (9874): intact ones with the status they must get,
/// and broken ones: garbage request lines, bad methods and versions, huge targets and headers,
/// bad query strings on /v2/dbCheckpoint, lying Content-Length, chunked garbage, oversized bodies.
enum HTTPRequestGenerator {
  static let checkpointPath = "/v2/dbCheckpoint"

  /// One request: its bytes, and for an intact one the statuses it may get.
  struct Request {
    var bytes: [UInt8]
    var what: String
    /// nil for a broken request (any well-formed answer, or a close, will do).
    var expectedStatuses: Set<Int>?
  }

  /// Intact requests. They ask the server to close afterwards, so that the end of the response
  /// is the end of the connection.
  static func intact(random: inout FuzzRandom) -> Request {
    let body = #"{"excludeSST":["000001.sst","../x.sst"],"heldSST":[{"name":"000002.sst","sizeBytes":1,"crc32c":2}]}"#
    let requests: [(String, String, String, Set<Int>)] = [
      ("GET", "/", "", [200]), ("GET", "/prom", "", [200]), ("HEAD", "/prom", "", [200]), ("GET", "/nope", "", [404]),
      ("POST", "/prom", "x", [405]), ("DELETE", "/", "", [405]), ("GET", "/?refresh=1&&=&%zz", "", [200]),
      ("GET", checkpointPath + "?toExcludeSST=000001.sst&toExcludeSST=%C3%28&toExcludeSST", "", [200, 429, 503]),
      ("HEAD", checkpointPath, "", [200, 429, 503]), ("POST", checkpointPath, body, [200, 429, 503]),
      ("POST", checkpointPath, #"{"excludeSST":7}"#, [400, 503]),
    ]
    let (method, target, content, statuses) = random.pick(requests)
    return Request(bytes: head(method, target, headers: ["Connection: close"], body: content), what: "\(method) \(target)", expectedStatuses: statuses)
  }

  static func head(_ method: String, _ target: String, version: String = "HTTP/1.1", headers: [String] = [], body: String = "")
    -> [UInt8]
  {
    var lines = ["\(method) \(target) \(version)", "Host: 127.0.0.1"] + headers
    if !body.isEmpty { lines.append("Content-Length: \(body.utf8.count)") }
    return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
  }

  static func broken(random: inout FuzzRandom) -> Request {
    let (bytes, what) = brokenBytes(random: &random)
    return Request(bytes: bytes, what: what, expectedStatuses: nil)
  }

  private static func brokenBytes(random: inout FuzzRandom) -> ([UInt8], String) {
    switch random.int(0...11) {
    case 0:
      return (random.bytes(random.int(1...200)) + Array("\r\n\r\n".utf8), "garbage")
    case 1:
      let method = random.pick(["G\u{0}T", "GETT", "get", "", String(repeating: "M", count: 5_000), "PR\u{7F}I", "CONNECT"])
      return (head(method, "/prom"), "method \(method.prefix(8).debugDescription)")
    case 2:
      let version = random.pick(["", "HTTP/0.9", "HTTP/2.0", "HTTP/1.1000", "HTTP/1.1 ", "HTTP/9", "http/1.1"])
      return (head("GET", "/prom", version: version), "version \(version.debugDescription)")
    case 3:
      let length = random.pick([9_000, 100_000])
      return (head("GET", "/" + String(repeating: "p", count: length)), "target of \(length) bytes")
    case 4:
      let query = random.pick([
        "%zz", "%", "toExcludeSST=%C3%28", "toExcludeSST", "&&&&", "toExcludeSST=%00", "toExcludeSST=../../etc/passwd",
        Array(repeating: "toExcludeSST=a.sst", count: 3_000).joined(separator: "&"), "toExcludeSST=\u{FF}",
      ])
      return (head("GET", checkpointPath + "?" + query, headers: ["Connection: close"]), "checkpoint query")
    case 5:
      let header = random.pick([
        "X: " + String(repeating: "h", count: 100_000), "NoColon", "Bad Header: x", "X:\u{0}", " folded: x",
        "Content-Length: 1\r\nContent-Length: 2",
      ])
      return (head("GET", "/prom", headers: [header]), "header \(header.prefix(12).debugDescription)")
    case 6:
      let headers = (0..<random.pick([500, 5_000])).map { "X-\($0): v" }
      return (head("GET", "/prom", headers: headers), "\(headers.count) headers")
    case 7:
      let length = random.pick(["-1", "abc", "99999999999999999999", "70000", "1, 2"])
      return (head("POST", checkpointPath, headers: ["Content-Length: \(length)"]) + Array("{}".utf8), "Content-Length \(length)")
    case 8:
      return (chunkedGarbage(random: &random), "chunked garbage")
    case 9:
      let body = String(repeating: "b", count: random.pick([65_537, 200_000]))
      return (head("POST", checkpointPath, body: body), "body of \(body.utf8.count) bytes")
    case 10:
      let valid = intact(random: &random).bytes
      return (valid + head("GET", "/prom") + random.bytes(random.int(1...40)), "pipelined")
    default:
      return (ByteMutator.mutate(intact(random: &random).bytes, random: &random), "mutated")
    }
  }

  private static func chunkedGarbage(random: inout FuzzRandom) -> [UInt8] {
    let chunk = random.pick([
      "zz\r\nabc\r\n", "-1\r\nx\r\n", "FFFFFFFFFFFFFFFFFFFF\r\nx\r\n", "3\r\nabcdef\r\n", "5;" + String(repeating: "e", count: 10_000)
        + "\r\nabcde\r\n", "1\r\na\r\n", "0\r\nTrailer: " + String(repeating: "t", count: 9_000) + "\r\n\r\n",
    ])
    let head = Array("POST \(checkpointPath) HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    return head + Array(chunk.utf8) + (random.chance(1, in: 2) ? Array("0\r\n\r\n".utf8) : [])
  }
}
