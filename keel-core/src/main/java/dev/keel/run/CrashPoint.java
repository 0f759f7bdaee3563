package dev.keel.run;

/** The named crash points of guarantees.md; inert unless a test arms them. */
public enum CrashPoint {
  /** Run row created, before its first event (inside the create transaction). */
  B1_RUN_ROW_CREATED,
  /** After the run-started event. */
  B2_RUN_STARTED,
  /** Before the model request is sent. */
  B3_BEFORE_MODEL_REQUEST,
  /** Model response received, not yet recorded. */
  B4_MODEL_RESPONSE_RECEIVED,
  /** Model response recorded. */
  B5_MODEL_RESPONSE_RECORDED,
  /** Tool-call intent recorded, tool not started. */
  B6_TOOL_INTENT_RECORDED,
  /** Tool side effect done, result not recorded (the ambiguous window). */
  B7_TOOL_EFFECT_DONE,
  /** Tool result recorded, before the checkpoint. */
  B8_TOOL_RESULT_RECORDED,
  /** Checkpoint written, before the lease is renewed. */
  B9_CHECKPOINT_WRITTEN,
  /** Approval decision recorded, not yet consumed by the run. */
  B10_APPROVAL_DECIDED,
  /** Final output recorded, before the run-completed event. */
  B11_OUTPUT_RECORDED,
  /** During a lease handover: the owner is about to act on a lease it may have lost. */
  B12_LEASE_HANDOVER,
  /** A plan update (by the agent or a person) recorded. */
  B13_PLAN_UPDATED,
  /** A question to a person recorded, the run not yet released to wait. */
  B14_QUESTION_ASKED,
  /** A check of a draft answer (contract or reflection) recorded. */
  B15_OUTPUT_CHECKED,
  /** A sub-agent's spawn recorded, its child run not yet created. */
  B16_SUBRUN_SPAWNED,
  /** A sub-agent's end recorded in its parent. */
  B17_SUBRUN_FINISHED
}
