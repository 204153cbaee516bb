import Hummingbird
import NIOCore

/// What a route of an O3 server learns about a request besides the request itself: the peer's
/// address (the checkpoint endpoint serves only loopback peers when no token is configured).
public struct O3RequestContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  /// The peer's address, when the connection has one.
  public let remoteAddress: SocketAddress?
  /// The connection, for the body-limit middleware to have it closed after its answer.
  let channel: any Channel

  public init(source: ApplicationRequestContextSource) {
    coreContext = CoreRequestContextStorage(source: source)
    channel = source.channel
    remoteAddress = source.channel.remoteAddress
  }
}
