package dev.keel.server;

/**
 * {@link AuthMatrixIT} on PostgreSQL with the store working as the application role, under
 * row-level security (docs/decisions/0043).
 */
class AuthMatrixPostgresAppRoleIT extends AuthMatrixIT {
  @Override
  TestServer.Store store() {
    return TestServer.Store.POSTGRES_APP_ROLE;
  }
}
