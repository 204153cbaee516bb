/// The pieces of an O3 server's HTML status page.
///
/// Server-rendered and self-contained (no scripts, no external assets), so that a page works
/// through any proxy and in a terminal browser; refresh to update.
public enum StatusPageHTML {
  /// The document up to and including the `<h1>` title; the caller appends the body and `end`.
  public static func start(title: String) -> String {
    """
    <!DOCTYPE html>
    <html><head><meta charset="utf-8"><title>\(escape(title))</title>
    <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
    td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f4f4f4}</style>
    </head><body>
    <h1>\(escape(title))</h1>

    """
  }

  public static let end = "</body></html>\n"

  /// A table; without `headers`, the first cell of each row is its header (a key-value table).
  public static func table(headers: [String]?, rows: [[String]]) -> String {
    var html = "<table>\n"
    if let headers {
      html += "<tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
    }
    for row in rows {
      let cells = row.enumerated().map { index, cell in
        headers == nil && index == 0 ? "<th>\(escape(cell))</th>" : "<td>\(escape(cell))</td>"
      }
      html += "<tr>" + cells.joined() + "</tr>\n"
    }
    return html + "</table>\n"
  }

  public static func escape(_ text: String) -> String {
    var escaped = ""
    for character in text {
      switch character {
      case "&": escaped += "&amp;"
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "\"": escaped += "&quot;"
      case "'": escaped += "&#39;"
      default: escaped.append(character)
      }
    }
    return escaped
  }
}
