import Foundation
import OzoneManager
import O3TestSupport
import Testing

/// The OM's HTTP server on its own, with routes a test controls.
@Suite(.watchdog) struct HTTPServerTests {
  @Test func routesAnswerGetAndHeadAndOversizedBodiesAreRefused() async throws {
    var limits = OMHTTPServer.Limits()
    limits.maxRequestBodyBytes = 16
    let server = try await OMHTTPServer.start(
      host: "127.0.0.1", port: 0,
      routes: ["/echo": { request in OMHTTPResponse(contentType: "text/plain", body: "\(request.method) \(request.query)") }],
      limits: limits)
    let port = server.localPort
    let get = try await HTTP.request(port: port, path: "/echo?a=1")
    let head = try await HTTP.request(port: port, path: "/echo", method: "HEAD")
    let tooLarge = try await HTTP.request(port: port, path: "/echo", method: "POST", body: Data(repeating: 65, count: 1024))
    await server.shutdown()
    #expect(get.status == 200)
    #expect(get.body == "GET a=1")
    #expect(head.status == 200 && head.body.isEmpty)
    #expect(head.headers["content-length"] == "5")
    #expect(tooLarge.status == 413)
  }
}
