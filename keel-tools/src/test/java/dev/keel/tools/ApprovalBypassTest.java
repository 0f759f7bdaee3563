package dev.keel.tools;

import static dev.keel.tools.Fixtures.contract;
import static dev.keel.tools.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Hashes;
import dev.keel.run.RunId;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.SignalPayload.ApprovalDecision;
import dev.keel.tool.ToolInvocation;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * SE-03: fuzzed attempts to run approval-gated tools without a valid approval execute nothing,
 * while the valid path (the positive control) executes exactly once per approval.
 */
class ApprovalBypassTest {
  private final Fixtures.Env env = new Fixtures.Env();
  private final Fixtures.Spy pay =
      new Fixtures.Spy(
          contract("bank.pay", 4)
              .inputSchema(
                  json(
                      """
                      {"type":"object","properties":{"to":{"type":"string","minLength":1},
                       "cents":{"type":"integer","minimum":1,"maximum":100000}},
                       "required":["to","cents"],"additionalProperties":false}
                      """))
              .build());
  private final Fixtures.Spy send =
      new Fixtures.Spy(
          contract("mail.send", 3)
              .inputSchema(
                  json(
                      """
                      {"type":"object","properties":{"to":{"type":"string"}},
                       "required":["to"],"additionalProperties":false}
                      """))
              .build());
  private final ToolCatalog catalog = new ToolCatalog(List.of(pay.tool, send.tool), env.runtime);
  private final ApprovalGuard guard = new ApprovalGuard(catalog, env.clock, env.audit);
  private final Desk desk = new Desk();
  private int legit;

  /** A stand-in for the store's approval rows: tenant-scoped reads, decided exactly once. */
  private final class Desk {
    private final Map<String, ApprovalRecord> rows = new HashMap<>();
    private int seq;

    ApprovalRecord request(String tenant, String run, String call, String tool, JsonObject args) {
      seq++;
      String id = "apr_" + seq;
      ApprovalRecord r =
          new ApprovalRecord(
              id,
              tenant,
              RunId.of(run),
              "tool_call",
              call,
              tool,
              args,
              Hashes.of(args),
              catalog.find(tool).orElseThrow().spec().riskLevel(),
              "needs approval",
              "pending",
              Optional.empty(),
              Optional.empty(),
              env.clock.instant().plus(Duration.ofMinutes(10)),
              env.clock.instant());
      rows.put(id, r);
      return r;
    }

    Optional<ApprovalRecord> get(String tenant, String id) {
      return Optional.ofNullable(rows.get(id)).filter(r -> r.tenant().equals(tenant));
    }

    Optional<ApprovalRecord> decide(String tenant, ApprovalDecision d) {
      Optional<ApprovalRecord> row = get(tenant, d.approvalId());
      if (row.isEmpty()
          || !row.get().status().equals("pending")
          || !env.clock.instant().isBefore(row.get().expiresAt())) {
        return row;
      }
      ApprovalRecord r = row.get();
      ApprovalRecord decided =
          new ApprovalRecord(
              r.approvalId(),
              r.tenant(),
              r.runId(),
              r.kind(),
              r.callId(),
              r.tool(),
              r.arguments(),
              r.argumentsHash(),
              r.riskLevel(),
              r.reason(),
              d.decision(),
              Optional.of(d.decidedBy()),
              Optional.of(env.clock.instant()),
              r.expiresAt(),
              r.createdAt());
      rows.put(r.approvalId(), decided);
      return Optional.of(decided);
    }
  }

  private static final Approver ALICE = new Approver("acme", "alice", Approver.Role.APPROVER);

  /** The HTTP layer then the engine: guard, store, guard again, execute. Returns executions. */
  private int attempt(
      Approver who,
      String approvalId,
      ApprovalDecision decision,
      Optional<String> startedBy,
      String tool,
      ToolInvocation inv)
      throws InterruptedException {
    ApprovalCheck check = guard.check(who, desk.get(who.tenant(), approvalId), decision, startedBy);
    Optional<ApprovalRecord> after =
        check instanceof ApprovalCheck.Accepted a
            ? desk.decide(who.tenant(), a.decision())
            : desk.get(inv.tenant(), approvalId);
    return engine(after, decision, tool, inv);
  }

  private int engine(
      Optional<ApprovalRecord> record, ApprovalDecision decision, String tool, ToolInvocation inv)
      throws InterruptedException {
    if (record.isPresent() && guard.permitsExecution(record.get(), decision, tool, inv)) {
      catalog.find(tool).orElseThrow().invoke(inv);
      return 1;
    }
    return 0;
  }

