import Foundation
import Hummingbird
import O3Service
import Testing

/// The O3 HTTP server on its own, with routes a test controls.
struct HTTPServerTests {
  @Test func routesAnswerGetAndHeadAndOversizedBodiesAreRefused() async throws {
    var limits = O3HTTPServer.Limits()
    limits.maxRequestBodyBytes = 16
    var routes = O3HTTPRoutes()
    routes.add("/echo") { request, _ in
      .o3Page(contentType: "text/plain", "\(request.method.rawValue) \(request.uri.query ?? "")")
    }
    let server = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: routes, limits: limits)
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
