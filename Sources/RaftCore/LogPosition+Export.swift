/// `TermIndex` comes from the leaf module LogPosition, shared with the OM's metadata; every user of
/// the core sees it as before.
@_exported import LogPosition
