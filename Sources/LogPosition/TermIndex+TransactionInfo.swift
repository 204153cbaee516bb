/// Ozone's `TransactionInfo` text, persisted by the OM (om.db) and SCM (scm.db) alike.
extension TermIndex {
  /// Ozone's text for a transaction's position, `term#index` (its `TransactionInfo`): the OM's
  /// transactionInfoTable row and checkpoint header, SCM's scmTransactionInfos row. Persisted and
  /// sent between servers, so it must not change; `description` is Raft's `term/index`, for people.
  public var transactionInfoText: String { "\(term)#\(index)" }

  /// `transactionInfoText` as stored.
  public var encoded: [UInt8] { Array(transactionInfoText.utf8) }

  /// Parses `term#index`; nil when the bytes are not in that form.
  public init?(encoded bytes: [UInt8]) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    let parts = text.split(separator: "#", omittingEmptySubsequences: false)
    guard parts.count == 2, let term = UInt64(parts[0]), let index = UInt64(parts[1]) else { return nil }
    self.init(term: term, index: index)
  }
}
