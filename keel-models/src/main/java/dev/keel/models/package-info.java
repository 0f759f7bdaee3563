/**
 * Model adapters and the model gateway: the streaming port every adapter implements, the deltas it
 * emits and the assembler that turns a stream into one normalized answer.
 */
@NullMarked
package dev.keel.models;

import org.jspecify.annotations.NullMarked;
