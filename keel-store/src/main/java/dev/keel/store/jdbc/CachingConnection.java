package dev.keel.store.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A view of one SQLite read connection whose {@code prepareStatement(sql)} hands out statements
 * compiled once and kept for the life of the connection; closing one gives it back instead of
 * finalizing it. Everything else goes to the connection itself.
 *
 * <p>Implementation notes. sqlite-jdbc compiles a statement on every {@code prepareStatement}:
 * under a read load of run lookups that compiling was a fifth of the server's CPU (decision 0046).
 * The read code keeps its plain JDBC shape ({@code try (PreparedStatement ps =
 * c.prepareStatement(sql))}); only the connection it is given changes. A statement that is still
 * handed out when the same SQL is prepared again (a nested use) is not shared: the second caller
 * gets a fresh statement that is closed for real. Used by one thread at a time, like the connection
 * (readers are taken from a queue).
 */
final class CachingConnection {
  /** Most statements kept per connection. */
  static final int MAX_CACHED = 64;

  private final Connection connection;
  private final Connection view;
  private final Map<String, Entry> cache = new HashMap<>();

  private static final class Entry {
    final PreparedStatement statement;
    @Nullable PreparedStatement view;
    boolean out;

    Entry(PreparedStatement statement) {
      this.statement = statement;
    }
  }

  CachingConnection(Connection connection) {
    this.connection = connection;
    this.view =
        (Connection)
            Proxy.newProxyInstance(
                Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class},
                this::onConnection);
  }

  /** The connection to hand to read code. */
  Connection view() {
    return view;
  }

  /** Closes every cached statement (before the connection itself is closed). */
  void closeStatements() {
    for (Entry e : cache.values()) {
      try {
        e.statement.close();
      } catch (SQLException ignored) {
        // The connection closes next.
      }
    }
    cache.clear();
  }

  private @Nullable Object onConnection(Object proxy, Method m, @Nullable Object[] args)
      throws Throwable {
    if (m.getName().equals("prepareStatement")
        && args != null
        && args.length == 1
        && args[0] instanceof String sql) {
      return prepare(sql);
    }
    if (m.getName().equals("close")) {
      throw new IllegalStateException("a read connection is closed by its store, not its user");
    }
    return invoke(connection, m, args);
  }

  private PreparedStatement prepare(String sql) throws SQLException {
    Entry e = cache.get(sql);
    if (e == null && cache.size() >= MAX_CACHED) {
      // The store's reads are a fixed set of SQL texts; anything beyond is not kept.
      return connection.prepareStatement(sql);
    }
    if (e == null) {
      Entry made = new Entry(connection.prepareStatement(sql));
      made.view =
          (PreparedStatement)
              Proxy.newProxyInstance(
                  PreparedStatement.class.getClassLoader(),
                  new Class<?>[] {PreparedStatement.class},
                  (proxy, m, args) -> onStatement(made, m, args));
      cache.put(sql, made);
      e = made;
    }
    PreparedStatement view = e.view;
    if (e.out || view == null) {
      return connection.prepareStatement(sql);
    }
    e.out = true;
    return view;
  }

  private static @Nullable Object onStatement(Entry e, Method m, @Nullable Object[] args)
      throws Throwable {
    if (m.getName().equals("close") && (args == null || args.length == 0)) {
      if (e.out) {
        e.out = false;
        e.statement.clearParameters();
      }
      return null;
    }
    if (m.getName().equals("isClosed") && (args == null || args.length == 0)) {
      return !e.out;
    }
    return invoke(e.statement, m, args);
  }

  private static @Nullable Object invoke(Object target, Method m, @Nullable Object[] args)
      throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException x) {
      throw x.getCause();
    }
  }
}
