import O3TestSupport
import OMProto
import OzoneClient
import RaftSimulation
import Synchronization

/// Concurrent clients racing on a small namespace, every operation recorded for the
/// linearizability checker (``NamespaceModel``).
///
/// The namespace moves on in epochs so that the checker's parts stay small: in epoch e, key
/// operations (create/overwrite, rename, delete, lookup, list) go to the five keys `k0…k4` of
/// bucket `kv<e>/bkt`, and volume/bucket races (create and delete of volumes `ns<e>-0`,
/// `ns<e>-1` and their buckets `bk0`, `bk1`, bucket listings) to that epoch's volumes. Every
/// put writes a value no other put writes, so a read names the write it saw.
final class NamespaceWorkload: Sendable {
  static let keyBucket = "bkt"
  static let keyNames = ["k0", "k1", "k2", "k3", "k4"]
  static let namespaceVolumesPerEpoch = 2
  static let namespaceBuckets = ["bk0", "bk1"]

  let history = ConcurrentHistory<NamespaceInput, NamespaceOutput>()
  private let clients: [OzoneClient]
  private let seeds: [UInt64]
  private let epoch = Atomic<Int>(-1)
  private let stopping = Atomic<Bool>(false)
  private let nextValue = Atomic<UInt64>(1)
  private let tasks = Mutex<[Task<Void, Never>]>([])

  init(clients: [OzoneClient], seed: UInt64) {
    self.clients = clients
    var random = SimulationRandom(seed: seed)
    seeds = clients.map { _ in random.next() }
  }

  static func keyVolume(_ epoch: Int) -> String { "kv\(epoch)" }

  static func namespaceVolume(_ epoch: Int, _ index: Int) -> String { "ns\(epoch)-\(index)" }

  var currentEpoch: Int { epoch.load(ordering: .acquiring) }

  /// Creates epoch `next`'s key volume and bucket through `client` (recorded like any other
  /// operation), retrying until both are known to exist; then moves every client to it.
  /// Returns false if that did not happen within `attempts` tries (the epoch stays as it was).
  func advanceEpoch(to next: Int, using client: OzoneClient, attempts: Int = 20) async -> Bool {
    let volume = Self.keyVolume(next)
    let steps: [NamespaceInput] = [.createVolume(volume), .createBucket(volume: volume, bucket: Self.keyBucket)]
    var clientID = history.newClientID()
    for step in steps {
      var done = false
      for _ in 0..<attempts where !done {
        guard let output = await perform(step, on: client, clientID: clientID) else {
          clientID = history.newClientID()
          continue
        }
        done = output == .ok || output == .failed(.volumeAlreadyExists) || output == .failed(.bucketAlreadyExists)
      }
      guard done else { return false }
    }
    epoch.store(next, ordering: .releasing)
    return true
  }

  /// Starts one task per client; they run until ``stop()``.
  func start() {
    let started = clients.indices.map { index in
      Task { await self.runClient(index) }
    }
    tasks.withLock { $0 = started }
  }

  /// Lets every client finish the operation it is in (each is bounded by its retry policy).
  func stop() async {
    stopping.store(true, ordering: .releasing)
    for task in tasks.withLock({ $0 }) { await task.value }
  }

  /// Tells every client to stop after its current operation, without waiting (for paths that
  /// leave a test early).
  func abandon() {
    stopping.store(true, ordering: .releasing)
  }

  private func runClient(_ index: Int) async {
    var random = SimulationRandom(seed: seeds[index])
    var clientID = history.newClientID()
    while !stopping.load(ordering: .acquiring) {
      let epoch = currentEpoch
      guard epoch >= 0 else { return }
      let input = nextInput(&random, epoch: epoch)
      if await perform(input, on: clients[index], clientID: clientID) == nil {
        clientID = history.newClientID()
      }
    }
  }

  private func nextInput(_ random: inout SimulationRandom, epoch: Int) -> NamespaceInput {
    let volume = Self.keyVolume(epoch)
    let bucket = Self.keyBucket
    let key = random.element(of: Self.keyNames)
    let space = Self.namespaceVolume(epoch, random.index(below: Self.namespaceVolumesPerEpoch))
    let spaceBucket = random.element(of: Self.namespaceBuckets)
    switch random.integer(in: 0...99) {
    case 0..<28:
      return .putKey(volume: volume, bucket: bucket, key: key, value: nextValue.add(1, ordering: .relaxed).oldValue)
    case 28..<38:
      let other = random.element(of: Self.keyNames.filter { $0 != key })
      return .renameKey(volume: volume, bucket: bucket, from: key, to: other)
    case 38..<48: return .deleteKey(volume: volume, bucket: bucket, key: key)
    case 48..<68: return .lookupKey(volume: volume, bucket: bucket, key: key)
    case 68..<78: return .listKeys(volume: volume, bucket: bucket)
    case 78..<82: return .createVolume(space)
    case 82..<85: return .deleteVolume(space)
    case 85..<90: return .createBucket(volume: space, bucket: spaceBucket)
    case 90..<94: return .deleteBucket(volume: space, bucket: spaceBucket)
    default: return .listBuckets(volume: space)
    }
  }

