import Foundation
import Hummingbird
import O3Service
import Synchronization
import O3TestSupport
import Testing

/// The HTTP server's streamed bodies and POST routes, on their own.
@Suite(.watchdog) struct StreamedResponseTests {
  @Test func streamedBodyArrivesWholeAndPostIsOnlyForRoutesThatAcceptIt() async throws {
    let chunks = (0..<40).map { index in [UInt8](repeating: UInt8(index), count: 100_000) }
    let received = Mutex<[UInt8]>([])
    var routes = O3HTTPRoutes()
    routes.add("/stream") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "application/octet-stream"],
        body: ResponseBody { writer in
          for chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
          try await writer.finish(nil)
        })
    }
    routes.add("/post", methods: [.get, .post]) { request, _ in
      var request = request
      let body = try await request.collectBody(upTo: .max)
      received.withLock { $0 = Array(body.readableBytesView) }
      return .o3Page(contentType: "text/plain", request.method.rawValue)
    }
    routes.add("/get") { _, _ in .o3Page(contentType: "text/plain", "ok") }
    let server = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: routes)
    let port = server.localPort
    let streamed = try await fetch(port: port, path: "/stream")
    let posted = try await fetch(port: port, path: "/post", method: "POST", body: Data([1, 2, 3]))
    let refused = try await fetch(port: port, path: "/get", method: "POST", body: Data([1]))
    await server.shutdown()
    #expect(streamed.status == 200)
    #expect(streamed.body == chunks.flatMap { $0 })
    #expect(posted.status == 200 && received.withLock { $0 } == [1, 2, 3])
    #expect(refused.status == 405)
    #expect(refused.headers["allow"] == "GET, HEAD")
  }

  @Test func headAnswersWithoutProducingTheStreamedBody() async throws {
    let calls = Mutex<[String]>([])
    var routes = O3HTTPRoutes()
    routes.add("/stream") { _, _ in
      calls.withLock { $0.append("route") }
      return Response(
        status: .ok, headers: [.contentType: "application/octet-stream"],
        body: ResponseBody { writer in
          calls.withLock { $0.append("produce") }
          try await writer.finish(nil)
        })
    }
    let server = try await O3HTTPServer.start(host: "127.0.0.1", port: 0, routes: routes)
    let head = try await fetch(port: server.localPort, path: "/stream", method: "HEAD")
    await server.shutdown()
    #expect(head.status == 200 && head.body.isEmpty)
    #expect(calls.withLock { $0 } == ["route"])
  }
}
