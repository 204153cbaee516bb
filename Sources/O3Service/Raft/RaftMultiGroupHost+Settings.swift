import O3Common
import Raft
import RaftCore
import RaftRPC

extension RaftMultiGroupHost {
  /// Where and how a host serves its groups.
  public struct Settings: Sendable {
    /// Where the groups' directories live (`dfs.container.ratis.datanode.storage.dir`).
    public var rootDirectory: String
    public var segmentSizeBytes: Int
    /// The Raft address this process listens on, for every group.
    public var listenAddress: HostAndPort
    /// The configuration key of that address, named when it cannot be used.
    public var listenAddressKey: String
    /// This process's peer id in every group.
    public var localPeer: PeerID
    /// The template of every group's configuration; its peer id and group id are set per group.
    public var raft: RaftServerConfiguration
    public var limits: RaftRPCLimits

    public init(
      rootDirectory: String, segmentSizeBytes: Int, listenAddress: HostAndPort, listenAddressKey: String,
      localPeer: PeerID, raft: RaftServerConfiguration, limits: RaftRPCLimits = RaftRPCLimits()
    ) {
      self.rootDirectory = rootDirectory
      self.segmentSizeBytes = segmentSizeBytes
      self.listenAddress = listenAddress
      self.listenAddressKey = listenAddressKey
      self.localPeer = localPeer
      self.raft = raft
      self.limits = limits
    }
  }
}
