import O3Common

/// How long and how often a call retries before giving up (Ozone's client failover keys).
public struct OMFailoverPolicy: Sendable, Equatable {
  /// How many times one call is retried after its first try, on any OM (Ozone counts failovers
  /// the same way, a retry on the same OM included).
  public var maxAttempts: Int
  /// The wait after every OM has been tried once, and the step of the linear backoff when an OM
  /// answers LEADER_NOT_READY.
  public var waitBetweenRetriesMilliseconds: Int64
  /// The linear backoff on one OM stops growing after this many steps (Ozone's grows without
  /// bound; a leader that stays unready for minutes should not push the next try further away).
  public var sameNodeBackoffStepsMax: Int
  /// Reads may be answered by a follower (after a ReadIndex round with the leader, so still
  /// linearizable): `ozone.client.follower.read.enabled`, off by default as in Ozone.
  public var followerReadsEnabled = false

  public static let maxAttemptsKey = "ozone.client.failover.max.attempts"
  public static let maxAttemptsDefault = 500
  public static let waitBetweenRetriesKey = "ozone.client.wait.between.retries.millis"
  public static let waitBetweenRetriesMillisecondsDefault: Int64 = 2000
  public static let sameNodeBackoffStepsMaxDefault = 10
  public static let followerReadsKey = "ozone.client.follower.read.enabled"

  public init(
    maxAttempts: Int = maxAttemptsDefault, waitBetweenRetriesMilliseconds: Int64 = waitBetweenRetriesMillisecondsDefault,
    sameNodeBackoffStepsMax: Int = sameNodeBackoffStepsMaxDefault
  ) {
    precondition(maxAttempts >= 0, "maxAttempts is a count")
    precondition(waitBetweenRetriesMilliseconds >= 0, "a wait is not negative")
    precondition(sameNodeBackoffStepsMax >= 1, "the backoff has at least one step")
    self.maxAttempts = maxAttempts
    self.waitBetweenRetriesMilliseconds = waitBetweenRetriesMilliseconds
    self.sameNodeBackoffStepsMax = sameNodeBackoffStepsMax
  }

  /// Reads `ozone.client.failover.max.attempts` and `ozone.client.wait.between.retries.millis`
  /// (a bare number is milliseconds; `2s` works too).
  ///
  /// - Throws: `ConfigurationError` naming the key whose value is malformed or negative.
  public init(configuration: OzoneConfiguration) throws {
    let maxAttempts = try configuration.integer(Self.maxAttemptsKey, default: Self.maxAttemptsDefault)
    guard maxAttempts >= 0 else {
      throw ConfigurationError(key: Self.maxAttemptsKey, message: "\(maxAttempts) is negative; it counts retries (0: none)")
    }
    let wait = try configuration.milliseconds(Self.waitBetweenRetriesKey, default: Self.waitBetweenRetriesMillisecondsDefault)
    self.init(maxAttempts: maxAttempts, waitBetweenRetriesMilliseconds: wait)
    followerReadsEnabled = try configuration.boolean(Self.followerReadsKey, default: false)
  }
}
