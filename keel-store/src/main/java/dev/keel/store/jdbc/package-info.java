/**
 * The JDBC stores: SQLite (the embedded default) and PostgreSQL, their migrations, and the group
 * committer both use so that many runs share one durable commit.
 */
@NullMarked
package dev.keel.store.jdbc;

import org.jspecify.annotations.NullMarked;
