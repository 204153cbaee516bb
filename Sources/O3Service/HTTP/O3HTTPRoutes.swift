import HTTPTypes
import Hummingbird
import Prometheus

/// The routes of an O3 HTTP server: each path with the methods it answers.
///
/// A thin table over Hummingbird's router that remembers every path's methods, so that a known
/// path asked with another method gets 405 and an `Allow` header (Hummingbird answers 404), and
/// an unknown path gets a 404 that names the pages there are.
public struct O3HTTPRoutes: Sendable {
  public typealias Handler = @Sendable (Request, O3RequestContext) async throws -> Response

  /// One path and what answers it.
  struct Route: Sendable {
    var path: String
    /// GET implies HEAD: Hummingbird answers HEAD with the GET response's head, unless the
    /// route lists HEAD itself (a streamed body must not be produced for HEAD).
    var methods: [HTTPRequest.Method]
    var handler: Handler
  }

  private(set) var routes: [Route] = []

  public init() {}

  /// Adds `path`, answered by `handler` for each of `methods`.
  public mutating func add(_ path: String, methods: [HTTPRequest.Method] = [.get], handler: @escaping Handler) {
    precondition(!routes.contains { $0.path == path }, "\(path) is already routed")
    precondition(!methods.isEmpty, "\(path) needs at least one method")
    routes.append(Route(path: path, methods: methods, handler: handler))
  }

  /// The status page at `/` (HTML, rendered when asked for) and the metrics at `/prom`: the
  /// registry in Prometheus' text format, after `beforeScrape` has set the gauges that are
  /// sampled rather than fed (a Raft index, a cache size).
  public mutating func addStandardPages(
    statusPage: @escaping @Sendable () async -> String, metrics: PrometheusCollectorRegistry,
    beforeScrape: @escaping @Sendable () async -> Void = {}
  ) {
    add("/") { _, _ in .o3Page(contentType: "text/html; charset=utf-8", await statusPage()) }
    add("/prom") { _, _ in
      await beforeScrape()
      var page: [UInt8] = []
      metrics.emit(into: &page)
      return Response(
        status: .ok, headers: [.contentType: O3HTTPRoutes.prometheusContentType],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: page)))
    }
  }

  /// The media type a Prometheus scraper expects for the text format, version 0.0.4.
  public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

  /// The methods each path answers, as an `Allow` header lists them.
  var allowedMethods: [String: String] {
    Dictionary(uniqueKeysWithValues: routes.map { route in
      var names = route.methods.map(\.rawValue)
      if route.methods.contains(.get) && !route.methods.contains(.head) {
        names.insert("HEAD", at: names.firstIndex(of: "GET")! + 1)
      }
      return (route.path, names.joined(separator: ", "))
    })
  }
}

extension Response {
  /// A whole page of text with its length.
  public static func o3Page(status: HTTPResponse.Status = .ok, contentType: String, _ text: String) -> Response {
    Response(
      status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
  }

  /// A plain-text answer of one line, as O3 servers give for refusals and errors.
  public static func o3Text(_ status: HTTPResponse.Status, _ message: String) -> Response {
    o3Page(status: status, contentType: "text/plain; charset=utf-8", message + "\n")
  }
}
