/// The position of a transaction in the replicated log is LogPosition's `TermIndex`, the same type
/// the consensus core uses; re-exported so that the OM's modules, whose API speaks of applied and
/// flushed positions, see it through this module and never import the consensus core.
@_exported import LogPosition
