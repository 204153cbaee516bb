/// The column families of SCM's database (`scm.db`), named as Ozone's SCMDBDefinition names them.
///
/// Keys and values, as Ozone keeps them: `containers` container id (8-byte big-endian) →
/// ContainerInfo; `pipelines` pipeline id (16-byte UUID) → Pipeline; `sequenceId` a sequence's name
/// (UTF-8) → its last id handed out in a batch (8-byte big-endian); `deletedBlocks` transaction id →
/// the blocks to delete; `scmTransactionInfos` `#TRANSACTIONINFO` → the last applied `term#index`;
/// `meta` → layout version. `move`, `statefulServiceConfig`, `validCerts` and `validSCMCerts` exist
/// so that the layout matches Ozone's; nothing writes them yet.
public enum SCMTableName: String, CaseIterable, Sendable {
  case containers
  case deletedBlocks
  case pipelines
  case sequenceId
  case move
  case meta
  case scmTransactionInfos
  case statefulServiceConfig
  case validCerts
  case validSCMCerts
}
