package dev.keel.bench;

import dev.keel.store.RunStore;
import dev.keel.testkit.InMemoryRunStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * No database: Keel on the testkit's in-memory store, so the figures are the harness's own CPU cost
 * per step with no I/O. There is no floor here.
 */
final class MemoryDatabase implements BenchDatabase {

  @Override
  public String key() {
    return "memory";
  }

  @Override
  public String label() {
    return "in-memory (no I/O, testkit store)";
  }

  @Override
  public boolean hasFloor() {
    return false;
  }

  @Override
  public Connection floorConnection() throws SQLException {
    throw new SQLException("the in-memory store has no floor; use --store sqlite or postgres");
  }

  @Override
  public boolean floorSharesOneConnection() {
    return false;
  }

  @Override
  public boolean keepsRunsInHeap() {
    return true;
  }

  @Override
  public RunStore openStore() {
    return new InMemoryRunStore(InstantSource.system());
  }

  @Override
  public Optional<DriverProbe> driverProbe() {
    return Optional.empty();
  }

  @Override
  public OptionalLong transactions() {
    return OptionalLong.empty();
  }

  @Override
  public OptionalLong storeBytes() {
    return OptionalLong.empty();
  }

  @Override
  public void close() {}
}
