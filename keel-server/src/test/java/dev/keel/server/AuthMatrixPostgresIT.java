package dev.keel.server;

/** {@link AuthMatrixIT} on the PostgreSQL store. */
class AuthMatrixPostgresIT extends AuthMatrixIT {
  @Override
  TestServer.Store store() {
    return TestServer.Store.POSTGRES;
  }
}
