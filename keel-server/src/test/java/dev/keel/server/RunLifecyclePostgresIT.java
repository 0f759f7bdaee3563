package dev.keel.server;

/** {@link RunLifecycleIT} on the PostgreSQL store. */
class RunLifecyclePostgresIT extends RunLifecycleIT {
  @Override
  TestServer.Store store() {
    return TestServer.Store.POSTGRES;
  }
}