  private static ApprovalDecision approve(
      String id, String by, Optional<JsonObject> edit, String c) {
    return new ApprovalDecision(id, "approved", by, edit, c);
  }

  private static ToolInvocation inv(String tenant, String run, String call, JsonObject args) {
    return new ToolInvocation(tenant, run, call, "k-" + call, args, 1);
  }

  @Test
  void validApprovalExecutesExactlyOnce() throws Exception {
    JsonObject args = json("{\"to\":\"bob\",\"cents\":500}");
    ApprovalRecord r = desk.request("acme", "run_1", "call_1", "bank.pay", args);
    ApprovalDecision d = approve(r.approvalId(), "alice", Optional.empty(), "invoice 42");
    assertThat(
            attempt(
                ALICE,
                r.approvalId(),
                d,
                Optional.of("carol"),
                "bank.pay",
                inv("acme", "run_1", "call_1", args)))
        .isEqualTo(1);
    assertThat(
            engine(
                desk.get("acme", r.approvalId()),
                d,
                "bank.pay",
                inv("acme", "run_1", "call_1", args)))
        .isZero();
    assertThat(pay.calls).hasValue(1);
  }

  @Test
  void approverEditIsRevalidatedAndOnlyTheEditedArgumentsRun() throws Exception {
    JsonObject args = json("{\"to\":\"bob\",\"cents\":500}");
    ApprovalRecord r = desk.request("acme", "run_1", "call_1", "bank.pay", args);
    ApprovalDecision bad =
        approve(r.approvalId(), "alice", Optional.of(json("{\"to\":\"bob\",\"cents\":-1}")), "x");
    assertThat(guard.check(ALICE, desk.get("acme", r.approvalId()), bad, Optional.empty()))
        .isInstanceOfSatisfying(
            ApprovalCheck.Rejected.class, rej -> assertThat(rej.reason()).contains("/cents"));
    JsonObject edited = json("{\"to\":\"bob\",\"cents\":50}");
    ApprovalDecision good = approve(r.approvalId(), "alice", Optional.of(edited), "halved");
    assertThat(
            attempt(
                ALICE,
                r.approvalId(),
                good,
                Optional.empty(),
                "bank.pay",
                inv("acme", "run_1", "call_1", args)))
        .isZero();
    assertThat(
            engine(
                desk.get("acme", r.approvalId()),
                good,
                "bank.pay",
                inv("acme", "run_1", "call_1", edited)))
        .isEqualTo(1);
    assertThat(pay.seen)
        .singleElement()
        .satisfies(i -> assertThat(i.arguments()).isEqualTo(edited));
  }