  /// Sends `input`, records it, and returns what the client was told (nil: unknown).
  @discardableResult
  func perform(_ input: NamespaceInput, on client: OzoneClient, clientID: UInt64) async -> NamespaceOutput? {
    let callTime = history.timestamp()
    let output: NamespaceOutput?
    switch input {
    case .putKey(let volume, let bucket, let key, let value):
      // The commit is the put's effect: a put whose CreateKey got no answer never committed
      // anything, so it is left out of the history.
      let session: UInt64
      do {
        session = try await client.createKey(volume, bucket, key, dataSize: value)
      } catch {
        guard let known = knownOutput(error) else { return nil }
        history.record(clientID: clientID, input: input, callTime: callTime, output: known)
        return known
      }
      output = await outcome { try await client.commitKey(volume, bucket, key, session: session, dataSize: value) }
    default:
      output = await outcome { try await Self.send(input, to: client) }
    }
    history.record(clientID: clientID, input: input, callTime: callTime, output: output)
    return output
  }

  private static func send(_ input: NamespaceInput, to client: OzoneClient) async throws -> NamespaceOutput {
    switch input {
    case .createVolume(let volume):
      try await client.createVolume(volume)
    case .deleteVolume(let volume):
      try await client.deleteVolume(volume)
    case .createBucket(let volume, let bucket):
      var info = BucketInfo()
      info.volumeName = volume
      info.bucketName = bucket
      info.quotaInBytes = -1
      info.quotaInNamespace = -1
      try await client.createBucket(info)
    case .deleteBucket(let volume, let bucket):
      try await client.deleteBucket(volume, bucket)
    case .listBuckets(let volume):
      return .buckets(try await client.listBuckets(volume).buckets.map(\.bucketName).sorted())
    case .renameKey(let volume, let bucket, let from, let to):
      try await client.renameKey(volume, bucket, from: from, to: to)
    case .deleteKey(let volume, let bucket, let key):
      try await client.deleteKey(volume, bucket, key)
    case .lookupKey(let volume, let bucket, let key):
      return .value(try await client.keyInfo(volume, bucket, key).dataSize)
    case .listKeys(let volume, let bucket):
      let page = try await client.listKeys(volume, bucket)
      return .keys(page.keys.map { NamespaceKey(name: $0.keyName, value: $0.dataSize) }.sorted())
    case .putKey:
      preconditionFailure("puts take two calls; see perform")
    }
    return .ok
  }

  private func outcome(_ call: () async throws -> NamespaceOutput) async -> NamespaceOutput? {
    do {
      return try await call()
    } catch {
      return knownOutput(error)
    }
  }

  private func outcome(_ call: () async throws -> Void) async -> NamespaceOutput? {
    await outcome { () async throws -> NamespaceOutput in
      try await call()
      return .ok
    }
  }

  /// The output an error stands for: a refusal with a status, or nil when the client never
  /// learned what happened (retries spent, connection lost). An OM whose Raft stops answers the
  /// requests still waiting with NOT_LEADER, so the client retries them elsewhere with the same
  /// call id; any other status than the model's refusals is unexpected.
  func knownOutput(_ error: any Error) -> NamespaceOutput? {
    guard case .refused(let status, let message) = error as? OzoneClientError else { return nil }
    switch status {
    case .volumeNotFound: return .failed(.volumeNotFound)
    case .volumeAlreadyExists: return .failed(.volumeAlreadyExists)
    case .volumeNotEmpty: return .failed(.volumeNotEmpty)
    case .bucketNotFound: return .failed(.bucketNotFound)
    case .bucketAlreadyExists: return .failed(.bucketAlreadyExists)
    case .bucketNotEmpty: return .failed(.bucketNotEmpty)
    case .keyNotFound: return .failed(.keyNotFound)
    case .keyAlreadyExists: return .failed(.keyAlreadyExists)
    default: return .unexpected("\(status.ozoneName) \(message)")
    }
  }

}
