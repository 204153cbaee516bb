import RaftSimulation

/// A request to an object-store namespace (Ozone's volumes → buckets → keys), as far as the
/// namespace model judges it. A key holds one number: the size its last writer gave it, which
/// workloads keep unique per write so that a read names the write it saw.
enum NamespaceInput: Hashable, Sendable {
  case createVolume(String)
  case deleteVolume(String)
  case createBucket(volume: String, bucket: String)
  case deleteBucket(volume: String, bucket: String)
  /// Every bucket of the volume (one page holds them all).
  case listBuckets(volume: String)
  /// Creates or overwrites a key (Ozone's CreateKey + CommitKey; the commit is the effect).
  case putKey(volume: String, bucket: String, key: String, value: UInt64)
  case renameKey(volume: String, bucket: String, from: String, to: String)
  case deleteKey(volume: String, bucket: String, key: String)
  case lookupKey(volume: String, bucket: String, key: String)
  /// Every key of the bucket with its value (one page holds them all).
  case listKeys(volume: String, bucket: String)

  /// The volume the request touches; requests on different volumes never interact.
  var volume: String {
    switch self {
    case .createVolume(let volume), .deleteVolume(let volume), .listBuckets(let volume): volume
    case .createBucket(let volume, _), .deleteBucket(let volume, _), .listKeys(let volume, _): volume
    case .putKey(let volume, _, _, _), .renameKey(let volume, _, _, _): volume
    case .deleteKey(let volume, _, _), .lookupKey(let volume, _, _): volume
    }
  }

  var isReadOnly: Bool {
    switch self {
    case .listBuckets, .lookupKey, .listKeys: true
    default: false
    }
  }
}

/// The refusals the namespace model knows, named as Ozone's statuses.
enum NamespaceFailure: String, Hashable, Sendable {
  case volumeNotFound = "VOLUME_NOT_FOUND"
  case volumeAlreadyExists = "VOLUME_ALREADY_EXISTS"
  case volumeNotEmpty = "VOLUME_NOT_EMPTY"
  case bucketNotFound = "BUCKET_NOT_FOUND"
  case bucketAlreadyExists = "BUCKET_ALREADY_EXISTS"
  case bucketNotEmpty = "BUCKET_NOT_EMPTY"
  case keyNotFound = "KEY_NOT_FOUND"
  case keyAlreadyExists = "KEY_ALREADY_EXISTS"
}

/// One key of a listing.
struct NamespaceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
  var name: String
  var value: UInt64

  init(name: String, value: UInt64) {
    self.name = name
    self.value = value
  }

  var description: String { "\(name)=\(value)" }

  static func < (left: NamespaceKey, right: NamespaceKey) -> Bool {
    Array(left.name.utf8).lexicographicallyPrecedes(Array(right.name.utf8))
  }
}

/// What a client was told.
enum NamespaceOutput: Hashable, Sendable {
  case ok
  case failed(NamespaceFailure)
  /// A lookup found the key with this value.
  case value(UInt64)
  /// A key listing, sorted by name.
  case keys([NamespaceKey])
  /// A bucket listing, sorted.
  case buckets([String])
  /// A status the model has no rule for; never legal, so the checker reports it.
  case unexpected(String)
}

/// The namespace's state: which volumes and buckets exist, and every key's value.
struct NamespaceState: Hashable, Sendable {
  /// A bucket or a key, by its path.
  struct Path: Hashable, Sendable {
    var volume: String
    var bucket: String
    var key: String
  }

  var volumes: Set<String> = []
  /// Buckets as paths with an empty key.
  var buckets: Set<Path> = []
  var keys: [Path: UInt64] = [:]

  init() {}

  func keys(in volume: String, _ bucket: String) -> [NamespaceKey] {
    keys.filter { $0.key.volume == volume && $0.key.bucket == bucket }.map { NamespaceKey(name: $0.key.key, value: $0.value) }
      .sorted()
  }
}

/// The sequential specification of an OM namespace: volume and bucket creation and deletion
/// (with Ozone's emptiness rules) and key create/overwrite, rename, delete, lookup and listing.
///
/// A refusal is legal exactly when its condition holds, whichever order the server checks
/// conditions in (a bucket request on a missing volume may say VOLUME_NOT_FOUND or
/// BUCKET_NOT_FOUND). An operation whose outcome is unknown takes the effect its input has in
/// the state it meets. Histories are partitioned per volume.
struct NamespaceModel: LinearizabilityModel, Sendable {
  typealias State = NamespaceState
  typealias Input = NamespaceInput
  typealias Output = NamespaceOutput

  init() {}

  var initialState: State { NamespaceState() }

  func step(_ state: State, input: Input, output: Output?) -> (legal: Bool, next: State) {
    let outcome = Self.apply(input, to: state)
    guard let output else { return (true, outcome.next) }
    switch output {
    case .failed(let failure):
      return (Self.holds(failure, for: input, in: state), state)
    case .unexpected:
      return (false, state)
    default:
      guard let expected = outcome.output, expected == output else { return (false, state) }
      return (true, outcome.next)
    }
  }

