package dev.keel.server;

/** {@link RunLifecycleIT} on the SQLite store. */
class RunLifecycleSqliteIT extends RunLifecycleIT {
  @Override
  TestServer.Store store() {
    return TestServer.Store.SQLITE;
  }
}
