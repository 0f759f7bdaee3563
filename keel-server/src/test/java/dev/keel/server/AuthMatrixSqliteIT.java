package dev.keel.server;

/** {@link AuthMatrixIT} on the SQLite store. */
class AuthMatrixSqliteIT extends AuthMatrixIT {
  @Override
  TestServer.Store store() {
    return TestServer.Store.SQLITE;
  }
}
