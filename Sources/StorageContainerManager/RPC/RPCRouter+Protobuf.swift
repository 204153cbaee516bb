import NIOCore
import O3RPC
import SwiftProtobuf

extension RPCRouter {
  /// Registers `method` as SCM's protocols shape theirs: the payload is one protobuf `Request`,
  /// the answer one protobuf `Response` (refusals included, with a status). Only a payload that
  /// is not a `Request` at all gets an RPC-level error (`MALFORMED_REQUEST`, naming `what`).
  mutating func registerProtobuf<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
    _ method: String, describing what: String, answer: @escaping @Sendable (Request, RPCCallContext) async -> Response
  ) {
    register(method) { payload, context, responder in
      let request: Request
      do {
        request = try Request(serializedBytes: Array(payload.readableBytesView))
      } catch {
        responder.fail(RPCRemoteError(code: RPCRemoteError.malformedRequestCode, message: "the payload is not \(what): \(error)"))
        return
      }
      // A response built by the server always serializes.
      Task { responder.succeed(bytes: try! await answer(request, context).serializedBytes()) }
    }
  }
}
