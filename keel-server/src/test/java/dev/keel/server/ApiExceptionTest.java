package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue.JsonObject;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApiExceptionTest {

  @Test
  void validationProblemHasEveryRfc9457FieldAndThePointers() {
    ApiException x =
        ApiException.invalid(
            List.of(
                new ApiException.FieldError("/agent", "is required"),
                new ApiException.FieldError("/budget/max_steps", "must be a whole number")));
    JsonObject p = x.problem(Optional.of("/v1/runs"));
    assertThat(p.string("type")).contains("https://keel.dev/problems/invalid-argument");
    assertThat(p.string("title")).contains("Invalid request");
    assertThat(p.string("code")).contains("invalid_argument");
    assertThat(p.string("detail")).get().asString().contains("2 problems").contains("/agent");
    assertThat(p.string("instance")).contains("/v1/runs");
    assertThat(p.get("status").orElseThrow().toString()).isEqualTo("400");
    assertThat(p.get("errors").orElseThrow().toString())
        .isEqualTo(
            "[{\"message\":\"is required\",\"pointer\":\"/agent\"},"
                + "{\"message\":\"must be a whole number\",\"pointer\":\"/budget/max_steps\"}]");
  }

  @Test
  void plainProblemHasNoErrorsAndKeepsHeaders() {
    ApiException x =
        new ApiException(429, "rate_limited", "Too many requests", "slow down")
            .withHeader("Retry-After", "3");
    JsonObject p = x.problem(Optional.empty());
    assertThat(p.get("errors")).isEmpty();
    assertThat(p.get("instance")).isEmpty();
    assertThat(x.headers()).containsEntry("Retry-After", "3");
    assertThat(x.status()).isEqualTo(429);
  }

  @Test
  void notFoundDoesNotTellWhetherAnotherTenantOwnsIt() {
    assertThat(ApiException.notFound("run", "run_x").getMessage())
        .isEqualTo("run 'run_x' does not exist or belongs to another tenant");
  }
}
