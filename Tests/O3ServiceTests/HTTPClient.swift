import Foundation
import O3TestSupport

/// One answer from a test server, body whole (headers' names in lower case).
typealias Reply = HTTPTestClient.Reply

/// A request to 127.0.0.1 on a fresh connection (O3TestSupport's one HTTP helper for tests).
func fetch(port: Int, path: String, method: String = "GET", body: Data? = nil) async throws -> Reply {
  try await HTTPTestClient.request(port: port, path: path, method: method, body: body.map { [UInt8]($0) })
}
