/**
 * Shared HTTP plumbing for provider adapters: the JDK client wrapper, SSE and NDJSON line reading,
 * failure classification from status codes and bodies, Retry-After parsing and secret references.
 */
@NullMarked
package dev.keel.models.http;

import org.jspecify.annotations.NullMarked;
