/// A scenario script: commands, each followed by `----` and its expected output, in the style of
/// etcd-raft's datadriven files. Lines starting with `#` and blank lines between commands are
/// kept as they are when the expected output is rewritten.
struct ScenarioScript {
  enum Item {
    case text(String)
    case command(line: Int, command: String, expected: [String])
  }

  var items: [Item]

  init(parsing source: String) throws(ScenarioError) {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var items: [Item] = []
    var position = 0
    while position < lines.count {
      let line = lines[position]
      if line.isEmpty || line.hasPrefix("#") {
        items.append(.text(line))
        position += 1
        continue
      }
      guard position + 1 < lines.count, lines[position + 1] == "----" else {
        throw ScenarioError("line \(position + 1): command '\(line)' is not followed by ----")
      }
      var expected: [String] = []
      var cursor = position + 2
      while cursor < lines.count && !lines[cursor].isEmpty {
        expected.append(lines[cursor])
        cursor += 1
      }
      items.append(.command(line: position + 1, command: line, expected: expected))
      // The blank line that ends the output belongs to the command.
      position = cursor + 1
    }
    while case .text("") = items.last { items.removeLast() }
    self.items = items
  }

  /// The script with `outputs` (one per command, in order) as the expected outputs.
  func rendered(with outputs: [[String]]) -> String {
    var lines: [String] = []
    var next = 0
    for item in items {
      switch item {
      case .text(let text):
        lines.append(text)
      case .command(_, let command, _):
        lines.append(command)
        lines.append("----")
        lines += outputs[next]
        lines.append("")
        next += 1
      }
    }
    while lines.last == "" { lines.removeLast() }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// A malformed script or command.
struct ScenarioError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
