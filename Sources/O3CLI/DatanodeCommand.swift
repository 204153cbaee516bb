import ArgumentParser
import Datanode
import Foundation
import NIOPosix
import O3Common
import O3Service

/// `o3 datanode`: runs one datanode (its volumes, its conversations with the SCMs).
struct DatanodeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "datanode", abstract: "Run a datanode: registers with the SCMs and heartbeats (volumes from hdds.datanode.dir).")

  @OptionGroup var configurationOptions: ConfigurationOptions
  @OptionGroup var processOptions: ServiceProcessOptions

  func run() async throws {
    O3Logging.bootstrap()
    let settings: DatanodeSettings
    do {
      settings = try DatanodeSettings(configuration: try configurationOptions.load())
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure(message: "\(error)", exitCode: 1)
    }
    let process = try processOptions.begin("datanode")
    try await process.serve {
      do {
        return try await DatanodeServer.start(settings: settings, group: MultiThreadedEventLoopGroup.singleton)
      } catch {
        throw CommandFailure(message: "cannot start the datanode: \(error)", exitCode: 1)
      }
    } stop: { server in
      await server.shutdown()
    }
  }
}
