/// The id sequences SCM hands out in batches (Ozone's SequenceIdType); the raw value is the key of
/// the sequence's row in scm.db's `sequenceId` table.
public enum SequenceName: String, CaseIterable, Sendable {
  /// Block local ids (BlockManagerImpl.newBlock).
  case localId
  /// Deleted-block transaction ids.
  case delTxnId
  /// Container ids (the first container is 1).
  case containerId
  /// Certificate serial numbers.
  case certificateId = "CertificateId"
}
