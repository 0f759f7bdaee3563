package dev.keel.server;

/**
 * {@link RunLifecycleIT} on PostgreSQL with the store working as the application role: every
 * request's store calls run under row-level security for the key's tenant, the worker's for every
 * tenant (docs/decisions/0043).
 */
class RunLifecyclePostgresAppRoleIT extends RunLifecycleIT {
  @Override
  TestServer.Store store() {
    return TestServer.Store.POSTGRES_APP_ROLE;
  }
}
