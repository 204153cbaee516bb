import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Parses Hadoop's `*-site.xml` format into key/value pairs.
enum HadoopConfigurationParser {
  static func parse(_ data: Data, source: String) throws -> [String: String] {
    let delegate = Delegate()
    let parser = XMLParser(data: data)
    parser.delegate = delegate
    guard parser.parse() else {
      let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown error"
      throw ConfigurationError(
        key: nil, message: "\(source) is not valid XML (line \(parser.lineNumber)): \(reason)")
    }
    if delegate.openElements != 0 {
      throw ConfigurationError(key: nil, message: "\(source) is not valid XML: it ends inside an element")
    }
    if let problem = delegate.problem {
      throw ConfigurationError(key: nil, message: "\(source): \(problem)")
    }
    return delegate.values
  }

  private final class Delegate: NSObject, XMLParserDelegate {
    var values: [String: String] = [:]
    var problem: String?
    var openElements = 0
    private var name: String?
    private var value: String?
    private var text = ""

    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
      qualifiedName: String?, attributes: [String: String] = [:]
    ) {
      openElements += 1
      text = ""
      if elementName == "property" {
        name = nil
        value = nil
      }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      text += string
    }

    func parser(
      _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
    ) {
      openElements -= 1
      switch elementName {
      case "name": name = text.trimmingCharacters(in: .whitespacesAndNewlines)
      case "value": value = text.trimmingCharacters(in: .whitespacesAndNewlines)
      case "property":
        guard let name, !name.isEmpty else {
          problem = problem ?? "a <property> has no <name>"
          return
        }
        values[name] = value ?? ""
      default: break
      }
      text = ""
    }
  }
}
