import O3Threads
import RaftSimulation

/// Runs the simulation of `seed` on a thread of its own: a run is seconds of pure CPU, and on
/// Swift's cooperative pool (two threads here) two of them would freeze every other test.
func simulate(_ seed: UInt64, options: SimulationOptions? = nil) async -> SimulationReport {
  await onOwnThread("o3-simulation") { Simulation(seed: seed, options: options).run() }
}
