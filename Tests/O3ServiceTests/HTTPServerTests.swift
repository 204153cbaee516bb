import Foundation
import Hummingbird
import O3Service
import Prometheus
import O3TestSupport
import Testing

/// The O3 HTTP server on its own, with routes a test controls.
@Suite(.watchdog) struct HTTPServerTests {
  @Test func routesAnswerGetAndHeadAndOversizedBodiesAreRefused() async throws {
    var limits = O3HTTPServer.Limits()
    limits.maxRequestBodyBytes = 16
    var routes = O3HTTPRoutes()
    routes.add("/echo") { request, _ in
      .o3Page(contentType: "text/plain", "\(request.method.rawValue) \(request.uri.query ?? "")")
    }
    let server = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: routes, limits: limits)
    let port = server.localPort
    let get = try await fetch(port: port, path: "/echo?a=1")
    let head = try await fetch(port: port, path: "/echo", method: "HEAD")
    let tooLarge = try await fetch(port: port, path: "/echo", method: "POST", body: Data(repeating: 65, count: 1024))
    await server.shutdown()
    #expect(get.status == 200)
    #expect(get.text == "GET a=1")
    #expect(head.status == 200 && head.body.isEmpty)
    #expect(head.headers["content-length"] == "5")
    #expect(tooLarge.status == 413)
    #expect(tooLarge.headers["connection"] == "close")
  }

  @Test func unknownPathsAndMethodsGetPlainTextRefusals() async throws {
    var routes = O3HTTPRoutes()
    routes.add("/page") { _, _ in .o3Page(contentType: "text/plain", "page") }
    routes.add("/upload", methods: [.post]) { _, _ in .o3Page(contentType: "text/plain", "taken") }
    let server = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: routes)
    let missing = try await fetch(port: server.localPort, path: "/nope")
    let deleted = try await fetch(port: server.localPort, path: "/page", method: "DELETE")
    let fetched = try await fetch(port: server.localPort, path: "/upload")
    await server.shutdown()
    #expect(missing.status == 404 && missing.text == "no page at /nope; try / or /prom\n")
    #expect(missing.headers["content-type"] == "text/plain; charset=utf-8")
    #expect(deleted.status == 405 && deleted.headers["allow"] == "GET, HEAD" && deleted.text == "/page answers GET, HEAD only\n")
    #expect(fetched.status == 405 && fetched.headers["allow"] == "POST")
  }

  @Test func aTakenPortIsABindErrorFromStart() async throws {
    let first = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: O3HTTPRoutes())
    #expect(first.localPort > 0)
    await #expect(throws: (any Error).self) {
      let second = try await O3HTTPServer.start(host: "127.0.0.1", port: first.localPort, routes: O3HTTPRoutes())
      await second.shutdown()
    }
    await first.shutdown()
  }

  @Test func standardPagesServeTheStatusPageAndTheRegistry() async throws {
    let registry = PrometheusCollectorRegistry()
    let scrapes = registry.makeCounter(name: "test_scrapes_total", help: "Scrapes.")
    var routes = O3HTTPRoutes()
    routes.addStandardPages(statusPage: { StatusPageHTML.start(title: "T<1>") + StatusPageHTML.end }, metrics: registry) {
      scrapes.increment()
    }
    let server = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: routes)
    let status = try await fetch(port: server.localPort, path: "/")
    let prom = try await fetch(port: server.localPort, path: "/prom")
    await server.shutdown()
    #expect(status.headers["content-type"] == "text/html; charset=utf-8" && status.text.contains("<h1>T&lt;1&gt;</h1>"))
    #expect(prom.headers["content-type"] == O3HTTPRoutes.prometheusContentType)
    #expect(prom.text.contains("# TYPE test_scrapes_total counter\ntest_scrapes_total 1\n"))
  }
}
