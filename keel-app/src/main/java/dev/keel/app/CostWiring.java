package dev.keel.app;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import dev.keel.store.CostLedger;
import dev.keel.store.jdbc.JdbcCostLedger;
import java.math.BigDecimal;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Tenant budgets shared by all of a tenant's runs ({@code budgets.tenants: {acme: 25.00}} in USD),
 * kept by {@link JdbcCostLedger} in the store's database. Without the section the ledger is {@link
 * CostLedger#UNLIMITED} and only each run's own budget applies.
 */
final class CostWiring implements AutoCloseable {
  private final CostLedger ledger;
  private final Optional<JdbcCostLedger> jdbc;

  private CostWiring(CostLedger ledger, Optional<JdbcCostLedger> jdbc) {
    this.ledger = ledger;
    this.jdbc = jdbc;
  }

  /**
   * The ledger configured in {@code cfg}; the budgets are written to the store (the store must be
   * open, so its schema is migrated).
   *
   * @throws ConfigException naming a bad budget
   */
  static CostWiring of(KeelConfig cfg) {
    Optional<JsonValue> section = cfg.sections().get("budgets.tenants");
    if (section.isEmpty()) {
      return new CostWiring(CostLedger.UNLIMITED, Optional.empty());
    }
    List<String> problems = new ArrayList<>();
    Map<String, Long> limits = new LinkedHashMap<>();
    if (section.get() instanceof JsonObject o) {
      o.members()
          .forEach(
              (tenant, v) -> {
                BigDecimal usd =
                    switch (v) {
                      case JsonNumber n -> n.value();
                      case JsonString s when s.value().matches("\\d{1,9}(\\.\\d{1,6})?") ->
                          new BigDecimal(s.value());
                      default -> null;
                    };
                if (usd == null || usd.signum() < 0) {
                  problems.add(
                      "budgets.tenants."
                          + tenant
                          + " must be an amount in USD such as 25.00, got "
                          + v);
                } else {
                  limits.put(tenant, usd.movePointRight(6).longValue());
                }
              });
    } else {
      problems.add("budgets.tenants must be a mapping of tenant to an amount in USD");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    JdbcCostLedger l =
        new JdbcCostLedger(
            cfg.storeUrl(),
            cfg.runtimeStoreUser(),
            cfg.runtimeStorePassword(),
            InstantSource.system());
    limits.forEach(l::setLimit);
    return new CostWiring(l, Optional.of(l));
  }

  /** The engine's ledger. */
  CostLedger ledger() {
    return ledger;
  }

  @Override
  public void close() {
    jdbc.ifPresent(JdbcCostLedger::close);
  }
}
