package dev.keel.models.gateway;

/** How sensitive the data in a call is. Confidential data only goes to self-hosted models. */
public enum DataClass {
  /** Public data: any model. */
  PUBLIC,
  /** Internal data: any model the tenant policy allows. */
  INTERNAL,
  /** Confidential data: self-hosted models only. */
  CONFIDENTIAL
}
