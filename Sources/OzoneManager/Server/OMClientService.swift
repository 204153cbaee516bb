import Foundation
import NIOCore
import NIOPosix
import O3RPC
import OMMetadata
import OMProto
import SwiftProtobuf

/// The OM client protocol over O3RPC: one method, `om.submitRequest`, carrying an `OMRequest`
/// and answered with an `OMResponse`. Every refusal is an `OMResponse` with a status; only a
/// call that is not this protocol at all (unknown method) gets an RPC-level error.
final class OMClientService: RPCServiceHandler {
  static let submitMethod = "om.submitRequest"

  private let store: OMMetadataStore
  private let submitter: SingleReplicaSubmitter
  private let readPool: NIOThreadPool
  private let limits: OMRequestLimits
  private let clock: @Sendable () -> UInt64

  init(
    store: OMMetadataStore, submitter: SingleReplicaSubmitter, readPool: NIOThreadPool, limits: OMRequestLimits,
    clock: @escaping @Sendable () -> UInt64
  ) {
    self.store = store
    self.submitter = submitter
    self.readPool = readPool
    self.limits = limits
    self.clock = clock
  }

  func handle(method: String, payload: ByteBuffer, context: RPCCallContext, responder: RPCResponder) {
    guard method == Self.submitMethod else {
      responder.fail(.unknownMethod(method))
      return
    }
    let request: OMRequest
    do {
      request = try OMRequest(serializedBytes: Array(payload.readableBytesView))
    } catch {
      Self.respond(.failure(.unspecified, OMException(.invalidRequest, "the payload is not an OMRequest: \(error)")), responder)
      return
    }
    do {
      try OMRequestRouter.checkEnvelope(request)
    } catch {
      Self.respond(.failure(request.cmdType, error), responder)
      return
    }
    if OMRequestRouter.isWrite(request.cmdType) {
      submitWrite(request, responder: responder)
    } else {
      serveRead(request, responder: responder)
    }
  }

  private func submitWrite(_ request: OMRequest, responder: RPCResponder) {
    let context = PreExecuteContext(
      nowMilliseconds: clock(), userName: request.userInfo.userName.isEmpty ? "anonymous" : request.userInfo.userName,
      randomID: { UInt64.random(in: 1...UInt64.max) })
    let prepared: OMRequest
    do {
      prepared = try OMRequestRouter.preExecute(request, context: context, limits: limits)
    } catch {
      Self.respond(.failure(request.cmdType, error), responder)
      return
    }
    submitter.submit(prepared) { response in
      Self.respond(response, responder)
    }
  }

  private func serveRead(_ request: OMRequest, responder: RPCResponder) {
    let store = self.store
    let limits = self.limits
    readPool.submit { state in
      guard case .active = state else {
        Self.respond(.failure(request.cmdType, OMException(.internalError, "the OM is shutting down")), responder)
        return
      }
      let response: OMResponse
      do {
        response = try OMRequestRouter.read(request, store: store, limits: limits)
      } catch {
        response = .failure(request.cmdType, OMException(.metadataError, "reading the OM database failed: \(error)"))
      }
      Self.respond(response, responder)
    }
  }

  private static func respond(_ response: OMResponse, _ responder: RPCResponder) {
    // A response we built ourselves always serializes.
    responder.succeed(bytes: try! response.serializedBytes())
  }
}