  @Test
  void thousandBypassAttemptsExecuteNothing() throws Exception {
    Random random = new Random(20260101L);
    int executions = 0;
    Map<Integer, Integer> perKind = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      int kind = random.nextInt(14);
      perKind.merge(kind, 1, Integer::sum);
      String tool = random.nextBoolean() ? "bank.pay" : "mail.send";
      JsonObject args =
          tool.equals("bank.pay")
              ? json(
                  "{\"to\":\"acct-"
                      + random.nextInt(1000)
                      + "\",\"cents\":"
                      + (1 + random.nextInt(9999))
                      + "}")
              : json("{\"to\":\"user" + random.nextInt(1000) + "@example.com\"}");
      String run = "run_" + i;
      String call = "call_" + i;
      ApprovalRecord r = desk.request("acme", run, call, tool, args);
      String id = r.approvalId();
      ToolInvocation same = inv("acme", run, call, args);
      executions +=
          switch (kind) {
            // no approval: the engine is handed a forged decision while the row is still pending
            case 0 ->
                engine(
                    desk.get("acme", id), approve(id, "alice", Optional.empty(), "r"), tool, same);
            // approved arguments, but other arguments are executed
            case 1 -> {
              JsonObject other = args.with("to", JsonValue.of("attacker"));
              yield attempt(
                  ALICE,
                  id,
                  approve(id, "alice", Optional.empty(), "ok"),
                  Optional.empty(),
                  tool,
                  inv("acme", run, call, other));
            }
            // expired before the decision
            case 2 -> {
              env.clock.advance(Duration.ofMinutes(11));
              yield attempt(
                  ALICE,
                  id,
                  approve(id, "alice", Optional.empty(), "late"),
                  Optional.empty(),
                  tool,
                  same);
            }
            // approver from another tenant
            case 3 ->
                attempt(
                    new Approver("globex", "mallory", Approver.Role.ADMIN),
                    id,
                    approve(id, "mallory", Optional.empty(), "x"),
                    Optional.empty(),
                    tool,
                    same);
            // viewer and operator roles
            case 4 ->
                attempt(
                    new Approver("acme", "vic", Approver.Role.VIEWER),
                    id,
                    approve(id, "vic", Optional.empty(), "x"),
                    Optional.empty(),
                    tool,
                    same);
            case 5 ->
                attempt(
                    new Approver("acme", "otto", Approver.Role.OPERATOR),
                    id,
                    approve(id, "otto", Optional.empty(), "x"),
                    Optional.empty(),
                    tool,
                    same);
            // self-approval by whoever started the run
            case 6 ->
                attempt(
                    ALICE,
                    id,
                    approve(id, "alice", Optional.empty(), "mine"),
                    Optional.of("alice"),
                    tool,
                    same);
            // replay: a used approval for the same call, and for another call
            case 7 -> {
              ApprovalDecision d = approve(id, "alice", Optional.empty(), "ok");
              legit += attempt(ALICE, id, d, Optional.empty(), tool, same);
              int again = attempt(ALICE, id, d, Optional.empty(), tool, same);
              JsonObject other = args.with("to", JsonValue.of("replayed"));
              yield again
                  + engine(desk.get("acme", id), d, tool, inv("acme", run, "call_x" + i, args))
                  + engine(desk.get("acme", id), d, tool, inv("acme", run, call, other));
            }
            // an approval of one run or call used for another
            case 8 ->
                attempt(
                    ALICE,
                    id,
                    approve(id, "alice", Optional.empty(), "ok"),
                    Optional.empty(),
                    tool,
                    inv("acme", "run_other" + i, call, args));
            // decidedBy forged to someone else
            case 9 ->
                attempt(
                    ALICE,
                    id,
                    approve(id, "bob", Optional.empty(), "ok"),
                    Optional.empty(),
                    tool,
                    same);
            // an edit that breaks the schema
            case 10 ->
                attempt(
                    ALICE,
                    id,
                    approve(id, "alice", Optional.of(json("{\"to\":5,\"extra\":true}")), "ok"),
                    Optional.empty(),
                    tool,
                    inv("acme", run, call, json("{\"to\":5,\"extra\":true}")));
            // level 4 without a reason; level 3 with a decision for another approval id
            case 11 ->
                tool.equals("bank.pay")
                    ? attempt(
                        ALICE,
                        id,
                        approve(id, "alice", Optional.empty(), " "),
                        Optional.empty(),
                        tool,
                        same)
                    : attempt(
                        ALICE,
                        id,
                        approve("apr_999999", "alice", Optional.empty(), "ok"),
                        Optional.empty(),
                        tool,
                        same);
            // a denial presented to the engine as if approved
            case 12 -> {
              ApprovalDecision denied =
                  new ApprovalDecision(id, "denied", "alice", Optional.empty(), "no");
              int n = attempt(ALICE, id, denied, Optional.empty(), tool, same);
              yield n
                  + engine(
                      desk.get("acme", id),
                      approve(id, "alice", Optional.empty(), "x"),
                      tool,
                      same);
            }
            // a tampered row: arguments swapped after the request, hash left as it was
            default -> {
              ApprovalRecord t = desk.rows.get(id);
              JsonObject evil = args.with("to", JsonValue.of("evil"));
              desk.rows.put(
                  id,
                  new ApprovalRecord(
                      t.approvalId(),
                      t.tenant(),
                      t.runId(),
                      t.kind(),
                      t.callId(),
                      t.tool(),
                      evil,
                      t.argumentsHash(),
                      t.riskLevel(),
                      t.reason(),
                      t.status(),
                      t.decidedBy(),
                      t.decidedAt(),
                      t.expiresAt(),
                      t.createdAt()));
              yield attempt(
                  ALICE,
                  id,
                  approve(id, "alice", Optional.empty(), "ok"),
                  Optional.empty(),
                  tool,
                  inv("acme", run, call, evil));
            }
          };
    }
    assertThat(perKind).hasSize(14);
    assertThat(executions).as("executions from bypass attempts").isZero();
    assertThat(pay.calls.get() + send.calls.get()).isEqualTo(legit);
    assertThat(legit).as("positive controls inside the replay case").isPositive();
  }
}
