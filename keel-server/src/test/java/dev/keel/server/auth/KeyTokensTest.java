package dev.keel.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyTokensTest {

  @Test
  void issuedTokensAuthenticateAndOnlyTheirHashIsStored() {
    InMemoryApiKeys keys = new InMemoryApiKeys();
    IssuedKey k = KeyTokens.issue(keys, "acme", Role.OPERATOR, Set.of(), Instant.EPOCH);
    assertThat(k.token()).startsWith("keel_");
    assertThat(keys.all().getFirst().secretHash()).isEqualTo(KeyTokens.sha256(k.token()));
    assertThat(keys.all().getFirst().toString()).doesNotContain(k.token());
    assertThat(k.toString()).doesNotContain(k.token());
    assertThat(KeyTokens.authenticate(keys, k.token())).contains(k.key());
    assertThat(KeyTokens.authenticate(keys, k.token() + "x")).isEmpty();
    assertThat(KeyTokens.authenticate(keys, "keel_nope_x")).isEmpty();
    assertThat(KeyTokens.authenticate(keys, "")).isEmpty();
  }

  @Test
  void rolesAndScopesLimitWhatAKeyMayDo() {
    ApiKey viewer = new ApiKey("key_v", "t", Role.VIEWER, Set.of(), "h", Instant.EPOCH);
    assertThat(viewer.permits(Scope.READ)).isTrue();
    assertThat(viewer.permits(Scope.RUNS_WRITE)).isFalse();
    ApiKey narrowed =
        new ApiKey("key_o", "t", Role.OPERATOR, Set.of(Scope.READ), "h", Instant.EPOCH);
    assertThat(narrowed.permits(Scope.APPROVALS_DECIDE)).isFalse();
    ApiKey viewerAskingMore =
        new ApiKey("key_x", "t", Role.VIEWER, Set.of(Scope.ADMIN), "h", Instant.EPOCH);
    assertThat(viewerAskingMore.permits(Scope.ADMIN)).isFalse();
    assertThat(Scope.fromWire("runs:write")).isEqualTo(Scope.RUNS_WRITE);
    assertThat(Role.fromWire("admin")).isEqualTo(Role.ADMIN);
  }
}
