import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// One answer from a test server, body whole.
struct Reply {
  var status: Int
  /// Header names in lower case.
  var headers: [String: String]
  var body: [UInt8]

  var text: String { String(decoding: body, as: UTF8.self) }
}

/// A request to 127.0.0.1 through URLSession, as a browser or a scraper would make it.
func fetch(port: Int, path: String, method: String = "GET", body: Data? = nil) async throws -> Reply {
  var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
  request.httpMethod = method
  request.httpBody = body
  request.timeoutInterval = 60
  let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation { continuation in
    URLSession.shared.dataTask(with: request) { data, response, error in
      if let error {
        continuation.resume(throwing: error)
      } else {
        continuation.resume(returning: (data ?? Data(), response!))
      }
    }.resume()
  }
  let http = try #require(response as? HTTPURLResponse)
  var headers: [String: String] = [:]
  for (name, value) in http.allHeaderFields {
    headers[String(describing: name).lowercased()] = String(describing: value)
  }
  return Reply(status: http.statusCode, headers: headers, body: [UInt8](data))
}
