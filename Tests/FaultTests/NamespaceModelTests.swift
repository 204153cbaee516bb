import RaftSimulation
import O3TestSupport
import Testing

/// The namespace model against small histories whose verdict is known by hand.
@Suite(.watchdog) struct NamespaceModelTests {
  private typealias Operation = HistoryOperation<NamespaceInput, NamespaceOutput>

  private func operation(_ client: UInt64, _ input: NamespaceInput, _ call: UInt64, _ output: NamespaceOutput?, _ returned: UInt64)
    -> Operation
  {
    Operation(
      clientID: client, input: input, callTime: call, outcome: output.map { .returned($0, returnTime: returned) } ?? .unknown)
  }

  private func check(_ history: [Operation]) -> LinearizabilityResult {
    LinearizabilityChecker(model: NamespaceModel()).check(history)
  }

  private let setup: [NamespaceInput] = [.createVolume("v1"), .createBucket(volume: "v1", bucket: "b")]

  private func prepared(_ rest: [Operation]) -> [Operation] {
    setup.enumerated().map { operation(0, $0.element, UInt64($0.offset * 2), .ok, UInt64($0.offset * 2 + 1)) } + rest
  }

  @Test func sequentialKeyLifecycleIsLinearizable() {
    let history = prepared([
      operation(1, .putKey(volume: "v1", bucket: "b", key: "k0", value: 7), 10, .ok, 11),
      operation(1, .renameKey(volume: "v1", bucket: "b", from: "k0", to: "k1"), 12, .ok, 13),
      operation(1, .lookupKey(volume: "v1", bucket: "b", key: "k0"), 14, .failed(.keyNotFound), 15),
      operation(1, .listKeys(volume: "v1", bucket: "b"), 16, .keys([NamespaceKey(name: "k1", value: 7)]), 17),
      operation(1, .deleteBucket(volume: "v1", bucket: "b"), 18, .failed(.bucketNotEmpty), 19),
      operation(1, .deleteKey(volume: "v1", bucket: "b", key: "k1"), 20, .ok, 21),
      operation(1, .deleteBucket(volume: "v1", bucket: "b"), 22, .ok, 23),
      operation(1, .deleteVolume("v1"), 24, .ok, 25),
    ])
    #expect(check(history).isLinearizable)
  }

  @Test func anAcknowledgedPutMissingFromAListingIsAViolation() {
    let history = prepared([
      operation(1, .putKey(volume: "v1", bucket: "b", key: "k0", value: 7), 10, .ok, 11),
      operation(2, .listKeys(volume: "v1", bucket: "b"), 12, .keys([]), 13),
    ])
    #expect(check(history).violation != nil)
  }

  @Test func aPutWithUnknownOutcomeMayOrMayNotHaveHappened() {
    let put = operation(1, .putKey(volume: "v1", bucket: "b", key: "k0", value: 7), 10, nil, 0)
    let sawIt = operation(2, .lookupKey(volume: "v1", bucket: "b", key: "k0"), 20, .value(7), 21)
    let missedIt = operation(3, .lookupKey(volume: "v1", bucket: "b", key: "k0"), 22, .failed(.keyNotFound), 23)
    #expect(check(prepared([put, missedIt])).isLinearizable)
    #expect(check(prepared([put, sawIt])).isLinearizable)
    #expect(check(prepared([put, sawIt, missedIt])).violation != nil, "once seen, the put cannot be undone")
  }

  @Test func aRetriedRenameAnsweredNotFoundAfterItsEffectIsAViolation() {
    let history = prepared([
      operation(1, .putKey(volume: "v1", bucket: "b", key: "k0", value: 7), 10, .ok, 11),
      operation(1, .renameKey(volume: "v1", bucket: "b", from: "k0", to: "k1"), 12, .failed(.keyNotFound), 13),
      operation(2, .lookupKey(volume: "v1", bucket: "b", key: "k1"), 14, .value(7), 15),
    ])
    #expect(check(history).violation != nil)
  }

  @Test func refusalsAreJudgedByTheirOwnCondition() {
    let history = [
      operation(1, .createBucket(volume: "v2", bucket: "b"), 0, .failed(.volumeNotFound), 1),
      operation(1, .deleteBucket(volume: "v2", bucket: "b"), 2, .failed(.bucketNotFound), 3),
      operation(1, .deleteBucket(volume: "v2", bucket: "b"), 4, .failed(.volumeNotFound), 5),
      operation(1, .createVolume("v2"), 6, .ok, 7),
      operation(1, .createVolume("v2"), 8, .failed(.volumeAlreadyExists), 9),
      operation(1, .listBuckets(volume: "v2"), 10, .buckets([]), 11),
    ]
    #expect(check(history).isLinearizable)
    let wrong = history + [operation(1, .deleteVolume("v2"), 12, .failed(.volumeNotEmpty), 13)]
    #expect(check(wrong).violation != nil)
  }

  @Test func anUnexpectedStatusIsNeverLegal() {
    let history = prepared([operation(1, .lookupKey(volume: "v1", bucket: "b", key: "k0"), 10, .unexpected("INTERNAL_ERROR"), 11)])
    #expect(check(history).violation != nil)
  }

  @Test func volumesArePartitionedApart() {
    let history = [
      operation(1, .createVolume("a1"), 0, .ok, 1),
      operation(2, .createVolume("b1"), 0, .ok, 1),
      operation(1, .listBuckets(volume: "a1"), 2, .buckets([]), 3),
    ]
    #expect(NamespaceModel().partition(history) == [[0, 2], [1]])
  }
}