  /// The successful output and the state after `input`, or a nil output when the input must
  /// be refused in `state` (the state is then unchanged).
  private static func apply(_ input: Input, to state: State) -> (output: Output?, next: State) {
    var next = state
    func bucketPath(_ volume: String, _ bucket: String) -> NamespaceState.Path {
      NamespaceState.Path(volume: volume, bucket: bucket, key: "")
    }
    switch input {
    case .createVolume(let volume):
      guard !state.volumes.contains(volume) else { return (nil, state) }
      next.volumes.insert(volume)
    case .deleteVolume(let volume):
      guard state.volumes.contains(volume), !state.buckets.contains(where: { $0.volume == volume }) else { return (nil, state) }
      next.volumes.remove(volume)
    case .createBucket(let volume, let bucket):
      guard state.volumes.contains(volume), !state.buckets.contains(bucketPath(volume, bucket)) else { return (nil, state) }
      next.buckets.insert(bucketPath(volume, bucket))
    case .deleteBucket(let volume, let bucket):
      guard state.buckets.contains(bucketPath(volume, bucket)), state.keys(in: volume, bucket).isEmpty else { return (nil, state) }
      next.buckets.remove(bucketPath(volume, bucket))
    case .listBuckets(let volume):
      guard state.volumes.contains(volume) else { return (nil, state) }
      return (.buckets(state.buckets.filter { $0.volume == volume }.map(\.bucket).sorted()), state)
    case .putKey(let volume, let bucket, let key, let value):
      guard state.buckets.contains(bucketPath(volume, bucket)) else { return (nil, state) }
      next.keys[NamespaceState.Path(volume: volume, bucket: bucket, key: key)] = value
    case .renameKey(let volume, let bucket, let from, let to):
      let source = NamespaceState.Path(volume: volume, bucket: bucket, key: from)
      let target = NamespaceState.Path(volume: volume, bucket: bucket, key: to)
      guard let value = state.keys[source], state.keys[target] == nil else { return (nil, state) }
      next.keys[source] = nil
      next.keys[target] = value
    case .deleteKey(let volume, let bucket, let key):
      let path = NamespaceState.Path(volume: volume, bucket: bucket, key: key)
      guard state.keys[path] != nil else { return (nil, state) }
      next.keys[path] = nil
    case .lookupKey(let volume, let bucket, let key):
      guard let value = state.keys[NamespaceState.Path(volume: volume, bucket: bucket, key: key)] else { return (nil, state) }
      return (.value(value), state)
    case .listKeys(let volume, let bucket):
      guard state.buckets.contains(bucketPath(volume, bucket)) else { return (nil, state) }
      return (.keys(state.keys(in: volume, bucket)), state)
    }
    return (.ok, next)
  }

  /// Whether refusing `input` with `failure` is right in `state`.
  private static func holds(_ failure: NamespaceFailure, for input: Input, in state: State) -> Bool {
    let volume = input.volume
    let volumeExists = state.volumes.contains(volume)
    func bucketExists(_ bucket: String) -> Bool {
      state.buckets.contains(NamespaceState.Path(volume: volume, bucket: bucket, key: ""))
    }
    func keyExists(_ bucket: String, _ key: String) -> Bool {
      state.keys[NamespaceState.Path(volume: volume, bucket: bucket, key: key)] != nil
    }
    switch (input, failure) {
    case (.createVolume, .volumeAlreadyExists): return volumeExists
    case (.deleteVolume, .volumeNotFound), (.listBuckets, .volumeNotFound): return !volumeExists
    case (.deleteVolume, .volumeNotEmpty): return state.buckets.contains { $0.volume == volume }
    case (.createBucket, .volumeNotFound), (.deleteBucket, .volumeNotFound), (.putKey, .volumeNotFound),
      (.renameKey, .volumeNotFound), (.deleteKey, .volumeNotFound), (.lookupKey, .volumeNotFound),
      (.listKeys, .volumeNotFound):
      return !volumeExists
    case (.createBucket(_, let bucket), .bucketAlreadyExists): return bucketExists(bucket)
    case (.deleteBucket(_, let bucket), .bucketNotFound), (.putKey(_, let bucket, _, _), .bucketNotFound),
      (.renameKey(_, let bucket, _, _), .bucketNotFound), (.deleteKey(_, let bucket, _), .bucketNotFound),
      (.lookupKey(_, let bucket, _), .bucketNotFound), (.listKeys(_, let bucket), .bucketNotFound):
      return !bucketExists(bucket)
    case (.deleteBucket(_, let bucket), .bucketNotEmpty): return !state.keys(in: volume, bucket).isEmpty
    case (.renameKey(_, let bucket, let from, _), .keyNotFound): return !keyExists(bucket, from)
    case (.renameKey(_, let bucket, _, let to), .keyAlreadyExists): return keyExists(bucket, to)
    case (.deleteKey(_, let bucket, let key), .keyNotFound), (.lookupKey(_, let bucket, let key), .keyNotFound):
      return !keyExists(bucket, key)
    default: return false
    }
  }

  func isReadOnly(_ input: Input) -> Bool { input.isReadOnly }

  /// One part per volume, in order of the volume's first appearance (deterministic).
  func partition(_ operations: [HistoryOperation<Input, Output>]) -> [[Int]] {
    var partOfVolume: [String: Int] = [:]
    var parts: [[Int]] = []
    for (index, operation) in operations.enumerated() {
      let volume = operation.input.volume
      if let part = partOfVolume[volume] {
        parts[part].append(index)
      } else {
        partOfVolume[volume] = parts.count
        parts.append([index])
      }
    }
    return parts
  }

  func describe(state: State) -> String {
    let volumes = state.volumes.sorted().joined(separator: ",")
    let buckets = state.buckets.map { "\($0.volume)/\($0.bucket)" }.sorted().joined(separator: ",")
    let keys = state.keys.map { "\($0.key.volume)/\($0.key.bucket)/\($0.key.key)=\($0.value)" }.sorted()
      .joined(separator: ",")
    return "volumes[\(volumes)] buckets[\(buckets)] keys[\(keys)]"
  }
}
